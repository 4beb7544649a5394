import { validateVirtualMachine } from '../../../webhook/kinds/virtualmachine/validate-virtual-machine.ts';
import { validateVMSet } from '../../../webhook/kinds/vmset/validate-vmset.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { aPlacementPolicy, aVirtualMachine, aVMClass, aVMSet, aWorld } from '../../support/builders.ts';
import type { VirtualMachine } from '../../../api/objects.ts';
import type { PlacementSpec } from '../../../api/schema/shared.ts';

const policy = aPlacementPolicy({
  spec: {
    hard: {
      clusters: ['prod-a', 'prod-b'], excludedClusters: ['legacy'],
      excludedHosts: ['esx-9'], datastores: ['ssd-1', 'ssd-2'], folders: ['web'],
    },
  },
});
const world = aWorld({ policies: [policy] });
const placed = (placement: PlacementSpec, name = 'web-1', labels?: Record<string, string>): VirtualMachine =>
  aVirtualMachine({ metadata: { name, labels }, spec: { placementRef: { name: 'spread' }, placement } });

describe("VirtualMachine: placement within the policy's hard constraints (placement-allowed)", () => {
  ruleTable(validateVirtualMachine, [
    {
      name: 'allows a cluster, datastore and folder from the allow-lists',
      object: placed({ cluster: 'prod-a', datastore: 'ssd-2', folder: 'web', host: 'esx-1' }),
      lookup: world,
    },
    {
      name: "denies a cluster outside the policy's allow-list, naming the allowed ones",
      object: placed({ cluster: 'dev' }),
      lookup: world,
      denied: [{ field: 'spec.placement.cluster', rule: 'placement-allowed', type: 'FieldValueNotSupported' }],
      message: /cluster dev is not allowed by VMPlacementPolicy default\/spread: use one of prod-a, prod-b \(spec\.hard\.clusters\)/,
    },
    {
      name: 'denies an excluded host',
      object: placed({ host: 'esx-9' }),
      lookup: world,
      denied: [{ field: 'spec.placement.host', rule: 'placement-allowed', type: 'FieldValueForbidden' }],
      message: /host esx-9 is excluded by VMPlacementPolicy default\/spread \(spec\.hard\.excludedHosts\)/,
    },
    {
      name: 'denies a datastore and a folder outside their allow-lists',
      object: placed({ datastore: 'hdd-1', folder: 'db' }),
      lookup: world,
      denied: [{ field: 'spec.placement.datastore', rule: 'placement-allowed' }, { field: 'spec.placement.folder', rule: 'placement-allowed' }],
    },
    {
      name: 'allows an open placement (the policy chooses)',
      object: placed({}),
      lookup: world,
    },
    {
      name: 'allows any placement while the policy is missing, with a warning',
      object: placed({ cluster: 'dev' }),
      lookup: aWorld(),
      warnings: [/VMPlacementPolicy default\/spread not found/],
    },
    {
      name: 'allows any placement without a placementRef',
      object: aVirtualMachine({ spec: { placement: { cluster: 'legacy' } } }),
      lookup: world,
    },
  ]);
});

describe('VMSet template: placement at spec.template.spec.placement', () => {
  ruleTable(validateVMSet, [
    {
      name: 'denies an excluded template cluster, at spec.template.spec.placement.cluster',
      object: aVMSet({ spec: { template: { spec: { placementRef: { name: 'spread' }, placement: { cluster: 'legacy' } } } } }),
      lookup: world,
      denied: [{ field: 'spec.template.spec.placement.cluster', rule: 'placement-allowed' }],
    },
  ]);
});

describe('VirtualMachine: required VM anti-affinity against existing VMs (placement-vm-anti-affinity)', () => {
  const anti = aPlacementPolicy({
    spec: { antiAffinity: { vmAntiAffinity: { requiredDuringScheduling: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } },
  });
  const dbOnEsx1 = placed({ host: 'esx-1' }, 'db-1', { app: 'db' });
  const webOnEsx1 = aVirtualMachine({ metadata: { name: 'web-9', labels: { app: 'web' } }, spec: { placement: { host: 'esx-1' } } });
  const antiWorld = aWorld({ policies: [anti], vms: [dbOnEsx1, webOnEsx1] });
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a host where a VM the anti-affinity selects already is',
      object: placed({ host: 'esx-1' }, 'db-2', { app: 'db' }),
      lookup: antiWorld,
      denied: [{ field: 'spec.placement.host', rule: 'placement-vm-anti-affinity', type: 'FieldValueForbidden' }],
      message: /forbids sharing a host with VMs matching app=db .* and 1 VM \(default\/db-1\) is already on host esx-1/,
    },
    {
      name: 'allows another host',
      object: placed({ host: 'esx-2' }, 'db-2', { app: 'db' }),
      lookup: antiWorld,
    },
    {
      name: 'allows a host shared only with VMs the selector does not match',
      object: placed({ host: 'esx-1' }, 'db-2', { app: 'db' }),
      lookup: aWorld({ policies: [anti], vms: [webOnEsx1] }),
    },
    {
      name: 'allows an open host (the placement engine keeps them apart)',
      object: placed({}, 'db-2', { app: 'db' }),
      lookup: antiWorld,
    },
    {
      name: 'allows a VM to stay on its host on UPDATE (it is not counted against itself)',
      oldObject: dbOnEsx1,
      object: placed({ host: 'esx-1' }, 'db-1', { app: 'db', tier: 'gold' }),
      lookup: antiWorld,
    },
  ]);

  ruleTable(validateVMSet, [
    {
      name: 'denies a VMSet whose replicas match its own anti-affinity and pin one host',
      object: aVMSet({
        spec: {
          replicas: 2, selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { placementRef: { name: 'spread' }, placement: { host: 'esx-5' } } },
        },
      }),
      lookup: aWorld({ policies: [anti] }),
      denied: [{ field: 'spec.template.spec.placement.host', rule: 'placement-vm-anti-affinity' }],
      message: /this VMSet's 2 replicas match it and would all be on host esx-5/,
    },
    {
      name: 'allows a VMSet of anti-affine replicas that leaves the host open',
      object: aVMSet({
        spec: {
          replicas: 2, selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { placementRef: { name: 'spread' } } },
        },
      }),
      lookup: aWorld({ policies: [anti] }),
    },
  ]);
});

