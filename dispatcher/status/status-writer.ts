/**
 * The one module that writes VirtualMachine status (the status subresource, as a JSON merge
 * patch carrying the resourceVersion it was computed from).
 *
 * - Changes for one VM are applied in the order they were submitted; a change may be a promise
 *   (the reconciler submits its "command published" change before publishing, and settles it
 *   after the bus acknowledged), so an agent's fast answer can never be overwritten by it.
 * - Changes waiting behind a write are coalesced into the next one (one write for many). A change
 *   submitted with `coalesceMs` (the "command published" record) waits that long for the next
 *   change of the same VM — usually the agent's answer — so both go in one write.
 * - Writes read the VM from the informer cache, or from our own newest write to it (status, or the
 *   main resource through `observe`) while the cache has not caught up, so a write right after
 *   another one does not start from a stale resourceVersion.
 * - A 409 conflict re-reads the VM from the apiserver and re-applies the changes to it.
 * - A write that changes nothing is not sent; each real change records Events for its transitions.
 */
import type { VirtualMachine } from '../../api/objects.ts';
import { dropBookkeeping } from '../../kube/index.ts';
import { isConflict, isNotFound, StatusConflictError } from '../errors.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import { keyOf, parseKey } from '../k8s/object-key.ts';
import type { Logger } from '../log.ts';
import type { EventRecorder } from './event-recorder.ts';
import { jsonEqual, mergePatch } from './merge-patch.ts';
import type { VMStatus } from './model.ts';
import { summarize, transitions, type Transition } from './transitions.ts';

/** A status change: the next status from the current one (must not mutate its input). */
export type StatusMutation = (status: VMStatus, vm: VirtualMachine) => VMStatus;
export type WriteOutcome = 'written' | 'unchanged' | 'gone';
export type WriteResult = 'written' | 'unchanged' | 'gone' | 'conflict' | 'error';

export const DEFAULT_MAX_ATTEMPTS = 6;

export interface StatusWriterOptions {
  api: Pick<KubeApi, 'getVM' | 'patchVMStatus'>;
  /** The informer cache (may lag behind our own writes). */
  cache: { get(namespace: string, name: string): VirtualMachine | undefined };
  recorder?: Pick<EventRecorder, 'record'>;
  log: Logger;
  onResult?: (result: WriteResult) => void;
  maxAttempts?: number;
  /** Runs before each write attempt (tests use it to make a real conflict). */
  beforeWrite?: (key: string, attempt: number) => Promise<void>;
}

interface Entry {
  uid?: string;
  mutation: Promise<StatusMutation | undefined>;
  settled: boolean;
  coalesceMs: number;
  submittedAt: number;
  resolve: (o: WriteOutcome) => void;
  reject: (e: unknown) => void;
}

interface KeyQueue {
  entries: Entry[];
  /** Ends a coalescing wait early (another change arrived, or flush()). */
  wake?: () => void;
}

export interface UpdateOptions {
  /**
   * Wait up to this long for another change of the same VM before writing, so both go in one
   * write (default 0). Ended early by the next change and by flush().
   */
  coalesceMs?: number;
}

export class StatusWriter {
  private readonly queues = new Map<string, KeyQueue>();
  /**
   * Our newest write per key (status or main resource), until the cache has caught up with it,
   * with the resourceVersions known to be older than it (the cache's when we wrote, and our own
   * earlier writes): while the cache shows one of those, our copy is the newer one.
   */
  private readonly written = new Map<string, { vm: VirtualMachine; older: Set<string> }>();
  private flushing = false;

  constructor(private readonly opts: StatusWriterOptions) {}

  /**
   * Submits a change for the VM `key` (only applied while the VM has `uid`, when given).
   * Resolves once a write containing it succeeded (or nothing needed writing).
   */
  update(
    key: string,
    uid: string | undefined,
    mutation: StatusMutation | Promise<StatusMutation | undefined>,
    opts: UpdateOptions = {},
  ): Promise<WriteOutcome> {
    return new Promise<WriteOutcome>((resolve, reject) => {
      const entry: Entry = {
        uid, mutation: Promise.resolve(mutation).catch(() => undefined), settled: false, coalesceMs: opts.coalesceMs ?? 0, submittedAt: performance.now(), resolve, reject,
      };
      void entry.mutation.then(() => (entry.settled = true));
      let queue = this.queues.get(key);
      const idle = !queue;
      if (!queue) this.queues.set(key, (queue = { entries: [] }));
      queue.entries.push(entry);
      queue.wake?.();
      if (idle) void this.drain(key, queue);
    });
  }

  /**
   * The VM as another write of ours (the main resource: finalizers) returned it: the next status
   * write starts from it while the cache has not caught up.
   */
  observe(vm: VirtualMachine): void {
    const { namespace, name } = vm.metadata;
    if (namespace && name) this.remember(keyOf(namespace, name), vm);
  }

  private remember(key: string, vm: VirtualMachine): void {
    const { namespace, name } = parseKey(key);
    const previous = this.written.get(key);
    const older = new Set<string>(previous && previous.older.size < 16 ? previous.older : []);
    const version = (v: VirtualMachine | undefined) => v?.metadata.resourceVersion;
    for (const v of [version(previous?.vm), version(this.opts.cache.get(namespace, name))]) if (v) older.add(v);
    const own = version(vm);
    if (own) older.delete(own);
    dropBookkeeping(vm);
    this.written.set(key, { vm, older });
  }

