import { validateVMPlacementPolicy } from '../../../webhook/kinds/vmplacementpolicy/validate-vmplacementpolicy.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { anInMemoryLookup, aPlacementPolicy, aVirtualMachine } from '../../support/builders.ts';

const webTerm = { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'host' };

describe('VMPlacementPolicy: no item both allowed and excluded (policy-contradiction)', () => {
  ruleTable(validateVMPlacementPolicy, [
    {
      name: 'denies a cluster both allowed and excluded in spec.hard, at the exclusion',
      object: aPlacementPolicy({ spec: { hard: { clusters: ['a', 'b'], excludedClusters: ['c', 'b'] } } }),
      denied: [{ field: 'spec.hard.excludedClusters[1]', rule: 'policy-contradiction', type: 'FieldValueForbidden' }],
      message: /cluster b is both allowed \(spec\.hard\.clusters\[1\]\) and excluded/,
    },
    {
      name: 'denies a host both preferred and excluded in spec.soft',
      object: aPlacementPolicy({ spec: { soft: { hosts: ['esx-1'], excludedHosts: ['esx-1'] } } }),
      denied: [{ field: 'spec.soft.excludedHosts[0]', rule: 'policy-contradiction' }],
    },
    {
      name: 'denies a soft preference for a hard-excluded datastore',
      object: aPlacementPolicy({ spec: { hard: { excludedDatastores: ['slow'] }, soft: { datastores: ['fast', 'slow'] } } }),
      denied: [{ field: 'spec.soft.datastores[1]', rule: 'policy-contradiction' }],
      message: /prefers datastore slow, which spec\.hard\.excludedDatastores excludes/,
    },
    {
      name: 'denies a soft preference outside the hard allow-list, naming the allowed',
      object: aPlacementPolicy({ spec: { hard: { folders: ['web'] }, soft: { folders: ['db'] } } }),
      denied: [{ field: 'spec.soft.folders[0]', rule: 'policy-contradiction' }],
      message: /prefer one of web/,
    },
    {
      name: 'denies an enabled cluster affinity preferring a hard-excluded cluster',
      object: aPlacementPolicy({ spec: { hard: { excludedClusters: ['legacy'] }, affinity: { clusterAffinity: { enabled: true, preferredClusters: ['legacy'] } } } }),
      denied: [{ field: 'spec.affinity.clusterAffinity.preferredClusters[0]', rule: 'policy-contradiction' }],
    },
    {
      name: 'allows a disabled cluster affinity listing anything',
      object: aPlacementPolicy({ spec: { hard: { excludedClusters: ['legacy'] }, affinity: { clusterAffinity: { enabled: false, preferredClusters: ['legacy'] } } } }),
    },
    {
      name: 'allows consistent hard and soft lists',
      object: aPlacementPolicy({
        spec: {
          hard: { clusters: ['a', 'b'], excludedHosts: ['esx-9'], zones: ['z1', 'z2'] },
          soft: { clusters: ['b'], hosts: ['esx-1'], excludedHosts: ['esx-2'], zones: ['z2'] },
        },
      }),
    },
  ]);
});

describe('VMPlacementPolicy: no affinity and anti-affinity to the same VMs (policy-affinity-contradiction)', () => {
  ruleTable(validateVMPlacementPolicy, [
    {
      name: 'denies required affinity and anti-affinity to the same selector and topology, at the anti-affinity term',
      object: aPlacementPolicy({
        spec: {
          affinity: { vmAffinity: { requiredDuringScheduling: [webTerm] } },
          antiAffinity: { vmAntiAffinity: { requiredDuringScheduling: [{ topologyKey: 'host', matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, webTerm] } },
        },
      }),
      denied: [{ field: 'spec.antiAffinity.vmAntiAffinity.requiredDuringScheduling[1]', rule: 'policy-affinity-contradiction', type: 'FieldValueForbidden' }],
      message: /asks VMs matching app=web to share a host \(spec\.affinity\.vmAffinity\.requiredDuringScheduling\[0\]\) and never to share one/,
    },
    {
      name: 'allows affinity in a cluster and anti-affinity across hosts to the same selector (spread within a cluster)',
      object: aPlacementPolicy({
        spec: {
          affinity: { vmAffinity: { requiredDuringScheduling: [{ ...webTerm, topologyKey: 'cluster' }] } },
          antiAffinity: { vmAntiAffinity: { requiredDuringScheduling: [webTerm] } },
        },
      }),
    },
    {
      name: 'allows (with a warning) a preferred affinity against a required anti-affinity to the same VMs',
      object: aPlacementPolicy({
        spec: {
          affinity: { vmAffinity: { preferredDuringScheduling: [{ weight: 10, vmAffinityTerm: webTerm }] } },
          antiAffinity: { vmAntiAffinity: { requiredDuringScheduling: [webTerm] } },
        },
      }),
      warnings: [/requiredDuringScheduling\[0\] and spec\.affinity\.vmAffinity\.preferredDuringScheduling\[0\]\.vmAffinityTerm name the same VMs/],
    },
    {
      name: 'denies strict host affinity together with strict host anti-affinity',
      object: aPlacementPolicy({ spec: { affinity: { hostAffinity: { enabled: true, scope: 'strict' } }, antiAffinity: { hostAntiAffinity: { enabled: true, scope: 'strict' } } } }),
      denied: [{ field: 'spec.antiAffinity.hostAntiAffinity', rule: 'policy-affinity-contradiction' }],
    },
    {
      name: 'allows strict host affinity with strict host anti-affinity capped above one VM per host',
      object: aPlacementPolicy({ spec: { affinity: { hostAffinity: { enabled: true, scope: 'strict' } }, antiAffinity: { hostAntiAffinity: { enabled: true, scope: 'strict', maxVMsPerHost: 4 } } } }),
    },
  ]);
});

describe('VMPlacementPolicy: not deleted while VMs use it (policy-in-use)', () => {
  const user = aVirtualMachine({ metadata: { name: 'web-1' }, spec: { placementRef: { name: 'spread' } } });
  ruleTable(validateVMPlacementPolicy, [
    {
      name: 'denies deleting a policy a VM uses, naming it',
      operation: 'DELETE',
      object: aPlacementPolicy(),
      lookup: anInMemoryLookup({ vms: [user, aVirtualMachine({ metadata: { name: 'web-2' } })] }),
      denied: [{ field: 'metadata.name', rule: 'policy-in-use', type: 'FieldValueForbidden' }],
      message: /^VMPlacementPolicy default\/spread is used by 1 VM: web-1; remove their placementRef or delete them first$/,
    },
    {
      name: 'allows deleting a policy no VM uses',
      operation: 'DELETE',
      object: aPlacementPolicy(),
      lookup: anInMemoryLookup({ vms: [aVirtualMachine()] }),
    },
    {
      name: 'allows updating a policy that already contradicted itself when the update adds nothing (ratcheting)',
      oldObject: aPlacementPolicy({ spec: { hard: { clusters: ['a'], excludedClusters: ['a'] } } }),
      object: aPlacementPolicy({ metadata: { labels: { owner: 'ops' } }, spec: { hard: { clusters: ['a'], excludedClusters: ['a'] } } }),
    },
  ]);
});
