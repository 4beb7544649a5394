/**
 * The VirtualMachine validator: every VM spec rule on CREATE and UPDATE, ratcheted (an update is
 * refused only for problems it adds), and silent while the VM is being deleted.
 */
import type { VirtualMachine } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { allowed, ratcheted, skipWhileDeleting } from '../shared/result.ts';
import { validateVMSpec } from './vm-spec-rules.ts';
import { contextOfVM } from './vm-spec-context.ts';

const validateSpec: Validator<VirtualMachine> = ({ operation, object, oldObject, lookup }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  return validateVMSpec(contextOfVM({ operation, vm: object, oldVM: oldObject, lookup }));
};

export const validateVirtualMachine: Validator<VirtualMachine> = skipWhileDeleting(ratcheted(validateSpec));
