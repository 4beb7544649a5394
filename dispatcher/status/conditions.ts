/**
 * VM conditions: our five types first, in a fixed order (Ready, Provisioning, Reconfiguring,
 * Deleting, WaitingForDependencies), any other type after them by name. lastTransitionTime
 * changes only when a condition's status changes (as meta.SetStatusCondition).
 */
import type { Condition } from '../../api/schema/shared.ts';

export type { Condition };
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export const CONDITION_ORDER = ['Ready', 'Provisioning', 'Reconfiguring', 'Deleting', 'WaitingForDependencies'] as const;
export type ConditionType = (typeof CONDITION_ORDER)[number];

/** Reasons we set (CamelCase, stable: tools may match on them). */
export const REASON = {
  Running: 'Running',
  Stopped: 'Stopped',
  Pending: 'Pending',
  Provisioning: 'Provisioning',
  Provisioned: 'Provisioned',
  Reconfiguring: 'Reconfiguring',
  Reconfigured: 'Reconfigured',
  CommandPublished: 'CommandPublished',
  DeleteRequested: 'DeleteRequested',
  Deleting: 'Deleting',
  Deleted: 'Deleted',
  DependenciesMissing: 'DependenciesMissing',
  DependenciesResolved: 'DependenciesResolved',
  WaitingForDependencies: 'WaitingForDependencies',
  InvalidSpec: 'InvalidSpec',
  CommandDeliveryExhausted: 'CommandDeliveryExhausted',
  Failed: 'Failed',
  VMMissing: 'VMMissing',
} as const;

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

const RANK = new Map<string, number>(CONDITION_ORDER.map((t, i) => [t, i]));

function compare(a: Condition, b: Condition): number {
  const ra = RANK.get(a.type) ?? CONDITION_ORDER.length;
  const rb = RANK.get(b.type) ?? CONDITION_ORDER.length;
  return ra !== rb ? ra - rb : a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

/** RFC 3339 to the second, as Kubernetes writes metav1.Time. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Sets each update's condition (adding it if new), keeping lastTransitionTime while its status holds. */
export function setConditions(
  existing: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  now: string,
  observedGeneration?: number,
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c] as const));
  for (const u of updates) {
    const old = byType.get(u.type);
    const next: Condition = {
      type: u.type,
      status: u.status,
      reason: u.reason,
      message: u.message,
      lastTransitionTime: old && old.status === u.status ? old.lastTransitionTime : now,
    };
    const gen = observedGeneration ?? old?.observedGeneration;
    if (gen !== undefined) next.observedGeneration = gen;
    byType.set(u.type, next);
  }
  return [...byType.values()].sort(compare);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The update only when the condition exists and is not already False (avoids adding noise). */
export function clearIfSet(conditions: readonly Condition[] | undefined, type: ConditionType, reason: string, message: string): ConditionUpdate[] {
  const c = findCondition(conditions, type);
  return c && c.status !== 'False' ? [{ type, status: 'False', reason, message }] : [];
}
