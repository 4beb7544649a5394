/** The VMPlacementPolicy validator: no self-contradiction (ratcheted), no deletion while in use. */
import type { VMPlacementPolicy } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { combineValidators, ratcheted } from '../shared/result.ts';
import { validatePolicyAffinity } from './validate-affinity.ts';
import { validatePolicyConstraints } from './validate-constraints.ts';
import { validatePolicyNotInUse } from './validate-in-use.ts';

export const validateVMPlacementPolicy: Validator<VMPlacementPolicy> = ratcheted(
  combineValidators<VMPlacementPolicy>(validatePolicyConstraints, validatePolicyAffinity, validatePolicyNotInUse),
);
