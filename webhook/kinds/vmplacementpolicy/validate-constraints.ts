/**
 * A policy may not contradict itself about where VMs go: nothing both allowed and excluded (in
 * spec.hard or in spec.soft), and no preference (spec.soft, affinity preferred* lists) for what
 * spec.hard excludes or leaves out of a non-empty allow-list — a VM could never be placed there.
 */
import type { PlacementConstraints } from '../../../api/kinds/vm-placement-policy.ts';
import type { VMPlacementPolicy } from '../../../api/objects.ts';
import { newPath, type FieldPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { listOf } from '../shared/placement-fields.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('policy-contradiction');

type ListName = Parameters<typeof listOf>[1];

/** Each dimension a policy lists, with its allow-list and (where the schema has one) its exclusion list. */
const DIMENSIONS: ReadonlyArray<{ noun: string; allow: ListName; exclude?: ListName }> = [
  { noun: 'cluster', allow: 'clusters', exclude: 'excludedClusters' },
  { noun: 'host', allow: 'hosts', exclude: 'excludedHosts' },
  { noun: 'datastore', allow: 'datastores', exclude: 'excludedDatastores' },
  { noun: 'folder', allow: 'folders' },
  { noun: 'resource pool', allow: 'resourcePools' },
  { noun: 'network', allow: 'networks' },
  { noun: 'zone', allow: 'zones' },
  { noun: 'region', allow: 'regions' },
];

/** The affinity preference lists, by the dimension they prefer. */
const PREFERRED_LISTS = [
  { noun: 'cluster', rule: 'clusterAffinity', list: 'preferredClusters' },
  { noun: 'host', rule: 'hostAffinity', list: 'preferredHosts' },
  { noun: 'datastore', rule: 'datastoreAffinity', list: 'preferredDatastores' },
  { noun: 'zone', rule: 'zoneAffinity', list: 'preferredZones' },
] as const;

export const MESSAGE_ALLOWED_AND_EXCLUDED = (noun: string, value: string, allowedAt: string): string =>
  `${noun} ${value} is both allowed (${allowedAt}) and excluded: keep it in one of the two lists`;
export const MESSAGE_PREFERS_EXCLUDED = (noun: string, value: string, excludedAt: string): string =>
  `prefers ${noun} ${value}, which ${excludedAt} excludes, so no VM could be placed there: remove it from one of the two lists`;
export const MESSAGE_PREFERS_NOT_ALLOWED = (noun: string, value: string, allowAt: string, allowed: readonly string[]): string =>
  `prefers ${noun} ${value}, which ${allowAt} does not allow, so no VM could be placed there: prefer one of ${allowed.join(', ')}`;

/** Items of `list` (at `path`) that `excluded` also names. */
function bothListed(p: { set: PlacementConstraints | undefined; path: FieldPath; noun: string; allow: ListName; exclude: ListName }): FieldError[] {
  const allowedValues = listOf(p.set, p.allow);
  const found: FieldError[] = [];
  listOf(p.set, p.exclude).forEach((value, i) => {
    const at = allowedValues.indexOf(value);
    if (at >= 0) found.push(errors.forbidden(p.path.child(p.exclude).index(i), MESSAGE_ALLOWED_AND_EXCLUDED(p.noun, value, `${p.path}.${p.allow}[${at}]`)));
  });
  return found;
}

/** Preferred values (at `path`) that the hard constraints rule out. */
function unplaceablePreferences(hard: PlacementConstraints | undefined, p: { values: readonly string[]; path: FieldPath; noun: string; allow: ListName; exclude?: ListName }): FieldError[] {
  const hardAllow = listOf(hard, p.allow);
  const hardExclude = p.exclude ? listOf(hard, p.exclude) : [];
  const found: FieldError[] = [];
  p.values.forEach((value, i) => {
    const at = p.path.index(i);
    if (p.exclude && hardExclude.includes(value)) found.push(errors.forbidden(at, MESSAGE_PREFERS_EXCLUDED(p.noun, value, `spec.hard.${p.exclude}`)));
    else if (hardAllow.length > 0 && !hardAllow.includes(value)) {
      found.push(errors.forbidden(at, MESSAGE_PREFERS_NOT_ALLOWED(p.noun, value, `spec.hard.${p.allow}`, hardAllow)));
    }
  });
  return found;
}

export const validatePolicyConstraints: Validator<VMPlacementPolicy> = ({ operation, object }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const { hard, soft, affinity } = object.spec;
  const found: FieldError[] = [];
  for (const d of DIMENSIONS) {
    if (d.exclude) {
      found.push(...bothListed({ set: hard, path: newPath('spec', 'hard'), noun: d.noun, allow: d.allow, exclude: d.exclude }));
      found.push(...bothListed({ set: soft, path: newPath('spec', 'soft'), noun: d.noun, allow: d.allow, exclude: d.exclude }));
    }
    found.push(...unplaceablePreferences(hard, { values: listOf(soft, d.allow), path: newPath('spec', 'soft', d.allow), noun: d.noun, allow: d.allow, exclude: d.exclude }));
  }
  for (const p of PREFERRED_LISTS) {
    const rule = affinity?.[p.rule] as ({ enabled: boolean } & Partial<Record<typeof p.list, string[]>>) | undefined;
    if (!rule?.enabled) continue;
    const d = DIMENSIONS.find((x) => x.noun === p.noun)!;
    found.push(...unplaceablePreferences(hard, { values: rule[p.list] ?? [], path: newPath('spec', 'affinity', p.rule, p.list), noun: p.noun, allow: d.allow, exclude: d.exclude }));
  }
  return result({ errors: found });
};
