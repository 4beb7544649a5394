/**
 * How a VM on Proxmox VE is known to be ours.
 *
 * - Tags: `vr-uid-<object uid>` and `vr-gen-<applied generation>`. Tags are listed by
 *   /cluster/resources, so one call finds a VM by uid across the whole cluster. PVE tag charset:
 *   `[a-z0-9_][a-z0-9_+.-]*`, which Kubernetes UIDs (lowercase UUIDs) fit.
 * - Description line `virtrigaud-uid: <uid>`: a clone cannot be given tags, only a description, so
 *   a clone whose tags were not yet written (the agent stopped right after the clone) is still ours.
 * - VMID: PVE writes a new VM's tags only when its create task ends, and a clone's only when we
 *   write them. To find a VM whose create is still running (after an agent restart), each uid has a
 *   fixed sequence of candidate VMIDs in a configurable range; a create takes the first free one.
 *   A create at a taken VMID fails atomically ("VM 123 already exists"), so two creates never share one.
 */
import { createHash } from 'node:crypto';
import { PermanentError } from '../core/errors.ts';

export const UID_TAG = 'vr-uid-';
export const GEN_TAG = 'vr-gen-';
export const DESCRIPTION_UID = 'virtrigaud-uid:';
const PVE_TAG_RE = /^[a-z0-9_][a-z0-9_+.-]*$/i;

export function uidTag(uid: string): string {
  const tag = `${UID_TAG}${uid.toLowerCase()}`;
  if (!PVE_TAG_RE.test(tag)) throw new PermanentError(`object uid ${JSON.stringify(uid)} cannot be written as a Proxmox tag (letters, digits, _ + . - only)`, { reason: 'InvalidSpec' });
  return tag;
}

export interface Identity {
  uid: string | undefined;
  generation: bigint;
}

export function identityOf(tags: readonly string[], description = ''): Identity {
  let uid: string | undefined;
  let generation = 0n;
  for (const t of tags) {
    if (t.startsWith(UID_TAG)) uid = t.slice(UID_TAG.length);
    else if (t.startsWith(GEN_TAG) && /^\d{1,18}$/.test(t.slice(GEN_TAG.length))) {
      const g = BigInt(t.slice(GEN_TAG.length));
      if (g > generation) generation = g;
    }
  }
  if (!uid) uid = uidInDescription(description);
  return { uid, generation };
}

export function uidInDescription(description: string): string | undefined {
  const m = new RegExp(`^${DESCRIPTION_UID}\\s*(\\S+)\\s*$`, 'm').exec(description);
  return m?.[1];
}

/** A description carrying the uid line (replacing an older one), the rest kept. */
export function describeWithUid(description: string, uid: string): string {
  const rest = withoutUidLine(description);
  return `${rest}${rest ? '\n' : ''}${DESCRIPTION_UID} ${uid}\n`;
}

export function withoutUidLine(description: string): string {
  return description.split('\n').filter((l) => !l.startsWith(DESCRIPTION_UID)).join('\n').replace(/\n+$/, '');
}

/** A user tag as PVE accepts it: lowercased, other characters turned into '-'; reserved prefixes dropped. */
export function userTag(tag: string): string | undefined {
  const t = tag.toLowerCase().replace(/[^a-z0-9_+.-]/g, '-').replace(/^[^a-z0-9_]+/, '');
  if (!t || t.startsWith(UID_TAG) || t.startsWith(GEN_TAG)) return undefined;
  return t;
}

/** The tag list to write: our identity first, then the user's tags, then foreign tags kept as they are. */
export function tagsWith(current: readonly string[], uid: string | undefined, generation: bigint | undefined, user?: readonly string[]): string[] {
  const out: string[] = [];
  if (uid) out.push(uidTag(uid));
  if (uid && generation !== undefined && generation > 0n) out.push(`${GEN_TAG}${generation}`);
  const keep = current.filter((t) => !t.startsWith(UID_TAG) && !t.startsWith(GEN_TAG));
  for (const t of [...(user ?? []).map(userTag), ...keep]) if (t && !out.includes(t)) out.push(t);
  return out;
}

/** PVE's tag list syntax. */
export function joinTags(tags: readonly string[]): string {
  return tags.join(';');
}

export interface VmidRange {
  min: number;
  max: number;
}

export const DEFAULT_VMID_RANGE: VmidRange = { min: 100_000, max: 999_999 };
/** How many candidate VMIDs a uid has; with a sparse range the first is almost always free. */
export const VMID_CANDIDATES = 32;

/** The uid's candidate VMIDs, in order: stable for a uid, spread over the range. */
export function candidateVmids(uid: string, range: VmidRange = DEFAULT_VMID_RANGE, count = VMID_CANDIDATES): number[] {
  const span = range.max - range.min + 1;
  const out: number[] = [];
  for (let k = 0; out.length < Math.min(count, span) && k < count * 4; k++) {
    const h = createHash('sha256').update(`${uid}:${k}`).digest();
    const v = range.min + (h.readUIntBE(0, 6) % span);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * A snapshot's PVE name (pve-configid: a letter, then letters, digits, _ or -, at most 40): derived
 * from the VMSnapshot's uid, so a retried create finds it; else from its name.
 */
export function snapshotName(snapshotUid: string, name: string): string {
  if (snapshotUid) return `vr${snapshotUid.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 40);
  const n = name.toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z]+/, '').slice(0, 40);
  if (n.length >= 2) return n;
  throw new PermanentError(`snapshot name ${JSON.stringify(name)} has no letters to make a Proxmox snapshot name from`, { reason: 'InvalidSpec' });
}

const SNAP_UID = 'virtrigaud-snapshot-uid:';
const SNAP_NAME = 'virtrigaud-snapshot-name:';

/** The snapshot's description: the user's text, then our lines (uid and the name the user gave). */
export function snapshotDescription(description: string, snapshotUid: string, name: string): string {
  const lines = [description.trim()].filter(Boolean);
  if (snapshotUid) lines.push(`${SNAP_UID} ${snapshotUid}`);
  if (name) lines.push(`${SNAP_NAME} ${name}`);
  return lines.join('\n');
}

export function snapshotIdentity(description: string): { snapshotUid: string; name: string | undefined } {
  const uid = new RegExp(`^${SNAP_UID}\\s*(\\S+)`, 'm').exec(description)?.[1] ?? '';
  const name = new RegExp(`^${SNAP_NAME}\\s*(.+)$`, 'm').exec(description)?.[1]?.trim();
  return { snapshotUid: uid, name };
}
