/**
 * Which domain carries which object UID, kept in memory so `find(uid)` costs one lookup instead of
 * a scan of every domain. Built from one ConnectListAllDomains plus one GetMetadata per domain (all
 * in flight at once on the one connection), then kept current by domain events (defined,
 * undefined, metadata changed) and by the driver's own writes. Rebuilt after every reconnect,
 * since events may have been missed while disconnected.
 *
 * The index is a cache, never the authority: a hit is confirmed against the domain's own XML, and
 * a miss is confirmed by a fresh rebuild before anyone is told the VM does not exist.
 */
import type { Logger } from '../core/log.ts';
import type { DomainEvent, LibvirtConnection } from './connection.ts';
import { isLibvirtCode } from './errors.ts';
import { readMetadata, METADATA_NS, type VrMetadata } from './metadata.ts';
import { ErrorCode, LifecycleEventType, METADATA_ELEMENT, P, uuidString, type DomainRef } from './rpc/protocol.ts';

export interface IndexedDomain {
  dom: DomainRef;
  uuid: string;
  meta: VrMetadata | undefined;
}

export class UidIndex {
  private readonly byUuid = new Map<string, IndexedDomain>();
  private readonly byUid = new Map<string, string>();
  private builtForGeneration = -1;
  private building: Promise<void> | undefined;
  /** Domains events touched during a rebuild: re-read after it, so the rebuild cannot undo them. */
  private touchedWhileBuilding: DomainRef[] | undefined;
  private readonly listeners = new Set<(uid: string | undefined, entry: IndexedDomain | undefined, e: DomainEvent) => void>();

  constructor(private readonly conn: LibvirtConnection, private readonly log: Logger) {
    conn.onEvent((e) => this.onEvent(e));
    conn.onConnected(() => {
      // Events were not delivered while disconnected: rebuild on next use.
      this.builtForGeneration = -1;
    });
  }

  /** Called for every domain event with the uid of the domain (as known before and after it). */
  onChange(listener: (uid: string | undefined, entry: IndexedDomain | undefined, e: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The domain the index believes carries `uid` (rebuilding first if stale). */
  async lookup(uid: string): Promise<IndexedDomain | undefined> {
    await this.ensureBuilt();
    const uuid = this.byUid.get(uid);
    return uuid ? this.byUuid.get(uuid) : undefined;
  }

  /** Every domain, with its metadata (rebuilding first if stale). */
  async all(): Promise<IndexedDomain[]> {
    await this.ensureBuilt();
    return [...this.byUuid.values()];
  }

  /** Forces a full rebuild now (a miss to confirm, or a hit that proved wrong). */
  async rebuild(): Promise<void> {
    this.builtForGeneration = -1;
    await this.ensureBuilt();
  }

  /** Records what the driver itself just wrote (define, adopt, release, generation). */
  set(dom: DomainRef, meta: VrMetadata | undefined): void {
    const uuid = uuidString(dom.uuid);
    const old = this.byUuid.get(uuid);
    if (old?.meta && this.byUid.get(old.meta.uid) === uuid) this.byUid.delete(old.meta.uid);
    this.byUuid.set(uuid, { dom, uuid, meta });
    if (meta) this.byUid.set(meta.uid, uuid);
  }

  remove(uuid: string): void {
    const old = this.byUuid.get(uuid);
    if (old?.meta && this.byUid.get(old.meta.uid) === uuid) this.byUid.delete(old.meta.uid);
    this.byUuid.delete(uuid);
  }

  get size(): number {
    return this.byUuid.size;
  }

  private async ensureBuilt(): Promise<void> {
    while (this.builtForGeneration !== this.conn.generation || this.building) {
      if (!this.building) {
        const generation = this.conn.generation;
        this.building = this.build(generation).finally(() => {
          this.building = undefined;
        });
      }
      await this.building;
    }
  }

  private async build(generation: number): Promise<void> {
    this.touchedWhileBuilding = [];
    try {
      const domains = await this.conn.call(P.connectListAllDomains, { flags: 0 });
      const entries = await Promise.all(domains.map((dom) => this.read(dom)));
      // Connection generation may have moved on meanwhile (a reconnect): then this result is stale.
      await this.conn.ready();
      if (this.conn.generation !== generation) return;
      this.byUuid.clear();
      this.byUid.clear();
      for (const entry of entries) if (entry) this.set(entry.dom, entry.meta);
      const touched = this.touchedWhileBuilding;
      this.touchedWhileBuilding = undefined;
      for (const dom of touched) await this.refresh(dom);
      this.builtForGeneration = generation;
    } finally {
      this.touchedWhileBuilding = undefined;
    }
  }

  /** A domain's metadata; undefined when the domain vanished meanwhile. */
  private async read(dom: DomainRef): Promise<IndexedDomain | undefined> {
    const uuid = uuidString(dom.uuid);
    try {
      const xml = await this.conn.call(P.domainGetMetadata, { dom, type: METADATA_ELEMENT, uri: METADATA_NS, flags: 0 });
      return { dom, uuid, meta: readMetadata(xml) };
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoDomainMetadata)) return { dom, uuid, meta: undefined };
      if (isLibvirtCode(err, ErrorCode.NoDomain)) return undefined;
      throw err;
    }
  }

  private async refresh(dom: DomainRef): Promise<void> {
    const entry = await this.read(dom);
    if (entry) this.set(entry.dom, entry.meta);
    else this.remove(uuidString(dom.uuid));
  }

  private onEvent(e: DomainEvent): void {
    const dom = e.event.dom;
    const uuid = uuidString(dom.uuid);
    if (this.touchedWhileBuilding) this.touchedWhileBuilding.push(dom);
    const before = this.byUuid.get(uuid);
    const notify = (entry: IndexedDomain | undefined) => {
      const uid = entry?.meta?.uid ?? before?.meta?.uid;
      for (const l of this.listeners) l(uid, entry, e);
    };
    if (e.kind === 'lifecycle' && e.event.event === LifecycleEventType.Undefined) {
      // A transient domain that stops is also undefined; a persistent one stays.
      this.remove(uuid);
      notify(undefined);
      return;
    }
    if (e.kind === 'metadata' || (e.kind === 'lifecycle' && e.event.event === LifecycleEventType.Defined) || !before) {
      this.refresh(dom).then(() => notify(this.byUuid.get(uuid)), (err) => {
        this.log.debug('index refresh after event failed; rebuilding on next use', { domain: dom.name, err });
        this.builtForGeneration = -1;
      });
      return;
    }
    notify(before);
  }
}
