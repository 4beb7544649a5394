/**
 * OVA/OVF import for VMImage: download (checksum verified), OvfManager.CreateImportSpec,
 * ResourcePool.ImportVApp, then upload every disk to the HttpNfcLease's device URLs with progress,
 * and complete the lease (abort it on any failure, so vCenter removes the half-made VM).
 * The lease's state is followed on the inventory's property collector, not polled.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import type { OperationContext } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import type { ImageDeps } from './images.ts';
import { decodeMoRef, ref, type MoRef } from './soap/client.ts';
import { faultFromTaskError } from './soap/faults.ts';
import { child, children, textOf, toRequestValue, type XmlNode } from './soap/xml.ts';
import type { ResolvedPlacement } from './vim/placement.ts';
import { bool, int, retrieveOne } from './vim/property.ts';

export interface OvfImport {
  url: string;
  format: 'ova' | 'ovf';
  checksum: string;
  checksumType: string;
  /** The imported VM's (later template's) name. */
  name: string;
  place: ResolvedPlacement;
  datastore: MoRef;
}

/** One file of the package: where its bytes are (a local file, a range of it). */
interface PackageFile {
  path: string;
  offset: number;
  size: number;
}

// --- tar (OVA) ---

/** The regular files of a ustar archive (OVA), by name; PAX/GNU long names are honoured. */
export async function readTarIndex(file: string): Promise<Map<string, PackageFile>> {
  const out = new Map<string, PackageFile>();
  const fh = await open(file, 'r');
  try {
    const { size: total } = await fh.stat();
    const header = Buffer.alloc(512);
    let pos = 0;
    let longName: string | undefined;
    while (pos + 512 <= total) {
      await fh.read(header, 0, 512, pos);
      if (header.every((b) => b === 0)) break;
      const field = (start: number, len: number) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
      const size = parseInt(field(124, 12).trim() || '0', 8);
      if (!Number.isFinite(size) || size < 0) throw new PermanentError(`the OVA is not a tar archive (bad size at offset ${pos})`, { reason: 'InvalidImage' });
      const type = String.fromCharCode(header[156]!);
      const prefix = field(345, 155);
      let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      longName = undefined;
      const dataAt = pos + 512;
      if (type === 'L' || type === 'x') {
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataAt);
        if (type === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '');
        else longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      } else if (type === '0' || type === '\0') {
        name = name.replace(/^\.\//, '');
        out.set(name, { path: file, offset: dataAt, size });
      }
      pos = dataAt + Math.ceil(size / 512) * 512;
    }
  } finally {
    await fh.close();
  }
  return out;
}

// --- download ---

const HASHES: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };

async function download(url: string, dest: string, checksum: string, checksumType: string, ctx: OperationContext): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { signal: ctx.signal });
  } catch (err) {
    throw new TransientError(`downloading the image ${url} failed: ${(err as Error).message}`, { reason: 'ImageDownloadFailed', cause: err });
  }
  if (!res.ok || !res.body) {
    const e = `downloading the image ${url} failed with HTTP ${res.status}`;
    throw res.status >= 500 ? new TransientError(e, { reason: 'ImageDownloadFailed' }) : new PermanentError(e, { reason: 'ImageNotFound' });
  }
  const algo = checksum ? (checksumType || HASHES[checksum.length]) : undefined;
  const hash = algo ? createHash(algo) : undefined;
  const total = Number(res.headers.get('content-length') ?? 0);
  let got = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash?.update(chunk);
      got += chunk.length;
      if (total) ctx.progress(Math.min(30, Math.floor((got / total) * 30)), `downloading image ${Math.floor((got / total) * 100)}%`);
      cb(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as never), meter, createWriteStream(dest));
  if (hash) {
    const digest = hash.digest('hex');
    if (digest.toLowerCase() !== checksum.toLowerCase()) {
      throw new PermanentError(`the image ${url} has ${algo} ${digest}, expected ${checksum}`, { reason: 'ImageChecksumMismatch' });
    }
  }
}

