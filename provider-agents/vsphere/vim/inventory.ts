/**
 * The agent's view of every VirtualMachine, kept by one private PropertyCollector: a filter that
 * traverses the inventory to every VM, followed with WaitForUpdatesEx. Looking a VM up by uid is a map read;
 * no VM is ever polled. The same collector carries short-lived filters for tasks and leases
 * (`watchObject`), so task progress arrives on the same long poll.
 *
 * Freshness: `sync()` returns once every change vCenter made before the call is applied. It
 * interrupts the long poll (CancelWaitForUpdates) and asks for pending updates without waiting;
 * concurrent callers share one round. A lookup that misses syncs first, so "absent" is never a stale
 * answer, and a read error is never taken for absence.
 *
 * Sessions: the collector lives in the session. After a re-login (or any failure of the collector)
 * it is made again and the whole VM set reloaded; watchers of objects are told to re-subscribe.
 */
import type { Logger } from '../../core/log.ts';
import { ref, type MoRef, type VimClient } from '../soap/client.ts';
import { isFault, isNotFound, toAgentError } from '../soap/faults.ts';
import { decodeMoRef } from '../soap/client.ts';
import { TransientError } from '../../core/errors.ts';
import { decodeUpdateSet, objectsFilterSpec, retrieveOne, vmTraversalSpec, type ObjectUpdate, type PropertyChange, type UpdateSet } from './property.ts';
import { applyProperty, emptyRecord, FULL_PATHS, uidOf, VM_PATHS, type VmRecord } from './vm-record.ts';

export type VmListener = (uid: string, vm: VmRecord | undefined) => void;

export interface InventoryOptions {
  /** Which of several VMs carrying one uid is the managed one (default: the oldest reference). */
  preferred?: (uid: string, candidates: VmRecord[]) => VmRecord | undefined;
}

