/**
 * The `mock` driver: a hypervisor whose state lives outside the agent, in a NATS KV bucket (see
 * store.ts), so several agent replicas share it and an agent that dies leaves the VMs behind as a
 * real hypervisor would. Each operation can be delayed and made to fail (faults.ts). Tests and
 * benchmarks use it; product defaults never do.
 *
 * It keeps the driver rules: identity by uid (a second create for a uid returns the VM that carries
 * it), generation stored next to the uid, find throws on a read error and returns undefined only
 * when the VM is positively absent.
 */
import { create } from '@bufbuild/protobuf';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { natsConnectOptions, type NatsAuth } from '../core/nats-auth.ts';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ObservedVMSchema, PowerState, SnapshotInfoSchema,
  type DesiredVM, type ObservedVM, type SnapshotCreate, type SnapshotInfo,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Driver, OperationContext, ReconfigureResult } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import { FaultPlan, MOCK_OPS, type MockFault, type MockOp } from './faults.ts';
import { MockStore, mockBucketName, type MockSnapshot, type MockVm, type Overlap, type StoredVm } from './store.ts';

/** What the mock claims to support (names as in api/capabilities.ts). */
export const DEFAULT_MOCK_CAPABILITIES = [
  'secureBoot', 'tpm', 'nestedVirtualization', 'cpuHotAdd', 'memoryHotAdd', 'memorySnapshots', 'linkedClones', 'onlineDiskExpansion',
];

export interface MockDriverOptions {
  /** The mock hypervisor opens its own connection: it is not the agent. */
  natsServers: string | string[];
  /** Credentials and inbox prefix on a secured bus (the agent's, core/nats-auth.ts). */
  natsAuth?: NatsAuth;
  /** The Provider it serves: names the state bucket. */
  provider: { namespace: string; name: string };
  /** Who calls it (the agent id), as recorded in overlap reports. */
  actor?: string;
  /** Delay of every operation, unless `delaysMs` names it (ms, default 0). */
  defaultDelayMs?: number;
  delaysMs?: Partial<Record<MockOp, number>>;
  faults?: readonly MockFault[];
  /** Record two operations on one VM at once (costs two KV writes per operation). */
  detectOverlaps?: boolean;
  capabilities?: string[];
}

const GIB = 1024;

function toObserved(vm: MockVm): ObservedVM {
  return create(ObservedVMSchema, {
    id: vm.id,
    exists: true,
    powerState: vm.power === 'on' ? PowerState.ON : PowerState.OFF,
    ips: vm.ips,
    consoleUrl: `mock://${vm.id}/console`,
    cpus: vm.cpus,
    memoryMib: BigInt(vm.memoryMib),
    snapshots: vm.snapshots.map(toSnapshotInfo),
    appliedGeneration: BigInt(vm.generation || '0'),
  });
}

function toSnapshotInfo(s: MockSnapshot): SnapshotInfo {
  return create(SnapshotInfoSchema, { id: s.id, name: s.name, hasMemory: s.hasMemory, createdUnixMs: BigInt(s.createdUnixMs), snapshotUid: s.snapshotUid });
}

/** A stable private address per VM. */
function ipFor(id: string): string {
  const h = createHash('sha256').update(id).digest();
  return `10.${h[0]! % 250}.${h[1]! % 250}.${(h[2]! % 250) + 2}`;
}

const maxGeneration = (stored: string, wanted: bigint | undefined) =>
  (wanted !== undefined && wanted > BigInt(stored || '0') ? wanted : BigInt(stored || '0')).toString();

export class MockDriver implements Driver {
  readonly type = 'mock';
  /** Calls made through this instance, by operation. */
  readonly calls: Record<MockOp, number> = Object.fromEntries(MOCK_OPS.map((op) => [op, 0])) as Record<MockOp, number>;
  private readonly faults: FaultPlan;
  /** This instance's name for its share of the counters, and its count of VMs created. */
  private readonly instance = randomUUID().slice(0, 8);
  private created = 0;

  private constructor(
    private readonly nc: NatsConnection,
    /** The hypervisor's state, for tests to inspect and seed. */
    readonly store: MockStore,
    private readonly opts: MockDriverOptions,
  ) {
    this.faults = new FaultPlan(opts.faults ?? []);
  }

