/** A VMClass still used by VMs cannot be deleted. */
import type { VMClass } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { inUseErrors, vmsUsing } from '../shared/in-use.ts';
import { describeObject, namespaceOf, refNamespace } from '../shared/refs.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('class-in-use');

export const validateClassNotInUse: Validator<VMClass> = ({ operation, object, lookup }) => {
  if (operation !== 'DELETE') return allowed();
  const namespace = namespaceOf(object.metadata);
  const name = object.metadata.name ?? '';
  const users = vmsUsing(lookup, namespace, (vm) =>
    vm.spec.classRef.name === name && refNamespace(vm.spec.classRef, namespaceOf(vm.metadata) || namespace) === namespace);
  return result({
    errors: inUseErrors({ errors, what: describeObject('VMClass', namespace, name), users, remedy: 'move them to another class or delete them' }),
  });
};
