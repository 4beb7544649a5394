/**
 * The libvirt driver against a real libvirtd hosting the test driver (test+unix://<node.xml>):
 * the whole command set through our RPC client on one connection (the test driver's state lives
 * per connection). Where the test driver lacks a call (device attach, block and volume resize,
 * volume upload) the test asserts what the driver does instead.
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import {
  ClassSpecSchema, CloudInitSchema, DesiredVMSchema, DiskSpecSchema, NetworkSpecSchema, PowerState, SnapshotCreateSchema,
  type CloudInit, type DesiredVM, type DiskSpec, type NetworkSpec, type ObservedVM,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { NotSupportedError, PermanentError, TransientError } from '../../provider-agents/core/errors.ts';
import { domainNameFor, macFor, type LibvirtDriver } from '../../provider-agents/libvirt/driver.ts';
import { readDomainXml } from '../../provider-agents/libvirt/domain-xml.ts';
import { DOMAIN_XML_INACTIVE, P, uuidBytes, uuidString } from '../../provider-agents/libvirt/rpc/protocol.ts';
import type { Libvirtd } from '../../scripts/stack/libvirtd.ts';
import { openDriver, opCtx, startTestLibvirtd, writeTestNode } from '../support/libvirt.ts';

interface DesiredOverrides {
  cpus?: number;
  memoryMib?: bigint;
  cpuHotAdd?: boolean;
  disks?: DiskSpec[];
  networks?: NetworkSpec[];
  cloudInit?: CloudInit;
}

function desired(over: DesiredOverrides = {}): DesiredVM {
  const { cpus = 2, memoryMib = 512n, cpuHotAdd = false, ...rest } = over;
  return create(DesiredVMSchema, {
    powerState: PowerState.OFF,
    ...rest,
    class: create(ClassSpecSchema, { name: 'small', cpus, memoryMib, cpuHotAdd }),
  });
}

describe('libvirt driver on the test driver (real libvirtd)', function () {
  this.timeout(30_000);
  let libvirtd: Libvirtd;
  let driver: LibvirtDriver;

  before(async () => {
    libvirtd = await startTestLibvirtd();
    driver = openDriver(`test+unix://${writeTestNode()}?socket=${libvirtd.socket}`);
  });
  after(async () => {
    await driver?.close();
    await libvirtd?.stop();
  });

  const domainXml = async (vm: ObservedVM, flags = 0) => {
    const dom = await driver.conn.call(P.domainLookupByUuid, { uuid: uuidBytes(vm.id) });
    return readDomainXml(await driver.conn.call(P.domainGetXmlDesc, { dom, flags }));
  };
  const volumes = async () => (await driver.storage.listNames('default')).map((v) => v.name).sort();

  it('connects over the unix socket and reports the hypervisor version', async () => {
    const { version } = await driver.validate();
    assert.match(version, /^test \d+\.\d+\.\d+$/);
    assert.equal(driver.conn.connected, true);
  });

  it('creates a VM carrying its uid and generation, and a second create finds it instead of making another', async () => {
    const uid = randomUUID();
    const want = desired({
      cpus: 2, memoryMib: 768n,
      disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 2 })],
      networks: [create(NetworkSpecSchema, { name: 'a', network: 'default' }), create(NetworkSpecSchema, { name: 'b', network: 'lab', macAddress: '52:54:00:AA:BB:CC', vlan: 42 })],
    });
    const vm = await driver.create(uid, want, opCtx(7n));
    assert.equal(vm.id, uid, 'the domain UUID is the object uid');
    assert.equal(vm.exists, true);
    assert.equal(vm.cpus, 2);
    assert.equal(vm.memoryMib, 768n);
    assert.equal(vm.appliedGeneration, 7n);
    assert.equal(vm.powerState, PowerState.OFF);

    const again = await driver.create(uid, want, opCtx(7n));
    assert.equal(again.id, vm.id);
    const all = await driver.conn.call(P.connectListAllDomains, { flags: 0 });
    assert.equal(all.filter((d) => d.name === domainNameFor(uid)).length, 1);

    const facts = await domainXml(vm, DOMAIN_XML_INACTIVE);
    assert.equal(facts.metadata?.uid, uid);
    assert.deepEqual(facts.nics.map((n) => [n.type, n.source, n.mac]), [['network', 'default', macFor(uid, 0)], ['network', 'lab', '52:54:00:aa:bb:cc']]);
    assert.equal(facts.disks.length, 1);
    assert.deepEqual(facts.metadata?.volumes.map((v) => v.name), [`vr-${uid}-data.qcow2`]);
    assert.ok((await volumes()).includes(`vr-${uid}-data.qcow2`));
  });

  it('finds by uid, says undefined only for a uid no domain carries, and rebuilds its index after a reconnect', async () => {
    const uid = randomUUID();
    const vm = await driver.create(uid, desired(), opCtx());
    assert.equal((await driver.find(uid))?.id, vm.id);
    assert.equal(await driver.find(randomUUID()), undefined);
    const generation = driver.conn.generation;
    driver.conn.dropForTest();
    // The test driver's state is per connection, so after a reconnect the domain is gone: the index must say so, not remember it.
    const after = await driver.find(uid);
    assert.ok(driver.conn.generation > generation, 'reconnected');
    assert.equal(after, undefined, 'a fresh test-driver connection has none of the old domains');
  });

  it('escapes every user value in the domain XML (names with quotes and angle brackets stay data)', async () => {
    const uid = randomUUID();
    const bridge = `br"<x>&'y`;
    const vm = await driver.create(uid, desired({ networks: [create(NetworkSpecSchema, { name: 'odd', network: bridge, kind: 'bridge' })] }), opCtx());
    const facts = await domainXml(vm, DOMAIN_XML_INACTIVE);
    assert.equal(facts.nics[0]?.type, 'bridge');
    assert.equal(facts.nics[0]?.source, bridge);
  });

  it('drives power on, reboot, hard off and graceful off (lifecycle event), reporting guest IPs while on', async () => {
    const uid = randomUUID();
    let vm = await driver.create(uid, desired({ networks: [create(NetworkSpecSchema, { name: 'a', network: 'default' })] }), opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    assert.equal(vm.powerState, PowerState.ON);
    assert.ok(vm.ips.length > 0, `guest IPs reported: ${vm.ips.join(',')}`);
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx()); // idempotent
    assert.equal(vm.powerState, PowerState.ON);
    vm = await driver.reboot(vm);
    assert.equal(vm.powerState, PowerState.ON);
    const t0 = Date.now();
    vm = await driver.setPower(vm, PowerState.OFF_GRACEFUL, 10, opCtx());
    assert.equal(vm.powerState, PowerState.OFF);
    assert.ok(Date.now() - t0 < 5000, 'the stop event ended the wait, not the timeout');
    assert.deepEqual(vm.ips, []);
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    vm = await driver.setPower(vm, PowerState.OFF, 0, opCtx());
    assert.equal(vm.powerState, PowerState.OFF);
    vm = await driver.setPower(vm, PowerState.OFF, 0, opCtx());
    assert.equal(vm.powerState, PowerState.OFF);
  });

  it('reconfigures CPU and memory live within the maximum, and marks the rest restart-required', async () => {
    const uid = randomUUID();
    let vm = await driver.create(uid, desired({ cpus: 2, cpuHotAdd: true }), opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    const live = await driver.reconfigure(vm, desired({ cpus: 4, cpuHotAdd: true }), opCtx());
    assert.deepEqual(live.restartRequired, []);
    assert.equal(live.vm.cpus, 4);
    const beyond = await driver.reconfigure(live.vm, desired({ cpus: 16, memoryMib: 1024n }), opCtx());
    assert.deepEqual(beyond.restartRequired, ['cpus 4→16', 'memory 512→1024 MiB']);
    assert.equal(beyond.vm.cpus, 4, 'the running domain keeps its count until the next power cycle');
    const config = await domainXml(vm, DOMAIN_XML_INACTIVE);
    assert.equal(config.vcpus, 16);
    assert.equal(config.memoryKiB, 1024n * 1024n);
    // After a power cycle the running domain has the new sizes and nothing is pending.
    vm = await driver.setPower(beyond.vm, PowerState.OFF, 0, opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    assert.equal(vm.cpus, 16);
    assert.equal(vm.memoryMib, 1024n);
    assert.deepEqual((await driver.reconfigure(vm, desired({ cpus: 16, memoryMib: 1024n }), opCtx())).restartRequired, []);
  });

  it('adds disks and NICs: to the config when stopped, restart-required when running (the test driver has no live attach)', async () => {
    const uid = randomUUID();
    let vm = await driver.create(uid, desired(), opCtx());
    const withDisk = desired({ disks: [create(DiskSpecSchema, { name: 'extra', sizeGib: 1 })] });
    const off = await driver.reconfigure(vm, withDisk, opCtx());
    assert.deepEqual(off.restartRequired, []);
    let facts = await domainXml(vm, DOMAIN_XML_INACTIVE);
    assert.equal(facts.disks.length, 1);
    assert.deepEqual(facts.metadata?.volumes.map((v) => v.name), [`vr-${uid}-extra.qcow2`], 'the added volume is recorded as owned');
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    const withNic = desired({ disks: withDisk.disks, networks: [create(NetworkSpecSchema, { name: 'n', network: 'lab' })] });
    const on = await driver.reconfigure(vm, withNic, opCtx());
    assert.deepEqual(on.restartRequired, [`NIC ${macFor(uid, 0)} on lab added`]);
    facts = await domainXml(vm, DOMAIN_XML_INACTIVE);
    assert.equal(facts.nics.length, 1);
    // Nothing is added twice: the next reconcile still reports the pending restart, and after it nothing is pending.
    assert.deepEqual((await driver.reconfigure(vm, withNic, opCtx())).restartRequired, [`NIC ${macFor(uid, 0)} on lab added`]);
    assert.equal((await domainXml(vm, DOMAIN_XML_INACTIVE)).nics.length, 1);
    vm = await driver.setPower(await driver.setPower(vm, PowerState.OFF, 0, opCtx()), PowerState.ON, 0, opCtx());
    assert.deepEqual((await driver.reconfigure(vm, withNic, opCtx())).restartRequired, []);
  });

  it('refuses to grow a disk on the test driver with a NotSupported reason naming the disk', async () => {
    const uid = randomUUID();
    const vm = await driver.create(uid, desired({ disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 1 })] }), opCtx());
    await assert.rejects(driver.reconfigure(vm, desired({ disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 3 })] }), opCtx()), (err: unknown) => {
      assert.ok(err instanceof NotSupportedError);
      assert.equal(err.reason, 'NotSupported');
      assert.match(err.message, /growing disk data to 3 GiB .*volume resize/);
      return true;
    });
  });

  it('takes a memory snapshot once per VMSnapshot uid, lists, reverts and deletes it', async () => {
    const uid = randomUUID();
    let vm = await driver.create(uid, desired(), opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    const req = create(SnapshotCreateSchema, { snapshotUid: randomUUID(), name: 'before upgrade', description: 'pre-upgrade', includeMemory: true });
    const snap = await driver.snapshotCreate(vm, req, opCtx());
    assert.equal(snap.id, 'before-upgrade');
    assert.equal(snap.hasMemory, true);
    assert.equal(snap.snapshotUid, req.snapshotUid);
    assert.deepEqual(await driver.snapshotCreate(vm, req, opCtx()), snap, 'a retried create finds the same snapshot');
    const off = await driver.snapshotCreate(await driver.setPower(vm, PowerState.OFF, 0, opCtx()), create(SnapshotCreateSchema, { snapshotUid: randomUUID(), name: 'cold' }), opCtx());
    assert.equal(off.hasMemory, false);
    vm = (await driver.find(uid))!;
    assert.deepEqual(vm.snapshots.map((s) => s.id).sort(), ['before-upgrade', 'cold']);
    const reverted = await driver.snapshotRevert(vm, 'before-upgrade', opCtx());
    assert.equal(reverted.powerState, PowerState.ON, 'a memory snapshot resumes the running guest');
    await assert.rejects(driver.snapshotRevert(vm, 'nope', opCtx()), (e: unknown) => e instanceof PermanentError && e.reason === 'SnapshotNotFound');
    await driver.snapshotDelete(vm, 'before-upgrade', opCtx());
    await driver.snapshotDelete(vm, 'before-upgrade', opCtx());
    assert.deepEqual((await driver.find(uid))!.snapshots.map((s) => s.id), ['cold']);
    await assert.rejects(driver.snapshotCreate(vm, create(SnapshotCreateSchema, { snapshotUid: randomUUID(), name: 'cold' }), opCtx()),
      (e: unknown) => e instanceof PermanentError && e.reason === 'SnapshotNameTaken');
  });

  it('clones full and linked; a linked clone shares a frozen base that outlives its source until the last user goes', async () => {
    const src = randomUUID();
    let vm = await driver.create(src, desired({ disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 1 })], networks: [create(NetworkSpecSchema, { name: 'a', network: 'default' })] }), opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    await assert.rejects(driver.clone(vm, randomUUID(), false, desired(), opCtx()), (e: unknown) => e instanceof PermanentError && e.reason === 'SourceRunning');
    vm = await driver.setPower(vm, PowerState.OFF, 0, opCtx());

    const full = randomUUID();
    const f = await driver.clone(vm, full, false, create(DesiredVMSchema, {}), opCtx(2n));
    assert.equal(f.id, full);
    assert.equal(f.appliedGeneration, 2n);
    assert.equal((await driver.clone(vm, full, false, create(DesiredVMSchema, {}), opCtx(2n))).id, full, 'a retried clone finds the clone');
    const ff = await domainXml(f, DOMAIN_XML_INACTIVE);
    assert.deepEqual(ff.nics.map((n) => n.mac), [macFor(full, 0)], 'the clone gets its own MAC');
    assert.equal(ff.disks[0]?.file, `/vr-test-pool/vr-${full}-vda.qcow2`);

    const linked = randomUUID();
    const l = await driver.clone(vm, linked, true, desired({ cpus: 3 }), opCtx());
    assert.equal(l.cpus, 3);
    const base = `vr-${src}-data.qcow2`;
    const lf = await domainXml(l, DOMAIN_XML_INACTIVE);
    const overlay = (await driver.storage.facts((await driver.storage.volume('default', `vr-${linked}-vda.qcow2`))!));
    assert.equal(lf.disks[0]?.file, overlay.path);
    assert.equal(overlay.backingPath, `/vr-test-pool/${base}`, 'the clone writes to an overlay on the source disk');
    const sf = await domainXml(vm, DOMAIN_XML_INACTIVE);
    assert.notEqual(sf.disks[0]?.file, `/vr-test-pool/${base}`, 'the source no longer writes to the shared base');
    assert.deepEqual(sf.metadata?.bases.map((b) => b.name), [base]);

    await driver.destroy(vm, opCtx());
    assert.ok((await volumes()).includes(base), 'the base stays while the linked clone uses it');
    await driver.destroy(l, opCtx());
    assert.ok(!(await volumes()).includes(base), 'the base goes with its last user');
    await driver.destroy(f, opCtx());
    assert.deepEqual((await volumes()).filter((v) => v.includes(src) || v.includes(linked) || v.includes(full)), []);
  });

  it('adopts an existing domain (writing our uid), refuses one managed as another VM, and releases without destroying', async () => {
    const foreign = await driver.conn.call(P.domainDefineXml, { xml: "<domain type='test'><name>legacy-db</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>" });
    const uid = randomUUID();
    const vm = await driver.adopt(uid, 'legacy-db', opCtx(4n));
    assert.equal(vm.id, uuidString(foreign.uuid));
    assert.equal(vm.appliedGeneration, 4n);
    assert.equal((await driver.find(uid))?.id, vm.id);
    await assert.rejects(driver.adopt(randomUUID(), vm.id, opCtx()), (e: unknown) => e instanceof PermanentError && e.reason === 'AlreadyManaged');
    await assert.rejects(driver.adopt(randomUUID(), 'no-such-domain', opCtx()), (e: unknown) => e instanceof PermanentError && e.reason === 'AdoptTargetNotFound');
    await driver.release(vm, opCtx());
    assert.equal(await driver.find(uid), undefined);
    const still = await driver.conn.call(P.domainLookupByName, { name: 'legacy-db' });
    assert.equal(uuidString(still.uuid), vm.id, 'the released domain is left on the hypervisor');
  });

  it('records the applied generation and never lowers it', async () => {
    const uid = randomUUID();
    const vm = await driver.create(uid, desired(), opCtx(2n));
    assert.equal((await driver.recordGeneration(vm, 5n, opCtx())).appliedGeneration, 5n);
    assert.equal((await driver.recordGeneration(vm, 3n, opCtx())).appliedGeneration, 5n);
    assert.equal((await driver.find(uid))?.appliedGeneration, 5n);
  });

  it('destroys a running VM with its volumes, and a second destroy is a no-op', async () => {
    const uid = randomUUID();
    let vm = await driver.create(uid, desired({ disks: [create(DiskSpecSchema, { name: 'd1', sizeGib: 1 }), create(DiskSpecSchema, { name: 'd2', sizeGib: 1, type: 'thick' })] }), opCtx());
    vm = await driver.setPower(vm, PowerState.ON, 0, opCtx());
    assert.deepEqual((await volumes()).filter((v) => v.includes(uid)), [`vr-${uid}-d1.qcow2`, `vr-${uid}-d2.img`]);
    await driver.destroy(vm, opCtx());
    assert.equal(await driver.find(uid), undefined);
    assert.deepEqual((await volumes()).filter((v) => v.includes(uid)), []);
    await driver.destroy(vm, opCtx());
  });

  it('pushes power changes through watch() as lifecycle events arrive', async () => {
    const uid = randomUUID();
    const seen: { uid: string; power: PowerState | undefined }[] = [];
    const stop = driver.watch((u, vm) => seen.push({ uid: u, power: vm?.powerState }));
    try {
      const vm = await driver.create(uid, desired(), opCtx());
      await driver.setPower(vm, PowerState.ON, 0, opCtx());
      const deadline = Date.now() + 5000;
      while (!seen.some((s) => s.uid === uid && s.power === PowerState.ON) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.some((s) => s.uid === uid && s.power === PowerState.ON), `watch saw ${JSON.stringify(seen)}`);
      await driver.destroy(vm, opCtx());
      while (!seen.some((s) => s.uid === uid && s.power === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.some((s) => s.uid === uid && s.power === undefined), 'the undefine was pushed as "gone"');
    } finally {
      stop();
    }
  });

  it('says clearly that the test driver cannot take a cloud-init seed (no volume upload), leaving nothing behind', async () => {
    const uid = randomUUID();
    const ci = create(CloudInitSchema, { userData: new TextEncoder().encode('#cloud-config\n') });
    await assert.rejects(driver.create(uid, desired({ cloudInit: ci, disks: [create(DiskSpecSchema, { name: 'data', sizeGib: 1 })] }), opCtx()),
      (e: unknown) => e instanceof NotSupportedError && /cloud-init seed/.test(e.message));
    assert.equal(await driver.find(uid), undefined);
    assert.deepEqual((await volumes()).filter((v) => v.includes(uid)), [], 'the data disk made before the seed failed is removed too');
  });

  it('reports a missing storage pool as a permanent error naming it', async () => {
    await assert.rejects(driver.create(randomUUID(), desired({ disks: [create(DiskSpecSchema, { name: 'x', sizeGib: 1, storage: 'nope' })] }), opCtx()),
      (e: unknown) => e instanceof PermanentError && e.reason === 'StoragePoolNotFound' && /"nope"/.test(e.message));
  });

  it('treats a read on a vanished domain as retryable, never as gone', async () => {
    const uid = randomUUID();
    const vm = await driver.create(uid, desired(), opCtx());
    const dom = await driver.conn.call(P.domainLookupByName, { name: domainNameFor(uid) });
    await driver.conn.call(P.domainUndefineFlags, { dom, flags: 0 });
    await assert.rejects(driver.setPower(vm, PowerState.ON, 0, opCtx()), (e: unknown) => e instanceof TransientError && e.reason === 'VMVanished');
  });
});
