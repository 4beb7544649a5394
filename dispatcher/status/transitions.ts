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

/**
 * One Event for the transitions of one status change (a phase change usually comes with condition
 * changes): headed by the most telling one — a Warning, else Ready, else another condition, else
 * the phase — with every transition in the message. One Event per change instead of one per
 * field keeps `kubectl describe` readable and the apiserver's write load down.
 */
/** Warning first, then Ready=True, a condition turning True, other conditions, the phase last. */
function rank(t: Transition): number {
  if (t.type === 'Warning') return 0;
  if (t.message.startsWith('Ready=True')) return 1;
  if (/^\w+=True/.test(t.message)) return 2;
  return t.reason.startsWith('Phase') ? 4 : 3;
}

export function summarize(list: readonly Transition[]): Transition | undefined {
  if (list.length <= 1) return list[0];
  const head = [...list].sort((a, b) => rank(a) - rank(b))[0]!;
  // "Ready=False: X" next to "Provisioning=True: X" says X once.
  const said = (t: Transition) => t.message.replace(/^\w+=\w+: /, '');
  const rest = list.filter((t) => t !== head && said(t) !== said(head));
  const message = [head, ...rest].map((t) => t.message).join('; ');
  return { type: head.type, reason: head.reason, message: message.slice(0, 1024) };
}
