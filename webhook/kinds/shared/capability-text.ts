/** How messages name capabilities and the provider types that have them. */
import { providerTypesSupporting, type CapabilityRequest, type ProviderFeature, type ProviderType } from '../../../api/capabilities.ts';

export const FEATURE_NAMES: Readonly<Record<ProviderFeature, string>> = {
  secureBoot: 'secure boot',
  tpm: 'a TPM',
  nestedVirtualization: 'nested virtualization',
  cpuHotAdd: 'CPU hot-add',
  memoryHotAdd: 'memory hot-add',
  gpu: 'GPUs',
  memorySnapshots: 'memory snapshots',
  linkedClones: 'linked clones',
  instantClones: 'instant clones',
  onlineDiskExpansion: 'online disk expansion',
};

/** `secure boot`, `firmware UEFI`, `disk type eagerzeroedthick`. */
export function describeRequest(request: CapabilityRequest): string {
  switch (request.kind) {
    case 'feature':
      return FEATURE_NAMES[request.feature];
    case 'firmware':
      return `firmware ${request.firmware}`;
    case 'diskType':
      return `disk type ${request.diskType}`;
  }
}

/** `a`, `a or b`, `a, b or c`. */
export function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** `, or a Provider of type vsphere or proxmox` — empty when no type has it. */
export function otherProviderTypes(request: CapabilityRequest, except: ProviderType): string {
  const types = providerTypesSupporting(request).filter((t) => t !== except);
  return types.length === 0 ? '' : `, or use a Provider of type ${joinOr(types)}`;
}
