/**
 * On CREATE, fill the placement a VM leaves open from its policy's soft preferences (spec.soft),
 * taking the first preferred value the hard constraints allow, the soft exclusions do not name,
 * and a strict spread limit still has room for. Placement is a creation-time choice: an UPDATE
 * never moves a VM. Fields that would contradict what the user pinned stay open: a cluster,
 * host or resource pool is filled only when the user pinned none of the three.
 */
import type { PlacementSpec } from '../../../api/schema/shared.ts';
import type { VirtualMachine, VMPlacementPolicy } from '../../../api/objects.ts';
import type { Lookup, Mutator } from '../../framework/types.ts';
import {
  hardVerdict, listOf, PLACEMENT_FIELDS, PLACEMENT_LISTS, placementValue, strictSpreadLimits, vmsOn, vmsUnderPolicy, type PlacementField,
} from '../shared/placement-fields.ts';
import { namespaceOf } from '../shared/refs.ts';
import { isRecord, refName } from '../shared/shape.ts';

/** The fields whose pinning leaves a field's choice to the user. */
const RELATED: Readonly<Record<PlacementField, readonly (keyof PlacementSpec)[]>> = {
  cluster: ['cluster', 'host', 'resourcePool'],
  host: ['host', 'cluster', 'resourcePool'],
  resourcePool: ['resourcePool', 'cluster', 'host'],
  datastore: ['datastore', 'storagePod'],
  folder: ['folder'],
};

function isOpen(placement: PlacementSpec | undefined, field: PlacementField): boolean {
  return RELATED[field].every((f) => placement?.[f] === undefined || placement[f] === '');
}

function hasRoom(policy: VMPlacementPolicy, governed: readonly VirtualMachine[], field: PlacementField, value: string): boolean {
  return strictSpreadLimits(policy)
    .filter((limit) => limit.field === field)
    .every((limit) => vmsOn(governed, field, value).length + 1 <= limit.max);
}

/** The first soft preference for a field that the policy lets the VM take, if any. */
export function preferredValue(policy: VMPlacementPolicy, field: PlacementField, governed: readonly VirtualMachine[]): string | undefined {
  const lists = PLACEMENT_LISTS[field];
  const softExcluded = lists.exclude ? listOf(policy.spec.soft, lists.exclude) : [];
  return listOf(policy.spec.soft, lists.allow).find((value) =>
    hardVerdict(policy, field, value) === undefined && !softExcluded.includes(value) && hasRoom(policy, governed, field, value));
}

function governedVMs(lookup: Lookup, vm: VirtualMachine, policyName: string): VirtualMachine[] {
  const others = lookup.virtualMachines(namespaceOf(vm.metadata)).filter((o) => o.metadata.name !== vm.metadata?.name);
  return vmsUnderPolicy(others, policyName);
}

export const fillPlacementFromPolicy: Mutator<VirtualMachine> = ({ operation, object, lookup }) => {
  const policyName = refName(object.spec.placementRef);
  const userPlacement: unknown = object.spec.placement;
  if (operation !== 'CREATE' || policyName === undefined || (userPlacement !== undefined && !isRecord(userPlacement))) return false;
  const policy = lookup.placementPolicy(namespaceOf(object.metadata), policyName);
  if (!policy?.spec.soft) return false;
  const governed = governedVMs(lookup, object, policyName);
  const pinned = userPlacement as PlacementSpec | undefined;
  const filled: PlacementSpec = { ...pinned };
  let changed = false;
  for (const field of PLACEMENT_FIELDS) {
    if (!isOpen(pinned, field) || placementValue(filled, field) !== undefined) continue;
    const value = preferredValue(policy, field, governed);
    if (value === undefined) continue;
    filled[field] = value;
    changed = true;
  }
  if (changed) object.spec.placement = filled;
  return changed;
};
