/**
 * A real guest under QEMU (TCG) through qemu:///system on the private libvirtd: the image is
 * downloaded once from a local HTTP server (checksum verified) into a storage pool, the VM boots
 * Debian's cloud kernel with a busybox initramfs, reads its cloud-init NoCloud seed and prints it
 * on the serial console; then snapshot with memory, graceful power-off through ACPI, delete.
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClassSpecSchema, CloudInitSchema, DesiredVMSchema, DiskImageUrlSchema, DiskSpecSchema, Firmware, ImageSpecSchema, PowerState, SnapshotCreateSchema,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { readDomainXml } from '../../provider-agents/libvirt/domain-xml.ts';
import type { LibvirtDriver } from '../../provider-agents/libvirt/driver.ts';
import { P, uuidBytes } from '../../provider-agents/libvirt/rpc/protocol.ts';
import type { Libvirtd } from '../../scripts/stack/libvirtd.ts';
import { openDriver, driverConfig, opCtx, startTestLibvirtd, quietLogger } from '../support/libvirt.ts';
import { GUEST_MARK, guestAssets, prepareGuest } from '../support/libvirt-guest.ts';

async function until<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('libvirt QEMU smoke test (qemu:///system, TCG guest)', function () {
  this.timeout(90_000);
  let libvirtd: Libvirtd;
  let driver: LibvirtDriver;
  let dir: string;
  let http: Server;
  let imageUrl: string;
  let imageSha256: string;
  let downloads = 0;
  const pool = `vr-smoke-${process.pid}`;

  before(async function () {
    const assets = guestAssets();
    if (!assets) {
      // The kernel and modules come from scripts/install-libvirt.sh; without them there is no guest to boot.
      this.skip();
    }
    libvirtd = await startTestLibvirtd();
    dir = mkdtempSync(join(tmpdir(), 'vr-smoke-'));
    chmodSync(dir, 0o755); // the QEMU user reads kernel, initrd and volumes from here
    const guest = prepareGuest(dir, assets!);
    const base = join(dir, 'base.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
    const bytes = readFileSync(base);
    imageSha256 = createHash('sha256').update(bytes).digest('hex');
    http = createServer((req, res) => {
      downloads++;
      if (req.url !== '/base.qcow2') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    imageUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/base.qcow2`;
    driver = openDriver(`qemu+unix:///system?socket=${libvirtd.socket}`, { ...driverConfig(`qemu+unix:///system?socket=${libvirtd.socket}`, { storagePool: pool, domainType: 'qemu', downloadDir: dir }), log: quietLogger() });
    await driver.conn.ready(30_000); // a fresh libvirtd probes QEMU's capabilities on first use (seconds)
    const poolDir = join(dir, 'pool');
    await driver.conn.call(P.storagePoolCreateXml, { xml: `<pool type='dir'><name>${pool}</name><target><path>${poolDir}</path></target></pool>`, flags: 1 /* BUILD */ });
    chmodSync(poolDir, 0o755);
    guestPaths = guest;
  });

  let guestPaths: { kernel: string; initrd: string };

  const made: string[] = [];

  after(async () => {
    if (driver) {
      // A failed run must not leave guests running on the machine.
      for (const uid of made) {
        const vm = await driver.find(uid).catch(() => undefined);
        if (vm) await driver.destroy(vm, opCtx()).catch(() => undefined);
      }
      try {
        const p = await driver.conn.call(P.storagePoolLookupByName, { name: pool });
        await driver.conn.call(P.storagePoolDestroy, { pool: p });
      } catch { /* not created */ }
      await driver.close();
    }
    http?.close();
    await libvirtd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('boots a guest that reads its cloud-init seed, snapshots it with memory, shuts it down by ACPI and deletes it', async () => {
    const uid = randomUUID();
    const token = randomUUID();
    const serial = join(dir, `${uid}.serial.log`);
    made.push(uid);
    const desired = create(DesiredVMSchema, {
      class: create(ClassSpecSchema, {
        name: 'tiny', cpus: 1, memoryMib: 256n,
        extraConfig: { kernel: guestPaths.kernel, initrd: guestPaths.initrd, cmdline: 'console=ttyS0 panic=-1 quiet', serialLogFile: serial },
      }),
      image: create(ImageSpecSchema, { name: 'base', source: { case: 'url', value: create(DiskImageUrlSchema, { url: imageUrl, format: 'qcow2', checksum: imageSha256, checksumType: 'sha256' }) } }),
      disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 1 })],
      cloudInit: create(CloudInitSchema, { userData: new TextEncoder().encode(`#cloud-config\nvr_smoke_token: ${token}\n`) }),
      powerState: PowerState.ON,
    });
    let vm = await driver.create(uid, desired, opCtx(1n));
    assert.equal(downloads, 1, 'the image was downloaded once');
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    assert.equal(vm.powerState, PowerState.ON);
    assert.match(vm.consoleUrl, /^vnc:\/\/localhost:59\d\d$/);

    const log = await until('the guest printing its user-data', 45_000, () => {
      const text = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
      return text.includes(`${GUEST_MARK}: user-data end`) ? text : undefined;
    });
    assert.ok(log.includes(`vr_smoke_token: ${token}`), `the guest saw its cloud-init user-data:\n${log.slice(-2000)}`);
    assert.match(log, new RegExp(`${GUEST_MARK}: files .*meta-data.*user-data`), 'the seed has the NoCloud file names (Joliet)');
    assert.ok(log.includes(`instance-id: ${uid}`), 'meta-data names the instance');
    await until('the guest waiting for the power button', 20_000, () => (readFileSync(serial, 'utf8').includes('waiting for the power button on /dev/input') ? true : undefined));

    // Online: grow the data disk and add another one to the running guest, nothing left for a restart.
    const grown = await driver.reconfigure(vm, create(DesiredVMSchema, {
      ...desired, disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 2 }), create(DiskSpecSchema, { name: 'extra', sizeGib: 1 })],
    }), opCtx());
    assert.deepEqual(grown.restartRequired, []);
    const data = await driver.storage.facts((await driver.storage.volume(pool, `vr-${uid}-data.qcow2`))!);
    assert.equal(data.capacityBytes, 2n * 1024n ** 3n, 'block resize reached the volume');
    const live = readDomainXml(await driver.conn.call(P.domainGetXmlDesc, { dom: await driver.conn.call(P.domainLookupByUuid, { uuid: uuidBytes(uid) }), flags: 0 }));
    assert.ok(live.disks.some((d) => d.file?.endsWith(`vr-${uid}-extra.qcow2`)), 'the new disk is attached to the running guest');

    const snap = await driver.snapshotCreate(vm, create(SnapshotCreateSchema, { snapshotUid: randomUUID(), name: 'running', includeMemory: true }), opCtx());
    assert.equal(snap.hasMemory, true);
    assert.deepEqual((await driver.find(uid))?.snapshots.map((s) => s.id), ['running']);

    const tOff = Date.now();
    vm = await driver.setPower(vm, PowerState.OFF_GRACEFUL, 30, opCtx());
    assert.equal(vm.powerState, PowerState.OFF);
    assert.ok(Date.now() - tOff < 30_000, 'the guest stopped by itself before the timeout');
    assert.ok(readFileSync(serial, 'utf8').includes(`${GUEST_MARK}: power button pressed`), 'the guest saw the ACPI power button');

    // A second VM from the same image uses the stored copy.
    const other = randomUUID();
    made.push(other);
    const second = await driver.create(other, create(DesiredVMSchema, { ...desired, cloudInit: undefined, powerState: PowerState.OFF }), opCtx());
    assert.equal(downloads, 1, 'the image came from the pool, not from the URL again');

    const rootOf = async (u: string) => driver.storage.facts((await driver.storage.volume(pool, `vr-${u}-root.qcow2`))!);
    assert.match((await rootOf(other)).backingPath ?? '', /vr-image-[0-9a-f]{16}\.qcow2$/, 'a linked boot disk overlays the image');
    // LIBVIRT_IMAGE_CLONE=full: the boot disk is a copy with no backing file.
    const endpoint = `qemu+unix:///system?socket=${libvirtd.socket}`;
    const copier = openDriver(endpoint, { ...driverConfig(endpoint, { storagePool: pool, domainType: 'qemu', downloadDir: dir, imageClone: 'full' }), log: quietLogger() });
    try {
      const third = randomUUID();
      made.push(third);
      const copied = await copier.create(third, create(DesiredVMSchema, { ...desired, cloudInit: undefined, disks: [], powerState: PowerState.OFF }), opCtx());
      const root = await rootOf(third);
      assert.equal(root.backingPath, undefined);
      assert.equal(root.capacityBytes, 64n * 1024n * 1024n);
      assert.equal(downloads, 1);
      await copier.destroy(copied, opCtx());
    } finally {
      await copier.close();
    }

    await driver.destroy(vm, opCtx());
    await driver.destroy(second, opCtx());
    assert.deepEqual((await driver.storage.listNames(pool)).map((v) => v.name).filter((n) => n.includes(uid)), [], 'added disks went too');
    assert.equal(await driver.find(uid), undefined);
    const left = (await driver.storage.listNames(pool)).map((v) => v.name);
    assert.deepEqual(left.filter((n) => n.startsWith('vr-') && !n.startsWith('vr-image-')), [], 'the VMs\' volumes are gone');
    assert.equal(left.filter((n) => n.startsWith('vr-image-')).length, 2, 'the cached image and its ready marker stay');
  });

  it('starts a UEFI secure-boot guest (q35, OVMF secboot) after checking the host has the firmware', async () => {
    const uid = randomUUID();
    made.push(uid);
    const desired = create(DesiredVMSchema, {
      class: create(ClassSpecSchema, { name: 'uefi', cpus: 1, memoryMib: 256n, firmware: Firmware.UEFI, secureBoot: true, extraConfig: { graphics: 'none' } }),
      powerState: PowerState.ON,
    });
    let vm = await driver.create(uid, desired, opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    assert.equal(vm.powerState, PowerState.ON);
    const xml = await driver.conn.call(P.domainGetXmlDesc, { dom: await driver.conn.call(P.domainLookupByUuid, { uuid: uuidBytes(uid) }), flags: 0 });
    assert.match(xml, /<loader readonly='yes' secure='yes' type='pflash'>\/usr\/share\/OVMF\/OVMF_CODE[^<]*\.(secboot|ms)\.fd<\/loader>/, 'libvirt chose a secure-boot OVMF build');
    await driver.destroy(vm, opCtx());
    assert.equal(await driver.find(uid), undefined);
  });
});
