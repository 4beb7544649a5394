/**
 * The mock hypervisor's state, kept in a NATS KV bucket (VR_MOCK_HV_<ns>_<provider>) so every agent
 * replica — in this process or another — sees one hypervisor. Writes are compare-and-set on the
 * key's revision, so concurrent writers never overwrite each other or create two VMs for one uid.
 *
 * Keys:
 *   vm.<id>             one VM (managed or not), the hypervisor's record of it
 *   uid.<uid>           identity: the id of the VM carrying that object uid (created once, CAS)
 *   busy.<uid>          an operation in progress on the VM (only with overlap detection)
 *   overlap.<uid>.<n>   two operations on one VM at once: what the tests assert never happens
 *   stats.creates.<d>   VMs really created (not found again) by driver instance <d>; summed
 */
import { StorageType } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { isRevisionConflict, openBucket } from '../core/kv-util.ts';

export interface MockSnapshot {
  id: string;
  name: string;
  snapshotUid: string;
  hasMemory: boolean;
  createdUnixMs: number;
}

export interface MockVm {
  id: string;
  /** The object uid written on the VM; empty for a VM nobody manages (adoptable). */
  uid: string;
  name: string;
  /** Newest generation applied (a decimal string: bigint in JSON). */
  generation: string;
  power: 'on' | 'off';
  cpus: number;
  memoryMib: number;
  ips: string[];
  snapshots: MockSnapshot[];
  adopted: boolean;
  createdUnixMs: number;
}

export interface BusyMarker {
  actor: string;
  op: string;
  at: number;
  /** After this the marker is a leftover of a crashed actor, not an operation in progress. */
  until: number;
}

export interface Overlap {
  uid: string;
  first: BusyMarker;
  second: BusyMarker;
}

/** A VM record with the KV revision it was read at. */
export interface StoredVm {
  value: MockVm;
  revision: number;
}

export function mockBucketName(provider: { namespace: string; name: string }): string {
  return `VR_MOCK_HV_${provider.namespace}_${provider.name}`;
}

const MAX_CAS_ATTEMPTS = 20;

export class MockStore {
  private constructor(readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string): Promise<MockStore> {
    return new MockStore(await openBucket(nc, bucket, { history: 1, storage: StorageType.File }));
  }

  private async read<T>(key: string): Promise<{ value: T; revision: number } | undefined> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return undefined;
    return { value: e.json<T>(), revision: e.revision };
  }

  /** The VM record by hypervisor id. */
  getById(id: string): Promise<StoredVm | undefined> {
    return this.read<MockVm>(`vm.${id}`);
  }

  /** The id of the VM carrying `uid`, if any. */
  async idOf(uid: string): Promise<string | undefined> {
    return (await this.read<string>(`uid.${uid}`))?.value;
  }

  /** Claims `uid` for VM `id`; returns the id that holds it (ours, or the earlier claimant's). */
  async claim(uid: string, id: string): Promise<string> {
    try {
      await this.kv.create(`uid.${uid}`, JSON.stringify(id));
      return id;
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
      const holder = await this.idOf(uid);
      if (holder === undefined) return this.claim(uid, id); // released meanwhile
      return holder;
    }
  }

  async unclaim(uid: string): Promise<void> {
    await this.kv.delete(`uid.${uid}`);
  }

  async putNew(vm: MockVm): Promise<boolean> {
    try {
      await this.kv.create(`vm.${vm.id}`, JSON.stringify(vm));
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Read-modify-write with compare-and-set; `change` returns undefined to leave the VM alone.
   * `known` (a record just read) saves the first read; a conflict reads again.
   */
  async update(id: string, change: (vm: MockVm) => MockVm | undefined, known?: StoredVm): Promise<MockVm | undefined> {
    for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
      const current = i === 0 && known ? known : await this.getById(id);
      if (!current) return undefined;
      const next = change(structuredClone(current.value));
      if (!next) return current.value;
      try {
        await this.kv.update(`vm.${id}`, JSON.stringify(next), current.revision);
        return next;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw new Error(`vm.${id}: too many concurrent writers`);
  }

  async remove(id: string): Promise<void> {
    await this.kv.delete(`vm.${id}`);
  }

  /**
   * Sets this writer's share of a counter (`<key>.<writer>`): each driver instance counts its own,
   * so concurrent agents never contend on one key; `counter(key)` sums the shares.
   */
  async putShare(key: string, writer: string, value: number): Promise<void> {
    await this.kv.put(`${key}.${writer}`, JSON.stringify(value));
  }

  /** A counter: the key itself plus every writer's share of it. */
  async counter(key: string): Promise<number> {
    const shares = await this.values<number>(key);
    return ((await this.read<number>(key))?.value ?? 0) + shares.reduce((a, b) => a + b, 0);
  }

  /** Marks an operation on `uid` as running; records an overlap if another one still runs. */
  async markBusy(uid: string, marker: BusyMarker): Promise<number | undefined> {
    const key = `busy.${uid}`;
    for (let i = 0; i < 5; i++) {
      try {
        return await this.kv.create(key, JSON.stringify(marker));
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
      const current = await this.read<BusyMarker>(key);
      if (!current) continue;
      if (current.value.until < Date.now()) {
        // A crashed actor's leftover: take it over.
        try {
          return await this.kv.update(key, JSON.stringify(marker), current.revision);
        } catch (err) {
          if (!isRevisionConflict(err)) throw err;
          continue;
        }
      }
      const overlap: Overlap = { uid, first: current.value, second: marker };
      await this.kv.put(`overlap.${uid}.${randomUUID().slice(0, 8)}`, JSON.stringify(overlap));
      return undefined;
    }
    return undefined;
  }

  async clearBusy(uid: string, revision: number): Promise<void> {
    try {
      await this.kv.delete(`busy.${uid}`, { previousSeq: revision });
    } catch {
      // Taken over as stale meanwhile: not ours to clear.
    }
  }

  private async values<T>(prefix: string): Promise<T[]> {
    const out: T[] = [];
    const keys: string[] = [];
    for await (const k of await this.kv.keys(`${prefix}.>`)) keys.push(k);
    for (const k of keys) {
      const v = await this.read<T>(k);
      if (v) out.push(v.value);
    }
    return out;
  }

  listVms(): Promise<MockVm[]> {
    return this.values<MockVm>('vm');
  }

  listOverlaps(): Promise<Overlap[]> {
    return this.values<Overlap>('overlap');
  }
}
