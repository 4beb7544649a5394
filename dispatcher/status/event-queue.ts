/**
 * A bounded queue in front of the apiserver for core/v1 Events: at most `concurrency` POSTs in
 * flight, at most `capacity` waiting, and an Event arriving at a full queue is dropped (counted),
 * as client-go's broadcaster does (1,000 queued, DropIfChannelFull).
 *
 * Why: Events are best effort, but each one waiting used to be a live request (socket options,
 * certificates, buffers, ~10 KB); a burst of 10,000 VMs turning Ready queued 10,000 of them in the
 * dispatcher's memory while the apiserver was busy with status writes.
 */
export interface EventQueueOptions<T> {
  send(item: T): Promise<void>;
  /** Waiting items at most (client-go: 1,000). */
  capacity: number;
  /** Sends in flight at most. */
  concurrency: number;
  onSent?: () => void;
  onFailed?: (item: T, err: unknown) => void;
  /** The queue was full; `item` is not sent. */
  onDropped?: (item: T) => void;
}

export class EventQueue<T> {
  private readonly waiting: T[] = [];
  private head = 0;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: EventQueueOptions<T>) {}

  /** Items waiting (not counting those in flight). */
  get size(): number {
    return this.waiting.length - this.head;
  }

  push(item: T): void {
    if (this.size >= this.opts.capacity) {
      this.opts.onDropped?.(item);
      return;
    }
    this.waiting.push(item);
    this.pump();
  }

  /** Resolves once nothing waits and nothing is in flight. */
  idle(): Promise<void> {
    if (this.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.opts.concurrency && this.size > 0) {
      const item = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as T;
      // Compact once the consumed prefix dominates, so the array does not grow forever.
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight++;
      this.opts.send(item).then(
        () => this.opts.onSent?.(),
        (err: unknown) => this.opts.onFailed?.(item, err),
      ).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.size === 0 && this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }
}
