/**
 * The transitions between two statuses that people should see as Kubernetes Events: a phase
 * change, and each condition whose status changed (or that appeared True, or Ready appearing).
 */
import { REASON } from './conditions.ts';
import type { VMStatus } from './model.ts';

export interface Transition {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const WARNING_REASONS = new Set<string>([REASON.CommandDeliveryExhausted, REASON.InvalidSpec, REASON.Failed, REASON.VMMissing]);

export function transitions(before: VMStatus, after: VMStatus): Transition[] {
  const out: Transition[] = [];
  if (after.phase && after.phase !== before.phase) {
    out.push({
      type: after.phase === 'Failed' ? 'Warning' : 'Normal',
      reason: `Phase${after.phase}`,
      message: `phase ${before.phase ?? '(none)'} → ${after.phase}`,
    });
  }
  const old = new Map((before.conditions ?? []).map((c) => [c.type, c] as const));
  for (const c of after.conditions ?? []) {
    const prev = old.get(c.type);
    const changed = prev ? prev.status !== c.status : c.status === 'True' || c.type === 'Ready';
    // Ready=False changing only its reason (e.g. to CommandDeliveryExhausted) is news too.
    const readyReason = prev && c.type === 'Ready' && c.status === 'False' && prev.reason !== c.reason && WARNING_REASONS.has(c.reason);
    if (!changed && !readyReason) continue;
    const agentError = c.type === 'Ready' && c.status === 'False' && !Object.values(REASON).includes(c.reason as never);
    out.push({
      type: WARNING_REASONS.has(c.reason) || agentError ? 'Warning' : 'Normal',
      reason: c.reason,
      message: `${c.type}=${c.status}: ${c.message}`.slice(0, 1024),
    });
  }
  return out;
}