// --- the lease ---

interface LeaseState {
  state: string;
  error: XmlNode | undefined;
  info: XmlNode | undefined;
}

async function waitLeaseReady(deps: ImageDeps, lease: MoRef, ctx: OperationContext): Promise<XmlNode> {
  const read = async (): Promise<LeaseState> => {
    const p = await retrieveOne(deps.client, lease, ['state', 'error', 'info'], { signal: ctx.signal });
    return { state: textOf(p.get('state')) ?? '', error: p.get('error'), info: p.get('info') };
  };
  const verdict = (s: LeaseState): XmlNode | undefined => {
    if (s.state === 'ready') return s.info;
    if (s.state === 'error') throw s.error ? faultFromTaskError(s.error, 'ImportVApp') : new PermanentError('the import lease failed without a reason', { reason: 'ImageImportFailed' });
    if (s.state === 'done') throw new PermanentError('the import lease ended before the upload', { reason: 'ImageImportFailed' });
    return undefined;
  };
  const first = verdict(await read());
  if (first) return first;
  return new Promise<XmlNode>((resolve, reject) => {
    let stop: (() => Promise<void>) | undefined;
    let settled = false;
    const end = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop?.();
      fn();
    };
    const timer = setTimeout(() => end(() => reject(new TransientError('the import lease did not become ready within 10 minutes', { reason: 'ImageImportTimeout' }))), 600_000);
    const check = (s: LeaseState) => {
      try {
        const info = verdict(s);
        if (info) end(() => resolve(info));
      } catch (err) {
        end(() => reject(err));
      }
    };
    const current: LeaseState = { state: '', error: undefined, info: undefined };
    deps.inventory.watchObject(lease, ['state', 'error', 'info'], {
      onChange: (_k, changes) => {
        for (const c of changes) (current as unknown as Record<string, unknown>)[c.name] = c.name === 'state' ? textOf(c.val) : c.val;
        check({ ...current });
      },
      onLost: () => end(() => reject(new TransientError('the vSphere session was renewed during the import', { reason: 'SessionRenewed' }))),
    }).then(async (s) => {
      stop = s;
      if (settled) return void s();
      check(await read());
    }, (err) => end(() => reject(err)));
  });
}

