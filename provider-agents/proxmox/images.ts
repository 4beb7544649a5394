/**
 * Disk images from a URL, kept in a node's storage: PVE downloads them itself
 * (POST /nodes/{node}/storage/{storage}/download-url), as `iso` content for installer ISOs and as
 * `import` content for disk images (qcow2, raw, vmdk), which a new VM's disk imports with
 * `import-from=<volid>`. The file name is derived from the URL (with a hash of it), so every VM
 * using one image shares one download, and a retried create finds the file instead of fetching again.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DiskImageUrl } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { OperationContext } from '../core/driver.ts';
import { PermanentError, TransientError } from '../core/errors.ts';
import type { PveClient } from './client.ts';
import { PveApiError } from './errors.ts';
import { parseStorageContent, parseUpid } from './parse.ts';
import { waitForTask, type TaskWaitOptions } from './tasks.ts';

const DISK_FORMATS = new Set(['qcow2', 'raw', 'vmdk']);
const CHECKSUMS = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

export interface ImageFile {
  content: 'iso' | 'import';
  filename: string;
}

/** The storage file an image URL becomes: `<stem>-<hash of URL>.<format>`. */
export function imageFile(spec: DiskImageUrl): ImageFile {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new PermanentError(`image URL ${JSON.stringify(spec.url)} is not a URL`, { reason: 'InvalidImage' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError(`image URL ${spec.url} must be http(s): Proxmox VE downloads only those`, { reason: 'InvalidImage' });
  }
  const base = decodeURIComponent(url.pathname.split('/').pop() ?? '') || 'image';
  const ext = /\.([a-z0-9]+)$/i.exec(base)?.[1]?.toLowerCase();
  const format = (spec.format || (ext === 'img' ? 'raw' : ext) || 'qcow2').toLowerCase();
  const stem = base.replace(/\.[a-z0-9]+$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80) || 'image';
  const hash = createHash('sha256').update(spec.url).digest('hex').slice(0, 10);
  if (format === 'iso') return { content: 'iso', filename: `${stem}-${hash}.iso` };
  if (!DISK_FORMATS.has(format)) {
    throw new PermanentError(`image format ${format} cannot be imported by Proxmox VE (qcow2, raw, vmdk or iso)`, { reason: 'InvalidImage' });
  }
  return { content: 'import', filename: `${stem}-${hash}.${format}` };
}

export function volumeId(storage: string, file: ImageFile): string {
  return `${storage}:${file.content}/${file.filename}`;
}

async function present(client: PveClient, node: string, storage: string, file: ImageFile, signal: AbortSignal): Promise<boolean> {
  const path = `/nodes/${node}/storage/${storage}/content`;
  const volumes = parseStorageContent(await client.get(path, { content: file.content }, signal), `GET ${path}`);
  return volumes.some((v) => v.volid === volumeId(storage, file));
}

/** Makes sure the image is in the storage; returns its volume id. */
export async function ensureImage(
  client: PveClient, node: string, storage: string, spec: DiskImageUrl, ctx: OperationContext, taskWait: TaskWaitOptions,
): Promise<string> {
  const file = imageFile(spec);
  const volid = volumeId(storage, file);
  if (await present(client, node, storage, file, ctx.signal)) return volid;
  const algorithm = spec.checksumType.toLowerCase();
  if (spec.checksum && !CHECKSUMS.has(algorithm)) {
    throw new PermanentError(`image checksum type ${JSON.stringify(spec.checksumType)} is not one Proxmox VE verifies (${[...CHECKSUMS].join(', ')})`, { reason: 'InvalidImage' });
  }
  const path = `/nodes/${node}/storage/${storage}/download-url`;
  let upid: string | undefined;
  try {
    upid = parseUpid(await client.post(path, {
      url: spec.url,
      content: file.content,
      filename: file.filename,
      ...(spec.checksum ? { checksum: spec.checksum, 'checksum-algorithm': algorithm } : {}),
    }, ctx.signal), `POST ${path}`);
  } catch (err) {
    // Another VM's create is fetching the same image: wait for its file.
    if (!(err instanceof PveApiError && /refusing to override existing file/i.test(err.pveMessage))) throw err;
  }
  ctx.progress(0, `downloading image ${spec.url} to ${volid}`);
  if (upid) {
    await waitForTask(client, upid, `download of ${spec.url} to ${volid}`, ctx, taskWait);
    return volid;
  }
  for (let waited = 0; waited < 30 * 60_000; waited += 1000) {
    if (await present(client, node, storage, file, ctx.signal)) return volid;
    await sleep(1000, undefined, { signal: ctx.signal });
  }
  throw new TransientError(`image ${volid} is still being downloaded by another task`, { reason: 'ImageDownloading' });
}
