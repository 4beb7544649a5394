/**
 * The VMSet validator: selector, shared static IPs, and the template through the VM spec rules;
 * ratcheted, and silent while the set is being deleted.
 */
import type { VMSet } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { combineValidators, ratcheted, skipWhileDeleting } from '../shared/result.ts';
import { validateReplicaStaticIP } from './validate-replica-static-ip.ts';
import { validateSelector } from './validate-selector.ts';
import { validateTemplate } from './validate-template.ts';

export const validateVMSet: Validator<VMSet> = skipWhileDeleting(ratcheted(
  combineValidators<VMSet>(validateSelector, validateReplicaStaticIP, validateTemplate),
));