describe('VirtualMachine: strict maxVMsPer* limits against existing VMs (placement-max-vms)', () => {
  const limited = aPlacementPolicy({
    spec: {
      antiAffinity: {
        hostAntiAffinity: { enabled: true, scope: 'strict', maxVMsPerHost: 2 },
        datastoreAntiAffinity: { enabled: true, scope: 'preferred', maxVMsPerDatastore: 1 },
        clusterAntiAffinity: { enabled: true, scope: 'strict' },
      },
    },
  });
  const existing = [placed({ host: 'esx-1', datastore: 'ds-1' }, 'a'), placed({ host: 'esx-1', datastore: 'ds-1', cluster: 'c1' }, 'b')];
  const unrelated = aVirtualMachine({ metadata: { name: 'c' }, spec: { placement: { host: 'esx-2' } } });
  const full = aWorld({ policies: [limited], vms: [...existing, unrelated, placed({ host: 'esx-2' }, 'd')] });
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a host that already holds maxVMsPerHost of the policy\'s VMs',
      object: placed({ host: 'esx-1' }, 'new'),
      lookup: full,
      denied: [{ field: 'spec.placement.host', rule: 'placement-max-vms', type: 'FieldValueForbidden' }],
      message: /allows at most 2 of its VMs per host \(spec\.antiAffinity\.hostAntiAffinity, scope strict\), and host esx-1 already has 2 \(a and b\)/,
    },
    {
      name: 'allows a host below the limit, counting only the policy\'s VMs',
      object: placed({ host: 'esx-2' }, 'new'),
      lookup: full,
    },
    {
      name: 'denies a second VM in a cluster when strict cluster anti-affinity has no max (one per cluster)',
      object: placed({ cluster: 'c1' }, 'new'),
      lookup: full,
      denied: [{ field: 'spec.placement.cluster', rule: 'placement-max-vms' }],
    },
    {
      name: 'allows exceeding a limit whose scope is preferred',
      object: placed({ datastore: 'ds-1' }, 'new'),
      lookup: full,
    },
  ]);

  ruleTable(validateVMSet, [
    {
      name: 'denies a VMSet whose replicas would exceed maxVMsPerHost on a pinned host',
      object: aVMSet({ spec: { replicas: 3, template: { spec: { placementRef: { name: 'spread' }, placement: { host: 'esx-7' } } } } }),
      lookup: aWorld({ policies: [limited] }),
      denied: [{ field: 'spec.template.spec.placement.host', rule: 'placement-max-vms' }],
      message: /has none yet while this VMSet adds 3/,
    },
  ]);
});

describe("VirtualMachine: securityConstraints hold for the VM's class (placement-security-constraints)", () => {
  const strict = aPlacementPolicy({ spec: { securityConstraints: { requireSecureBoot: true, requireTPM: true } } });
  const secure = aVMClass({ metadata: { name: 'secure' }, spec: { firmware: 'UEFI', securityProfile: { secureBoot: true, tpmEnabled: true } } });
  const bootOnly = aVMClass({ metadata: { name: 'boot-only' }, spec: { firmware: 'UEFI', securityProfile: { secureBoot: true } } });
  const secureWorld = aWorld({ policies: [strict], classes: [secure, bootOnly] });
  const vm = (className: string) => aVirtualMachine({ spec: { classRef: { name: className }, placementRef: { name: 'spread' } } });
  ruleTable(validateVirtualMachine, [
    {
      name: 'denies a class without secure boot and TPM under a policy requiring both',
      object: vm('small'),
      lookup: secureWorld,
      denied: [
        { field: 'spec.classRef.name', rule: 'placement-security-constraints', type: 'FieldValueForbidden' },
        { field: 'spec.classRef.name', rule: 'placement-security-constraints' },
      ],
      message: /VMPlacementPolicy default\/spread requires secure boot \(spec\.securityConstraints\.requireSecureBoot\), which VMClass default\/small does not enable/,
    },
    {
      name: 'denies a class with secure boot but no TPM under a policy requiring a TPM',
      object: vm('boot-only'),
      lookup: secureWorld,
      denied: [{ field: 'spec.classRef.name', rule: 'placement-security-constraints' }],
      message: /requires a TPM/,
    },
    {
      name: 'allows a class with secure boot and TPM',
      object: vm('secure'),
      lookup: secureWorld,
    },
  ]);
});
