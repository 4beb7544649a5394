import assert from 'node:assert/strict';
import { validateVirtualMachine } from '../../../webhook/kinds/virtualmachine/validate-virtual-machine.ts';
import { validateVMSet } from '../../../webhook/kinds/vmset/validate-vmset.ts';
import { run, ruleTable } from '../../support/admission-asserts.ts';
import { anInMemoryLookup, aProvider, aVirtualMachine, aVMClass, aVMSet, aWorld } from '../../support/builders.ts';

describe('VirtualMachine: missing references are allowed with a warning', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'warns of a missing class, naming it, and allows the VM',
      object: aVirtualMachine({ spec: { classRef: { name: 'large' } } }),
      lookup: aWorld(),
      warnings: [/^VMClass default\/large not found; the VM waits for it$/],
    },
    {
      name: 'warns of a missing provider in the namespace the ref names',
      object: aVirtualMachine({ spec: { providerRef: { name: 'kvm', namespace: 'infra' } } }),
      lookup: aWorld(),
      warnings: [/^Provider infra\/kvm not found; the VM waits for it$/],
    },
    {
      name: 'warns of a missing image',
      object: aVirtualMachine({ spec: { imageRef: { name: 'debian-12' } } }),
      lookup: aWorld(),
      warnings: [/^VMImage default\/debian-12 not found; the VM waits for it$/],
    },
    {
      name: 'warns of a missing network attachment',
      object: aVirtualMachine({ spec: { networks: [{ name: 'eth0', networkRef: { name: 'dmz' } }] } }),
      lookup: aWorld(),
      warnings: [/^VMNetworkAttachment default\/dmz not found; the VM waits for it$/],
    },
    {
      name: 'warns of a missing placement policy',
      object: aVirtualMachine({ spec: { placementRef: { name: 'spread' } } }),
      lookup: aWorld(),
      warnings: [/^VMPlacementPolicy default\/spread not found; the VM waits for it$/],
    },
    {
      name: 'allows a VM whose every reference is missing, skipping the checks that need them',
      object: aVirtualMachine({ spec: { disks: [{ name: 'db', sizeGiB: 10, type: 'eagerzeroedthick' }], resources: { memoryMiB: 1048576 } } }),
      lookup: anInMemoryLookup(),
      warnings: [/Provider default\/vsphere-prod not found/, /VMClass default\/small not found/, /VMImage default\/ubuntu-22 not found/],
    },
  ]);

  it('says nothing when every reference exists', () => {
    const result = run(validateVirtualMachine, { object: aVirtualMachine(), lookup: aWorld() });
    assert.deepEqual(result, { errors: [], warnings: [] });
  });

  it('skips the class features while only the provider is known', () => {
    const kvm = aProvider({ metadata: { name: 'kvm' }, spec: { type: 'libvirt', endpoint: 'qemu:///system' } });
    const result = run(validateVirtualMachine, {
      object: aVirtualMachine({ spec: { providerRef: { name: 'kvm' }, classRef: { name: 'gone' } } }),
      lookup: anInMemoryLookup({ providers: [kvm], classes: [aVMClass()] }),
    });
    assert.deepEqual(result.errors, []);
  });
});

describe("VMSet: missing references warn that the set's VMs wait", () => {
  ruleTable(validateVMSet, [
    {
      name: 'warns of a missing template class',
      object: aVMSet({ spec: { template: { spec: { classRef: { name: 'large' } } } } }),
      lookup: aWorld(),
      warnings: [/^VMClass default\/large not found; the VMSet's VMs wait for it$/],
    },
  ]);
});
