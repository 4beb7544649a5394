/**
 * Per-VM work leases in the KV bucket VR_VM_LEASES (key = VM uid), so exactly one agent replica acts
 * on a VM at a time however many run. A lease is taken with a create-if-absent, renewed with a
 * compare-and-set on its revision every third of its TTL, and released with a conditional delete.
 * A crashed holder's lease expires after the bucket's TTL (its max age).
 *
 * Released leases of deleted VMs leave a tombstone `{deletedGeneration}` for one TTL, so a stale
 * reconcile that raced the delete (already received, waiting for the lease) cannot bring the VM back.
 *
 * A lease held under our own agent id but not by this process is a previous incarnation's (same
 * pod restarted with the same pid): it is taken over at once.
 */
import { StorageType } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { VM_LEASE_BUCKET, VM_LEASE_TTL_S } from '../../proto/bus/topology.ts';
import { LeaseBusyError, LeaseLostError } from './errors.ts';
import { isRevisionConflict, openBucket } from './kv-util.ts';
import type { Logger } from './log.ts';

/** What the bucket stores under a VM uid. */
export interface LeaseRecord {
  /** Agent id of the holder; absent in a tombstone. */
  holder?: string;
  commandId?: string;
  /** When the holder took it (ms since epoch). */
  since?: number;
  /** Set when the VM was deleted under this lease: the generation of the delete. */
  deletedGeneration?: string;
}

export interface Lease {
  readonly vmUid: string;
  /** Aborted when the lease is lost (renewal failed and someone else took it, or it expired). */
  readonly signal: AbortSignal;
  /** Set when the VM was deleted recently (tombstone found at acquisition). */
  readonly deletedGeneration: bigint | undefined;
  /** Releases the lease; with `deletedGeneration`, leaves a tombstone for one TTL instead. */
  release(opts?: { deletedGeneration?: bigint }): Promise<void>;
}

export interface LeaseManagerOptions {
  agentId: string;
  /** Bucket TTL when this process creates the bucket (default VM_LEASE_TTL_S). */
  ttlS?: number;
  replicas?: number;
  log: Logger;
}

const KEY = /^[-/_=.a-zA-Z0-9]+$/;
/** How often a waiting command looks at another agent's lease again. */
const POLL_MS = 150;
/** How often orphaned leases are looked at again while the bus does not answer. */
const SWEEP_MS = 1000;
/** How long a command waits for a busy VM before it is nak'd for later (default of the runtime). */
export const LEASE_WAIT_MS = 2000;

