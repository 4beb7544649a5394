/** Secure boot and TPM need UEFI firmware (VMClass rule; the VM rule reports the same through its class). */
import type { VMClassSpec } from '../../../api/kinds/vm-class.ts';
import { normalizeFirmware } from '../../../api/capabilities.ts';
import type { VMClass } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('security-needs-uefi');

/** A security feature of a class that needs UEFI, with its field under the class's spec. */
export interface UefiProblem {
  feature: 'secure boot' | 'a TPM';
  field: 'secureBoot' | 'tpmEnabled';
}

/**
 * What the class enables that its firmware cannot carry. vSphere refuses secure boot and vTPM on
 * BIOS VMs; the rule holds for every provider so one class behaves the same wherever it is used.
 */
export function uefiProblems(spec: VMClassSpec): UefiProblem[] {
  if (normalizeFirmware(spec.firmware) === 'UEFI') return [];
  const problems: UefiProblem[] = [];
  if (spec.securityProfile?.secureBoot) problems.push({ feature: 'secure boot', field: 'secureBoot' });
  if (spec.securityProfile?.tpmEnabled) problems.push({ feature: 'a TPM', field: 'tpmEnabled' });
  return problems;
}

export const MESSAGE_CLASS_NEEDS_UEFI = (p: UefiProblem, firmware: string): string =>
  `${p.feature} needs UEFI firmware, but spec.firmware is ${firmware}: set spec.firmware to UEFI, or turn off securityProfile.${p.field}`;

/** VMClass: securityProfile.secureBoot / tpmEnabled only with firmware UEFI (or EFI). */
export const validateClassFirmware: Validator<VMClass> = ({ operation, object }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const firmware = object.spec.firmware ?? 'BIOS';
  const found: FieldError[] = uefiProblems(object.spec).map((p) =>
    errors.forbidden(newPath('spec', 'securityProfile', p.field), MESSAGE_CLASS_NEEDS_UEFI(p, firmware)));
  return result({ errors: found });
};
