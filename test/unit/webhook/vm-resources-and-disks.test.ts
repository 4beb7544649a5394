import { validateVirtualMachine } from '../../../webhook/kinds/virtualmachine/validate-virtual-machine.ts';
import { validateVMSet } from '../../../webhook/kinds/vmset/validate-vmset.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { aVirtualMachine, aVMClass, aVMSet, aWorld } from '../../support/builders.ts';

const limited = aVMClass({ spec: { memory: '4Gi', resourceLimits: { memoryLimit: '8Gi', memoryReservation: '2Gi' } } });
const world = aWorld({ classes: [limited] });
const disks = (...sizes: Array<[string, number]>) => sizes.map(([name, sizeGiB]) => ({ name, sizeGiB }));

describe("VirtualMachine: resources stay within the class's resourceLimits (class-resource-limits)", () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'allows a memoryMiB override between the reservation and the limit',
      object: aVirtualMachine({ spec: { resources: { memoryMiB: 8192 } } }),
      lookup: world,
    },
    {
      name: "denies a memoryMiB override above the class's memoryLimit",
      object: aVirtualMachine({ spec: { resources: { memoryMiB: 8193 } } }),
      lookup: world,
      denied: [{ field: 'spec.resources.memoryMiB', rule: 'class-resource-limits', type: 'FieldValueInvalid' }],
      message: /memoryMiB 8193 exceeds VMClass default\/small's resourceLimits\.memoryLimit 8Gi \(= 8192 MiB\): use at most 8192/,
    },
    {
      name: "denies a memoryMiB override below the class's memoryReservation",
      object: aVirtualMachine({ spec: { resources: { memoryMiB: 1024 } } }),
      lookup: world,
      denied: [{ field: 'spec.resources.memoryMiB', rule: 'class-resource-limits' }],
      message: /use at least 2048/,
    },
    {
      name: 'allows any override when the class has no resourceLimits',
      object: aVirtualMachine({ spec: { resources: { memoryMiB: 1048576, cpu: 128 } } }),
      lookup: aWorld(),
    },
    {
      name: 'skips the limits while the class is missing',
      object: aVirtualMachine({ spec: { classRef: { name: 'later' }, resources: { memoryMiB: 1048576 } } }),
      lookup: world,
      warnings: [/VMClass default\/later not found; the VM waits for it/],
    },
  ]);
});

describe('VirtualMachine: disks have unique names (disk-names-unique)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a second disk of the same name, at the repeat',
      object: aVirtualMachine({ spec: { disks: disks(['data', 10], ['logs', 5], ['data', 20]) } }),
      lookup: world,
      denied: [{ field: 'spec.disks[2].name', rule: 'disk-names-unique', type: 'FieldValueDuplicate' }],
      message: /already used by disks\[0\]/,
    },
    {
      name: 'allows distinct disk names',
      object: aVirtualMachine({ spec: { disks: disks(['data', 10], ['logs', 5]) } }),
      lookup: world,
    },
  ]);
});

describe('VirtualMachine: disks may grow, never shrink (disk-no-shrink)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies shrinking a disk on UPDATE',
      oldObject: aVirtualMachine({ spec: { disks: disks(['data', 100], ['logs', 5]) } }),
      object: aVirtualMachine({ spec: { disks: disks(['data', 50], ['logs', 5]) } }),
      lookup: world,
      denied: [{ field: 'spec.disks[0].sizeGiB', rule: 'disk-no-shrink', type: 'FieldValueInvalid' }],
      message: /disk data would shrink from 100 GiB to 50 GiB, which would lose its data: use 100 GiB or more/,
    },
    {
      name: 'allows growing a disk, adding one and removing one on UPDATE',
      oldObject: aVirtualMachine({ spec: { disks: disks(['data', 100], ['logs', 5]) } }),
      object: aVirtualMachine({ spec: { disks: disks(['data', 200], ['scratch', 1]) } }),
      lookup: world,
    },
  ]);
});

describe('VirtualMachine: network attachments have unique names (network-names-unique)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies two networks of the same name',
      object: aVirtualMachine({ spec: { networks: [{ name: 'eth', networkRef: { name: 'app-net' } }, { name: 'eth' }] } }),
      lookup: world,
      denied: [{ field: 'spec.networks[1].name', rule: 'network-names-unique', type: 'FieldValueDuplicate' }],
    },
    {
      name: 'allows distinct network names',
      object: aVirtualMachine({ spec: { networks: [{ name: 'front', networkRef: { name: 'app-net' } }, { name: 'back' }] } }),
      lookup: world,
    },
  ]);
});

describe('VMSet template: resource limits and disks at spec.template.spec', () => {
  ruleTable(validateVMSet, [
    {
      name: 'denies shrinking a VMSet template disk, at spec.template.spec.disks[0].sizeGiB',
      oldObject: aVMSet({ spec: { template: { spec: { disks: disks(['data', 100]) } } } }),
      object: aVMSet({ spec: { template: { spec: { disks: disks(['data', 10]) } } } }),
      lookup: world,
      denied: [{ field: 'spec.template.spec.disks[0].sizeGiB', rule: 'disk-no-shrink' }],
    },
    {
      name: "denies a template memoryMiB above the class's memoryLimit, at spec.template.spec.resources.memoryMiB",
      object: aVMSet({ spec: { template: { spec: { resources: { memoryMiB: 65536 } } } } }),
      lookup: world,
      denied: [{ field: 'spec.template.spec.resources.memoryMiB', rule: 'class-resource-limits' }],
    },
  ]);
});
