/**
 * Domain snapshots. libvirt snapshots carry no custom metadata, so the VMSnapshot's UID travels in
 * the snapshot's description on a line of its own ("virtrigaud-snapshot-uid: …"); a retried create
 * finds it there instead of taking a second snapshot. A snapshot's id is its libvirt name.
 */
import { create } from '@bufbuild/protobuf';
import { SnapshotInfoSchema, type SnapshotCreate, type SnapshotInfo } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';
import type { LibvirtConnection } from './connection.ts';
import { isLibvirtCode } from './errors.ts';
import { ErrorCode, P, type DomainRef, type SnapshotRef } from './rpc/protocol.ts';
import { child, el, parseXml, textOf, toXml } from './xml.ts';

const UID_LINE = 'virtrigaud-snapshot-uid: ';

/** A libvirt snapshot name from the user's: letters, digits, dot, dash, underscore. */
export function snapshotName(req: SnapshotCreate): string {
  const base = req.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 100);
  if (base) return base;
  return `snap-${(req.snapshotUid || Date.now().toString(36)).slice(0, 8)}`;
}

export function snapshotXml(req: SnapshotCreate, name: string, running: boolean): string {
  const description = [req.description, req.snapshotUid ? `${UID_LINE}${req.snapshotUid}` : ''].filter(Boolean).join('\n');
  return toXml(el('domainsnapshot', {}, [
    el('name', {}, name),
    description ? el('description', {}, description) : undefined,
    // A shut-off domain has no memory to keep; a running one keeps it when asked (QEMU saves it in the qcow2).
    running && req.includeMemory ? el('memory', { snapshot: 'internal' }) : undefined,
    !running ? el('memory', { snapshot: 'no' }) : undefined,
  ]));
}

export function readSnapshotXml(xml: string): SnapshotInfo {
  const root = parseXml(xml, 'snapshot XML');
  const name = textOf(child(root, 'name')) ?? '';
  const description = textOf(child(root, 'description')) ?? '';
  const uidLine = description.split('\n').find((l) => l.startsWith(UID_LINE));
  const memory = child(root, 'memory')?.attrs.snapshot;
  const state = textOf(child(root, 'state')) ?? '';
  const created = Number(textOf(child(root, 'creationTime')) ?? '0');
  return create(SnapshotInfoSchema, {
    id: name,
    name,
    hasMemory: memory ? memory !== 'no' : state === 'running' || state === 'paused',
    createdUnixMs: BigInt(Number.isFinite(created) ? created * 1000 : 0),
    snapshotUid: uidLine ? uidLine.slice(UID_LINE.length).trim() : '',
  });
}

export async function listSnapshots(conn: LibvirtConnection, dom: DomainRef): Promise<SnapshotInfo[]> {
  const snaps = await conn.call(P.domainListAllSnapshots, { dom, flags: 0 });
  const infos = await Promise.all(snaps.map(async (snap) => {
    try {
      return readSnapshotXml(await conn.call(P.domainSnapshotGetXmlDesc, { snap, flags: 0 }));
    } catch (err) {
      if (isLibvirtCode(err, ErrorCode.NoDomainSnapshot)) return undefined; // deleted meanwhile
      throw err;
    }
  }));
  return infos.filter((s): s is SnapshotInfo => !!s).sort((a, b) => Number(a.createdUnixMs - b.createdUnixMs) || a.name.localeCompare(b.name));
}

export async function lookupSnapshot(conn: LibvirtConnection, dom: DomainRef, id: string): Promise<SnapshotRef | undefined> {
  try {
    return await conn.call(P.domainSnapshotLookupByName, { dom, name: id, flags: 0 });
  } catch (err) {
    if (isLibvirtCode(err, ErrorCode.NoDomainSnapshot)) return undefined;
    throw err;
  }
}

export async function createSnapshot(conn: LibvirtConnection, dom: DomainRef, req: SnapshotCreate, running: boolean): Promise<SnapshotInfo> {
  if (req.snapshotUid) {
    const existing = (await listSnapshots(conn, dom)).find((s) => s.snapshotUid === req.snapshotUid);
    if (existing) return existing;
  }
  const name = snapshotName(req);
  if (await lookupSnapshot(conn, dom, name)) {
    throw new PermanentError(`VM ${dom.name} already has a snapshot named "${name}" that belongs to another VMSnapshot; choose another name`, { reason: 'SnapshotNameTaken' });
  }
  const snap = await conn.call(P.domainSnapshotCreateXml, { dom, xml: snapshotXml(req, name, running), flags: 0 });
  return readSnapshotXml(await conn.call(P.domainSnapshotGetXmlDesc, { snap, flags: 0 }));
}