/** Imports the package as a VM; returns the VM. */
export async function importOvf(deps: ImageDeps, req: OvfImport, ctx: OperationContext): Promise<MoRef> {
  const dir = await mkdtemp(join(tmpdir(), 'virtrigaud-ovf-'));
  try {
    // 1. The package's files.
    const files = new Map<string, PackageFile>();
    let descriptor: string;
    if (req.format === 'ova') {
      const ova = join(dir, 'image.ova');
      await download(req.url, ova, req.checksum, req.checksumType, ctx);
      for (const [name, f] of await readTarIndex(ova)) files.set(name, f);
      const ovfName = [...files.keys()].find((n) => n.toLowerCase().endsWith('.ovf'));
      if (!ovfName) throw new PermanentError(`the OVA ${req.url} holds no .ovf descriptor`, { reason: 'InvalidImage' });
      const f = files.get(ovfName)!;
      const buf = Buffer.alloc(f.size);
      const fh = await open(f.path, 'r');
      try {
        await fh.read(buf, 0, f.size, f.offset);
      } finally {
        await fh.close();
      }
      descriptor = buf.toString('utf8');
    } else {
      const path = join(dir, 'descriptor.ovf');
      await download(req.url, path, req.checksum, req.checksumType, ctx);
      descriptor = await readFile(path, 'utf8');
    }

    // 2. The import spec.
    const sc = deps.client.serviceContent;
    if (!sc.ovfManager) throw new PermanentError('this vCenter has no OvfManager', { reason: 'NotSupported' });
    const [result] = await deps.client.call('CreateImportSpec', {
      _this: ref(sc.ovfManager),
      ovfDescriptor: descriptor,
      resourcePool: ref(req.place.pool),
      datastore: ref(req.datastore),
      cisp: { entityName: req.name, diskProvisioning: 'thin' },
    }, { signal: ctx.signal });
    const errors = children(result, 'error').map((e) => textOf(child(e, 'localizedMessage')) ?? 'unknown');
    if (errors.length) throw new PermanentError(`vCenter cannot import ${req.url}: ${errors.join('; ')}`, { reason: 'InvalidImage' });
    const importSpec = child(result, 'importSpec');
    const fileItems = children(result, 'fileItem').map((f) => ({
      deviceId: textOf(child(f, 'deviceId')) ?? '',
      path: textOf(child(f, 'path')) ?? '',
      size: int(child(f, 'size')) ?? 0,
      create: bool(child(f, 'create')) ?? false,
    }));

    // Files of an OVF package sit next to its descriptor.
    if (req.format === 'ovf') {
      for (const item of fileItems) {
        const local = join(dir, `file-${files.size}`);
        await download(new URL(item.path, req.url).href, local, '', '', ctx);
        files.set(item.path, { path: local, offset: 0, size: (await stat(local)).size });
      }
    }

    // 3. The VM and its lease.
    const [leaseNode] = await deps.client.call('ImportVApp', {
      _this: ref(req.place.pool),
      spec: toRequestValue(importSpec),
      folder: ref(req.place.folder),
      host: req.place.host && ref(req.place.host),
    }, { signal: ctx.signal });
    const lease = decodeMoRef(leaseNode, 'ImportVApp');
    try {
      const info = await waitLeaseReady(deps, lease, ctx);
      const entity = decodeMoRef(child(info, 'entity'), 'HttpNfcLeaseInfo.entity');
      const urls = children(info, 'deviceUrl');
      const totalBytes = fileItems.reduce((n, f) => n + (files.get(f.path)?.size ?? f.size), 0) || 1;
      let sent = 0;
      for (const item of fileItems) {
        const target = urls.find((u) => textOf(child(u, 'importKey')) === item.deviceId);
        const file = files.get(item.path);
        if (!target || !file) throw new PermanentError(`the OVF names disk ${item.path}, which ${file ? 'the lease has no URL for' : 'the package does not hold'}`, { reason: 'InvalidImage' });
        await upload(deps, target, file, item.create, ctx);
        sent += file.size;
        const percent = Math.floor((sent / totalBytes) * 100);
        ctx.progress(30 + Math.floor(percent * 0.7), `uploading image disks ${percent}%`);
        await deps.client.call('HttpNfcLeaseProgress', { _this: ref(lease), percent }, { signal: ctx.signal });
      }
      await deps.client.call('HttpNfcLeaseComplete', { _this: ref(lease) }, { signal: ctx.signal });
      return entity;
    } catch (err) {
      await deps.client.call('HttpNfcLeaseAbort', { _this: ref(lease) }).catch(() => undefined);
      throw err;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function upload(deps: ImageDeps, deviceUrl: XmlNode, file: PackageFile, create: boolean, ctx: OperationContext): Promise<void> {
  const raw = textOf(child(deviceUrl, 'url')) ?? '';
  // `*` stands for the host the client connected to.
  const url = new URL(raw.replace('://*', `://${deps.transport.baseUrl.host}`));
  const thumb = textOf(child(deviceUrl, 'sslThumbprint'));
  const sameHost = url.host === deps.transport.baseUrl.host;
  const tls = sameHost || !thumb ? deps.tls : { thumbprint: thumb };
  const res = await deps.transport.sendTo(url.origin, tls, {
    path: url.pathname + url.search,
    method: create ? 'PUT' : 'POST',
    headers: { 'content-type': 'application/x-vnd.vmware-streamVmdk', 'content-length': String(file.size) },
    body: createReadStream(file.path, { start: file.offset, end: file.offset + file.size - 1 }),
    signal: ctx.signal,
    timeoutMs: 3_600_000,
  });
  if (res.status >= 300) {
    throw new TransientError(`uploading an image disk to ${url.origin} failed with HTTP ${res.status}`, { reason: 'ImageUploadFailed' });
  }
}
