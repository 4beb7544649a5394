/**
 * How a VM's spec.placement fields relate to a VMPlacementPolicy: which allow- and exclusion-lists
 * govern each field, which topology keys name a field, and which strict spread limits count VMs.
 */
import type { PlacementConstraints } from '../../../api/kinds/vm-placement-policy.ts';
import type { VirtualMachine, VMPlacementPolicy } from '../../../api/objects.ts';
import type { PlacementSpec } from '../../../api/schema/shared.ts';

/** The placement fields a policy can govern. */
export type PlacementField = 'cluster' | 'host' | 'datastore' | 'folder' | 'resourcePool';

export const PLACEMENT_FIELDS: readonly PlacementField[] = ['cluster', 'host', 'datastore', 'folder', 'resourcePool'];

type ListName = {
  [K in keyof PlacementConstraints]-?: NonNullable<PlacementConstraints[K]> extends string[] ? K : never;
}[keyof PlacementConstraints];

/** The allow-list and (where the schema has one) the exclusion list of each placement field. */
export const PLACEMENT_LISTS: Readonly<Record<PlacementField, { allow: ListName; exclude?: ListName }>> = {
  cluster: { allow: 'clusters', exclude: 'excludedClusters' },
  host: { allow: 'hosts', exclude: 'excludedHosts' },
  datastore: { allow: 'datastores', exclude: 'excludedDatastores' },
  folder: { allow: 'folders' },
  resourcePool: { allow: 'resourcePools' },
};

/** A list of a constraint set, empty when unset. */
export function listOf(constraints: PlacementConstraints | undefined, name: ListName): readonly string[] {
  return constraints?.[name] ?? [];
}

/** Why a value may not be placed under a policy's hard constraints, or undefined when it may. */
export function hardVerdict(policy: VMPlacementPolicy, field: PlacementField, value: string): 'excluded' | 'not-allowed' | undefined {
  const lists = PLACEMENT_LISTS[field];
  if (lists.exclude && listOf(policy.spec.hard, lists.exclude).includes(value)) return 'excluded';
  const allow = listOf(policy.spec.hard, lists.allow);
  if (allow.length > 0 && !allow.includes(value)) return 'not-allowed';
  return undefined;
}

/** A VM's requested value for a placement field, if any. */
export function placementValue(placement: PlacementSpec | undefined, field: PlacementField): string | undefined {
  const value = placement?.[field];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Topology keys a VM affinity term may use, by the placement field they mean. Keys we cannot map
 * (zones, regions, custom labels) are left to the placement engine: admission cannot see them.
 */
export const TOPOLOGY_KEY_FIELDS: Readonly<Record<string, PlacementField>> = {
  host: 'host',
  'kubernetes.io/hostname': 'host',
  'virtrigaud.io/host': 'host',
  cluster: 'cluster',
  'virtrigaud.io/cluster': 'cluster',
  datastore: 'datastore',
  'virtrigaud.io/datastore': 'datastore',
};

export function topologyField(topologyKey: string): PlacementField | undefined {
  return Object.prototype.hasOwnProperty.call(TOPOLOGY_KEY_FIELDS, topologyKey) ? TOPOLOGY_KEY_FIELDS[topologyKey] : undefined;
}

/** A strict limit on how many of the policy's VMs share one cluster, host or datastore. */
export interface SpreadLimit {
  field: PlacementField;
  max: number;
  /** Where the limit comes from in the policy, for messages. */
  source: string;
}

/**
 * The policy's strict spread limits. An enabled strict anti-affinity without maxVMsPer* means
 * one VM per domain. Zones have no placement field on a VM, so maxVMsPerZone is not counted here.
 */
export function strictSpreadLimits(policy: VMPlacementPolicy): SpreadLimit[] {
  const anti = policy.spec.antiAffinity;
  const limits: SpreadLimit[] = [];
  const host = anti?.hostAntiAffinity;
  if (host?.enabled && host.scope === 'strict') {
    limits.push({ field: 'host', max: host.maxVMsPerHost ?? 1, source: 'antiAffinity.hostAntiAffinity' });
  }
  const cluster = anti?.clusterAntiAffinity;
  if (cluster?.enabled && cluster.scope === 'strict') {
    limits.push({ field: 'cluster', max: cluster.maxVMsPerCluster ?? 1, source: 'antiAffinity.clusterAntiAffinity' });
  }
  const datastore = anti?.datastoreAntiAffinity;
  if (datastore?.enabled && datastore.scope === 'strict') {
    limits.push({ field: 'datastore', max: datastore.maxVMsPerDatastore ?? 1, source: 'antiAffinity.datastoreAntiAffinity' });
  }
  return limits;
}

/** The VMs placed by a policy (their placementRef names it). */
export function vmsUnderPolicy(vms: readonly VirtualMachine[], policyName: string): VirtualMachine[] {
  return vms.filter((vm) => vm.spec.placementRef?.name === policyName);
}

/** The VMs that claim a value for a placement field. */
export function vmsOn(vms: readonly VirtualMachine[], field: PlacementField, value: string): VirtualMachine[] {
  return vms.filter((vm) => placementValue(vm.spec.placement, field) === value);
}