/** uid → the VMs carrying it (normally one). */
class UidIndex {
  private readonly map = new Map<string, Set<string>>();
  add(uid: string, key: string): void {
    let set = this.map.get(uid);
    if (!set) this.map.set(uid, (set = new Set()));
    set.add(key);
  }
  remove(uid: string, key: string): void {
    const set = this.map.get(uid);
    if (!set) return;
    set.delete(key);
    if (set.size === 0) this.map.delete(uid);
  }
  get(uid: string): string[] {
    return [...(this.map.get(uid) ?? [])];
  }
  has(uid: string): boolean {
    return this.map.has(uid);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
  clear(): void {
    this.map.clear();
  }
}

/** `vm-123` → 123: vCenter numbers objects in creation order. */
function morefOrder(r: MoRef): number {
  const n = Number(/(\d+)$/.exec(r.value)?.[1]);
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** Receives the changes of a watched object; `lost` when its filter died with the session. */
export interface ObjectWatcher {
  onChange(kind: ObjectUpdate['kind'], changes: PropertyChange[]): void;
  onLost(): void;
}

interface SyncWaiter {
  /** Resolved by the first complete WaitForUpdatesEx round that started after this number. */
  after: number;
  resolve(): void;
  reject(err: Error): void;
}

const LONG_POLL_S = 60;
const MAX_BACKOFF_MS = 30_000;

export class VmInventory {
  private readonly byRef = new Map<string, VmRecord>();
  private readonly byUid = new UidIndex();
  private readonly listeners = new Set<VmListener>();
  private readonly watchers = new Map<string, ObjectWatcher>();
  private readonly conditions = new Set<(key: string) => void>();
  private doomedFilters: MoRef[] = [];
  private collector: MoRef | undefined;
  private vmFilter: MoRef | undefined;
  private setupEpoch = -1;
  private version = '';
  private loaded = false;
  private roundsStarted = 0;
  private longPollInFlight = false;
  private cancelSent = false;
  private waiters: SyncWaiter[] = [];
  private readyWaiters: SyncWaiter[] = [];
  private lastError: Error | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private roundAbort: AbortController | undefined;
  private loopDone: Promise<void> | undefined;
  private renewOff: () => void;
  readonly stats = { rounds: 0, syncs: 0, reloads: 0 };

  private readonly warnedDuplicates = new Set<string>();

  constructor(private readonly client: VimClient, private readonly log?: Logger, private readonly opts: InventoryOptions = {}) {
    this.renewOff = client.onSessionRenewed(() => {
      // The collector died with the old session: end a long poll still waiting on it (vCenter may
      // hold it until its timeout) so the loop makes a new one at once.
      this.collector = undefined;
      this.cancelSent = false;
      this.roundAbort?.abort();
    });
  }

  /** Starts following the VMs; resolves once the whole set is loaded. */
  async start(): Promise<void> {
    this.loopDone = this.loop();
    await new Promise<void>((resolve, reject) => this.readyWaiters.push({ after: 0, resolve, reject }));
  }

  // --- lookups ---

  /** The VM carrying `uid`, as of now (syncs on a miss; throws TransientError when vCenter cannot say). */
  async findByUid(uid: string, signal?: AbortSignal): Promise<VmRecord | undefined> {
    // Known not to be current (vCenter unreachable): say so rather than answer from the past.
    if (this.lastError) throw this.lastError;
    const hit = this.healthyLookup(uid);
    if (hit) return hit;
    await this.sync(signal);
    return this.healthyLookup(uid);
  }

  private healthyLookup(uid: string): VmRecord | undefined {
    if (!this.loaded) return undefined;
    const found = this.byUid.get(uid).map((k) => this.byRef.get(k)).filter((r): r is VmRecord => !!r);
    if (found.length <= 1) return found[0];
    // Someone copied a managed VM outside VirtRigaud (extraConfig travels with a clone): answer
    // with one VM, always the same, and say so.
    const pick = this.opts.preferred?.(uid, found) ?? [...found].sort((a, b) => morefOrder(a.ref) - morefOrder(b.ref))[0]!;
    if (!this.warnedDuplicates.has(uid)) {
      this.warnedDuplicates.add(uid);
      this.log?.warn('several VMs carry the same uid; using one, the others are not managed', { uid, vms: found.map((r) => r.ref.value), using: pick.ref.value });
    }
    return pick;
  }

  /** The record of a VM by reference, as of the last update (undefined when not seen). */
  get(vm: MoRef): VmRecord | undefined {
    return this.byRef.get(vm.value);
  }

  /** The VM by reference after a sync: undefined only when vCenter's VM set lacks it. */
  async fresh(vm: MoRef, signal?: AbortSignal): Promise<VmRecord | undefined> {
    await this.sync(signal);
    return this.byRef.get(vm.value);
  }

  /**
   * The VM as of now, found by reference: after a sync, or read once when the collector has not
   * reported it yet (vcsim reports a new VM only with the next change anywhere). Undefined only on
   * ManagedObjectNotFound.
   */
  async observe(vm: MoRef, signal?: AbortSignal): Promise<VmRecord | undefined> {
    await this.sync(signal);
    return this.byRef.get(vm.value) ?? this.refresh(vm, signal);
  }

  /**
   * Reads the VM's properties and details (devices, firmware, hot-add) once and keeps them: before
   * an operation that needs them, or after one that changed them (vcsim does not report every
   * configuration change through the collector). Undefined only on ManagedObjectNotFound.
   */
  async refresh(vm: MoRef, signal?: AbortSignal): Promise<VmRecord | undefined> {
    let props;
    try {
      props = await retrieveOne(this.client, vm, FULL_PATHS, { signal });
    } catch (err) {
      if (isNotFound(err)) {
        this.forget(vm);
        return undefined;
      }
      throw err;
    }
    const rec = this.byRef.get(vm.value) ?? emptyRecord(vm);
    const oldUid = uidOf(rec);
    for (const path of FULL_PATHS) applyProperty(rec, path, props.get(path));
    rec.detailed = true;
    this.byRef.set(vm.value, rec);
    const uid = uidOf(rec);
    if (oldUid && oldUid !== uid) this.byUid.remove(oldUid, vm.value);
    if (uid) this.byUid.add(uid, vm.value);
    return rec;
  }

  /** Drops a VM that vCenter confirmed destroyed (its task succeeded) before the update arrives. */
  forget(vm: MoRef): void {
    const rec = this.byRef.get(vm.value);
    if (!rec) return;
    const uid = uidOf(rec);
    if (uid) this.byUid.remove(uid, vm.value);
    this.byRef.delete(vm.value);
  }

  /**
   * Resolves with the VM's record once `test` holds for it (checked now and after every update),
   * or with undefined after `timeoutMs`. Pushed by the collector; nothing is polled.
   */
  waitFor(vm: MoRef, test: (rec: VmRecord) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<VmRecord | undefined> {
    const now = this.byRef.get(vm.value);
    if (now && test(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const done = (rec: VmRecord | undefined, err?: unknown) => {
        clearTimeout(timer);
        this.conditions.delete(cond);
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve(rec);
      };
      const cond = (key: string) => {
        const rec = key === vm.value ? this.byRef.get(key) : undefined;
        if (rec && test(rec)) done(rec);
      };
      const onAbort = () => done(undefined, signal!.reason);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.conditions.add(cond);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** VMs (and templates) whose name is `name`. */
  byName(name: string): VmRecord[] {
    return [...this.byRef.values()].filter((r) => r.name === name);
  }

  all(): VmRecord[] {
    return [...this.byRef.values()];
  }

  onChange(fn: VmListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // --- freshness ---

  /** Resolves once every change vCenter made before this call has been applied. */
  sync(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return Promise.reject(new TransientError('the vSphere inventory is stopped', { reason: 'AgentShuttingDown' }));
    if (this.lastError) return Promise.reject(this.lastError);
    this.stats.syncs++;
    const p = new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(signal!.reason);
      };
      const w: SyncWaiter = {
        after: this.roundsStarted,
        resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); },
        reject: (err) => { signal?.removeEventListener('abort', onAbort); reject(err); },
      };
      this.waiters.push(w);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.interruptLongPoll();
    return p;
  }

  private interruptLongPoll(): void {
    if (!this.longPollInFlight || this.cancelSent || !this.collector) return;
    this.cancelSent = true;
    const round = this.roundsStarted;
    void this.client.call('CancelWaitForUpdates', { _this: ref(this.collector) }).catch((err) => {
      this.log?.debug('CancelWaitForUpdates failed; the long poll ends on its own', { err });
    });
    // A cancel that reached vCenter before the long poll itself cancels nothing: send it again
    // while the same long poll still holds up a sync.
    setTimeout(() => {
      if (this.longPollInFlight && this.roundsStarted === round && this.waiters.length > 0) {
        this.cancelSent = false;
        this.interruptLongPoll();
      }
    }, 100).unref();
  }

  // --- watching single objects (tasks, leases) on the same collector ---

  /** Follows `paths` of `obj` until the returned function is called. */
  async watchObject(obj: MoRef, paths: readonly string[], watcher: ObjectWatcher): Promise<() => Promise<void>> {
    const collector = await this.ensureCollector();
    const [filterNode] = await this.client.call('CreateFilter', {
      _this: ref(collector),
      spec: objectsFilterSpec([obj], [{ type: obj.type, paths }]),
      partialUpdates: false,
    });
    const filter = decodeMoRef(filterNode, 'CreateFilter');
    this.watchers.set(filter.value, watcher);
    const epoch = this.setupEpoch;
    return async () => {
      if (!this.watchers.delete(filter.value)) return;
      // Destroyed between two long polls: destroying a filter while WaitForUpdatesEx runs crashes
      // vcsim's handler (a nil filter in its update loop), and nothing is lost by waiting.
      if (epoch === this.setupEpoch) this.doomedFilters.push(filter);
    };
  }

  private async destroyDoomedFilters(): Promise<void> {
    const doomed = this.doomedFilters.splice(0);
    for (const filter of doomed) {
      try {
        await this.client.call('DestroyPropertyFilter', { _this: ref(filter) });
      } catch (err) {
        // Gone with its session or collector: nothing to clean.
        if (!isFault(err, 'ManagedObjectNotFound', 'NotAuthenticated')) this.log?.debug('DestroyPropertyFilter failed', { err });
      }
    }
  }

  private async ensureCollector(): Promise<MoRef> {
    for (let i = 0; i < 100 && !this.collector; i++) {
      if (this.stopped) throw new TransientError('the vSphere inventory is stopped', { reason: 'AgentShuttingDown' });
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!this.collector) throw new TransientError('the vSphere property collector is not ready', { reason: 'ProviderUnreachable', cause: this.lastError });
    return this.collector;
  }

  // --- the update loop ---

  private async setup(): Promise<void> {
    const sc = this.client.serviceContent;
    const epoch = this.client.sessionEpoch;
    const [pc] = await this.client.call('CreatePropertyCollector', { _this: ref(sc.propertyCollector) });
    const collector = decodeMoRef(pc, 'CreatePropertyCollector');
    const [filterNode] = await this.client.call('CreateFilter', {
      _this: ref(collector), spec: vmTraversalSpec(sc.rootFolder, [{ type: 'VirtualMachine', paths: VM_PATHS }]), partialUpdates: false,
    });
    this.vmFilter = decodeMoRef(filterNode, 'CreateFilter');
    this.collector = collector;
    this.setupEpoch = epoch;
    this.version = '';
    this.cancelSent = false;
    this.stats.reloads++;
    this.doomedFilters = [];
    // Watched objects' filters belonged to the previous collector.
    const lost = [...this.watchers.values()];
    this.watchers.clear();
    for (const w of lost) w.onLost();
  }

  private async loop(): Promise<void> {
    let backoff = 500;
    let reloadUids: Set<string> | undefined;
    while (!this.stopped) {
      try {
        if (!this.collector || this.setupEpoch !== this.client.sessionEpoch) {
          reloadUids ??= new Set(this.byUid.keys());
          this.byRef.clear();
          this.byUid.clear();
          this.loaded = false;
          await this.setup();
        }
        if (this.doomedFilters.length) await this.destroyDoomedFilters();
        const round = ++this.roundsStarted;
        const hurry = this.waiters.length > 0 || this.version === '';
        this.longPollInFlight = !hurry;
        this.cancelSent = false;
        this.roundAbort = new AbortController();
        const [result] = await this.client.call('WaitForUpdatesEx', {
          _this: ref(this.collector!),
          version: this.version,
          options: { maxWaitSeconds: hurry ? 0 : LONG_POLL_S },
        }, { signal: AbortSignal.any([this.abort.signal, this.roundAbort.signal]), timeoutMs: (LONG_POLL_S + 30) * 1000 });
        this.longPollInFlight = false;
        this.stats.rounds++;
        const set = decodeUpdateSet(result);
        if (set) this.apply(set);
        if (set?.truncated) continue;
        if (!this.loaded) {
          this.loaded = true;
          this.emitReloadLeaves(reloadUids);
          reloadUids = undefined;
        }
        this.lastError = undefined;
        backoff = 500;
        this.settle(round);
      } catch (err) {
        this.longPollInFlight = false;
        if (this.stopped) break;
        if (isFault(err, 'RequestCanceled')) continue;
        // Ended here because the session was renewed: make the collector again.
        if (this.roundAbort?.signal.aborted) continue;
        // The collector died with its session (or was removed): make it again and reload.
        if (isFault(err, 'ManagedObjectNotFound', 'NotAuthenticated', 'InvalidCollectorVersion')) {
          this.collector = undefined;
          continue;
        }
        const e = toAgentError(err, 'following VM changes through the property collector');
        this.lastError = e;
        this.log?.warn('vSphere inventory update failed; retrying', { err: e, retryInMs: backoff });
        this.failWaiters(e);
        // A failure may mean the collector is gone (vCenter restarted): rebuild on the next round,
        // and let watchers of tasks and leases know their filters may be gone with it.
        this.collector = undefined;
        const lost = [...this.watchers.values()];
        this.watchers.clear();
        for (const w of lost) w.onLost();
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private settle(round: number): void {
    const ready = this.readyWaiters;
    this.readyWaiters = [];
    ready.forEach((w) => w.resolve());
    const still: SyncWaiter[] = [];
    for (const w of this.waiters) (w.after < round ? w.resolve : () => still.push(w))();
    this.waiters = still;
  }

  private failWaiters(err: Error): void {
    const all = [...this.waiters, ...this.readyWaiters];
    this.waiters = [];
    this.readyWaiters = [];
    all.forEach((w) => w.reject(err));
  }

  private apply(set: UpdateSet): void {
    this.version = set.version;
    const touched = new Map<string, string | undefined>();
    for (const f of set.filters) {
      if (this.vmFilter && f.filter.value === this.vmFilter.value) {
        for (const o of f.objects) this.applyVm(o, touched);
      } else {
        const w = this.watchers.get(f.filter.value);
        for (const o of f.objects) w?.onChange(o.kind, o.changes);
      }
    }
    for (const key of touched.keys()) for (const c of [...this.conditions]) c(key);
    if (!this.loaded) return;
    for (const [key, uid] of touched) {
      const rec = this.byRef.get(key);
      const now = rec ? uidOf(rec) : undefined;
      for (const l of this.listeners) {
        if (uid && uid !== now) l(uid, undefined);
        if (now && rec) l(now, rec);
      }
    }
  }

  private applyVm(o: ObjectUpdate, touched: Map<string, string | undefined>): void {
    const key = o.obj.value;
    const before = this.byRef.get(key);
    if (!touched.has(key)) touched.set(key, before ? uidOf(before) : undefined);
    if (o.kind === 'leave') {
      if (before) {
        const uid = uidOf(before);
        if (uid) this.byUid.remove(uid, key);
        this.byRef.delete(key);
      }
      return;
    }
    // A change to a VM we dropped (destroyed; its departure still on the way) brings nothing back.
    if (!before && o.kind === 'modify') return;
    const rec = before ?? emptyRecord(o.obj);
    const oldUid = uidOf(rec);
    for (const c of o.changes) {
      try {
        applyProperty(rec, c.name, c.op === 'remove' || c.op === 'indirectRemove' ? undefined : c.val);
      } catch (err) {
        this.log?.warn('vSphere sent a VM property the agent cannot read; kept the previous value', { vm: key, property: c.name, err });
      }
    }
    this.byRef.set(key, rec);
    const uid = uidOf(rec);
    if (oldUid && oldUid !== uid) this.byUid.remove(oldUid, key);
    if (uid) this.byUid.add(uid, key);
  }

  private emitReloadLeaves(before: Set<string> | undefined): void {
    if (!before) return;
    for (const uid of before) {
      if (!this.byUid.has(uid)) for (const l of this.listeners) l(uid, undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.renewOff();
    this.interruptLongPoll();
    this.abort.abort();
    this.failWaiters(new TransientError('the vSphere inventory stopped', { reason: 'AgentShuttingDown' }));
    await this.loopDone?.catch(() => undefined);
    if (this.collector) {
      await this.client.call('DestroyPropertyCollector', { _this: ref(this.collector) }, { timeoutMs: 5000 }).catch(() => undefined);
    }
  }
}
