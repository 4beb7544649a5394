/** Secure boot and TPM need UEFI: a VM may not use a class that enables them on BIOS firmware. */
import { ruleErrors } from '../rule-names.ts';
import { describeObject } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import { uefiProblems, type UefiProblem } from '../vmclass/validate-firmware.ts';
import type { VMSpecRule } from './vm-spec-context.ts';

const errors = ruleErrors('security-needs-uefi');

export const MESSAGE_CLASS_ON_BIOS = (p: UefiProblem, className: string, firmware: string): string =>
  `${className} enables ${p.feature} (spec.securityProfile.${p.field}) on firmware ${firmware}, and ${p.feature} needs UEFI: `
  + 'use a VMClass with spec.firmware UEFI';

export const validateSecurityFirmware: VMSpecRule = (ctx) => {
  const vmClass = ctx.refs.vmClass;
  if (!vmClass) return result({});
  const name = describeObject('VMClass', ctx.refs.classRef.namespace, ctx.refs.classRef.name);
  const firmware = vmClass.spec.firmware ?? 'BIOS';
  return result({
    errors: uefiProblems(vmClass.spec).map((p) =>
      errors.forbidden(ctx.path.child('classRef', 'name'), MESSAGE_CLASS_ON_BIOS(p, name, firmware))),
  });
};
