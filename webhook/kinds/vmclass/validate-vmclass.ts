/** The VMClass validator: firmware and resource limits (ratcheted), and deletion while in use. */
import type { VMClass } from '../../../api/objects.ts';
import type { Validator } from '../../framework/types.ts';
import { combineValidators, ratcheted } from '../shared/result.ts';
import { validateClassFirmware } from './validate-firmware.ts';
import { validateClassNotInUse } from './validate-in-use.ts';
import { validateClassResourceLimits } from './validate-resource-limits.ts';

export const validateVMClass: Validator<VMClass> = ratcheted(
  combineValidators<VMClass>(validateClassFirmware, validateClassResourceLimits, validateClassNotInUse),
);
