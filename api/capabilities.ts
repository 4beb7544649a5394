/**
 * What each provider type's hypervisor can do, in one place. The admission webhook refuses a VM
 * that asks for something its Provider's type lacks; the dispatcher gates operations on it.
 *
 * Entries describe the hypervisor as our agents drive it (vSphere through the vSphere API, KVM
 * through libvirt, Proxmox VE through its REST API), not every knob the hypervisor has. A
 * surprising entry carries a one-line why.
 */
import type { DiskSpec } from './schema/shared.ts';
import type { ProviderSpec } from './kinds/provider.ts';
import type { VMClassSpec } from './kinds/vm-class.ts';

/** The provider types of the Provider CRD's `spec.type` enum. */
export type ProviderType = ProviderSpec['type'];

/** Firmware as the capability table knows it; a VMClass's `EFI` is `UEFI` (see normalizeFirmware). */
export type Firmware = 'BIOS' | 'UEFI';

/** Disk provisioning/media types: the union of VirtualMachine disks[].type and VMClass diskDefaults.type. */
export type DiskType = NonNullable<DiskSpec['type']> | NonNullable<NonNullable<VMClassSpec['diskDefaults']>['type']>;

/** Boolean features a VM, VMClass, VMSnapshot or VMClone can ask for. */
export type ProviderFeature =
  | 'secureBoot'
  | 'tpm'
  | 'nestedVirtualization'
  | 'cpuHotAdd'
  | 'memoryHotAdd'
  | 'gpu'
  | 'memorySnapshots'
  | 'linkedClones'
  | 'instantClones'
  | 'onlineDiskExpansion';

/** Where linked (copy-on-write) clones can come from. */
export type LinkedCloneSource = 'any' | 'templates' | 'none';

export interface ProviderCapabilities {
  firmware: readonly Firmware[];
  secureBoot: boolean;
  tpm: boolean;
  nestedVirtualization: boolean;
  cpuHotAdd: boolean;
  memoryHotAdd: boolean;
  diskTypes: readonly DiskType[];
  /** GPU passthrough or vGPU. */
  gpu: boolean;
  /** Snapshots that include the running guest's memory. */
  memorySnapshots: boolean;
  linkedClones: LinkedCloneSource;
  /** vSphere's Instant Clone (a running child forked from a running parent's memory). */
  instantClones: boolean;
  /** Growing a disk while the VM runs. */
  onlineDiskExpansion: boolean;
}

