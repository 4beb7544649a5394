/**
 * The one place where a reconcile's result becomes a work-queue action (vm-operator's
 * ResultFromError): success forgets the key's failures (requeueing if asked), RequeueError waits
 * its delay, TerminalError waits for the object's next change, NotLeaderError drops the key (the
 * next leader reconciles everything), anything else retries with rate-limited backoff.
 */
import { NotLeaderError, RequeueError, TerminalError } from '../errors.ts';
import type { WorkQueue } from '../queue/work-queue.ts';

export interface ReconcileOutcome {
  /** Reconcile again after this long (e.g. a redispatch window). */
  requeueAfterMs?: number;
}

export type QueueAction =
  | { type: 'forget' }
  | { type: 'requeue-after'; ms: number; forget: boolean }
  | { type: 'rate-limited' };

export type ReconcileResult = { ok: ReconcileOutcome } | { error: unknown };

export function actionFor(result: ReconcileResult): QueueAction {
  if ('ok' in result) {
    const ms = result.ok.requeueAfterMs;
    return ms !== undefined ? { type: 'requeue-after', ms, forget: true } : { type: 'forget' };
  }
  const err = result.error;
  if (err instanceof RequeueError) return { type: 'requeue-after', ms: err.afterMs, forget: true };
  if (err instanceof TerminalError || err instanceof NotLeaderError) return { type: 'forget' };
  return { type: 'rate-limited' };
}

export function applyAction(queue: WorkQueue, key: string, action: QueueAction): void {
  switch (action.type) {
    case 'forget':
      queue.forget(key);
      return;
    case 'requeue-after':
      if (action.forget) queue.forget(key);
      queue.addAfter(key, action.ms);
      return;
    case 'rate-limited':
      queue.addRateLimited(key);
      return;
  }
}

/** A label for metrics and logs. */
export function resultLabel(action: QueueAction): string {
  return action.type === 'rate-limited' ? 'error' : action.type === 'requeue-after' ? 'requeue' : 'ok';
}
