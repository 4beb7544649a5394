/**
 * A de-duplicating work queue of keys with bounded concurrency (client-go's workqueue semantics):
 *
 * - a key waiting in the queue is there once, however often it is added;
 * - a key is never handled by two workers at once: added while being handled, it runs again
 *   once the current run ends;
 * - delayed and rate-limited adds keep only the earliest due time per key.
 *
 * Informer handlers only call `add`; the reconciler reads the latest object from the cache.
 */
import type { RateLimiter } from './rate-limiter.ts';

export interface WorkQueueOptions {
  /** Keys handled at once. */
  concurrency: number;
  rateLimiter: RateLimiter;
  /** Called with the number of waiting keys whenever it changes. */
  onDepth?: (depth: number) => void;
  /** A handler threw (handlers should not: they turn errors into queue actions themselves). */
  onError?: (key: string, err: unknown) => void;
}

export class WorkQueue {
  private readonly order: string[] = [];
  private head = 0;
  /** Keys that need a run (waiting in `order`, or to re-run after their current run). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  private running = false;
  private active = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly opts: WorkQueueOptions,
  ) {}

  /** Starts handing keys to workers. Adds before start are ignored. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.pump();
  }

  /**
   * Stops taking keys, drops everything waiting or delayed, and resolves once the runs in
   * progress have ended (their handlers see their own abort signal).
   */
  async stop(): Promise<void> {
    this.running = false;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.order.length = 0;
    this.head = 0;
    this.dirty.clear();
    this.reportDepth();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  isRunning(): boolean {
    return this.running;
  }

  add(key: string): void {
    if (!this.running || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.order.push(key);
    this.reportDepth();
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (!this.running) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.set(key, { due, timer });
  }

  /** Adds after the rate limiter's delay for this key (one more failure). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.opts.rateLimiter.when(key));
  }

  /** The key succeeded: reset its failure count. */
  forget(key: string): void {
    this.opts.rateLimiter.forget(key);
  }

  depth(): number {
    return this.order.length - this.head;
  }

  /** Keys delayed for a later run (tests and metrics). */
  delayed(): number {
    return this.timers.size;
  }

  private reportDepth(): void {
    this.opts.onDepth?.(this.depth());
  }

  private next(): string | undefined {
    while (this.head < this.order.length) {
      const key = this.order[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.order.length) {
        this.order.splice(0, this.head);
        this.head = 0;
      }
      return key;
    }
    return undefined;
  }

  private pump(): void {
    while (this.running && this.active < this.opts.concurrency) {
      const key = this.next();
      if (key === undefined) break;
      this.dirty.delete(key);
      this.processing.add(key);
      this.active++;
      this.reportDepth();
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
    } catch (err) {
      this.opts.onError?.(key, err);
      if (this.running) this.addRateLimited(key);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.running && this.dirty.has(key)) {
        this.order.push(key);
        this.reportDepth();
      }
      if (this.active === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
      this.pump();
    }
  }
}