  /**
   * The informer delivered `vm`: once it is as new as our own last write, our copy is dropped
   * (so what we remember stays bounded by the writes still in flight, not by the number of VMs).
   */
  cacheUpdated(vm: VirtualMachine): void {
    const { namespace, name, resourceVersion } = vm.metadata;
    if (!namespace || !name || !resourceVersion) return;
    const key = keyOf(namespace, name);
    const ours = this.written.get(key);
    if (ours && !ours.older.has(resourceVersion)) this.written.delete(key);
  }

  /** Writes every waiting change now, without coalescing waits (the term is ending). */
  flush(): void {
    this.flushing = true;
    for (const q of this.queues.values()) q.wake?.();
  }

  /** Coalescing waits apply again (a new term started). */
  resume(): void {
    this.flushing = false;
  }

  /** The VM is gone: drop what we remember of our last write to it. */
  forget(key: string): void {
    this.written.delete(key);
  }

  /** VMs whose newest copy we keep because the cache has not caught up with our write (tests, metrics). */
  remembered(): number {
    return this.written.size;
  }

  /** Pending changes across all VMs (metrics, tests). */
  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.entries.length;
    return n;
  }

  /**
   * While every waiting change asked to wait for company, waits — until the first one's wait is
   * over, a change arrives that wants writing at once, or flush(). An interim change (progress)
   * joining keeps the wait going, so "published" and "progress" go with the agent's answer.
   */
  private async linger(queue: KeyQueue): Promise<void> {
    const deadline = queue.entries[0]!.submittedAt + queue.entries[0]!.coalesceMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || this.flushing || queue.entries.some((e) => e.coalesceMs <= 0)) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          queue.wake = undefined;
          resolve();
        }
        queue.wake = done;
      });
    }
  }

  private async drain(key: string, keyQueue: KeyQueue): Promise<void> {
    const queue = keyQueue.entries;
    try {
      while (queue.length) {
        const first = await queue[0]!.mutation;
        // A change that asked to wait for company (the agent's answer) waits.
        if (first) await this.linger(keyQueue);
        let n = 1;
        while (n < queue.length && queue[n]!.settled) n++;
        const batch = queue.splice(0, n);
        try {
          await this.write(key, batch);
        } catch (err) {
          for (const e of batch) e.reject(err);
        }
      }
    } finally {
      this.queues.delete(key);
    }
  }

  private async read(key: string, fresh: boolean): Promise<VirtualMachine | undefined> {
    const { namespace, name } = parseKey(key);
    if (fresh) return this.opts.api.getVM(namespace, name);
    const cached = this.opts.cache.get(namespace, name);
    const ours = this.written.get(key);
    if (ours) {
      const seen = cached?.metadata.resourceVersion;
      if (seen !== undefined && ours.older.has(seen)) return ours.vm;
      // The cache caught up with our write, or someone else wrote since: the cache it is.
      this.written.delete(key);
    }
    return cached ?? this.opts.api.getVM(namespace, name);
  }

  private async write(key: string, batch: Entry[]): Promise<void> {
    const mutations = await Promise.all(batch.map((e) => e.mutation));
    const { namespace, name } = parseKey(key);
    const max = this.opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    for (let attempt = 1; attempt <= max; attempt++) {
      // 1. The VM as we last know it (the apiserver's copy after a conflict).
      const vm = await this.read(key, attempt > 1);
      if (!vm) {
        this.opts.onResult?.('gone');
        for (const e of batch) e.resolve('gone');
        return;
      }
      // 2. Every change in submission order; changes for another incarnation of the name are dropped.
      const before: VMStatus = vm.status ?? {};
      let after = before;
      const applied: Entry[] = [];
      // One Event per change, step by step: a coalesced write still shows each state it passed
      // through (e.g. Provisioning=True on publish, then Ready=True) as its own Event.
      const passed: Transition[] = [];
      batch.forEach((e, i) => {
        const m = mutations[i];
        if (e.uid && e.uid !== vm.metadata.uid) return;
        applied.push(e);
        if (!m) return;
        const next = m(after, vm);
        const step = summarize(transitions(after, next));
        if (step) passed.push(step);
        after = next;
      });
      const settle = (o: WriteOutcome) => {
        for (const e of batch) e.resolve(applied.includes(e) ? o : 'gone');
      };
      // 3. Nothing to write.
      if (jsonEqual(before, after)) {
        this.opts.onResult?.('unchanged');
        settle('unchanged');
        return;
      }
      // 4. One merge patch, conditional on the version it was computed from.
      const patch = {
        metadata: { resourceVersion: vm.metadata.resourceVersion },
        status: mergePatch(before as Record<string, unknown>, after as Record<string, unknown>),
      };
      try {
        await this.opts.beforeWrite?.(key, attempt);
        const result = await this.opts.api.patchVMStatus(namespace, name, patch);
        this.remember(key, result);
        this.opts.onResult?.('written');
        this.opts.recorder?.record(result, passed);
        settle('written');
        return;
      } catch (err) {
        if (isNotFound(err)) {
          this.opts.onResult?.('gone');
          settle('gone');
          return;
        }
        if (!isConflict(err)) {
          this.opts.onResult?.('error');
          throw err;
        }
        this.opts.onResult?.('conflict');
        this.opts.log.debug('status conflict, re-reading', { kind: 'VirtualMachine', namespace, name, attempt });
      }
    }
    throw new StatusConflictError(key, max);
  }
}
