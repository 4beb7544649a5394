import { validateVirtualMachine } from '../../../webhook/kinds/virtualmachine/validate-virtual-machine.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { aProvider, aVirtualMachine, aVMClass, aVMSet, aWorld } from '../../support/builders.ts';
import { validateVMSet } from '../../../webhook/kinds/vmset/validate-vmset.ts';

const kvm = aProvider({ metadata: { name: 'kvm' }, spec: { type: 'libvirt', endpoint: 'qemu+ssh://root@kvm.example.com/system' } });
const pve = aProvider({ metadata: { name: 'pve' }, spec: { type: 'proxmox', endpoint: 'https://pve.example.com:8006' } });
const fc = aProvider({ metadata: { name: 'fc' }, spec: { type: 'firecracker', endpoint: 'https://fc.example.com:8443' } });
const secure = aVMClass({ metadata: { name: 'secure' }, spec: { firmware: 'UEFI', securityProfile: { secureBoot: true, tpmEnabled: true } } });
const nested = aVMClass({ metadata: { name: 'nested' }, spec: { performanceProfile: { nestedVirtualization: true, cpuHotAddEnabled: true, memoryHotAddEnabled: true } } });
const world = aWorld({ providers: [kvm, pve, fc], classes: [secure, nested] });
const on = (provider: string, className = 'small') => ({ providerRef: { name: provider }, classRef: { name: className } });

describe('VirtualMachine: provider capabilities (provider-capabilities)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'allows a UEFI secure-boot TPM class on vSphere',
      object: aVirtualMachine({ spec: on('vsphere-prod', 'secure') }),
      lookup: world,
    },
    {
      name: 'allows a UEFI secure-boot TPM class on libvirt (OVMF, swtpm)',
      object: aVirtualMachine({ spec: on('kvm', 'secure') }),
      lookup: world,
    },
    {
      name: "denies a class's UEFI firmware, secure boot and TPM on Firecracker, at spec.classRef.name",
      object: aVirtualMachine({ spec: on('fc', 'secure') }),
      lookup: world,
      denied: [
        { field: 'spec.classRef.name', rule: 'provider-capabilities', type: 'FieldValueNotSupported' },
        { field: 'spec.classRef.name', rule: 'provider-capabilities' },
        { field: 'spec.classRef.name', rule: 'provider-capabilities' },
      ],
      message: /VMClass default\/secure asks for firmware UEFI \(spec\.firmware\), which Provider default\/fc of type firecracker does not support: use a VMClass without it, or use a Provider of type vsphere, libvirt, proxmox or qemu/,
    },
    {
      name: 'denies nested virtualization and CPU/memory hot-add on Firecracker',
      object: aVirtualMachine({ spec: on('fc', 'nested') }),
      lookup: world,
      denied: [
        { field: 'spec.classRef.name', rule: 'provider-capabilities' },
        { field: 'spec.classRef.name', rule: 'provider-capabilities' },
        { field: 'spec.classRef.name', rule: 'provider-capabilities' },
      ],
    },
    {
      name: 'allows nested virtualization and hot-add on Proxmox',
      object: aVirtualMachine({ spec: on('pve', 'nested') }),
      lookup: world,
    },
    {
      name: 'denies a disk type the provider lacks, naming the types it has',
      object: aVirtualMachine({ spec: { ...on('kvm'), disks: [{ name: 'data', sizeGiB: 10, type: 'thin' }, { name: 'db', sizeGiB: 10, type: 'eagerzeroedthick' }] } }),
      lookup: world,
      denied: [{ field: 'spec.disks[1].type', rule: 'provider-capabilities', type: 'FieldValueNotSupported' }],
      message: /Provider default\/kvm of type libvirt does not support disk type eagerzeroedthick: use one of thin, thick, or use a Provider of type vsphere/,
    },
    {
      name: "denies a class's default disk type the provider lacks",
      object: aVirtualMachine({ spec: on('kvm', 'ssd-class') }),
      lookup: aWorld({ providers: [kvm], classes: [aVMClass({ metadata: { name: 'ssd-class' }, spec: { diskDefaults: { type: 'ssd' } } })] }),
      denied: [{ field: 'spec.classRef.name', rule: 'provider-capabilities' }],
    },
    {
      name: 'allows ssd disks on Proxmox',
      object: aVirtualMachine({ spec: { ...on('pve'), disks: [{ name: 'fast', sizeGiB: 10, type: 'ssd' }] } }),
      lookup: world,
    },
    {
      name: 'denies a GPU on Firecracker',
      object: aVirtualMachine({ spec: { ...on('fc'), resources: { gpu: { count: 1 } } } }),
      lookup: world,
      denied: [{ field: 'spec.resources.gpu', rule: 'provider-capabilities' }],
    },
    {
      name: 'allows a GPU on libvirt (VFIO passthrough)',
      object: aVirtualMachine({ spec: { ...on('kvm'), resources: { gpu: { count: 1 } } } }),
      lookup: world,
    },
    {
      name: 'denies online disk expansion on Firecracker, suggesting Offline',
      object: aVirtualMachine({ spec: { ...on('fc'), disks: [{ name: 'data', sizeGiB: 10, expandPolicy: 'Online' }] } }),
      lookup: world,
      denied: [{ field: 'spec.disks[0].expandPolicy', rule: 'provider-capabilities' }],
      message: /use expandPolicy Offline/,
    },
    {
      name: 'allows a lifecycle memory snapshot on Proxmox',
      object: aVirtualMachine({ spec: { ...on('pve'), lifecycle: { preStop: { snapshot: { name: 'pre', includeMemory: true } } } } }),
      lookup: world,
    },
    {
      name: 'denies a lifecycle memory snapshot on a provider without memory snapshots',
      object: aVirtualMachine({ spec: { ...on('fc'), lifecycle: { postStart: { snapshot: { name: 'post', includeMemory: true } } } } }),
      lookup: world,
      denied: [{ field: 'spec.lifecycle.postStart.snapshot.includeMemory', rule: 'provider-capabilities' }],
      message: /Provider default\/fc of type firecracker does not support memory snapshots: remove spec\.lifecycle\.postStart\.snapshot\.includeMemory, or use a Provider of type vsphere, libvirt, proxmox or qemu/,
    },
  ]);
});

