import { validateVMClone } from '../../../webhook/kinds/vmclone/validate-clone-type.ts';
import { validateVMMigration } from '../../../webhook/kinds/vmmigration/validate-target.ts';
import { validateVMSnapshot } from '../../../webhook/kinds/vmsnapshot/validate-include-memory.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { anInMemoryLookup, aProvider, aVirtualMachine, aVMClone, aVMMigration, aVMSnapshot } from '../../support/builders.ts';

const vsphere = aProvider();
const kvm = aProvider({ metadata: { name: 'kvm' }, spec: { type: 'libvirt', endpoint: 'qemu:///system' } });
const pve = aProvider({ metadata: { name: 'pve' }, spec: { type: 'proxmox', endpoint: 'https://pve.example.com:8006' } });
const fc = aProvider({ metadata: { name: 'fc' }, spec: { type: 'firecracker', endpoint: 'https://fc.example.com:8443' } });
const vmOn = (name: string, provider: string) => aVirtualMachine({ metadata: { name }, spec: { providerRef: { name: provider } } });
const world = anInMemoryLookup({
  providers: [vsphere, kvm, pve, fc],
  vms: [vmOn('web-1', 'vsphere-prod'), vmOn('kvm-1', 'kvm'), vmOn('pve-1', 'pve'), vmOn('fc-1', 'fc'), vmOn('orphan-1', 'gone')],
});

describe('VMSnapshot: includeMemory needs memory snapshots (snapshot-memory-support)', () => {
  const memory = (vm: string) => aVMSnapshot({ spec: { vmRef: { name: vm }, snapshotConfig: { includeMemory: true } } });
  ruleTable(validateVMSnapshot, [
    { name: 'allows a memory snapshot of a vSphere VM', object: memory('web-1'), lookup: world },
    { name: 'allows a memory snapshot of a Proxmox VM (vmstate)', object: memory('pve-1'), lookup: world },
    {
      name: 'denies a memory snapshot of a VM on a provider without memory snapshots',
      object: memory('fc-1'),
      lookup: world,
      denied: [{ field: 'spec.snapshotConfig.includeMemory', rule: 'snapshot-memory-support', type: 'FieldValueNotSupported' }],
      message: /Provider default\/fc of type firecracker cannot snapshot a VM's memory: set includeMemory to false for a disk-only snapshot/,
    },
    { name: 'allows a disk-only snapshot anywhere', object: aVMSnapshot({ spec: { vmRef: { name: 'fc-1' } } }), lookup: world },
    {
      name: 'allows with a warning a memory snapshot of a VM not in the cache',
      object: memory('later'),
      lookup: world,
      warnings: [/^VirtualMachine default\/later not found; the snapshot waits for it/],
    },
    {
      name: "allows with a warning a memory snapshot while the VM's provider is not in the cache",
      object: memory('orphan-1'),
      lookup: world,
      warnings: [/^Provider default\/gone not found/],
    },
  ]);
});

