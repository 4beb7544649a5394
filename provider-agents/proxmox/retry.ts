/**
 * Retry of calls refused because the VM is locked ("VM 100 is locked (clone)", "can't lock file
 * '/var/lock/qemu-server/lock-100.conf' - got timeout"): another task holds it for a while, so the
 * call is repeated after a jittered, growing pause, within a time budget. Two agents (or two
 * commands) that hit one lock do not retry in step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isLockError } from './errors.ts';

export interface LockRetryOptions {
  /** Give up (rethrow the lock error) after this long (ms). */
  budgetMs: number;
  /** First pause's upper bound; doubles each time up to capMs. */
  baseMs: number;
  capMs: number;
  signal?: AbortSignal;
  /** Called before each pause (logging, metrics). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
}

export const DEFAULT_LOCK_RETRY: Omit<LockRetryOptions, 'signal' | 'onRetry'> = { budgetMs: 60_000, baseMs: 200, capMs: 5000 };

/** The pause before retry `attempt` (0-based): "full jitter", uniformly in [base/4, min(cap, base·2^attempt)]. */
export function lockBackoffMs(attempt: number, opts: Pick<LockRetryOptions, 'baseMs' | 'capMs'>, random = Math.random): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 20));
  const floor = Math.min(ceiling, opts.baseMs / 4);
  return Math.round(floor + random() * (ceiling - floor));
}

export async function retryOnLock<T>(fn: () => Promise<T>, opts: LockRetryOptions, isRetryable: (err: unknown) => boolean = isLockError): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || opts.signal?.aborted) throw err;
      const delay = lockBackoffMs(attempt, opts, opts.random);
      if (Date.now() - started + delay > opts.budgetMs) throw err;
      opts.onRetry?.(err, attempt, delay);
      try {
        await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
      } catch {
        throw opts.signal?.reason ?? err;
      }
    }
  }
}
