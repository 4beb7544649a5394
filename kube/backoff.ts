/** Exponential backoff with jitter, for restart loops (informers that lost their list or watch, the bus consumer). */

export interface BackoffOptions {
  /** First delay (default 250 ms). */
  initialMs?: number;
  /** Ceiling (default 30 s). */
  maxMs?: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** Random spread, a fraction of the delay either way (default 0.2), so restarts do not align. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Counts consecutive failures; `next()` is the delay before the next attempt, `reset()` follows a success. */
export class Backoff {
  private readonly opts: Required<BackoffOptions>;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.opts = { ...DEFAULT_BACKOFF, ...opts };
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const { initialMs, maxMs, factor, jitter } = this.opts;
    const base = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt++;
    return Math.round(base * (1 + jitter * (2 * Math.random() - 1)));
  }

  /** After a success: the next failure waits the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
