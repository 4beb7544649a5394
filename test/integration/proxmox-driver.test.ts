/**
 * The Proxmox driver against the fake PVE API (test/fakes/proxmox): TLS and authentication, the
 * whole VM lifecycle on several nodes, templates and clones, idempotency across agent and API
 * restarts, task failures, lock contention between two agent replicas, and malformed replies.
 */
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudInitSchema, DiskSpecSchema, NetworkSpecSchema, PowerState, SnapshotCreateSchema,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { Credentials } from '../../provider-agents/core/connection.ts';
import { PermanentError, TransientError } from '../../provider-agents/core/errors.ts';
import { ProxmoxDriver } from '../../provider-agents/proxmox/driver.ts';
import { candidateVmids } from '../../provider-agents/proxmox/identity.ts';
import { aVm, driverFor, opCtx } from '../fakes/proxmox/fixtures.ts';
import { FakePve } from '../fakes/proxmox/server.ts';

const uidN = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
let seq = 0;
const newUid = () => uidN(++seq + Math.floor(Math.random() * 1e9));
const tagOf = (uid: string) => `vr-uid-${uid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(f: () => T | undefined | Promise<T | undefined>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(10);
  }
}

describe('proxmox driver against the fake PVE API', function () {
  this.timeout(30_000);
  let fake: FakePve;

  before(async () => {
    fake = await FakePve.start({ pace: { default: 15, qmclone: 40, download: 40 } });
    fake.addTemplate({ vmid: 9000, node: 'pve2', name: 'ubuntu-2404', storage: 'local-lvm', cores: 2, memoryMib: 2048 });
    fake.addTemplate({ vmid: 9001, node: 'pve1', name: 'debian-12', storage: 'nfs-shared' });
  });
  after(async () => {
    await fake?.stop();
  });

  describe('connection', () => {
    it('talks TLS with the custom CA, a pinned fingerprint or insecure; refuses an unknown certificate and a wrong pin, saying why', async () => {
      for (const trust of ['ca', 'pin', 'insecure'] as const) {
        const d = driverFor(fake, { trust });
        try {
          assert.match((await d.validate()).version, /^pve-manager\/9\./);
        } finally {
          await d.close();
        }
      }
      const untrusted = driverFor(fake, { trust: 'none' });
      await assert.rejects(untrusted.validate(), (e: Error) => e instanceof TransientError && /certificate/i.test(e.message));
      await untrusted.close();
      const pinned = new ProxmoxDriver({ endpoint: fake.url, insecureSkipVerify: false, credentials: new Credentials({ token_id: fake.token.id, token_secret: fake.token.secret, thumbprint: 'AA:'.repeat(31) + 'AA' }) });
      await assert.rejects(pinned.validate(), (e: Error) => e instanceof TransientError && /fingerprint/.test(e.message) && !e.message.includes(fake.token.secret));
      await pinned.close();
    });

    it('logs in with a ticket, sends the CSRF token on writes, and logs in again after the ticket expired', async () => {
      const d = driverFor(fake, { auth: 'ticket' });
      const logins = () => fake.count('POST', /^\/access\/ticket$/);
      const before = logins();
      try {
        const uid = newUid();
        const vm = await d.create(uid, aVm(), opCtx());
        assert.equal(logins() - before, 1);
        fake.expireTickets();
        const on = await d.setPower(vm, PowerState.ON, 0, opCtx());
        assert.equal(on.powerState, PowerState.ON);
        assert.equal(logins() - before, 2, 'one new login after the 401');
        assert.ok(fake.requests.some((r) => r.status === 401), 'the expired ticket was refused once');
        fake.expireTickets();
        const found = await Promise.all(Array.from({ length: 8 }, () => d.find(uid)));
        assert.ok(found.every((f) => f?.id === vm.id));
        assert.equal(logins() - before, 3, 'calls refused together share one login');
        await d.destroy(on, opCtx());
      } finally {
        await d.close();
      }
    });

    it('a wrong secret is a retryable AuthenticationFailed that names no secret', async () => {
      const d = driverFor(fake, { secret: 'not-the-secret' });
      const w = driverFor(fake, { auth: 'ticket', secret: 'wrong-password' });
      try {
        await assert.rejects(d.find(newUid()), (e: Error) => e instanceof TransientError && e.reason === 'AuthenticationFailed' && !e.message.includes('not-the-secret'));
        await assert.rejects(w.find(newUid()), (e: Error) => e instanceof TransientError && e.reason === 'AuthenticationFailed' && !e.message.includes('wrong-password'));
      } finally {
        await d.close();
        await w.close();
      }
    });
  });

  describe('lifecycle', () => {
    it('image URL → VM with VLAN NICs and cloud-init → on with guest IPs → snapshot with memory, revert, delete → graceful off → destroyed, nothing left', async () => {
      const d = driverFor(fake);
      try {
        const uid = newUid();
        const desired = aVm({
          cpus: 2, memoryMib: 2048n, url: 'https://images.example/noble-server-cloudimg-amd64.img', node: 'pve3',
          networks: [
            create(NetworkSpecSchema, { network: 'vmbr0', vlan: 10, ipAddress: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.53'] }),
            create(NetworkSpecSchema, { network: 'vmbr1', vlan: 20 }),
          ],
        });
        desired.cloudInit = create(CloudInitSchema, { userData: new TextEncoder().encode('#cloud-config\nusers:\n  - name: ops\n    ssh_authorized_keys: [ssh-ed25519 AAAA ops@x]\n') });
        desired.disks = [create(DiskSpecSchema, { name: 'root', sizeGib: 30 }), create(DiskSpecSchema, { name: 'data', sizeGib: 50 })];
        const ctx = opCtx(4n);
        let vm = await d.create(uid, desired, ctx);
        assert.equal(vm.powerState, PowerState.OFF);
        assert.equal(vm.appliedGeneration, 4n);
        assert.ok(ctx.progress.calls.some(([, m]) => /download/.test(m)), 'download progress reported');
        const conf = fake.state.vms[vm.id]!;
        assert.equal(conf.node, 'pve3');
        assert.match(conf.config.net0!, /^virtio=[0-9A-F:]{17},bridge=vmbr0,tag=10$/);
        assert.match(conf.config.net1!, /bridge=vmbr1,tag=20$/);
        assert.equal(conf.config.ipconfig0, 'ip=192.168.10.20/24,gw=192.168.10.1');
        assert.equal(conf.config.ipconfig1, 'ip=dhcp');
        assert.equal(conf.config.ciuser, 'ops');
        assert.equal(decodeURIComponent(conf.config.sshkeys!), 'ssh-ed25519 AAAA ops@x\n');
        assert.match(conf.config.scsi0!, /size=2G$/, 'imported from the 2 GiB image');

        const r = await d.reconfigure(vm, desired, opCtx(4n));
        assert.deepEqual(r.restartRequired, []);
        assert.match(fake.state.vms[vm.id]!.config.scsi0!, /size=30G$/, 'boot disk grown to 30 GiB');
        assert.match(fake.state.vms[vm.id]!.config.scsi1!, /size=50G$/, 'data disk added');
        vm = await d.setPower(r.vm, PowerState.ON, 0, opCtx());
        assert.equal(vm.powerState, PowerState.ON);
        assert.ok(vm.ips.includes('192.168.10.20'), `guest IPs: ${vm.ips}`);
        assert.equal(vm.ips.length, 2, 'one address per NIC, no loopback or link-local');
        assert.match(vm.consoleUrl, new RegExp(`^${fake.url}/\\?console=kvm&novnc=1&vmid=${vm.id}&vmname=[^&]+&node=pve3`));

        const snap = await d.snapshotCreate(vm, create(SnapshotCreateSchema, { snapshotUid: newUid(), name: 'before upgrade', includeMemory: true }), opCtx());
        assert.equal(snap.hasMemory, true);
        assert.equal(snap.name, 'before upgrade');
        const again = await d.snapshotCreate(vm, create(SnapshotCreateSchema, { snapshotUid: snap.snapshotUid, name: 'before upgrade', includeMemory: true }), opCtx());
        assert.equal(again.id, snap.id, 'a retried snapshot finds the first');
        assert.equal(Object.keys(fake.state.vms[vm.id]!.snapshots).length, 1);
        const found = await d.find(uid);
        assert.deepEqual(found?.snapshots.map((s) => [s.id, s.snapshotUid]), [[snap.id, snap.snapshotUid]]);

        await d.reconfigure(vm, aVm({ cpus: 3, memoryMib: 2048n, networks: desired.networks }), opCtx());
        vm = await d.snapshotRevert(vm, snap.id, opCtx());
        assert.equal(vm.powerState, PowerState.ON, 'a memory snapshot resumes running');
        assert.equal(fake.state.vms[vm.id]!.config.cores, '2', 'config reverted');
        await assert.rejects(d.snapshotRevert(vm, 'nope', opCtx()), PermanentError);
        await d.snapshotDelete(vm, snap.id, opCtx());
        await d.snapshotDelete(vm, snap.id, opCtx());
        assert.deepEqual(fake.state.vms[vm.id]!.snapshots, {});

        vm = await d.setPower(vm, PowerState.OFF_GRACEFUL, 5, opCtx());
        assert.equal(vm.powerState, PowerState.OFF);
        assert.ok(fake.count('POST', new RegExp(`/qemu/${vm.id}/status/shutdown$`)) >= 1);
        assert.equal(fake.count('POST', new RegExp(`/qemu/${vm.id}/status/stop$`)), 0, 'an ACPI guest needs no hard stop');

        await d.destroy(vm, opCtx());
        assert.equal(await d.find(uid), undefined);
        assert.equal(fake.state.vms[vm.id], undefined);
        assert.deepEqual(Object.values(fake.state.volumes).filter((v) => v.vmid === Number(vm.id)), [], 'disks and cloud-init volume removed');
        assert.ok(fake.requests.some((r) => r.method === 'DELETE' && r.path === `/nodes/pve3/qemu/${vm.id}`));
      } finally {
        await d.close();
      }
    });

    it('downloads an image once for every VM that uses it, and installs from an ISO with a blank disk', async () => {
      const d = driverFor(fake);
      try {
        const url = 'https://images.example/shared-base.qcow2';
        const before = fake.count('POST', /download-url$/);
        const [a, b] = await Promise.all([d.create(newUid(), aVm({ url, node: 'pve1', datastore: 'local-lvm' }), opCtx()), d.create(newUid(), aVm({ url, node: 'pve1', datastore: 'local-lvm' }), opCtx())]);
        const after = await d.create(newUid(), aVm({ url, node: 'pve1', datastore: 'local-lvm' }), opCtx());
        assert.ok(fake.count('POST', /download-url$/) - before <= 2, 'at most the two racing creates asked');
        assert.equal(Object.values(fake.state.volumes).filter((v) => v.content === 'import' && v.volid.includes('shared-base')).length, 1);
        const iso = await d.create(newUid(), aVm({ url: 'https://releases.example/debian-12.8.0-amd64-netinst.iso', node: 'pve2' }), opCtx());
        const cfg = fake.state.vms[iso.id]!.config;
        assert.match(cfg.ide2!, /^(local|nfs-shared):iso\/debian-12\.8\.0-amd64-netinst-[0-9a-f]{10}\.iso,media=cdrom$/);
        assert.match(cfg.scsi0!, /size=20G$/);
        assert.equal(cfg.boot, 'order=scsi0;ide2');
        for (const vm of [a, b, after, iso]) await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });

    it('hot-plugs CPUs and memory on a running VM; what cannot be hot-plugged is reported as restart-required and applied by a reboot', async () => {
      const d = driverFor(fake);
      try {
        const uid = newUid();
        const hot = aVm({ cpus: 2, memoryMib: 2048n, cpuHotAdd: true, memoryHotAdd: true });
        let vm = await d.create(uid, hot, opCtx());
        vm = (await d.reconfigure(vm, hot, opCtx())).vm;
        vm = await d.setPower(vm, PowerState.ON, 0, opCtx());
        const more = await d.reconfigure(vm, aVm({ cpus: 4, memoryMib: 4096n, cpuHotAdd: true, memoryHotAdd: true }), opCtx());
        assert.deepEqual(more.restartRequired, []);
        assert.equal(more.vm.cpus, 4);
        assert.equal(more.vm.memoryMib, 4096n);
        const beyond = await d.reconfigure(more.vm, aVm({ cpus: 6, memoryMib: 4096n, cpuHotAdd: true, memoryHotAdd: true }), opCtx());
        assert.deepEqual(beyond.restartRequired, ['cpus'], 'above the hot-plug ceiling');
        assert.equal(fake.state.vms[vm.id]!.pending.cores, '12');
        const cold = aVm({ cpus: 1, memoryMib: 1024n });
        const coldUid = newUid();
        let c = await d.create(coldUid, cold, opCtx());
        c = await d.setPower(c, PowerState.ON, 0, opCtx());
        const r = await d.reconfigure(c, aVm({ cpus: 2, memoryMib: 1536n }), opCtx());
        assert.deepEqual(new Set(r.restartRequired), new Set(['cpus', 'memory']));
        assert.equal(r.vm.cpus, 1, 'still the old count until the power cycle');
        const rebooted = await d.reboot(r.vm, opCtx());
        assert.equal(rebooted.cpus, 2);
        assert.equal(rebooted.memoryMib, 1536n);
        for (const v of [vm, c]) await d.destroy(v, opCtx());
      } finally {
        await d.close();
      }
    });

    it('OFF_GRACEFUL stops a guest that ignores ACPI once the timeout has passed', async () => {
      const d = driverFor(fake);
      try {
        let vm = await d.create(newUid(), aVm(), opCtx());
        vm = await d.setPower(vm, PowerState.ON, 0, opCtx());
        fake.state.vms[vm.id]!.acpi = false;
        const started = Date.now();
        vm = await d.setPower(vm, PowerState.OFF_GRACEFUL, 1, opCtx());
        assert.equal(vm.powerState, PowerState.OFF);
        assert.ok(Date.now() - started >= 1000, 'waited for the timeout');
        assert.equal(fake.count('POST', new RegExp(`/qemu/${vm.id}/status/stop$`)), 1, 'then stopped it');
        await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });
  });

  describe('templates, clones and nodes', () => {
    it('creates from a template: linked by default, full when asked, on the template\'s node or (shared storage) the placement\'s', async () => {
      const d = driverFor(fake);
      try {
        const linked = await d.create(newUid(), aVm({ template: { id: 9000 } }), opCtx());
        assert.equal(fake.state.vms[linked.id]!.node, 'pve2');
        assert.match(fake.state.vms[linked.id]!.config.scsi0!, /^local-lvm:base-9000-disk-0\/vm-\d+-disk-0/);
        assert.equal(linked.cpus, 2, 'the template\'s size until reconfigured');
        const full = await d.create(newUid(), aVm({ template: { name: 'ubuntu-2404', full: true }, datastore: 'nfs-shared' }), opCtx());
        assert.match(fake.state.vms[full.id]!.config.scsi0!, /^nfs-shared:\d+\/vm-\d+-disk-0\.qcow2/);
        const moved = await d.create(newUid(), aVm({ template: { id: 9001 }, node: 'pve3' }), opCtx());
        assert.equal(fake.state.vms[moved.id]!.node, 'pve3');
        await assert.rejects(d.create(newUid(), aVm({ template: { id: 9000 }, node: 'pve3' }), opCtx()),
          (e: Error) => e instanceof PermanentError && /local storage/.test(e.message), 'a local-storage template cannot be cloned to another node');
        await assert.rejects(d.create(newUid(), aVm({ template: { id: 4242 } }), opCtx()), (e: Error) => e instanceof PermanentError && e.reason === 'TemplateNotFound');
        for (const vm of [linked, full, moved]) assert.equal(fake.vmsTagged(tagOf(fake.state.vms[vm.id]!.config.tags!.split(';')[0]!.slice(7))).length, 1);
        for (const vm of [linked, full, moved]) await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });

    it('clone(): full clone of a running VM with the target\'s size; a linked clone of a non-template is refused; a retry finds the clone', async () => {
      const d = driverFor(fake);
      try {
        let src = await d.create(newUid(), aVm({ cpus: 1 }), opCtx());
        src = await d.setPower(src, PowerState.ON, 0, opCtx());
        const targetUid = newUid();
        const copy = await d.clone(src, targetUid, false, aVm({ cpus: 2, memoryMib: 3072n }), opCtx(7n));
        assert.notEqual(copy.id, src.id);
        assert.equal(copy.cpus, 2);
        assert.equal(copy.memoryMib, 3072n);
        assert.equal(fake.vmsTagged(tagOf(targetUid)).length, 1);
        assert.ok(fake.state.vms[copy.id]!.config.tags!.includes('vr-gen-7'));
        const again = await d.clone(src, targetUid, false, aVm({ cpus: 2, memoryMib: 3072n }), opCtx(7n));
        assert.equal(again.id, copy.id);
        await assert.rejects(d.clone(src, newUid(), true, aVm(), opCtx()), (e: Error) => e instanceof PermanentError && e.reason === 'LinkedCloneNeedsTemplate');
        for (const vm of [copy, src]) await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });

    it('places VMs on the named node, else on the node with the most free memory; refuses an unknown node', async () => {
      const d = driverFor(fake);
      try {
        // Fill pve1 and pve2 with running memory, leaving pve3 the freest.
        const big = await Promise.all(['pve1', 'pve2'].map((node) => d.create(newUid(), aVm({ node, memoryMib: 40_000n }), opCtx())));
        for (const vm of big) await d.setPower(vm, PowerState.ON, 0, opCtx());
        const free = await d.create(newUid(), aVm(), opCtx());
        assert.equal(fake.state.vms[free.id]!.node, 'pve3');
        const pinned = await d.create(newUid(), aVm({ node: 'pve1' }), opCtx());
        assert.equal(fake.state.vms[pinned.id]!.node, 'pve1');
        await assert.rejects(d.create(newUid(), aVm({ node: 'pve9' }), opCtx()), (e: Error) => e instanceof PermanentError && /pve9/.test(e.message));
        await assert.rejects(d.create(newUid(), aVm({ node: 'pve1', datastore: 'fast-nvme' }), opCtx()), (e: Error) => e instanceof PermanentError && /fast-nvme/.test(e.message));
        for (const vm of [...big, free, pinned]) await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });
  });

  describe('identity and idempotency', () => {
    it('create is a no-op when the VM exists; find is one cluster-wide call plus its snapshots', async () => {
      const d = driverFor(fake);
      try {
        const uid = newUid();
        const a = await d.create(uid, aVm(), opCtx());
        const b = await d.create(uid, aVm(), opCtx());
        assert.equal(a.id, b.id);
        assert.equal(fake.vmsTagged(tagOf(uid)).length, 1);
        const before = fake.requests.length;
        await d.find(uid);
        const calls = fake.requests.slice(before).map((r) => `${r.method} ${r.path}`);
        assert.deepEqual(calls, ['GET /cluster/resources', `GET /nodes/${fake.state.vms[a.id]!.node}/qemu/${a.id}/snapshot`]);
        await d.destroy(a, opCtx());
      } finally {
        await d.close();
      }
    });

    it('an agent stopped mid-create (its PVE task still running) neither loses nor duplicates the VM', async () => {
      const slow = await FakePve.start({ pace: { default: 10, qmcreate: 600 } });
      const d1 = driverFor(slow);
      const d2 = driverFor(slow);
      try {
        const uid = newUid();
        const ctx = opCtx();
        const first = d1.create(uid, aVm(), ctx);
        await until(() => slow.vms().find((v) => v.config.lock === 'create'), 3000, 'create task running');
        ctx.abort(new Error('agent stopping'));
        await assert.rejects(first, /agent stopping/);
        // Another replica takes over while PVE still runs the create (tags not written yet).
        await assert.rejects(d2.find(uid), (e: Error) => e instanceof TransientError && e.reason === 'ProvisioningInFlight');
        const vm = await until(async () => {
          try {
            return await d2.find(uid);
          } catch {
            return undefined;
          }
        }, 5000, 'the VM found once its task ended');
        const again = await d2.create(uid, aVm(), opCtx());
        assert.equal(again.id, vm.id);
        assert.equal(slow.vmsTagged(tagOf(uid)).length, 1);
        assert.equal(slow.vms().length, 1);
      } finally {
        await d1.close();
        await d2.close();
        await slow.stop();
      }
    });

    it('a clone whose tags were never written (the agent stopped after the clone) is found by its description and tagged by the next reconcile', async () => {
      const d = driverFor(fake, { lockRetry: { budgetMs: 200, baseMs: 20, capMs: 50 } });
      try {
        const uid = newUid();
        fake.faults.http.push({ method: 'PUT', path: /\/qemu\/\d+\/config$/, times: 1000, status: 500, message: 'VM 1 is locked (backup)' });
        await assert.rejects(d.create(uid, aVm({ template: { id: 9000 } }), opCtx(3n)), (e: Error) => e instanceof TransientError && e.reason === 'VMLocked');
        fake.faults.http.length = 0;
        assert.equal(fake.vmsTagged(tagOf(uid)).length, 0, 'untagged');
        const found = await d.find(uid);
        assert.ok(found, 'found by the description line');
        assert.equal(found.appliedGeneration, 0n);
        assert.equal((await d.create(uid, aVm({ template: { id: 9000 } }), opCtx(3n))).id, found.id, 'create adopts it instead of cloning again');
        await d.reconfigure(found, aVm({ template: { id: 9000 } }), opCtx(3n));
        assert.equal(fake.vmsTagged(tagOf(uid)).length, 1);
        assert.equal(fake.vms().filter((v) => (v.config.description ?? '').includes(uid)).length, 1, 'one clone');
        await d.destroy(found, opCtx());
      } finally {
        fake.faults.http.length = 0;
        await d.close();
      }
    });

    it('takes the next candidate VMID when one is held by a foreign VM or taken in a race', async () => {
      const range = { min: 500, max: 599 };
      const d = driverFor(fake, { vmidRange: range });
      try {
        const uid = newUid();
        const [c0, c1, c2] = candidateVmids(uid, range);
        fake.state.vms[c0!] = { vmid: c0!, node: 'pve1', config: { name: 'someone-elses', tags: 'prod' }, pending: {}, pendingDelete: [], running: false, startedAt: 0, snapshots: {}, acpi: true };
        // c1 is taken between the driver's listing and its create call.
        fake.faults.http.push({ method: 'POST', path: /^\/nodes\/[^/]+\/qemu$/, times: 1, status: 500, message: `unable to create VM ${c1} - VM ${c1} already exists on node 'pve2'` });
        const vm = await d.create(uid, aVm(), opCtx());
        assert.equal(vm.id, String(c2));
        assert.equal(fake.state.vms[c0!]!.config.name, 'someone-elses', 'the foreign VM untouched');
        assert.equal((await d.find(uid))?.id, String(c2));
        await d.destroy(vm, opCtx());
        delete fake.state.vms[c0!];
      } finally {
        fake.faults.http.length = 0;
        await d.close();
      }
    });

    it('the API restarting mid-task: the driver follows the same UPID to the end (state kept in the fake\'s state file)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pve-state-'));
      const restartable = await FakePve.start({ pace: { default: 10, qmclone: 900 }, stateFile: join(dir, 'state.json') });
      restartable.addTemplate({ vmid: 9000, node: 'pve1', name: 'tmpl' });
      const d = driverFor(restartable);
      try {
        const uid = newUid();
        const ctx = opCtx();
        const creating = d.create(uid, aVm({ template: { id: 9000 } }), ctx);
        await until(() => restartable.vms().find((v) => v.config.lock === 'clone'), 3000, 'clone running');
        await restartable.restart(400);
        const vm = await creating;
        assert.equal(restartable.vmsTagged(tagOf(uid)).length, 1);
        assert.equal(restartable.state.vms[vm.id]!.config.lock, undefined);
        assert.ok(restartable.state.vms[vm.id]!.config.scsi0, 'the clone finished after the restart');
        assert.ok(ctx.progress.calls.some(([p]) => p === 100));
        const upids = Object.values(restartable.state.tasks).filter((t) => t.type === 'qmclone');
        assert.equal(upids.length, 1, 'one clone task, followed across the restart');
      } finally {
        await d.close();
        await restartable.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('adopts an existing VM and releases it; fences by the recorded generation', async () => {
      const d = driverFor(fake);
      try {
        fake.state.vms[321] = { vmid: 321, node: 'pve2', config: { name: 'legacy', tags: 'team-x', cores: '1', memory: '512', description: 'hand made' }, pending: {}, pendingDelete: [], running: true, startedAt: Date.now(), snapshots: {}, acpi: true };
        const uid = newUid();
        const vm = await d.adopt(uid, '321', opCtx(2n));
        assert.equal(vm.appliedGeneration, 2n);
        assert.equal((await d.find(uid))?.id, '321');
        const recorded = await d.recordGeneration(vm, 5n, opCtx());
        assert.equal(recorded.appliedGeneration, 5n);
        assert.equal((await d.find(uid))?.appliedGeneration, 5n);
        const notLowered = await d.recordGeneration({ ...recorded, appliedGeneration: 0n } as typeof recorded, 3n, opCtx());
        assert.equal(notLowered.appliedGeneration, 3n);
        assert.equal((await d.find(uid))?.appliedGeneration, 5n, 'the stored generation never goes down');
        await assert.rejects(d.adopt(newUid(), '321', opCtx()), (e: Error) => e instanceof PermanentError && e.reason === 'AlreadyManaged');
        await assert.rejects(d.adopt(newUid(), '4321', opCtx()), (e: Error) => e instanceof PermanentError && e.reason === 'AdoptTargetNotFound');
        await d.release(vm, opCtx());
        assert.equal(await d.find(uid), undefined);
        assert.equal(fake.state.vms[321]!.config.tags, 'team-x', 'only our tags removed');
        assert.equal(fake.state.vms[321]!.running, true, 'left running');
        delete fake.state.vms[321];
      } finally {
        await d.close();
      }
    });

    it('opens a noVNC console ticket for the VM', async () => {
      const d = driverFor(fake);
      try {
        const vm = await d.create(newUid(), aVm(), opCtx());
        const c = await d.consoleTicket(vm);
        assert.equal(c.url, vm.consoleUrl);
        assert.match(c.ticket, /^PVEVNC:/);
        assert.ok(c.port >= 5900);
        await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });
  });

  describe('failures and contention', () => {
    it('a failed create task leaves nothing behind and is retryable; the next attempt creates the VM', async () => {
      const d = driverFor(fake);
      try {
        const uid = newUid();
        fake.faults.tasks.push({ type: 'qmcreate', times: 1, exitstatus: 'unable to create VM - storage backend failure' });
        await assert.rejects(d.create(uid, aVm(), opCtx()), (e: Error) => e instanceof TransientError && /storage backend failure/.test(e.message));
        assert.equal(await d.find(uid), undefined, 'PVE removed the half-made VM');
        const vm = await d.create(uid, aVm(), opCtx());
        assert.equal(fake.vmsTagged(tagOf(uid)).length, 1);
        await d.destroy(vm, opCtx());
      } finally {
        await d.close();
      }
    });

    it('two agent replicas working on one VM at once (snapshot, reconfigure, power) both finish: lock errors are retried', async () => {
      const contended = await FakePve.start({ pace: { default: 20, qmsnapshot: 300, qmconfig: 150 }, lockTimeoutMs: 100 });
      const a = driverFor(contended);
      const b = driverFor(contended);
      try {
        const uid = newUid();
        let vm = await a.create(uid, aVm({ cpus: 1 }), opCtx());
        vm = await a.setPower(vm, PowerState.ON, 0, opCtx());
        const vmB = (await b.find(uid))!;
        const [snap, reconf, power] = await Promise.all([
          a.snapshotCreate(vm, create(SnapshotCreateSchema, { snapshotUid: newUid(), name: 's1' }), opCtx()),
          b.reconfigure(vmB, aVm({ cpus: 2 }), opCtx()),
          (async () => {
            await sleep(30);
            return b.setPower(vmB, PowerState.OFF, 0, opCtx());
          })(),
        ]);
        assert.ok(snap.id);
        assert.ok(reconf.vm);
        assert.equal(power.powerState, PowerState.OFF);
        const locked = contended.requests.filter((r) => r.status === 500).length
          + Object.values(contended.state.tasks).filter((t) => /locked|can't lock file/.test(t.exitstatus ?? '')).length;
        assert.ok(locked > 0, 'the replicas really collided');
        assert.equal(contended.state.vms[vm.id]!.config.lock, undefined);
        assert.equal(contended.vmsTagged(tagOf(uid)).length, 1);
        assert.ok(Object.keys(contended.state.vms[vm.id]!.snapshots).length === 1);
      } finally {
        await a.close();
        await b.close();
        await contended.stop();
      }
    });

    it('parallel clones of one template with storage lock timeouts all finish, one VM each', async () => {
      const busy = await FakePve.start({ pace: { default: 10, qmclone: 30 }, storageLockHoldMs: 60, lockTimeoutMs: 80 });
      busy.addTemplate({ vmid: 9000, node: 'pve1', name: 'tmpl' });
      const d = driverFor(busy);
      try {
        const uids = Array.from({ length: 12 }, () => newUid());
        const vms = await Promise.all(uids.map((uid) => d.create(uid, aVm({ template: { id: 9000 } }), opCtx())));
        assert.equal(new Set(vms.map((v) => v.id)).size, 12);
        for (const uid of uids) assert.equal(busy.vmsTagged(tagOf(uid)).length, 1);
        const timedOut = Object.values(busy.state.tasks).filter((t) => /can't lock file '\/var\/lock\/pve-manager\/pve-storage-local-lvm' - got timeout/.test(t.exitstatus ?? ''));
        assert.ok(timedOut.length > 0, 'storage lock timeouts happened and were retried');
        assert.equal(busy.vms().length, 13, 'no leftovers of failed clones');
      } finally {
        await d.close();
        await busy.stop();
      }
    });

    it('a failed delete is retryable and never forgotten: the VM stays findable until a later delete succeeds', async () => {
      const d = driverFor(fake, { lockRetry: { budgetMs: 150, baseMs: 20, capMs: 50 } });
      try {
        const uid = newUid();
        let vm = await d.create(uid, aVm(), opCtx());
        vm = await d.setPower(vm, PowerState.ON, 0, opCtx());
        fake.faults.http.push({ method: 'DELETE', path: /^\/nodes\/[^/]+\/qemu\/\d+$/, times: 1000, status: 500, message: `VM ${vm.id} is locked (backup)` });
        await assert.rejects(d.destroy(vm, opCtx()), (e: Error) => e instanceof TransientError && e.reason === 'VMLocked');
        const still = await d.find(uid);
        assert.equal(still?.id, vm.id, 'still there, still ours');
        assert.equal(still?.powerState, PowerState.OFF, 'stopped first');
        fake.faults.http.length = 0;
        await d.destroy(still!, opCtx());
        assert.equal(await d.find(uid), undefined);
      } finally {
        fake.faults.http.length = 0;
        await d.close();
      }
    });

    it('bad parameters are refused permanently with PVE\'s message naming the parameter', async () => {
      const d = driverFor(fake);
      try {
        const bad = aVm({ networks: [create(NetworkSpecSchema, { network: 'vmbr0', vlan: 5000 })] });
        await assert.rejects(d.create(newUid(), bad, opCtx()), (e: Error) => e instanceof PermanentError && /net0/.test(e.message) && /4094/.test(e.message));
        assert.ok(fake.requests.some((r) => r.status === 400));
      } finally {
        await d.close();
      }
    });

    it('malformed replies become clear retryable errors (fuzzed), never crashes or "VM gone"', async () => {
      const d = driverFor(fake);
      const uid = newUid();
      const vm = await d.create(uid, aVm(), opCtx());
      try {
        // A proxy's error page: retried (reads are), then reported.
        fake.faults.corrupt.push({ path: /^\/cluster\/resources$/, times: 3, body: '<html>502 Bad Gateway</html>', contentType: 'text/html' });
        await assert.rejects(d.find(uid), (e: Error) => e instanceof TransientError && /expected JSON/.test(e.message));
        fake.faults.corrupt.push({ path: /^\/cluster\/resources$/, times: 1, body: '{"data":[{"type":"qemu","vmid":"x"}]}' });
        await assert.rejects(d.find(uid), (e: Error) => e instanceof TransientError && e.reason === 'MalformedReply' && /cluster\/resources/.test(e.message));
        await fc.assert(fc.asyncProperty(
          fc.oneof(fc.jsonValue().map((v) => JSON.stringify({ data: v })), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string()),
          fc.constantFrom(/^\/cluster\/resources$/, /\/snapshot$/, /\/status\/current$/, /\/tasks\/[^/]+\/status$/, /\/status\/(start|stop)$/),
          async (body, path) => {
            fake.faults.corrupt.length = 0;
            fake.faults.corrupt.push({ path, times: 1, body });
            try {
              const found = await d.find(uid);
              assert.ok(found, 'a garbled answer never makes the VM absent');
              const toggled = await d.setPower(found, found.powerState === PowerState.ON ? PowerState.OFF : PowerState.ON, 0, opCtx());
              assert.ok(toggled.id);
            } catch (err) {
              assert.ok(err instanceof TransientError || err instanceof PermanentError, `unexpected ${String(err)}`);
              assert.ok(!(err instanceof TypeError));
            }
          },
        ), { numRuns: 40 });
        fake.faults.corrupt.length = 0;
        assert.equal((await d.find(uid))?.id, vm.id);
      } finally {
        fake.faults.corrupt.length = 0;
        await d.destroy(vm, opCtx());
        await d.close();
      }
    });
  });
});
