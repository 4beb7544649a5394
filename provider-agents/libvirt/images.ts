/**
 * VM images from a URL, downloaded once into a storage pool volume and shared by every VM made
 * from them (as backing file of each VM's own overlay, or copied).
 *
 *   vr-image-<hash of url+checksum>.<format>        the image
 *   vr-image-<hash of url+checksum>.<format>.ready   written only after the upload finished: an image
 *                                                   volume without it is a partial upload and is redone
 *
 * The download goes to a scratch file while its digest is computed; a checksum mismatch discards
 * it. Concurrent requests for one image in this agent share one download.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DiskImageUrl } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { VolRef } from './rpc/protocol.ts';
import type { Storage } from './storage.ts';

export interface ImageVolume {
  pool: string;
  vol: VolRef;
  path: string;
  format: 'qcow2' | 'raw';
  sizeBytes: bigint;
}

const ALGORITHMS: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha512: 'sha512' };

export function imageVolumeName(spec: DiskImageUrl, format: string): string {
  const h = createHash('sha256').update(`${spec.url}\n${spec.checksum.toLowerCase()}`).digest('hex').slice(0, 16);
  return `vr-image-${h}.${format}`;
}

export function imageFormat(spec: DiskImageUrl): 'qcow2' | 'raw' {
  const f = (spec.format || (/\.qcow2?(\?|$)/i.test(spec.url) ? 'qcow2' : /\.(raw|img)(\?|$)/i.test(spec.url) ? 'raw' : 'qcow2')).toLowerCase();
  if (f === 'qcow2' || f === 'raw') return f;
  throw new PermanentError(`image format "${spec.format}" cannot be used by the libvirt provider (qcow2 or raw); convert the image or choose another`, { reason: 'UnsupportedImageFormat' });
}

export class ImageCache {
  private readonly inFlight = new Map<string, Promise<ImageVolume>>();

  constructor(
    private readonly storage: Storage,
    private readonly opts: { defaultPool: string; downloadDir: string; log: Logger },
  ) {}

  /** The image's volume, downloading and uploading it first when the pool lacks it. */
  ensure(spec: DiskImageUrl, signal: AbortSignal, progress: (percent: number, what: string) => void): Promise<ImageVolume> {
    const format = imageFormat(spec);
    const pool = spec.storage || this.opts.defaultPool;
    const name = imageVolumeName(spec, format);
    const key = `${pool}/${name}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.ensureUncached(spec, pool, name, format, signal, progress).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async ensureUncached(spec: DiskImageUrl, pool: string, name: string, format: 'qcow2' | 'raw', signal: AbortSignal, progress: (percent: number, what: string) => void): Promise<ImageVolume> {
    const existing = await this.storage.volume(pool, name);
    const ready = await this.storage.volume(pool, `${name}.ready`);
    if (existing && ready) {
      const facts = await this.storage.facts(existing);
      return { pool, vol: existing, path: facts.path, format, sizeBytes: facts.capacityBytes };
    }
    if (existing) {
      this.opts.log.warn('image volume without its ready marker: a partial upload; uploading again', { pool, volume: name });
      await this.storage.remove(pool, name);
    }
    const dir = await mkdtemp(join(this.opts.downloadDir, 'vr-image-'));
    try {
      const file = join(dir, 'image');
      await this.download(spec, file, format, signal, progress);
      const size = (await stat(file)).size;
      const { vol } = await this.storage.create(pool, { name, capacityBytes: BigInt(size), format: 'raw' });
      progress(60, `uploading image ${spec.url} into pool ${pool}`);
      await this.storage.upload(vol, size, createReadStream(file, { highWaterMark: 1024 * 1024 }), signal);
      await this.storage.create(pool, { name: `${name}.ready`, capacityBytes: 0n, format: 'raw' });
      const path = await this.storage.path(vol);
      this.opts.log.info('image stored', { url: spec.url, pool, volume: name, bytes: size });
      return { pool, vol, path, format, sizeBytes: BigInt(size) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async download(spec: DiskImageUrl, file: string, format: string, signal: AbortSignal, progress: (percent: number, what: string) => void): Promise<void> {
    const algorithm = spec.checksum ? ALGORITHMS[(spec.checksumType || 'sha256').toLowerCase()] : undefined;
    if (spec.checksum && !algorithm) {
      throw new PermanentError(`image checksum type "${spec.checksumType}" is not one of md5, sha1, sha256, sha512`, { reason: 'InvalidSpec' });
    }
    let res: Response;
    try {
      res = await fetch(spec.url, { signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      throw new TransientError(`downloading image ${spec.url} failed: ${(err as Error).message}`, { reason: 'ImageDownloadFailed', cause: err });
    }
    if (res.status === 404 || res.status === 410) {
      throw new PermanentError(`image ${spec.url} does not exist (HTTP ${res.status})`, { reason: 'ImageNotFound' });
    }
    if (!res.ok || !res.body) throw new TransientError(`downloading image ${spec.url} failed: HTTP ${res.status}`, { reason: 'ImageDownloadFailed' });
    const total = Number(res.headers.get('content-length') ?? '0');
    const hash = algorithm ? createHash(algorithm) : undefined;
    let seen = 0;
    let lastReport = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      hash?.update(chunk);
      seen += chunk.length;
      if (total && seen - lastReport > total / 10) {
        lastReport = seen;
        progress(Math.round((seen / total) * 50), `downloading image ${spec.url}`);
      }
    });
    try {
      await pipeline(body, createWriteStream(file), { signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      throw new TransientError(`downloading image ${spec.url} failed after ${seen} bytes: ${(err as Error).message}`, { reason: 'ImageDownloadFailed', cause: err });
    }
    if (hash) {
      const got = hash.digest('hex');
      if (got !== spec.checksum.toLowerCase()) {
        throw new PermanentError(`image ${spec.url} has ${spec.checksumType || 'sha256'} ${got}, expected ${spec.checksum.toLowerCase()}; the download is discarded`, { reason: 'ImageChecksumMismatch' });
      }
    } else {
      this.opts.log.warn('image has no checksum; stored unverified', { url: spec.url });
    }
    if (format === 'qcow2') {
      const fh = await open(file, 'r');
      try {
        const magic = Buffer.alloc(4);
        await fh.read(magic, 0, 4, 0);
        if (!magic.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) {
          throw new PermanentError(`image ${spec.url} is not a qcow2 file (no QFI header); set the VMImage format`, { reason: 'UnsupportedImageFormat' });
        }
      } finally {
        await fh.close();
      }
    }
  }
}
