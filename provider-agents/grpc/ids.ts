/**
 * Identity over the provider.v1 service. Its CreateRequest carries a name but no object uid, while
 * our drivers find VMs only by the uid written on them. We derive the uid from the name — a
 * name-based UUID (version 5 layout over SHA-1 of a fixed namespace and the name) — so a Create
 * retried by the caller yields the same uid, and the driver's identity rule returns the same VM
 * instead of making a second one. A caller that knows the object's real uid passes it as the tag
 * `virtrigaud.io/uid=<uid>`.
 *
 * The `id` we hand back (and take in every later call) is that uid, not the hypervisor's own id:
 * the VM is always found by what is written on it, never by an id kept only on the caller's side.
 */
import { createHash } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';

const NAMESPACE = 'virtrigaud.io/provider.v1/';
export const UID_TAG = 'virtrigaud.io/uid=';
const UID = /^[A-Za-z0-9_-]{1,128}$/;

export function uidFromName(name: string): string {
  const h = createHash('sha1').update(NAMESPACE + name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The uid of a Create: from the tag when given, else derived from the name. */
export function uidForCreate(name: string, tags: readonly string[]): string {
  const tagged = tags.find((t) => t.startsWith(UID_TAG));
  if (tagged) return checkId('tags', tagged.slice(UID_TAG.length));
  if (!name.trim()) throw new ConnectError('name: expected the VM name, got ""', Code.InvalidArgument);
  return uidFromName(name);
}

/** Checks an id from a request (the uid Create returned). */
export function checkId(path: string, id: string): string {
  if (!UID.test(id)) throw new ConnectError(`${path}: expected the id Create returned, got ${JSON.stringify(id)}`, Code.InvalidArgument);
  return id;
}
