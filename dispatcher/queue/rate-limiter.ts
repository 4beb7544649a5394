/**
 * How long a failed key waits before its next try: the larger of a per-key exponential backoff
 * and an overall token bucket (client-go's default controller rate limiter, in small).
 */

export interface RateLimiterOptions {
  baseMs: number;
  maxMs: number;
  /** Tokens per second of the overall bucket. */
  qps: number;
  burst: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(private readonly opts: RateLimiterOptions) {
    this.now = opts.now ?? Date.now;
    this.tokens = opts.burst;
    this.last = this.now();
  }

  /** The delay before `key` may run again; each call counts one more failure of it. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const perKey = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(n, 30));
    return Math.max(perKey, this.reserve());
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Takes one token (possibly going into debt) and returns how long until it was due. */
  private reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((t - this.last) / 1000) * this.opts.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.opts.qps) * 1000);
  }
}
