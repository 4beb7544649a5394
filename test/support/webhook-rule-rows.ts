/**
 * The rows of test/integration/webhook-rules-apiserver.test.ts: for every webhook rule, the
 * objects it looks up and an object (or a delete) that breaks that rule and no other, with the
 * field and message kubectl must show; and one object of every kind that passes every rule.
 * Messages come from the constants the rules export, so the rows follow the rules' wording.
 * Every builder takes the row's namespace: rows run each in their own.
 */
import { capabilitiesOf } from '../../api/capabilities.ts';
import type { AnyVirtRigaudObject, VirtualMachine, VMPlacementPolicy } from '../../api/objects.ts';
import type { Kind } from '../../webhook/kinds/index.ts';
import { MESSAGE_SCHEME } from '../../webhook/kinds/provider/validate-endpoint.ts';
import { REMEDY_PROVIDER_IN_USE } from '../../webhook/kinds/provider/validate-in-use.ts';
import { MESSAGE_PROVIDER_NAME, MESSAGE_SECRET_NAMESPACE } from '../../webhook/kinds/provider/validate-runtime.ts';
import type { RuleName } from '../../webhook/kinds/rule-names.ts';
import { MESSAGE_IN_USE } from '../../webhook/kinds/shared/in-use.ts';
import { parseCidr, parseIPv4, subnetOf } from '../../webhook/kinds/shared/ipv4.ts';
import { MESSAGE_DISK_DUPLICATE, MESSAGE_DISK_SHRINK } from '../../webhook/kinds/virtualmachine/validate-disks.ts';
import { MESSAGE_IP_TAKEN } from '../../webhook/kinds/virtualmachine/validate-ip-conflicts.ts';
import { MESSAGE_NETWORK_DUPLICATE } from '../../webhook/kinds/virtualmachine/validate-network-names.ts';
import { MESSAGE_ANTI_AFFINITY, MESSAGE_MAX_VMS } from '../../webhook/kinds/virtualmachine/validate-placement-limits.ts';
import { MESSAGE_NOT_ALLOWED } from '../../webhook/kinds/virtualmachine/validate-placement.ts';
import { MESSAGE_MEMORY_OVER_LIMIT } from '../../webhook/kinds/virtualmachine/validate-resource-limits.ts';
import { MESSAGE_CLASS_LACKS } from '../../webhook/kinds/virtualmachine/validate-security-constraints.ts';
import {
  MESSAGE_GATEWAY_OUTSIDE, MESSAGE_OUTSIDE_NETWORK, MESSAGE_PREFIX_REQUIRED,
} from '../../webhook/kinds/virtualmachine/validate-static-ip.ts';
import { MESSAGE_CLASS_NEEDS_UEFI } from '../../webhook/kinds/vmclass/validate-firmware.ts';
import { MESSAGE_LIMIT_UNDER_MEMORY } from '../../webhook/kinds/vmclass/validate-resource-limits.ts';
import { MESSAGE_TYPE_UNSUPPORTED } from '../../webhook/kinds/vmclone/validate-clone-type.ts';
import { MESSAGE_SAME_PLACE } from '../../webhook/kinds/vmmigration/validate-target.ts';
import { MESSAGE_TERMS_CONTRADICT } from '../../webhook/kinds/vmplacementpolicy/validate-affinity.ts';
import { MESSAGE_ALLOWED_AND_EXCLUDED } from '../../webhook/kinds/vmplacementpolicy/validate-constraints.ts';
import { MESSAGE_SHARED_STATIC_IP } from '../../webhook/kinds/vmset/validate-replica-static-ip.ts';
import { MESSAGE_SELECTOR_MISMATCH } from '../../webhook/kinds/vmset/validate-selector.ts';
import { MESSAGE_NO_MEMORY_SNAPSHOTS } from '../../webhook/kinds/vmsnapshot/validate-include-memory.ts';
import {
  aNetworkAttachment, aPlacementPolicy, aProvider, aVirtualMachine, aVMClass, aVMClone, aVMImage, aVMMigration, aVMSet, aVMSnapshot, type Overrides,
} from './builders.ts';

/** A builder's object in namespace `ns`. */
export function at<T extends AnyVirtRigaudObject>(ns: string, object: T): T {
  return { ...object, metadata: { ...object.metadata, namespace: ns } };
}

