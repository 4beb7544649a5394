/**
 * A Provider still used by VMs cannot be deleted: its agents are what deletes those VMs on the
 * hypervisor. (The dispatcher's finalizer also holds a Provider until no VM at all refers to it,
 * VMs being deleted and VMs of other namespaces included, which this namespace-scoped check cannot see.)
 */
import type { Provider } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { inUseErrors, vmsUsing } from '../shared/in-use.ts';
import { describeObject, namespaceOf, refNamespace } from '../shared/refs.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('provider-in-use');

export const REMEDY_PROVIDER_IN_USE = 'delete them (or move them with a VMMigration)';

export const validateProviderNotInUse: Validator<Provider> = ({ operation, object, lookup }) => {
  if (operation !== 'DELETE') return allowed();
  const namespace = namespaceOf(object.metadata);
  const name = object.metadata.name ?? '';
  const users = vmsUsing(lookup, namespace, (vm) =>
    vm.spec.providerRef.name === name && refNamespace(vm.spec.providerRef, namespaceOf(vm.metadata) || namespace) === namespace);
  return result({ errors: inUseErrors({ errors, what: describeObject('Provider', namespace, name), users, remedy: REMEDY_PROVIDER_IN_USE }) });
};
