/** A placement policy's securityConstraints (secure boot, TPM required) hold for the VM's class. */
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { describeObject } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import type { VMSpecRule } from './vm-spec-context.ts';

const errors = ruleErrors('placement-security-constraints');

export const MESSAGE_CLASS_LACKS = (p: { policy: string; constraint: string; feature: string; className: string; classField: string }): string =>
  `${p.policy} requires ${p.feature} (spec.securityConstraints.${p.constraint}), which ${p.className} does not enable: `
  + `use a VMClass with securityProfile.${p.classField} true and firmware UEFI`;

const CONSTRAINTS = [
  { constraint: 'requireSecureBoot', feature: 'secure boot', classField: 'secureBoot' },
  { constraint: 'requireTPM', feature: 'a TPM', classField: 'tpmEnabled' },
] as const;

export const validateSecurityConstraints: VMSpecRule = (ctx) => {
  const { policy, policyRef, vmClass, classRef } = ctx.refs;
  const required = policy?.spec.securityConstraints;
  if (!required || !policyRef || !vmClass) return result({});
  const profile = vmClass.spec.securityProfile ?? {};
  const found: FieldError[] = [];
  for (const c of CONSTRAINTS) {
    if (!required[c.constraint] || profile[c.classField]) continue;
    found.push(errors.forbidden(ctx.path.child('classRef', 'name'), MESSAGE_CLASS_LACKS({
      policy: describeObject('VMPlacementPolicy', policyRef.namespace, policyRef.name),
      constraint: c.constraint,
      feature: c.feature,
      className: describeObject('VMClass', classRef.namespace, classRef.name),
      classField: c.classField,
    })));
  }
  return result({ errors: found });
};