// A row's world: Providers of the types the rules tell apart, and the refs of the builders' defaults.
const vsphere = (ns: string) => at(ns, aProvider());
const kvm = (ns: string) => at(ns, aProvider({ metadata: { name: 'kvm' }, spec: { type: 'libvirt', endpoint: 'qemu+ssh://root@kvm.example.com/system' } }));
const firecracker = (ns: string) => at(ns, aProvider({ metadata: { name: 'fc' }, spec: { type: 'firecracker', endpoint: 'https://fc.example.com:8443' } }));
const small = (ns: string) => at(ns, aVMClass());
const image = (ns: string) => at(ns, aVMImage());
export const vm = (ns: string, overrides: Overrides<VirtualMachine> = {}) => at(ns, aVirtualMachine(overrides));
const policy = (ns: string, spec: VMPlacementPolicy['spec']) => at(ns, aPlacementPolicy({ metadata: { name: 'pol' }, spec }));
const staticNet = (ns: string, cidr: string) =>
  at(ns, aNetworkAttachment({ metadata: { name: 'net' }, spec: { ipAllocation: { type: 'Static', staticConfig: { address: cidr } } } }));

/** What the user does in a row. */
export type Act = { apply: AnyVirtRigaudObject } | { delete: { kind: Kind; name: string } };

/** How the apiserver words a cause's type (`spec.x: Forbidden: …`). */
export type Says = 'Invalid value' | 'Required value' | 'Forbidden' | 'Duplicate value' | 'Unsupported value';

export interface RuleRow {
  rule: RuleName;
  /** The row's namespace suffix. */
  id: string;
  title: string;
  /** Objects the rule looks up, in the row's namespace; applied before the webhook starts. */
  setup?: (ns: string) => AnyVirtRigaudObject[];
  /** Breaks this rule and no other, and nothing the CRD schema checks. */
  act: (ns: string) => Act;
  field: string;
  says: Says;
  /** What kubectl shows after `<field>: <says>: ` (the whole message, or its first part). */
  message: (ns: string) => string;
}

/**
 * Rules that no `kubectl apply` can reach, with why. Empty: every rule fires through the
 * apiserver. (disk-no-shrink on a VirtualMachine is refused first by the CRD's CEL rule on
 * spec.disks — schema validation runs before validating webhooks — so its row shrinks a
 * VMSet's template disk, which the VMSet CRD leaves to the webhook.)
 */
export const UNREACHABLE: Readonly<Partial<Record<RuleName, string>>> = {};

