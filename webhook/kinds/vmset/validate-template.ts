/** A VMSet's template passes the same VirtualMachine spec rules, at spec.template.spec. */
import type { VMSet } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { allowed } from '../shared/result.ts';
import { contextOfVMSet } from '../virtualmachine/vm-spec-context.ts';
import { validateVMSpec } from '../virtualmachine/vm-spec-rules.ts';

export const validateTemplate: Validator<VMSet> = ({ operation, object, oldObject, lookup }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  return validateVMSpec(contextOfVMSet({ operation, set: object, oldSet: oldObject, lookup }));
};