/** The table. Every provider type of the CRD enum has a row, so a new type fails to compile until described. */
export const PROVIDER_CAPABILITIES: Readonly<Record<ProviderType, ProviderCapabilities>> = {
  vsphere: {
    firmware: ['BIOS', 'UEFI'],
    secureBoot: true,
    // vTPM needs a key provider configured in vCenter; without one the create fails at the hypervisor, not here.
    tpm: true,
    nestedVirtualization: true,
    cpuHotAdd: true,
    memoryHotAdd: true,
    // ssd/hdd: vSphere can present a virtual disk to the guest as SSD (virtualSSD); nvme: vNVMe controller.
    diskTypes: ['thin', 'thick', 'eagerzeroedthick', 'ssd', 'hdd', 'nvme'],
    gpu: true,
    memorySnapshots: true,
    linkedClones: 'any',
    instantClones: true,
    onlineDiskExpansion: true,
  },
  libvirt: {
    // UEFI through OVMF; secure boot with OVMF's secboot build (q35 + SMM) and enrolled keys.
    firmware: ['BIOS', 'UEFI'],
    secureBoot: true,
    // TPM 2.0 emulated by swtpm.
    tpm: true,
    nestedVirtualization: true,
    // vCPU hotplug (current < maximum vcpus) and memory as hotplugged DIMMs (maxMemory + NUMA cell).
    cpuHotAdd: true,
    memoryHotAdd: true,
    // qcow2/raw volumes are sparse (thin) or preallocated (thick); eagerzeroedthick is a VMFS mode, and the
    // media (ssd/hdd/nvme) is the storage pool's, chosen with storageClass, not per disk.
    diskTypes: ['thin', 'thick'],
    // PCI passthrough (VFIO hostdev) or mediated devices (vGPU).
    gpu: true,
    memorySnapshots: true,
    // qcow2 overlays with the source disk as backing file.
    linkedClones: 'any',
    instantClones: false,
    // virsh blockresize on a running domain.
    onlineDiskExpansion: true,
  },
  proxmox: {
    firmware: ['BIOS', 'UEFI'],
    // OVMF with an EFI disk created with pre-enrolled keys.
    secureBoot: true,
    // tpmstate volume, v2.0.
    tpm: true,
    nestedVirtualization: true,
    // hotplug cpu,memory (memory hotplug needs NUMA enabled; the agent sets it).
    cpuHotAdd: true,
    memoryHotAdd: true,
    // ssd/hdd: Proxmox's per-disk `ssd=1` emulation flag; thick: preallocated qcow2 or raw on LVM.
    // No eagerzeroedthick (VMFS mode) and no NVMe bus in Proxmox's disk options.
    diskTypes: ['thin', 'thick', 'ssd', 'hdd'],
    // hostpci passthrough.
    gpu: true,
    // vmstate volume.
    memorySnapshots: true,
    // Proxmox refuses linked clones of a VM that is not a template.
    linkedClones: 'templates',
    instantClones: false,
    // qm resize works on a running VM.
    onlineDiskExpansion: true,
  },
  qemu: {
    // Every feature here is QEMU's own (libvirt only drives QEMU), so a bare-QEMU provider can do what libvirt does.
    firmware: ['BIOS', 'UEFI'],
    secureBoot: true,
    tpm: true,
    nestedVirtualization: true,
    cpuHotAdd: true,
    memoryHotAdd: true,
    diskTypes: ['thin', 'thick'],
    gpu: true,
    memorySnapshots: true,
    linkedClones: 'any',
    instantClones: false,
    onlineDiskExpansion: true,
  },
  firecracker: {
    // Firecracker has no firmware at all (direct kernel boot); BIOS, the VMClass default, stands for "not UEFI".
    firmware: ['BIOS'],
    secureBoot: false,
    tpm: false,
    // Firecracker's CPU templates hide VMX/SVM from the guest.
    nestedVirtualization: false,
    // No vCPU or memory hotplug (the balloon only shrinks below boot memory).
    cpuHotAdd: false,
    memoryHotAdd: false,
    // Block devices are plain files, sparse or preallocated.
    diskTypes: ['thin', 'thick'],
    // No PCI bus (virtio-mmio devices only), so no passthrough.
    gpu: false,
    // Its snapshots (guest memory + device state, no disks) restore a microVM fast; they are not the
    // disk-plus-memory restore points a VMSnapshot keeps.
    memorySnapshots: false,
    linkedClones: 'none',
    instantClones: false,
    onlineDiskExpansion: false,
  },
  // The simulated hypervisor (tests, benchmarks, the local demo) can pretend every feature.
  mock: {
    firmware: ['BIOS', 'UEFI'],
    secureBoot: true,
    tpm: true,
    nestedVirtualization: true,
    cpuHotAdd: true,
    memoryHotAdd: true,
    diskTypes: ['thin', 'thick', 'eagerzeroedthick', 'ssd', 'hdd', 'nvme'],
    gpu: true,
    memorySnapshots: true,
    linkedClones: 'any',
    instantClones: true,
    onlineDiskExpansion: true,
  },
};

/** A capability a request needs, in one shape for the three kinds of table entry. */
export type CapabilityRequest =
  | { kind: 'feature'; feature: ProviderFeature }
  | { kind: 'firmware'; firmware: Firmware }
  | { kind: 'diskType'; diskType: DiskType };

/** All provider types, in the table's order. */
export const PROVIDER_TYPES: readonly ProviderType[] = Object.keys(PROVIDER_CAPABILITIES) as ProviderType[];

/** The row of a provider type. */
export function capabilitiesOf(type: ProviderType): ProviderCapabilities {
  return PROVIDER_CAPABILITIES[type];
}

/** True when the provider type can do what the request needs. */
export function isSupported(type: ProviderType, request: CapabilityRequest): boolean {
  const caps = PROVIDER_CAPABILITIES[type];
  switch (request.kind) {
    case 'firmware':
      return caps.firmware.includes(request.firmware);
    case 'diskType':
      return caps.diskTypes.includes(request.diskType);
    case 'feature':
      return request.feature === 'linkedClones' ? caps.linkedClones !== 'none' : caps[request.feature];
  }
}

/** Types a message never suggests to a user: the simulated hypervisor supports everything. */
const NEVER_SUGGESTED: readonly ProviderType[] = ['mock'];

/** The real provider types that can do what the request needs (for messages that say what would be accepted). */
export function providerTypesSupporting(request: CapabilityRequest): ProviderType[] {
  return PROVIDER_TYPES.filter((type) => !NEVER_SUGGESTED.includes(type) && isSupported(type, request));
}

/** A VMClass's firmware as the table knows it: unset is the CRD default BIOS, `EFI` is `UEFI`. */
export function normalizeFirmware(firmware: string | undefined): Firmware {
  return firmware === 'UEFI' || firmware === 'EFI' ? 'UEFI' : 'BIOS';
}
