/**
 * Storage pools and volumes: lookups that tell "absent" from "could not ask", idempotent create
 * and delete, upload through a write stream, and the volume XML for plain, preallocated and
 * backing-file (linked) volumes.
 */
import { PermanentError } from '../core/errors.ts';
import type { LibvirtConnection } from './connection.ts';
import { isLibvirtCode } from './errors.ts';
import { ErrorCode, P, type PoolRef, type VolRef } from './rpc/protocol.ts';
import { el, path as xmlPath, parseXml, toXml } from './xml.ts';

export interface VolumeSpec {
  name: string;
  capacityBytes: bigint;
  format: 'qcow2' | 'raw';
  /** Preallocate (thick): allocation equals capacity. */
  preallocate?: boolean;
  /** Copy-on-write on top of this file (qcow2 only). */
  backing?: { path: string; format: string };
}

export function volumeXml(v: VolumeSpec): string {
  return toXml(el('volume', {}, [
    el('name', {}, v.name),
    el('capacity', { unit: 'bytes' }, v.capacityBytes.toString()),
    el('allocation', { unit: 'bytes' }, v.preallocate ? v.capacityBytes.toString() : '0'),
    el('target', {}, [el('format', { type: v.format })]),
    v.backing ? el('backingStore', {}, [el('path', {}, v.backing.path), el('format', { type: v.backing.format })]) : undefined,
  ]));
}

export interface VolumeFacts {
  path: string;
  capacityBytes: bigint;
  format: string | undefined;
  backingPath: string | undefined;
}

export class Storage {
  private readonly pools = new Map<string, PoolRef>();

  constructor(private readonly conn: LibvirtConnection) {
    // Pool references are only good for the connection they came from (the test driver makes new ones per connection).
    conn.onConnected(() => this.pools.clear());
  }

  /** The pool; a PermanentError naming it when libvirt has no such pool. */
  async pool(name: string): Promise<PoolRef> {
    const known = this.pools.get(name);
    if (known) return known;
    try {
      const pool = await this.conn.call(P.storagePoolLookupByName, { name });
      this.pools.set(name, pool);
      return pool;
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoStoragePool)) {
        throw new PermanentError(`storage pool "${name}" does not exist on ${this.conn.uri.display}; create it (virsh pool-define-as) or choose another pool`, { reason: 'StoragePoolNotFound', cause: err });
      }
      throw err;
    }
  }

  /** The volume, or undefined when the pool positively has none of that name. */
  async volume(poolName: string, name: string): Promise<VolRef | undefined> {
    const pool = await this.pool(poolName);
    try {
      return await this.conn.call(P.storageVolLookupByName, { pool, name });
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoStorageVol)) return undefined;
      throw err;
    }
  }

  /** The volume at a host path, or undefined when no pool has it. */
  async volumeAt(path: string): Promise<VolRef | undefined> {
    try {
      return await this.conn.call(P.storageVolLookupByPath, { path });
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoStorageVol)) return undefined;
      throw err;
    }
  }

  /** Creates the volume, or returns the one already there under that name (a retried create). */
  async create(poolName: string, spec: VolumeSpec): Promise<{ vol: VolRef; created: boolean }> {
    const existing = await this.volume(poolName, spec.name);
    if (existing) return { vol: existing, created: false };
    const pool = await this.pool(poolName);
    try {
      return { vol: await this.conn.call(P.storageVolCreateXml, { pool, xml: volumeXml(spec), flags: 0 }), created: true };
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.StorageVolExist)) {
        const vol = await this.volume(poolName, spec.name);
        if (vol) return { vol, created: false };
      }
      throw err;
    }
  }

  /** A full copy of `source` as a new volume (idempotent by name). */
  async copy(poolName: string, spec: VolumeSpec, source: VolRef): Promise<VolRef> {
    const existing = await this.volume(poolName, spec.name);
    if (existing) return existing;
    const pool = await this.pool(poolName);
    return this.conn.call(P.storageVolCreateXmlFrom, { pool, xml: volumeXml(spec), clone: source, flags: 0 });
  }

  /** Deletes the volume; done when it is already gone. */
  async remove(poolName: string, name: string): Promise<boolean> {
    const vol = await this.volume(poolName, name);
    if (!vol) return false;
    try {
      await this.conn.call(P.storageVolDelete, { vol, flags: 0 });
      return true;
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoStorageVol)) return false;
      throw err;
    }
  }

  async path(vol: VolRef): Promise<string> {
    return this.conn.call(P.storageVolGetPath, { vol });
  }

  async facts(vol: VolRef): Promise<VolumeFacts> {
    const xml = parseXml(await this.conn.call(P.storageVolGetXmlDesc, { vol, flags: 0 }), `volume ${vol.name} XML`);
    const cap = xmlPath(xml, 'capacity');
    const unit = cap?.attrs.unit ?? 'bytes';
    const value = BigInt(cap?.text && /^\d+$/.test(cap.text) ? cap.text : '0');
    return {
      path: xmlPath(xml, 'target/path')?.text ?? vol.key,
      capacityBytes: unit === 'bytes' || unit === 'B' ? value : value * (unit.startsWith('K') ? 1024n : unit.startsWith('M') ? 1024n ** 2n : unit.startsWith('G') ? 1024n ** 3n : 1n),
      format: xmlPath(xml, 'target/format')?.attrs.type,
      backingPath: xmlPath(xml, 'backingStore/path')?.text,
    };
  }

  async listNames(poolName: string): Promise<VolRef[]> {
    const pool = await this.pool(poolName);
    return this.conn.call(P.storagePoolListAllVolumes, { pool, flags: 0 });
  }

  async resize(vol: VolRef, capacityBytes: bigint): Promise<void> {
    await this.conn.call(P.storageVolResize, { vol, capacity: capacityBytes, flags: 0 });
  }

  async upload(vol: VolRef, length: number, data: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    await this.conn.upload(P.storageVolUpload, { vol, offset: 0n, length: BigInt(length), flags: 0 }, data, { signal });
  }
}