export const ROWS: readonly RuleRow[] = [
  {
    rule: 'provider-capabilities',
    id: 'caps',
    title: 'a VM asks a libvirt Provider for an eagerzeroedthick disk',
    setup: (ns) => [kvm(ns), small(ns), image(ns)],
    act: (ns) => ({ apply: vm(ns, { spec: { providerRef: { name: 'kvm' }, disks: [{ name: 'data', sizeGiB: 10, type: 'eagerzeroedthick' }] } }) }),
    field: 'spec.disks[0].type',
    says: 'Unsupported value',
    message: (ns) => `Provider ${ns}/kvm of type libvirt does not support disk type eagerzeroedthick: use one of ${capabilitiesOf('libvirt').diskTypes.join(', ')}`,
  },
  {
    rule: 'security-needs-uefi',
    id: 'uefi',
    title: 'a VMClass enables secure boot on BIOS firmware',
    act: (ns) => ({ apply: at(ns, aVMClass({ metadata: { name: 'secure' }, spec: { firmware: 'BIOS', securityProfile: { secureBoot: true } } })) }),
    field: 'spec.securityProfile.secureBoot',
    says: 'Forbidden',
    message: () => MESSAGE_CLASS_NEEDS_UEFI({ feature: 'secure boot', field: 'secureBoot' }, 'BIOS'),
  },
  {
    rule: 'class-resource-limits',
    id: 'class-limits',
    title: "a VMClass's memoryLimit is below its memory",
    act: (ns) => ({ apply: at(ns, aVMClass({ spec: { memory: '4Gi', resourceLimits: { memoryLimit: '2Gi' } } })) }),
    field: 'spec.resourceLimits.memoryLimit',
    says: 'Invalid value',
    message: () => MESSAGE_LIMIT_UNDER_MEMORY('2Gi', '4Gi'),
  },
  {
    rule: 'class-resource-limits',
    id: 'vm-limits',
    title: "a VM's memoryMiB exceeds its VMClass's memoryLimit",
    setup: (ns) => [vsphere(ns), image(ns), at(ns, aVMClass({ spec: { memory: '4Gi', resourceLimits: { memoryLimit: '8Gi' } } }))],
    act: (ns) => ({ apply: vm(ns, { spec: { resources: { memoryMiB: 16384 } } }) }),
    field: 'spec.resources.memoryMiB',
    says: 'Invalid value',
    message: (ns) => MESSAGE_MEMORY_OVER_LIMIT(16384, `VMClass ${ns}/small`, '8Gi', 8192),
  },
  {
    rule: 'disk-names-unique',
    id: 'disk-names',
    title: 'two disks of a VM share a name',
    act: (ns) => ({ apply: vm(ns, { spec: { disks: [{ name: 'data', sizeGiB: 10 }, { name: 'data', sizeGiB: 20 }] } }) }),
    field: 'spec.disks[1].name',
    says: 'Duplicate value',
    message: () => MESSAGE_DISK_DUPLICATE('data', 0),
  },
  {
    rule: 'disk-no-shrink',
    id: 'shrink',
    title: "an update shrinks a VMSet template's disk",
    setup: (ns) => [at(ns, aVMSet({ spec: { template: { spec: { disks: [{ name: 'data', sizeGiB: 20 }] } } } }))],
    act: (ns) => ({ apply: at(ns, aVMSet({ spec: { template: { spec: { disks: [{ name: 'data', sizeGiB: 10 }] } } } })) }),
    field: 'spec.template.spec.disks[0].sizeGiB',
    says: 'Invalid value',
    message: () => MESSAGE_DISK_SHRINK('data', 20, 10),
  },
  {
    rule: 'network-names-unique',
    id: 'net-names',
    title: 'two network attachments of a VM share a name',
    act: (ns) => ({ apply: vm(ns, { spec: { networks: [{ name: 'lan' }, { name: 'lan' }] } }) }),
    field: 'spec.networks[1].name',
    says: 'Duplicate value',
    message: () => MESSAGE_NETWORK_DUPLICATE('lan', 0),
  },
  {
    rule: 'static-ip-prefix',
    id: 'ip-prefix',
    title: 'a static IP without prefix',
    act: (ns) => ({ apply: vm(ns, { spec: { networks: [{ name: 'lan', ipAddress: '10.0.0.5', gateway: '10.0.0.1' }] } }) }),
    field: 'spec.networks[0].prefix',
    says: 'Required value',
    message: () => MESSAGE_PREFIX_REQUIRED('10.0.0.5'),
  },
  {
    rule: 'static-ip-gateway',
    id: 'ip-gateway',
    title: "a static IP's gateway outside its subnet",
    act: (ns) => ({ apply: vm(ns, { spec: { networks: [{ name: 'lan', ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.1.1' }] } }) }),
    field: 'spec.networks[0].gateway',
    says: 'Invalid value',
    message: () => MESSAGE_GATEWAY_OUTSIDE('10.0.1.1', '10.0.0.5', subnetOf(parseIPv4('10.0.0.5')!, 24)),
  },
  {
    rule: 'static-ip-subnet',
    id: 'ip-subnet',
    title: "a static IP outside its VMNetworkAttachment's subnet",
    setup: (ns) => [staticNet(ns, '10.1.0.0/24')],
    act: (ns) => ({ apply: vm(ns, { spec: { networks: [{ name: 'lan', networkRef: { name: 'net' }, ipAddress: '10.2.0.5', prefix: 24, gateway: '10.2.0.1' }] } }) }),
    field: 'spec.networks[0].ipAddress',
    says: 'Invalid value',
    message: (ns) => MESSAGE_OUTSIDE_NETWORK('10.2.0.5', `VMNetworkAttachment ${ns}/net`, parseCidr('10.1.0.0/24')!),
  },
  {
    rule: 'static-ip-conflict',
    id: 'ip-conflict',
    title: 'a second VM claims the same static IP on the same network',
    setup: (ns) => [
      staticNet(ns, '10.0.0.0/24'),
      vm(ns, { metadata: { name: 'holder' }, spec: { networks: [{ name: 'lan', networkRef: { name: 'net' }, ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1' }] } }),
    ],
    act: (ns) => ({ apply: vm(ns, { metadata: { name: 'claimer' }, spec: { networks: [{ name: 'lan', networkRef: { name: 'net' }, ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1' }] } }) }),
    field: 'spec.networks[0].ipAddress',
    says: 'Invalid value',
    message: (ns) => MESSAGE_IP_TAKEN('10.0.0.5', `VMNetworkAttachment ${ns}/net`, `${ns}/holder`, false),
  },
  {
    rule: 'placement-allowed',
    id: 'placement',
    title: "a VM asks for a cluster outside its policy's hard allow-list",
    setup: (ns) => [policy(ns, { hard: { clusters: ['c1'] } })],
    act: (ns) => ({ apply: vm(ns, { spec: { placementRef: { name: 'pol' }, placement: { cluster: 'c2' } } }) }),
    field: 'spec.placement.cluster',
    says: 'Unsupported value',
    message: (ns) => MESSAGE_NOT_ALLOWED('cluster', 'c2', `VMPlacementPolicy ${ns}/pol`, 'clusters', ['c1']),
  },
  {
    rule: 'placement-vm-anti-affinity',
    id: 'anti-affinity',
    title: 'a VM pins the host of a VM its policy keeps it apart from',
    setup: (ns) => [
      policy(ns, { antiAffinity: { vmAntiAffinity: { requiredDuringScheduling: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'host' }] } } }),
      vm(ns, { metadata: { name: 'db-1', labels: { app: 'db' } }, spec: { placement: { host: 'h1' } } }),
    ],
    act: (ns) => ({ apply: vm(ns, { metadata: { name: 'db-2', labels: { app: 'db' } }, spec: { placementRef: { name: 'pol' }, placement: { host: 'h1' } } }) }),
    field: 'spec.placement.host',
    says: 'Forbidden',
    message: (ns) => MESSAGE_ANTI_AFFINITY({ policy: `VMPlacementPolicy ${ns}/pol`, term: 0, selector: 'app=db', field: 'host', value: 'h1', holders: `1 VM (${ns}/db-1) is` }),
  },
  {
    rule: 'placement-max-vms',
    id: 'max-vms',
    title: 'a VM pins a host that already has the strict maxVMsPerHost',
    setup: (ns) => [
      policy(ns, { antiAffinity: { hostAntiAffinity: { enabled: true, scope: 'strict', maxVMsPerHost: 1 } } }),
      vm(ns, { spec: { placementRef: { name: 'pol' }, placement: { host: 'h1' } } }),
    ],
    act: (ns) => ({ apply: vm(ns, { metadata: { name: 'web-2' }, spec: { placementRef: { name: 'pol' }, placement: { host: 'h1' } } }) }),
    field: 'spec.placement.host',
    says: 'Forbidden',
    message: (ns) => MESSAGE_MAX_VMS({ policy: `VMPlacementPolicy ${ns}/pol`, source: 'antiAffinity.hostAntiAffinity', max: 1, field: 'host', value: 'h1', existing: ['web-1'], adding: 1 }),
  },
  {
    rule: 'placement-security-constraints',
    id: 'sec-constraints',
    title: 'a policy requires secure boot and the VM\'s class has none',
    setup: (ns) => [small(ns), policy(ns, { securityConstraints: { requireSecureBoot: true } })],
    act: (ns) => ({ apply: vm(ns, { spec: { placementRef: { name: 'pol' } } }) }),
    field: 'spec.classRef.name',
    says: 'Forbidden',
    message: (ns) => MESSAGE_CLASS_LACKS({ policy: `VMPlacementPolicy ${ns}/pol`, constraint: 'requireSecureBoot', feature: 'secure boot', className: `VMClass ${ns}/small`, classField: 'secureBoot' }),
  },
  {
    rule: 'vmset-selector',
    id: 'selector',
    title: "a VMSet's selector does not match its template's labels",
    act: (ns) => ({ apply: at(ns, aVMSet({ spec: { template: { metadata: { labels: { app: 'db' } } } } })) }),
    field: 'spec.template.metadata.labels',
    says: 'Invalid value',
    message: () => MESSAGE_SELECTOR_MISMATCH('app=web'),
  },
  {
    rule: 'vmset-static-ip-replicas',
    id: 'set-static-ip',
    title: 'a VMSet of 3 replicas gives its template a static IP',
    act: (ns) => ({
      apply: at(ns, aVMSet({ spec: { replicas: 3, template: { spec: { networks: [{ name: 'lan', ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1' }] } } } })),
    }),
    field: 'spec.template.spec.networks[0].ipAddress',
    says: 'Forbidden',
    message: () => MESSAGE_SHARED_STATIC_IP('10.0.0.5', 3),
  },
  {
    rule: 'class-in-use',
    id: 'class-in-use',
    title: 'deleting a VMClass six VMs use names five of them',
    setup: (ns) => [small(ns), ...[1, 2, 3, 4, 5, 6].map((i) => vm(ns, { metadata: { name: `web-${i}` } }))],
    act: () => ({ delete: { kind: 'VMClass', name: 'small' } }),
    field: 'metadata.name',
    says: 'Forbidden',
    message: (ns) => MESSAGE_IN_USE(`VMClass ${ns}/small`, ['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6'], 'move them to another class or delete them'),
  },
  {
    rule: 'policy-contradiction',
    id: 'contradiction',
    title: 'a policy both allows and excludes a cluster',
    act: (ns) => ({ apply: policy(ns, { hard: { clusters: ['c1'], excludedClusters: ['c1'] } }) }),
    field: 'spec.hard.excludedClusters[0]',
    says: 'Forbidden',
    message: () => MESSAGE_ALLOWED_AND_EXCLUDED('cluster', 'c1', 'spec.hard.clusters[0]'),
  },
  {
    rule: 'policy-affinity-contradiction',
    id: 'affinity-contradiction',
    title: 'a policy requires affinity and anti-affinity to the same VMs',
    act: (ns) => {
      const term = { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'host' };
      return { apply: policy(ns, { affinity: { vmAffinity: { requiredDuringScheduling: [term] } }, antiAffinity: { vmAntiAffinity: { requiredDuringScheduling: [term] } } }) };
    },
    field: 'spec.antiAffinity.vmAntiAffinity.requiredDuringScheduling[0]',
    says: 'Forbidden',
    message: () => MESSAGE_TERMS_CONTRADICT('app=web', 'host', 'spec.affinity.vmAffinity.requiredDuringScheduling[0]'),
  },
  {
    rule: 'policy-in-use',
    id: 'policy-in-use',
    title: 'deleting a VMPlacementPolicy a VM uses names it',
    setup: (ns) => [policy(ns, {}), vm(ns, { spec: { placementRef: { name: 'pol' } } })],
    act: () => ({ delete: { kind: 'VMPlacementPolicy', name: 'pol' } }),
    field: 'metadata.name',
    says: 'Forbidden',
    message: (ns) => MESSAGE_IN_USE(`VMPlacementPolicy ${ns}/pol`, ['web-1'], 'remove their placementRef or delete them'),
  },
  {
    rule: 'snapshot-memory-support',
    id: 'snap-memory',
    title: 'a memory snapshot of a VM on firecracker',
    setup: (ns) => [firecracker(ns), vm(ns, { spec: { providerRef: { name: 'fc' } } })],
    act: (ns) => ({ apply: at(ns, aVMSnapshot({ spec: { snapshotConfig: { includeMemory: true } } })) }),
    field: 'spec.snapshotConfig.includeMemory',
    says: 'Unsupported value',
    message: (ns) => MESSAGE_NO_MEMORY_SNAPSHOTS(`Provider ${ns}/fc`, 'firecracker'),
  },
  {
    rule: 'clone-type-support',
    id: 'clone-type',
    title: 'a linked clone of a VM on firecracker',
    setup: (ns) => [firecracker(ns), vm(ns, { spec: { providerRef: { name: 'fc' } } })],
    act: (ns) => ({ apply: at(ns, aVMClone({ spec: { options: { type: 'LinkedClone' } } })) }),
    field: 'spec.options.type',
    says: 'Unsupported value',
    message: (ns) => MESSAGE_TYPE_UNSUPPORTED('LinkedClone', 'linkedClones', `Provider ${ns}/fc`, 'firecracker'),
  },
  {
    rule: 'provider-endpoint-scheme',
    id: 'endpoint',
    title: 'a libvirt Provider with an https endpoint',
    act: (ns) => ({ apply: at(ns, aProvider({ metadata: { name: 'kvm' }, spec: { type: 'libvirt', endpoint: 'https://kvm.example.com' } })) }),
    field: 'spec.endpoint',
    says: 'Unsupported value',
    message: () => MESSAGE_SCHEME('https://kvm.example.com', 'libvirt'),
  },
  {
    rule: 'provider-name',
    id: 'provider-name',
    title: 'a Provider whose name has a dot',
    act: (ns) => ({ apply: at(ns, aProvider({ metadata: { name: 'vcenter.prod' } })) }),
    field: 'metadata.name',
    says: 'Invalid value',
    message: () => MESSAGE_PROVIDER_NAME('vcenter.prod'),
  },
  {
    rule: 'provider-credentials-namespace',
    id: 'provider-secret-ns',
    title: "a Provider's credential Secret in another namespace",
    act: (ns) => ({ apply: at(ns, aProvider({ spec: { credentialSecretRef: { name: 'vsphere-creds', namespace: 'kube-system' } } })) }),
    field: 'spec.credentialSecretRef.namespace',
    says: 'Forbidden',
    message: (ns) => MESSAGE_SECRET_NAMESPACE('kube-system', ns),
  },
  {
    rule: 'provider-in-use',
    id: 'provider-in-use',
    title: 'deleting a Provider a VM uses names it',
    setup: (ns) => [vsphere(ns), small(ns), image(ns), vm(ns)],
    act: () => ({ delete: { kind: 'Provider', name: 'vsphere-prod' } }),
    field: 'metadata.name',
    says: 'Forbidden',
    message: (ns) => MESSAGE_IN_USE(`Provider ${ns}/vsphere-prod`, ['web-1'], REMEDY_PROVIDER_IN_USE),
  },
  {
    rule: 'migration-target',
    id: 'migration',
    title: 'a migration of a VM onto its own provider under its own name',
    setup: (ns) => [vsphere(ns), vm(ns)],
    act: (ns) => ({ apply: at(ns, aVMMigration({ spec: { target: { name: 'web-1', providerRef: { name: 'vsphere-prod' } } } })) }),
    field: 'spec.target.providerRef',
    says: 'Forbidden',
    message: (ns) => MESSAGE_SAME_PLACE(`VirtualMachine ${ns}/web-1`, `Provider ${ns}/vsphere-prod`),
  },
];

/** What the namespace of the allowed, warning and defaulting tests holds beforehand. */
export const okWorld = (ns: string): AnyVirtRigaudObject[] => [
  vsphere(ns), small(ns), image(ns),
  at(ns, aNetworkAttachment({ spec: { ipAllocation: { type: 'Static', staticConfig: { address: '10.0.0.0/24' } } } })),
  at(ns, aPlacementPolicy({ spec: { hard: { clusters: ['c1', 'c2'] }, soft: { clusters: ['c2'] } } })),
  vm(ns),
];

/** One object of every kind that passes every rule, its references all in place (so no warning either). */
export const ALLOWED: Readonly<Record<Kind, (ns: string) => AnyVirtRigaudObject>> = {
  Provider: (ns) => kvm(ns),
  VMClass: (ns) => at(ns, aVMClass({ metadata: { name: 'secure' }, spec: { firmware: 'UEFI', securityProfile: { secureBoot: true, tpmEnabled: true }, resourceLimits: { memoryLimit: '8Gi', memoryReservation: '2Gi' } } })),
  VMImage: (ns) => at(ns, aVMImage({ metadata: { name: 'debian-12' } })),
  VMNetworkAttachment: (ns) => at(ns, aNetworkAttachment({ metadata: { name: 'backend-net' } })),
  VMPlacementPolicy: (ns) => at(ns, aPlacementPolicy({ metadata: { name: 'pack' }, spec: { hard: { clusters: ['c1'], excludedClusters: ['c9'] }, soft: { clusters: ['c1'] } } })),
  VirtualMachine: (ns) => vm(ns, {
    metadata: { name: 'web-2' },
    spec: {
      placementRef: { name: 'spread' },
      placement: { cluster: 'c1', host: 'h1' },
      disks: [{ name: 'data', sizeGiB: 10, type: 'thin' }, { name: 'logs', sizeGiB: 5 }],
      networks: [{ name: 'lan', networkRef: { name: 'app-net' }, ipAddress: '10.0.0.6', prefix: 24, gateway: '10.0.0.1' }],
    },
  }),
  VMSet: (ns) => at(ns, aVMSet({ spec: { replicas: 3 } })),
  VMSnapshot: (ns) => at(ns, aVMSnapshot({ spec: { snapshotConfig: { includeMemory: true } } })),
  VMClone: (ns) => at(ns, aVMClone({ spec: { options: { type: 'LinkedClone' } } })),
  VMMigration: (ns) => at(ns, aVMMigration()),
};
