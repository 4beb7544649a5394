import type { VMNetworkRef } from '../../../api/schema/shared.ts';
import { validateVirtualMachine } from '../../../webhook/kinds/virtualmachine/validate-virtual-machine.ts';
import { validateVMSet } from '../../../webhook/kinds/vmset/validate-vmset.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { aNetworkAttachment, aVirtualMachine, aVMSet, aWorld } from '../../support/builders.ts';

const subnetNet = aNetworkAttachment({ metadata: { name: 'lan' }, spec: { ipAllocation: { type: 'Static', staticConfig: { address: '10.0.0.0/24', gateway: '10.0.0.1' } } } });
const isolated = aNetworkAttachment({ metadata: { name: 'backplane' }, spec: { network: { type: 'isolated' } } });
const world = aWorld({ networks: [subnetNet, isolated] });
const nic = (n: Partial<VMNetworkRef>): VMNetworkRef => ({ name: 'eth0', networkRef: { name: 'app-net' }, ...n });
const withNics = (...networks: VMNetworkRef[]) => aVirtualMachine({ spec: { networks } });

describe('VirtualMachine: a static IP has a prefix and is a host address (static-ip-prefix)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a static IP without prefix',
      object: withNics(nic({ ipAddress: '192.168.1.10' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].prefix', rule: 'static-ip-prefix', type: 'FieldValueRequired' }],
      message: /static ipAddress 192\.168\.1\.10 needs prefix/,
    },
    {
      name: "denies the subnet's network address as a static IP",
      object: withNics(nic({ ipAddress: '192.168.1.0', prefix: 24, gateway: '192.168.1.1' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].ipAddress', rule: 'static-ip-prefix' }],
      message: /192\.168\.1\.0 is the network address of 192\.168\.1\.0\/24: use a host address from 192\.168\.1\.1 to 192\.168\.1\.254/,
    },
    {
      name: "denies the subnet's broadcast address as a static IP",
      object: withNics(nic({ ipAddress: '192.168.1.255', prefix: 24, gateway: '192.168.1.1' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].ipAddress', rule: 'static-ip-prefix' }],
    },
    {
      name: 'allows either address of a /31 (no network or broadcast address there)',
      object: withNics(nic({ ipAddress: '192.168.1.0', prefix: 31, gateway: '192.168.1.1' })),
      lookup: world,
    },
  ]);
});

describe('VirtualMachine: a static IP has a gateway inside its subnet (static-ip-gateway)', () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'allows a static IP with prefix and a gateway inside the subnet',
      object: withNics(nic({ ipAddress: '192.168.1.10', prefix: 24, gateway: '192.168.1.1' })),
      lookup: world,
    },
    {
      name: "denies a gateway outside the static IP's subnet",
      object: withNics(nic({ ipAddress: '192.168.1.10', prefix: 24, gateway: '192.168.2.1' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].gateway', rule: 'static-ip-gateway', type: 'FieldValueInvalid' }],
      message: /gateway 192\.168\.2\.1 is outside 192\.168\.1\.0\/24, the subnet of ipAddress 192\.168\.1\.10\/24: use an address from 192\.168\.1\.1 to 192\.168\.1\.254/,
    },
    {
      name: "denies a gateway that is the VM's own address",
      object: withNics(nic({ ipAddress: '192.168.1.10', prefix: 24, gateway: '192.168.1.10' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].gateway', rule: 'static-ip-gateway' }],
    },
    {
      name: "denies a gateway that is the subnet's broadcast address",
      object: withNics(nic({ ipAddress: '192.168.1.10', prefix: 24, gateway: '192.168.1.255' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].gateway', rule: 'static-ip-gateway' }],
    },
    {
      name: 'denies a static IP without gateway on a routed network',
      object: withNics(nic({ ipAddress: '192.168.1.10', prefix: 24 })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].gateway', rule: 'static-ip-gateway', type: 'FieldValueRequired' }],
    },
    {
      name: "denies a static IP without gateway on the image's own adapter (no networkRef)",
      object: withNics({ name: 'eth0', ipAddress: '192.168.1.10', prefix: 24 }),
      lookup: world,
      denied: [{ field: 'spec.networks[0].gateway', rule: 'static-ip-gateway' }],
    },
    {
      name: 'allows a static IP without gateway on an isolated network',
      object: withNics(nic({ networkRef: { name: 'backplane' }, ipAddress: '172.16.0.5', prefix: 24 })),
      lookup: world,
    },
    {
      name: 'allows a static IP without gateway while its network is missing (the VM waits for it)',
      object: withNics(nic({ networkRef: { name: 'later' }, ipAddress: '172.16.0.5', prefix: 24 })),
      lookup: world,
      warnings: [/VMNetworkAttachment default\/later not found; the VM waits for it/],
    },
  ]);
});

describe("VirtualMachine: a static IP lies inside its network's subnet (static-ip-subnet)", () => {
  ruleTable(validateVirtualMachine, [
    {
      name: "denies a static IP outside the network's subnet",
      object: withNics(nic({ networkRef: { name: 'lan' }, ipAddress: '10.0.1.5', prefix: 24, gateway: '10.0.1.1' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].ipAddress', rule: 'static-ip-subnet', type: 'FieldValueInvalid' }],
      message: /10\.0\.1\.5 is outside 10\.0\.0\.0\/24, the subnet of VMNetworkAttachment default\/lan/,
    },
    {
      name: "denies a prefix that differs from the network's",
      object: withNics(nic({ networkRef: { name: 'lan' }, ipAddress: '10.0.0.5', prefix: 16, gateway: '10.0.0.1' })),
      lookup: world,
      denied: [{ field: 'spec.networks[0].prefix', rule: 'static-ip-subnet' }],
      message: /use 24/,
    },
    {
      name: "allows a static IP inside the network's subnet",
      object: withNics(nic({ networkRef: { name: 'lan' }, ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1' })),
      lookup: world,
    },
  ]);
});

describe('VirtualMachine: no two VMs claim one static IP on one network (static-ip-conflict)', () => {
  const holder = aVirtualMachine({ metadata: { name: 'db-1' }, spec: { networks: [nic({ ipAddress: '192.168.1.10', prefix: 24, gateway: '192.168.1.1' })] } });
  const leaving = aVirtualMachine({ metadata: { name: 'old-1', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { networks: [nic({ ipAddress: '192.168.1.20', prefix: 24, gateway: '192.168.1.1' })] } });
  const elsewhere = aVirtualMachine({ metadata: { name: 'db-9', namespace: 'other' }, spec: { networks: [nic({ ipAddress: '192.168.1.30', prefix: 24, gateway: '192.168.1.1' })] } });
  const crowded = aWorld({ networks: [subnetNet], vms: [holder, leaving, elsewhere] });
  const ip = (ipAddress: string, networkRef = 'app-net') => nic({ networkRef: { name: networkRef }, ipAddress, prefix: 24, gateway: '192.168.1.1' });
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a static IP another VM of the namespace claims on the same network',
      object: withNics(ip('192.168.1.10')),
      lookup: crowded,
      denied: [{ field: 'spec.networks[0].ipAddress', rule: 'static-ip-conflict', type: 'FieldValueInvalid' }],
      message: /192\.168\.1\.10 on VMNetworkAttachment default\/app-net is already claimed by VirtualMachine default\/db-1: use another address/,
    },
    {
      name: 'denies the IP of a VM being deleted, saying to retry once it is gone',
      object: withNics(ip('192.168.1.20')),
      lookup: crowded,
      denied: [{ field: 'spec.networks[0].ipAddress', rule: 'static-ip-conflict' }],
      message: /being deleted; retry once it is gone/,
    },
    {
      name: 'denies one IP twice on the same network within the VM',
      object: withNics(ip('192.168.1.40'), { ...ip('192.168.1.40'), name: 'eth1' }),
      lookup: crowded,
      denied: [{ field: 'spec.networks[1].ipAddress', rule: 'static-ip-conflict', type: 'FieldValueDuplicate' }],
    },
    {
      name: 'allows the same IP on another network',
      object: withNics({ ...ip('192.168.1.10'), networkRef: { name: 'storage-net' } }),
      lookup: crowded,
      warnings: [/VMNetworkAttachment default\/storage-net not found/],
    },
    {
      name: 'allows the IP a VM of another namespace claims',
      object: withNics(ip('192.168.1.30')),
      lookup: crowded,
    },
    {
      name: 'allows a VM to keep its own IP on UPDATE (it does not conflict with itself)',
      oldObject: holder,
      object: aVirtualMachine({ metadata: { name: 'db-1', labels: { tier: 'db' } }, spec: holder.spec }),
      lookup: crowded,
    },
  ]);
});

describe('VMSet: a set of several replicas has no static IP (vmset-static-ip-replicas)', () => {
  const templateNic = nic({ ipAddress: '192.168.1.50', prefix: 24, gateway: '192.168.1.1' });
  ruleTable(validateVMSet, [
    {
      name: 'denies a static IP in the template of a set of 3 replicas',
      object: aVMSet({ spec: { replicas: 3, template: { spec: { networks: [templateNic] } } } }),
      lookup: world,
      denied: [{ field: 'spec.template.spec.networks[0].ipAddress', rule: 'vmset-static-ip-replicas', type: 'FieldValueForbidden' }],
      message: /each of the 3 replicas would claim 192\.168\.1\.50/,
    },
    {
      name: 'allows a static IP in the template of a single-replica set',
      object: aVMSet({ spec: { replicas: 1, template: { spec: { networks: [templateNic] } } } }),
      lookup: world,
    },
    {
      name: "denies a template static IP an existing VM claims, at spec.template.spec.networks[0].ipAddress",
      object: aVMSet({ spec: { template: { spec: { networks: [templateNic] } } } }),
      lookup: aWorld({ vms: [aVirtualMachine({ metadata: { name: 'other' }, spec: { networks: [templateNic] } })] }),
      denied: [{ field: 'spec.template.spec.networks[0].ipAddress', rule: 'static-ip-conflict' }],
    },
    {
      name: "allows a template static IP its own VM claims (the set's VMs are not counted against it)",
      object: aVMSet({ spec: { template: { spec: { networks: [templateNic] } } } }),
      lookup: aWorld({
        vms: [aVirtualMachine({
          metadata: { name: 'web-0', ownerReferences: [{ apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMSet', name: 'web', uid: 'u1', controller: true }] },
          spec: { networks: [templateNic] },
        })],
      }),
    },
  ]);
});
