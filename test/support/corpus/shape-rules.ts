/**
 * Where our CRDs deliberately refuse more than upstream (CEL rules in manifests/crds, each
 * explained in its CRD), and where upstream itself admits no value. The generator obeys these so
 * every object it makes is valid on both sides; anything else our CRDs refuse is a bug of ours.
 * Paths are schema paths from the object root: `spec.networks[]` is any entry of that list.
 */

/** How the generator shapes objects of one kind beyond what the upstream schema says. */
export interface ShapeRules {
  /** Object path → properties of which exactly one is set (ours: a CEL "exactly one of"). */
  exactlyOneOf?: Readonly<Record<string, readonly string[]>>;
  /** Object path → property → the property it needs: set only when that one is set too. */
  needs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Path → why it is never generated (upstream admits no value there, or a refusal of ours). */
  never?: Readonly<Record<string, string>>;
}

/** A static address's prefix length and gateway only mean something with the address itself. */
const STATIC_IP_NEEDS = { prefix: 'ipAddress', gateway: 'ipAddress' } as const;
const VM_BOOT_SOURCE = ['imageRef', 'importedDisk'] as const;

/** The deliberate refusals of our CRDs, by kind (kinds not listed have none). */
export const DELIBERATE_REFUSALS: Readonly<Record<string, ShapeRules>> = {
  VirtualMachine: {
    exactlyOneOf: { spec: VM_BOOT_SOURCE },
    needs: { 'spec.networks[]': STATIC_IP_NEEDS },
  },
  VMSet: {
    exactlyOneOf: { 'spec.template.spec': VM_BOOT_SOURCE },
    needs: { 'spec.template.spec.networks[]': STATIC_IP_NEEDS },
    never: {
      // Upstream's template.metadata declares no fields: any content is accepted and pruned.
      // Ours keeps labels and annotations, as string maps, so other values there are refused.
      'spec.template.metadata.labels': 'ours keeps it as a string map; upstream prunes any value',
      'spec.template.metadata.annotations': 'ours keeps it as a string map; upstream prunes any value',
    },
  },
  VMClone: {
    exactlyOneOf: { 'spec.source': ['vmRef', 'templateRef', 'snapshotRef', 'imageRef'] },
    needs: { 'spec.target.networks[]': STATIC_IP_NEEDS },
  },
  VMMigration: {
    needs: { 'spec.target.networks[]': STATIC_IP_NEEDS },
  },
  VMImage: {
    exactlyOneOf: { 'spec.source': ['vsphere', 'libvirt', 'proxmox', 'http', 'registry', 'dataVolume'] },
  },
  VMClass: {
    never: {
      'spec.securityProfile.tpmVersion':
        'upstream declares enum [1.2, 2] (numbers) on a string field, so it admits no value at all',
    },
  },
};
