/**
 * Every rule the webhook enforces, by the name its errors carry (the `rule` label of the
 * `denials by rule` metric, so these names are an interface: rename one only on purpose).
 */
import { forRule, type RuleErrors } from '../framework/field-path.ts';

export const RULE_DESCRIPTIONS = {
  'provider-capabilities': "the Provider's type supports every feature the VM and its VMClass ask for",
  'security-needs-uefi': 'secure boot and TPM need UEFI firmware',
  'class-resource-limits': "resources stay within the VMClass's resourceLimits, and the limits agree with each other",
  'disk-names-unique': 'disks have unique names',
  'disk-no-shrink': 'a disk may grow, never shrink',
  'network-names-unique': 'network attachments have unique names',
  'static-ip-prefix': 'a static IP has a prefix and is a host address of its subnet',
  'static-ip-gateway': 'a static IP has a gateway inside its subnet',
  'static-ip-subnet': "a static IP lies inside its VMNetworkAttachment's subnet",
  'static-ip-conflict': 'no two VMs claim the same static IP on the same network',
  'placement-allowed': "requested placement is in the policy's hard allow-lists and not excluded",
  'placement-vm-anti-affinity': 'required VM anti-affinity holds against existing VMs',
  'placement-max-vms': 'strict maxVMsPer* limits hold against existing VMs',
  'placement-security-constraints': "the policy's securityConstraints hold for the VM's class",
  'vmset-selector': "a VMSet's selector is non-empty and matches its template's labels",
  'vmset-static-ip-replicas': 'a VMSet of more than one replica has no static IP in its template',
  'class-in-use': 'a VMClass still used by VMs is not deleted',
  'policy-contradiction': 'a placement policy does not allow or prefer what it excludes',
  'policy-affinity-contradiction': 'a placement policy has no affinity and anti-affinity to the same VMs',
  'policy-in-use': 'a VMPlacementPolicy still used by VMs is not deleted',
  'snapshot-memory-support': "includeMemory needs a provider with memory snapshots",
  'clone-type-support': "LinkedClone and InstantClone need a provider that makes them, from a source it can use",
  'provider-endpoint-scheme': "a Provider's endpoint scheme fits its type",
  'provider-name': "a Provider's name can name its agent's Service and bus subjects (a DNS label of at most 57 characters)",
  'provider-credentials-namespace': "a Provider's credential Secret is in the Provider's namespace (where its agents mount it)",
  'provider-in-use': 'a Provider still used by VMs is not deleted',
  'migration-target': 'a migration goes to another provider or another VM',
} as const;

/** The name of a rule. */
export type RuleName = keyof typeof RULE_DESCRIPTIONS;

/** The error makers of a catalogued rule. */
export function ruleErrors(rule: RuleName): RuleErrors {
  return forRule(rule);
}
