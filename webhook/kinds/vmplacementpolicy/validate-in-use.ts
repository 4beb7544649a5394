/** A VMPlacementPolicy still used by VMs cannot be deleted. */
import type { VMPlacementPolicy } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { inUseErrors, vmsUsing } from '../shared/in-use.ts';
import { describeObject, namespaceOf } from '../shared/refs.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('policy-in-use');

export const validatePolicyNotInUse: Validator<VMPlacementPolicy> = ({ operation, object, lookup }) => {
  if (operation !== 'DELETE') return allowed();
  const namespace = namespaceOf(object.metadata);
  const name = object.metadata.name ?? '';
  const users = vmsUsing(lookup, namespace, (vm) => vm.spec.placementRef?.name === name);
  return result({
    errors: inUseErrors({ errors, what: describeObject('VMPlacementPolicy', namespace, name), users, remedy: 'remove their placementRef or delete them' }),
  });
};