function parse(entry: KvEntry): LeaseRecord {
  try {
    const value = entry.json<LeaseRecord>();
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

export class LeaseManager {
  /** Leases this process holds, by VM uid. */
  private readonly held = new Map<string, { commandId: string; released: Promise<void>; onRelease: () => void }>();

  /**
   * Leases whose write may have landed although we saw an error (a lost answer during a reconnect),
   * or whose release failed: removed in the background so another agent does not wait a whole TTL.
   */
  private readonly orphans = new Map<string, { commandId: string; until: number }>();
  private sweepTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly kv: KV,
    readonly ttlMs: number,
    private readonly opts: LeaseManagerOptions,
  ) {}

  /** Over an already opened bucket (tests use a KV whose answers get lost). */
  static fromBucket(kv: KV, ttlMs: number, opts: LeaseManagerOptions): LeaseManager {
    return new LeaseManager(kv, ttlMs, opts);
  }

  static async open(nc: NatsConnection, opts: LeaseManagerOptions): Promise<LeaseManager> {
    const ttlS = opts.ttlS ?? VM_LEASE_TTL_S;
    const kv = await openBucket(nc, VM_LEASE_BUCKET, {
      ttl: ttlS * 1000,
      history: 1,
      storage: StorageType.File,
      replicas: opts.replicas ?? 1,
    });
    // The bucket's real TTL decides how often to renew (another process may have created it).
    const status = await kv.status();
    const ttlMs = status.ttl > 0 ? status.ttl : ttlS * 1000;
    return new LeaseManager(kv, ttlMs, opts);
  }

  /** Number of leases this process holds. */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Takes the VM's lease, waiting up to `waitMs` for a holder that is about to finish (the common
   * case: the next generation arrives while the previous command is being acked), then throws
   * LeaseBusyError. Transient KV errors propagate.
   */
  async acquire(vmUid: string, commandId: string, opts: { waitMs?: number; onWait?: () => void } = {}): Promise<Lease> {
    if (!KEY.test(vmUid)) throw new Error(`VM uid ${JSON.stringify(vmUid)} cannot be a KV key`);
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tryAcquire(vmUid, commandId);
      } catch (err) {
        const left = deadline - Date.now();
        if (!(err instanceof LeaseBusyError) || left <= 0) throw err;
        if (attempt === 0) opts.onWait?.();
        const local = this.held.get(vmUid);
        // Ours: wait for that command to release it. Another agent's: look again shortly.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, local ? left : Math.min(left, POLL_MS));
          local?.released.then(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
  }

  private async tryAcquire(vmUid: string, commandId: string): Promise<Lease> {
    const mine = this.held.get(vmUid);
    if (mine) throw new LeaseBusyError(vmUid, `${this.opts.agentId} (command ${mine.commandId})`);
    // Reserve locally first so two commands of this process never race for the same VM.
    let onRelease = () => {};
    const released = new Promise<void>((resolve) => (onRelease = resolve));
    this.held.set(vmUid, { commandId, released, onRelease });
    try {
      const { revision, deletedGeneration } = await this.take(vmUid, commandId);
      return this.track(vmUid, commandId, revision, deletedGeneration);
    } catch (err) {
      this.forget(vmUid);
      // Not a clear "no": our write may be stored. Clean it up once the bus answers again.
      if (!(err instanceof LeaseBusyError) && !isRevisionConflict(err)) this.rememberOrphan(vmUid, commandId);
      throw err;
    }
  }

  private rememberOrphan(vmUid: string, commandId: string): void {
    this.orphans.set(vmUid, { commandId, until: Date.now() + this.ttlMs });
    this.scheduleSweep();
  }

  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.sweep();
    }, SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Deletes each orphan that is still ours (same agent and command, not held again); retries while the bus is down. */
  private async sweep(): Promise<void> {
    for (const [vmUid, orphan] of [...this.orphans]) {
      if (this.held.has(vmUid) || Date.now() > orphan.until) {
        this.orphans.delete(vmUid);
        continue;
      }
      try {
        const entry = await this.kv.get(vmUid);
        const current = entry?.operation === 'PUT' ? parse(entry) : undefined;
        if (entry && current?.holder === this.opts.agentId && current.commandId === orphan.commandId && !this.held.has(vmUid)) {
          await this.kv.delete(vmUid, { previousSeq: entry.revision });
          this.opts.log.info('orphaned lease removed', { vmUid, commandId: orphan.commandId });
        }
        this.orphans.delete(vmUid);
      } catch (err) {
        if (isRevisionConflict(err)) this.orphans.delete(vmUid); // changed hands meanwhile: not ours
      }
    }
    if (this.orphans.size) this.scheduleSweep();
  }

  private forget(vmUid: string): void {
    const entry = this.held.get(vmUid);
    this.held.delete(vmUid);
    entry?.onRelease();
  }

  private record(commandId: string): string {
    return JSON.stringify({ holder: this.opts.agentId, commandId, since: Date.now() } satisfies LeaseRecord);
  }

  private async take(vmUid: string, commandId: string): Promise<{ revision: number; deletedGeneration?: bigint }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return { revision: await this.kv.create(vmUid, this.record(commandId)) };
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
      const entry = await this.kv.get(vmUid);
      if (!entry || entry.operation !== 'PUT') continue; // released (or expired) meanwhile: try again
      const current = parse(entry);
      const stale = current.holder === undefined || current.holder === this.opts.agentId;
      if (!stale) throw new LeaseBusyError(vmUid, current.holder!);
      // A tombstone, or our previous incarnation's lease: take it over if nobody beats us to it.
      try {
        const revision = await this.kv.update(vmUid, this.record(commandId), entry.revision);
        const deletedGeneration = current.deletedGeneration !== undefined ? BigInt(current.deletedGeneration) : undefined;
        return deletedGeneration === undefined ? { revision } : { revision, deletedGeneration };
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw new LeaseBusyError(vmUid, 'another agent (lease changed hands while acquiring)');
  }

  private track(vmUid: string, commandId: string, firstRevision: number, deletedGeneration: bigint | undefined): Lease {
    const controller = new AbortController();
    const log = this.opts.log.child({ vmUid, commandId });
    let revision = firstRevision;
    let lastRenewed = Date.now();
    let released = false;
    let renewing: Promise<void> | undefined;

    const renew = async () => {
      try {
        revision = await this.kv.update(vmUid, this.record(commandId), revision);
        lastRenewed = Date.now();
      } catch (err) {
        if (isRevisionConflict(err)) {
          // Expired and gone: take it again if it is still free; otherwise someone else has it.
          try {
            revision = await this.kv.create(vmUid, this.record(commandId));
            lastRenewed = Date.now();
            log.warn('lease expired and was taken again', {});
            return;
          } catch (again) {
            lose(again);
            return;
          }
        }
        // The bus is unreachable: keep trying until the lease would have expired anyway.
        if (Date.now() - lastRenewed >= this.ttlMs) lose(err);
        else log.debug('lease renewal failed; retrying', { err });
      }
    };
    const lose = (cause: unknown) => {
      clearInterval(timer);
      if (controller.signal.aborted) return;
      log.warn('lease lost', { err: cause });
      controller.abort(new LeaseLostError(vmUid, { cause }));
    };
    const timer: NodeJS.Timeout = setInterval(() => {
      if (!renewing && !released) renewing = renew().finally(() => (renewing = undefined));
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    timer.unref();

    return {
      vmUid,
      signal: controller.signal,
      deletedGeneration,
      release: async (opts = {}) => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await renewing;
        try {
          if (controller.signal.aborted) return;
          if (opts.deletedGeneration !== undefined) {
            const tombstone: LeaseRecord = { deletedGeneration: opts.deletedGeneration.toString() };
            await this.kv.update(vmUid, JSON.stringify(tombstone), revision);
          } else {
            await this.kv.delete(vmUid, { previousSeq: revision });
          }
        } catch (err) {
          // Not ours any more: nothing to do. The bus is down: remove it once it answers.
          log.debug('lease release failed', { err });
          if (!isRevisionConflict(err)) this.rememberOrphan(vmUid, commandId);
        } finally {
          this.forget(vmUid);
        }
      },
    };
  }
}