describe('VirtualMachine: secure boot and TPM need UEFI (security-needs-uefi)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a VM whose class enables secure boot on BIOS firmware',
      object: aVirtualMachine({ spec: on('vsphere-prod', 'sb-bios') }),
      lookup: aWorld({ classes: [aVMClass({ metadata: { name: 'sb-bios' }, spec: { firmware: 'BIOS', securityProfile: { secureBoot: true } } })] }),
      denied: [{ field: 'spec.classRef.name', rule: 'security-needs-uefi', type: 'FieldValueForbidden' }],
      message: /use a VMClass with spec\.firmware UEFI/,
    },
    {
      name: 'denies a VM whose class enables a TPM with firmware left to the BIOS default',
      object: aVirtualMachine({ spec: on('vsphere-prod', 'tpm-default') }),
      lookup: aWorld({ classes: [aVMClass({ metadata: { name: 'tpm-default' }, spec: { firmware: undefined, securityProfile: { tpmEnabled: true } } })] }),
      denied: [{ field: 'spec.classRef.name', rule: 'security-needs-uefi' }],
    },
    {
      name: 'allows secure boot with firmware EFI (an alias of UEFI)',
      object: aVirtualMachine({ spec: on('vsphere-prod', 'sb-efi') }),
      lookup: aWorld({ classes: [aVMClass({ metadata: { name: 'sb-efi' }, spec: { firmware: 'EFI', securityProfile: { secureBoot: true } } })] }),
    },
  ]);
});

describe('VMSet template: the same capability rules at spec.template.spec', () => {
  ruleTable(validateVMSet, [
    {
      name: 'denies a template disk type the provider lacks, at spec.template.spec.disks[0].type',
      object: aVMSet({ spec: { template: { spec: { ...on('kvm'), disks: [{ name: 'db', sizeGiB: 10, type: 'eagerzeroedthick' }] } } } }),
      lookup: world,
      denied: [{ field: 'spec.template.spec.disks[0].type', rule: 'provider-capabilities' }],
    },
    {
      name: "denies a template whose class needs what the provider lacks, at spec.template.spec.classRef.name",
      object: aVMSet({ spec: { template: { spec: on('fc', 'secure') } } }),
      lookup: world,
      denied: [
        { field: 'spec.template.spec.classRef.name', rule: 'provider-capabilities' },
        { field: 'spec.template.spec.classRef.name', rule: 'provider-capabilities' },
        { field: 'spec.template.spec.classRef.name', rule: 'provider-capabilities' },
      ],
    },
    {
      name: 'allows a template the provider fully supports',
      object: aVMSet({ spec: { template: { spec: on('kvm', 'secure') } } }),
      lookup: world,
    },
  ]);
});
