/**
 * The VirtualMachine spec rules in their fixed order, run for a VirtualMachine's spec and a
 * VMSet's template alike.
 */
import type { ValidationResult } from '../../framework/types.ts';
import { mergeResults } from '../shared/result.ts';
import { validateProviderCapabilities } from './validate-capabilities.ts';
import { validateDiskGrowth, validateDiskNames } from './validate-disks.ts';
import { validateSecurityFirmware } from './validate-firmware.ts';
import { validateIPConflicts } from './validate-ip-conflicts.ts';
import { validateNetworkNames } from './validate-network-names.ts';
import { validatePlacementAllowed } from './validate-placement.ts';
import { validatePlacementLimits } from './validate-placement-limits.ts';
import { validateReferences } from './validate-references.ts';
import { validateResourceLimits } from './validate-resource-limits.ts';
import { validateSecurityConstraints } from './validate-security-constraints.ts';
import { validateStaticIPs } from './validate-static-ip.ts';
import type { VMSpecContext, VMSpecRule } from './vm-spec-context.ts';

export const VM_SPEC_RULES: readonly VMSpecRule[] = [
  validateReferences,
  validateProviderCapabilities,
  validateSecurityFirmware,
  validateResourceLimits,
  validateDiskNames,
  validateDiskGrowth,
  validateNetworkNames,
  validateStaticIPs,
  validateIPConflicts,
  validatePlacementAllowed,
  validatePlacementLimits,
  validateSecurityConstraints,
];

/** Every VM spec rule, in order, all findings reported. */
export function validateVMSpec(ctx: VMSpecContext): ValidationResult {
  return mergeResults(VM_SPEC_RULES.map((rule) => rule(ctx)));
}
