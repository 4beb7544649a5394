/**
 * How long a "command published" status change waits for the agent's answer to share its write:
 * STATUS_COALESCE_MS when agents answer fast, longer when they will not (at most
 * STATUS_COALESCE_MAX_MS): 1.5 × the recent publish → answer time, or, when many commands are out,
 * STATUS_COALESCE_MS more for every 50 of them — a burst is published faster than the first answers
 * come back to teach the average.
 *
 * Why: under a burst (a thousand VMs applied at once) answers take seconds; a fixed 500 ms wait
 * then wrote "Provisioning" and "Ready" separately, ~1.9 status writes per VM, the extra one on an
 * apiserver already at its limit. Waiting as long as answers take keeps it at one. Ready is never
 * delayed: an answer is written as soon as it arrives.
 */

/** Commands followed at most; the oldest are forgotten first (their answers may never come). */
const MAX_TRACKED = 50_000;
/** Weight of the newest answer in the running average. */
const ALPHA = 0.2;
/** Commands out per STATUS_COALESCE_MS of extra wait. */
const BACKLOG_PER_STEP = 50;
/** A command unanswered this long no longer counts as out (its agent is down; the wait is capped anyway). */
const FORGET_AFTER_MS = 5 * 60_000;

export class CoalesceWindow {
  private readonly publishedAt = new Map<string, number>();
  private average: number | undefined;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The wait for a command published now (0 when coalescing is off). */
  current(): number {
    if (this.baseMs <= 0) return 0;
    this.forgetOld();
    const byAnswers = (this.average ?? 0) * 1.5;
    const byBacklog = this.baseMs * (1 + this.publishedAt.size / BACKLOG_PER_STEP);
    return Math.round(Math.min(Math.max(this.maxMs, this.baseMs), Math.max(this.baseMs, byAnswers, byBacklog)));
  }

  /** Entries are in publish order (a republish moves to the end): the old ones are at the front. */
  private forgetOld(): void {
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const [id, at] of this.publishedAt) {
      if (at >= cutoff) break;
      this.publishedAt.delete(id);
    }
  }

  published(commandId: string): void {
    this.publishedAt.delete(commandId);
    this.publishedAt.set(commandId, this.now());
    if (this.publishedAt.size > MAX_TRACKED) this.publishedAt.delete(this.publishedAt.keys().next().value!);
  }

  /** The agent's final answer (not a progress report) to a command arrived. */
  answered(commandId: string): void {
    const at = this.publishedAt.get(commandId);
    if (at === undefined) return;
    this.publishedAt.delete(commandId);
    const took = this.now() - at;
    this.average = this.average === undefined ? took : this.average + ALPHA * (took - this.average);
  }

  /** Commands waiting for an answer (metrics, tests). */
  get waiting(): number {
    return this.publishedAt.size;
  }
}
