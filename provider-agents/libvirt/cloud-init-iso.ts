/**
 * The cloud-init NoCloud seed: an ISO 9660 image labelled `cidata` holding `user-data`,
 * `meta-data` and, when given, `network-config`, built in memory (no genisoimage on the hypervisor
 * or in the agent image). It carries a Joliet directory so Linux sees the exact lowercase names,
 * and a plain ISO 9660 directory (upper-case 8.3-style names) for readers without Joliet.
 *
 * Layout, in 2048-byte sectors: 0–15 system area, 16 primary descriptor, 17 Joliet descriptor,
 * 18 terminator, 19–22 path tables (L and M for each tree), 23 primary root directory, 24 Joliet
 * root directory, 25… file contents (shared by both trees).
 */

const SECTOR = 2048;

export interface NoCloudFiles {
  userData: Uint8Array;
  metaData: Uint8Array;
  networkConfig?: Uint8Array;
}

interface IsoFile {
  joliet: string;
  primary: string;
  data: Uint8Array;
  sector: number;
}

function both16(buf: Buffer, off: number, v: number): void {
  buf.writeUInt16LE(v, off);
  buf.writeUInt16BE(v, off + 2);
}

function both32(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v, off);
  buf.writeUInt32BE(v, off + 4);
}

/** A fixed-width text field: ASCII or UCS-2 big-endian, padded with spaces. */
function field(buf: Buffer, off: number, width: number, text: string, ucs2: boolean): void {
  if (ucs2) {
    for (let i = 0; i < width / 2; i++) buf.writeUInt16BE(i < text.length ? text.charCodeAt(i) : 0x20, off + i * 2);
  } else {
    buf.write(text.padEnd(width, ' ').slice(0, width), off, 'ascii');
  }
}

/** 17-byte descriptor date: YYYYMMDDHHMMSScc + GMT offset (0). */
function longDate(buf: Buffer, off: number, d: Date | undefined): void {
  if (!d) {
    buf.write('0000000000000000', off, 'ascii');
    buf[off + 16] = 0;
    return;
  }
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  buf.write(`${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`, off, 'ascii');
  buf[off + 16] = 0;
}

function dirRecord(id: Buffer, sector: number, size: number, isDir: boolean, date: Date): Buffer {
  const len = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(r, 2, sector);
  both32(r, 10, size);
  r[18] = date.getUTCFullYear() - 1900;
  r[19] = date.getUTCMonth() + 1;
  r[20] = date.getUTCDate();
  r[21] = date.getUTCHours();
  r[22] = date.getUTCMinutes();
  r[23] = date.getUTCSeconds();
  r[24] = 0;
  r[25] = isDir ? 2 : 0;
  both16(r, 28, 1);
  r[32] = id.length;
  id.copy(r, 33);
  return r;
}

function ucs2(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

function directory(files: IsoFile[], self: number, joliet: boolean, date: Date): Buffer {
  const dir = Buffer.alloc(SECTOR);
  let off = 0;
  for (const rec of [
    dirRecord(Buffer.from([0]), self, SECTOR, true, date),
    dirRecord(Buffer.from([1]), self, SECTOR, true, date),
    ...[...files]
      .sort((a, b) => (joliet ? a.joliet : a.primary).localeCompare(joliet ? b.joliet : b.primary, 'en'))
      .map((f) => dirRecord(joliet ? ucs2(f.joliet) : Buffer.from(f.primary, 'ascii'), f.sector, f.data.length, false, date)),
  ]) {
    rec.copy(dir, off);
    off += rec.length;
  }
  return dir;
}

function pathTable(rootSector: number, bigEndian: boolean): Buffer {
  const t = Buffer.alloc(SECTOR);
  t[0] = 1;
  if (bigEndian) {
    t.writeUInt32BE(rootSector, 2);
    t.writeUInt16BE(1, 6);
  } else {
    t.writeUInt32LE(rootSector, 2);
    t.writeUInt16LE(1, 6);
  }
  return t;
}

function volumeDescriptor(type: 1 | 2, totalSectors: number, paths: { l: number; m: number }, rootSector: number, label: string, date: Date): Buffer {
  const joliet = type === 2;
  const d = Buffer.alloc(SECTOR);
  d[0] = type;
  d.write('CD001', 1, 'ascii');
  d[6] = 1;
  field(d, 8, 32, '', joliet);
  field(d, 40, 32, label, joliet);
  both32(d, 80, totalSectors);
  if (joliet) d.write('%/E', 88, 'ascii'); // UCS-2 level 3
  both16(d, 120, 1);
  both16(d, 124, 1);
  both16(d, 128, SECTOR);
  both32(d, 132, 10); // one path table record of 10 bytes
  d.writeUInt32LE(paths.l, 140);
  d.writeUInt32BE(paths.m, 148);
  dirRecord(Buffer.from([0]), rootSector, SECTOR, true, date).copy(d, 156);
  for (const [off, width] of [[190, 128], [318, 128], [446, 128], [574, 128], [702, 37], [739, 37], [776, 37]] as const) {
    if (joliet && width % 2 === 0) field(d, off, width, '', true);
    else d.fill(0x20, off, off + width);
  }
  field(d, 574, 128, 'VIRTRIGAUD', joliet);
  longDate(d, 813, date);
  longDate(d, 830, date);
  longDate(d, 847, undefined);
  longDate(d, 864, date);
  d[881] = 1;
  return d;
}

/** The seed image; deterministic for the same inputs and `date`. */
export function buildNoCloudIso(files: NoCloudFiles, date = new Date()): Buffer {
  const list: IsoFile[] = [
    { joliet: 'meta-data', primary: 'META_DAT.;1', data: files.metaData, sector: 0 },
    { joliet: 'user-data', primary: 'USER_DAT.;1', data: files.userData, sector: 0 },
  ];
  if (files.networkConfig) list.push({ joliet: 'network-config', primary: 'NETWORK_.;1', data: files.networkConfig, sector: 0 });
  let next = 25;
  for (const f of list) {
    f.sector = next;
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
  }
  const total = next;
  const iso = Buffer.alloc(total * SECTOR);
  const put = (sector: number, b: Buffer) => b.copy(iso, sector * SECTOR);
  put(16, volumeDescriptor(1, total, { l: 19, m: 20 }, 23, 'cidata', date));
  put(17, volumeDescriptor(2, total, { l: 21, m: 22 }, 24, 'cidata', date));
  const terminator = Buffer.alloc(SECTOR);
  terminator[0] = 255;
  terminator.write('CD001', 1, 'ascii');
  terminator[6] = 1;
  put(18, terminator);
  put(19, pathTable(23, false));
  put(20, pathTable(23, true));
  put(21, pathTable(24, false));
  put(22, pathTable(24, true));
  put(23, directory(list, 23, false, date));
  put(24, directory(list, 24, true, date));
  for (const f of list) Buffer.from(f.data).copy(iso, f.sector * SECTOR);
  return iso;
}