describe('VMClone: LinkedClone and InstantClone need a provider and source that make them (clone-type-support)', () => {
  const clone = (type: 'FullClone' | 'LinkedClone' | 'InstantClone', source: Record<string, { name: string }>, targetProvider?: string) =>
    aVMClone({ spec: { options: { type }, source: { vmRef: undefined, ...source }, target: { name: 'copy', ...(targetProvider ? { providerRef: { name: targetProvider } } : {}) } } });
  ruleTable(validateVMClone, [
    { name: 'allows a linked clone of a vSphere VM', object: clone('LinkedClone', { vmRef: { name: 'web-1' } }), lookup: world },
    { name: 'allows a linked clone of a libvirt VM (qcow2 backing file)', object: clone('LinkedClone', { vmRef: { name: 'kvm-1' } }), lookup: world },
    {
      name: 'denies a linked clone on a provider without linked clones',
      object: clone('LinkedClone', { vmRef: { name: 'fc-1' } }),
      lookup: world,
      denied: [{ field: 'spec.options.type', rule: 'clone-type-support', type: 'FieldValueNotSupported' }],
      message: /LinkedClone needs linked clones, which Provider default\/fc of type firecracker does not make: use type FullClone/,
    },
    {
      name: 'denies a Proxmox linked clone of a VM that is not a template',
      object: clone('LinkedClone', { vmRef: { name: 'pve-1' } }),
      lookup: world,
      denied: [{ field: 'spec.source', rule: 'clone-type-support', type: 'FieldValueForbidden' }],
      message: /makes linked clones only from templates/,
    },
    {
      name: 'allows a Proxmox linked clone of a template',
      object: clone('LinkedClone', { templateRef: { name: 'ubuntu-tpl' } }, 'pve'),
      lookup: world,
    },
    {
      name: "denies a linked clone onto another provider than the source VM's",
      object: clone('LinkedClone', { vmRef: { name: 'web-1' } }, 'kvm'),
      lookup: world,
      denied: [{ field: 'spec.target.providerRef', rule: 'clone-type-support', type: 'FieldValueForbidden' }],
      message: /a linked clone shares its source's disks, so it stays on the source VM's Provider default\/vsphere-prod/,
    },
    { name: 'allows a full clone onto another provider', object: clone('FullClone', { vmRef: { name: 'web-1' } }, 'kvm'), lookup: world },
    { name: 'allows an instant clone of a running vSphere VM', object: clone('InstantClone', { vmRef: { name: 'web-1' } }), lookup: world },
    {
      name: 'denies an instant clone on libvirt',
      object: clone('InstantClone', { vmRef: { name: 'kvm-1' } }),
      lookup: world,
      denied: [{ field: 'spec.options.type', rule: 'clone-type-support' }],
    },
    {
      name: 'denies an instant clone from an image (it forks a running VM)',
      object: clone('InstantClone', { imageRef: { name: 'ubuntu-22' } }, 'vsphere-prod'),
      lookup: world,
      denied: [{ field: 'spec.source', rule: 'clone-type-support' }],
    },
    {
      name: 'allows with a warning a linked clone of a VM not in the cache',
      object: clone('LinkedClone', { vmRef: { name: 'later' } }),
      lookup: world,
      warnings: [/^VirtualMachine default\/later not found; the clone waits for it/],
    },
  ]);
});

describe('VMMigration: the target differs from the source (migration-target)', () => {
  ruleTable(validateVMMigration, [
    { name: 'allows migrating a VM to another provider', object: aVMMigration(), lookup: world },
    {
      name: 'denies migrating a VM onto its own provider under its own name',
      object: aVMMigration({ spec: { target: { name: 'web-1', providerRef: { name: 'vsphere-prod' } } } }),
      lookup: world,
      denied: [{ field: 'spec.target.providerRef', rule: 'migration-target', type: 'FieldValueForbidden' }],
      message: /Provider default\/vsphere-prod already runs VirtualMachine default\/web-1: migrate it to another provider \(spec\.target\.providerRef\), or to a VM of another name \(spec\.target\.name\)/,
    },
    {
      name: 'denies it when the source provider is given explicitly',
      object: aVMMigration({ spec: { source: { vmRef: { name: 'ghost' }, providerRef: { name: 'kvm' } }, target: { name: 'ghost', providerRef: { name: 'kvm' } } } }),
      lookup: world,
      denied: [{ field: 'spec.target.providerRef', rule: 'migration-target' }],
    },
    {
      name: 'allows a copy on the same provider under another name',
      object: aVMMigration({ spec: { target: { name: 'web-1-copy', providerRef: { name: 'vsphere-prod' } } } }),
      lookup: world,
    },
    {
      name: 'allows the same name and provider in another namespace',
      object: aVMMigration({ spec: { target: { name: 'web-1', namespace: 'staging', providerRef: { name: 'vsphere-prod', namespace: 'default' } } } }),
      lookup: world,
    },
    {
      name: 'allows with a warning a migration of a VM not in the cache',
      object: aVMMigration({ spec: { source: { vmRef: { name: 'later' } }, target: { name: 'later', providerRef: { name: 'kvm' } } } }),
      lookup: world,
      warnings: [/^VirtualMachine default\/later not found; the migration waits for it/],
    },
  ]);
});
