/**
 * The NoCloud seed image, read back the way an ISO 9660 reader does: volume descriptors, the
 * Joliet (UCS-2) and plain directories, file extents. (The QEMU smoke test has a real Linux kernel
 * mount it.)
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNoCloudIso } from '../../provider-agents/libvirt/cloud-init-iso.ts';

const SECTOR = 2048;

function readDir(iso: Buffer, descriptorSector: number, joliet: boolean): Map<string, Buffer> {
  const d = iso.subarray(descriptorSector * SECTOR);
  const root = d.subarray(156, 156 + 34);
  const extent = root.readUInt32LE(2);
  assert.equal(root.readUInt32BE(6), extent, 'both-endian root extent');
  const dir = iso.subarray(extent * SECTOR, extent * SECTOR + root.readUInt32LE(10));
  const files = new Map<string, Buffer>();
  for (let off = 0; off < dir.length && dir[off]! > 0; off += dir[off]!) {
    const rec = dir.subarray(off, off + dir[off]!);
    const idLen = rec[32]!;
    const id = rec.subarray(33, 33 + idLen);
    if (rec[25]! & 2) continue; // "." and ".."
    const name = joliet ? Array.from({ length: idLen / 2 }, (_, i) => String.fromCharCode(id.readUInt16BE(i * 2))).join('') : id.toString('ascii');
    const at = rec.readUInt32LE(2);
    files.set(name, iso.subarray(at * SECTOR, at * SECTOR + rec.readUInt32LE(10)));
  }
  return files;
}

describe('cloud-init NoCloud seed (ISO 9660 + Joliet)', () => {
  const userData = Buffer.from(`#cloud-config\n${'x'.repeat(5000)}\n`);
  const iso = buildNoCloudIso({ userData, metaData: Buffer.from('instance-id: i-1\n'), networkConfig: Buffer.from('version: 2\n') }, new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));

  it('has a primary and a Joliet descriptor labelled cidata, and a terminator', () => {
    assert.equal(iso.length % SECTOR, 0);
    assert.equal(iso.subarray(16 * SECTOR + 1, 16 * SECTOR + 6).toString('ascii'), 'CD001');
    assert.equal(iso[16 * SECTOR], 1);
    assert.equal(iso.subarray(16 * SECTOR + 40, 16 * SECTOR + 72).toString('ascii').trim(), 'cidata');
    assert.equal(iso[17 * SECTOR], 2);
    assert.equal(iso.subarray(17 * SECTOR + 88, 17 * SECTOR + 91).toString('ascii'), '%/E', 'Joliet UCS-2 level 3');
    assert.equal(Buffer.from(iso.subarray(17 * SECTOR + 40, 17 * SECTOR + 52)).swap16().toString('utf16le'), 'cidata');
    assert.equal(iso[18 * SECTOR], 255);
    assert.equal(iso.readUInt32LE(16 * SECTOR + 80) * SECTOR, iso.length, 'volume space size');
    assert.equal(iso.subarray(16 * SECTOR + 813, 16 * SECTOR + 829).toString('ascii'), '2026010203040500');
  });

  it('lists user-data, meta-data and network-config under their exact names in the Joliet tree', () => {
    const files = readDir(iso, 17, true);
    assert.deepEqual([...files.keys()], ['meta-data', 'network-config', 'user-data']);
    assert.deepEqual(files.get('user-data'), userData, 'a file spanning several sectors');
    assert.equal(files.get('meta-data')!.toString(), 'instance-id: i-1\n');
  });

  it('has the same contents under ISO 9660 names for readers without Joliet', () => {
    const files = readDir(iso, 16, false);
    assert.deepEqual([...files.keys()], ['META_DAT.;1', 'NETWORK_.;1', 'USER_DAT.;1']);
    assert.deepEqual(files.get('USER_DAT.;1'), userData);
  });

  it('leaves network-config out when there is none, and blkid sees a cidata iso9660 filesystem', () => {
    const small = buildNoCloudIso({ userData: Buffer.from('#cloud-config\n'), metaData: Buffer.from('{}') });
    assert.deepEqual([...readDir(small, 17, true).keys()], ['meta-data', 'user-data']);
    let blkid: string;
    const dir = mkdtempSync(join(tmpdir(), 'vr-iso-'));
    try {
      const file = join(dir, 'seed.iso');
      writeFileSync(file, small);
      blkid = execFileSync('blkid', ['-o', 'export', file], { encoding: 'utf8' });
    } catch {
      return; // no blkid here; the structure checks above stand
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.match(blkid, /^LABEL=cidata$/m);
    assert.match(blkid, /^TYPE=iso9660$/m);
  });
});