  static async open(opts: MockDriverOptions): Promise<MockDriver> {
    const nc = await connect({
      servers: opts.natsServers, name: 'virtrigaud-mock-hypervisor', maxReconnectAttempts: -1, reconnectTimeWait: 250,
      // No stack captured per request (a cost on every KV call); timeouts still say what timed out.
      noAsyncTraces: true,
      ...natsConnectOptions(opts.natsAuth),
    });
    try {
      return new MockDriver(nc, await MockStore.open(nc, mockBucketName(opts.provider)), opts);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  // --- the machinery every operation goes through ---

  private delayOf(op: MockOp): number {
    return this.opts.delaysMs?.[op] ?? this.opts.defaultDelayMs ?? 0;
  }

  /** Waits the operation's delay, reporting progress halfway through long ones; stops when aborted. */
  private async pause(op: MockOp, ctx?: OperationContext): Promise<void> {
    const ms = this.delayOf(op);
    if (ms <= 0) return;
    try {
      if (ms >= 1000 && ctx) {
        await sleep(ms / 2, undefined, { signal: ctx.signal });
        ctx.progress(50, `${op} in progress`);
        await sleep(ms / 2, undefined, { signal: ctx.signal });
      } else {
        await sleep(ms, undefined, ctx ? { signal: ctx.signal } : undefined);
      }
    } catch (err) {
      throw ctx?.signal.aborted && ctx.signal.reason !== undefined ? ctx.signal.reason : err;
    }
  }

  /** Counts, injects faults, marks the VM busy (overlap detection), runs `fn`. */
  private async run<T>(op: MockOp, uid: string | undefined, ctx: OperationContext | undefined, fn: () => Promise<T>, pauseFirst = true): Promise<T> {
    this.calls[op]++;
    this.faults.check(op, uid, 'before');
    let busy: number | undefined;
    if (this.opts.detectOverlaps && uid) {
      const now = Date.now();
      busy = await this.store.markBusy(uid, { actor: this.opts.actor ?? 'unknown', op, at: now, until: now + this.delayOf(op) + 2000 });
    }
    try {
      if (pauseFirst) await this.pause(op, ctx);
      const result = await fn();
      if (!pauseFirst) await this.pause(op, ctx);
      this.faults.check(op, uid, 'after');
      return result;
    } finally {
      if (busy !== undefined) await this.store.clearBusy(uid!, busy);
    }
  }

  /** The stored record of an observed VM; a VM gone meanwhile is a retryable surprise. */
  private async recordOf(vm: ObservedVM): Promise<StoredVm> {
    const rec = await this.store.getById(vm.id);
    if (!rec) throw new TransientError(`expected VM ${vm.id} on the mock hypervisor, it is gone`, { reason: 'VMVanished' });
    return rec;
  }

  /** Read-modify-write of a VM; `known` (just read) saves the read unless someone wrote since. */
  private async change(id: string, f: (vm: MockVm) => MockVm | undefined, known?: StoredVm): Promise<ObservedVM> {
    const vm = await this.store.update(id, f, known);
    if (!vm) throw new TransientError(`expected VM ${id} on the mock hypervisor, it is gone`, { reason: 'VMVanished' });
    return toObserved(vm);
  }

  // --- Driver ---

  async capabilities(): Promise<string[]> {
    return this.opts.capabilities ?? DEFAULT_MOCK_CAPABILITIES;
  }

  async validate(): Promise<{ version: string }> {
    return this.run('validate', undefined, undefined, async () => {
      await this.store.kv.status();
      return { version: 'mock-1' };
    });
  }

  async find(uid: string): Promise<ObservedVM | undefined> {
    return this.run('find', uid, undefined, async () => {
      const id = await this.store.idOf(uid);
      if (id === undefined) return undefined;
      const rec = await this.store.getById(id);
      // Claimed but not written (a create that died half-way), or released: absent under this uid.
      if (!rec || rec.value.uid !== uid) return undefined;
      return toObserved(rec.value);
    });
  }

  async create(uid: string, desired: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    // The VM appears at once (carrying the uid), then "provisions" for the create delay.
    return this.run('create', uid, ctx, () => this.createVm(uid, {
      name: desired.class?.name ?? '',
      cpus: desired.class?.cpus || 1,
      memoryMib: Number(desired.class?.memoryMib || 512n),
      generation: ctx.generation ?? 0n,
    }), false);
  }

  /** Claims the uid, then writes the VM; finds the VM instead when the uid is already on one. */
  private async createVm(uid: string, spec: { name: string; cpus: number; memoryMib: number; generation: bigint }): Promise<ObservedVM> {
    const fresh = `vm-${randomUUID().slice(0, 8)}`;
    const id = await this.store.claim(uid, fresh);
    // The uid was on a VM already (an earlier create, perhaps one that died half-way): that one.
    if (id !== fresh) {
      const existing = await this.store.getById(id);
      if (existing) return toObserved(existing.value);
    }
    const vm: MockVm = {
      id,
      uid,
      name: spec.name ? `${spec.name}-${id}` : id,
      generation: spec.generation.toString(),
      power: 'off',
      cpus: spec.cpus,
      memoryMib: spec.memoryMib,
      ips: [],
      snapshots: [],
      adopted: false,
      createdUnixMs: Date.now(),
    };
    if (await this.store.putNew(vm)) {
      await this.store.putShare('stats.creates', this.instance, ++this.created);
      return toObserved(vm);
    }
    return toObserved((await this.store.getById(id))!.value);
  }

  async reconfigure(vm: ObservedVM, desired: DesiredVM, ctx: OperationContext): Promise<ReconfigureResult> {
    const rec = await this.recordOf(vm);
    return this.run('reconfigure', rec.value.uid, ctx, async () => {
      const cpus = desired.class?.cpus || 0;
      const memoryMib = Number(desired.class?.memoryMib ?? 0n);
      const observed = await this.change(vm.id, (r) => {
        if ((!cpus || r.cpus === cpus) && (!memoryMib || r.memoryMib === memoryMib)) return undefined;
        return { ...r, cpus: cpus || r.cpus, memoryMib: memoryMib || r.memoryMib };
      }, rec);
      return { vm: observed, restartRequired: [] };
    });
  }

  async setPower(vm: ObservedVM, state: PowerState, _gracefulTimeoutSeconds: number, ctx: OperationContext): Promise<ObservedVM> {
    const rec = await this.recordOf(vm);
    return this.run('setPower', rec.value.uid, ctx, () => this.change(vm.id, (r) => {
      const power = state === PowerState.ON ? 'on' : 'off';
      if (state === PowerState.UNSPECIFIED || r.power === power) return undefined;
      return { ...r, power, ips: power === 'on' ? [ipFor(r.id)] : [] };
    }, rec));
  }

  async destroy(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    const rec = await this.store.getById(vm.id);
    if (!rec) return;
    await this.run('destroy', rec.value.uid, ctx, async () => {
      await this.store.remove(vm.id);
      if (rec.value.uid) await this.store.unclaim(rec.value.uid);
    });
  }

  async adopt(uid: string, hypervisorId: string, ctx: OperationContext): Promise<ObservedVM> {
    return this.run('adopt', uid, ctx, async () => {
      const rec = await this.store.getById(hypervisorId);
      if (!rec) throw new PermanentError(`expected a VM with id ${hypervisorId} to adopt, found none`, { reason: 'AdoptTargetNotFound' });
      if (rec.value.uid && rec.value.uid !== uid) {
        throw new PermanentError(`expected VM ${hypervisorId} to be unmanaged, it carries uid ${rec.value.uid}`, { reason: 'AlreadyManaged' });
      }
      const holder = await this.store.claim(uid, hypervisorId);
      if (holder !== hypervisorId) throw new PermanentError(`expected uid ${uid} on no VM, it is on ${holder}`, { reason: 'AlreadyManaged' });
      return this.change(hypervisorId, (r) => ({ ...r, uid, adopted: true, generation: maxGeneration(r.generation, ctx.generation) }));
    });
  }

  async release(vm: ObservedVM, ctx: OperationContext): Promise<void> {
    const rec = await this.recordOf(vm);
    await this.run('release', rec.value.uid, ctx, async () => {
      await this.change(vm.id, (r) => ({ ...r, uid: '', adopted: false, generation: '0' }));
      if (rec.value.uid) await this.store.unclaim(rec.value.uid);
    });
  }

  async snapshotCreate(vm: ObservedVM, req: SnapshotCreate, ctx: OperationContext): Promise<SnapshotInfo> {
    const rec = await this.recordOf(vm);
    return this.run('snapshotCreate', rec.value.uid, ctx, async () => {
      const id = `snap-${randomUUID().slice(0, 8)}`;
      const after = await this.change(vm.id, (r) => {
        if (req.snapshotUid && r.snapshots.some((s) => s.snapshotUid === req.snapshotUid)) return undefined;
        const snap: MockSnapshot = { id, name: req.name || id, snapshotUid: req.snapshotUid, hasMemory: req.includeMemory, createdUnixMs: Date.now() };
        return { ...r, snapshots: [...r.snapshots, snap] };
      });
      return after.snapshots.find((s) => (req.snapshotUid ? s.snapshotUid === req.snapshotUid : s.id === id))!;
    });
  }

  async snapshotRevert(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<ObservedVM> {
    const rec = await this.recordOf(vm);
    return this.run('snapshotRevert', rec.value.uid, ctx, async () => {
      if (!rec.value.snapshots.some((s) => s.id === snapshotId)) {
        throw new PermanentError(`expected snapshot ${snapshotId} on VM ${vm.id}, found none`, { reason: 'SnapshotNotFound' });
      }
      return toObserved(rec.value);
    });
  }

  async snapshotDelete(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<void> {
    const rec = await this.recordOf(vm);
    await this.run('snapshotDelete', rec.value.uid, ctx, () => this.change(vm.id, (r) => {
      if (!r.snapshots.some((s) => s.id === snapshotId)) return undefined;
      return { ...r, snapshots: r.snapshots.filter((s) => s.id !== snapshotId) };
    }));
  }

  async clone(source: ObservedVM, targetUid: string, _linked: boolean, target: DesiredVM, ctx: OperationContext): Promise<ObservedVM> {
    const src = await this.recordOf(source);
    // The clone keeps the source's size unless the target asks for another.
    return this.run('clone', targetUid, ctx, () => this.createVm(targetUid, {
      name: target.class?.name ?? '',
      cpus: target.class?.cpus || src.value.cpus,
      memoryMib: Number(target.class?.memoryMib || BigInt(src.value.memoryMib)),
      generation: ctx.generation ?? 0n,
    }), false);
  }

  async recordGeneration(vm: ObservedVM, generation: bigint, ctx: OperationContext): Promise<ObservedVM> {
    const rec = await this.recordOf(vm);
    return this.run('recordGeneration', rec.value.uid, ctx, () => this.change(vm.id, (r) => {
      const next = maxGeneration(r.generation, generation);
      return next === r.generation ? undefined : { ...r, generation: next };
    }, rec));
  }

  async close(): Promise<void> {
    await this.nc.close();
  }

  // --- inspection and seeding, for tests and benchmarks ---

  vms(): Promise<MockVm[]> {
    return this.store.listVms();
  }

  overlaps(): Promise<Overlap[]> {
    return this.store.listOverlaps();
  }

  /** VMs really created (a create that found the VM again does not count). */
  creates(): Promise<number> {
    return this.store.counter('stats.creates');
  }

  /** A VM that exists on the hypervisor without a uid, as one to adopt. */
  async seedUnmanaged(vm: Partial<MockVm> = {}): Promise<MockVm> {
    const id = vm.id ?? `vm-${randomUUID().slice(0, 8)}`;
    const rec: MockVm = { id, uid: '', name: id, generation: '0', power: 'on', cpus: 2, memoryMib: 2 * GIB, ips: [ipFor(id)], snapshots: [], adopted: false, createdUnixMs: Date.now(), ...vm };
    if (!(await this.store.putNew(rec))) throw new Error(`a VM with id ${id} already exists`);
    return rec;
  }
}
