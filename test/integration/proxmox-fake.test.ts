/**
 * The fake PVE API itself, over raw HTTPS: it must behave like PVE where the agent depends on it
 * (answer and error format, authentication, parameter verification, VMID races, locks, tasks,
 * pending changes, storage uploads), or the driver tests prove nothing.
 */
import { strict as assert } from 'node:assert';
import { Agent, request } from 'undici';
import { FakePve } from '../fakes/proxmox/server.ts';

interface Answer {
  status: number;
  reason: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

describe('fake PVE API', function () {
  this.timeout(20_000);
  let fake: FakePve;
  let dispatcher: Agent;
  let token: string;

  async function call(method: string, path: string, params: Record<string, string | number> = {}, headers: Record<string, string> = {}): Promise<Answer> {
    const form = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
    const body = method === 'POST' || method === 'PUT';
    const res = await request(`${fake.url}/api2/json${path}${!body && form ? `?${form}` : ''}`, {
      method: method as 'GET', dispatcher,
      headers: { authorization: token, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      ...(body ? { body: form } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, reason: res.statusText, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  async function task(upid: string): Promise<{ status: string; exitstatus?: string }> {
    const node = upid.split(':')[1]!;
    for (;;) {
      const r = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
      const d = (r.body as { data: { status: string; exitstatus?: string } }).data;
      if (d.status === 'stopped') return d;
      await new Promise((res) => setTimeout(res, 10));
    }
  }
  const data = <T>(a: Answer) => (a.body as { data: T }).data;

  before(async () => {
    fake = await FakePve.start({ pace: { default: 20, qmsnapshot: 200, qmconfig: 300 }, lockTimeoutMs: 100 });
    dispatcher = new Agent({ connect: { ca: fake.caPem } });
    token = `PVEAPIToken=${fake.token.id}=${fake.token.secret}`;
  });
  after(async () => {
    await dispatcher?.close();
    await fake?.stop();
  });

  it('answers {"data": …}; errors in the reason phrase with {"data":null}, and closes the connection', async () => {
    const v = await call('GET', '/version');
    assert.equal(v.status, 200);
    assert.match(data<{ version: string }>(v).version, /^9\.\d+\.\d+$/);
    const missing = await call('GET', '/nodes/pve1/qemu/4242/config');
    assert.equal(missing.status, 500);
    assert.equal(missing.reason, "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist");
    assert.deepEqual(missing.body, { data: null });
    assert.equal(missing.headers.connection, 'close');
    const unknown = await call('GET', '/nodes/pve1/nothing');
    assert.equal(unknown.status, 501);
  });

  it('verifies parameters: 400 "Parameter verification failed." with one error per parameter', async () => {
    const r = await call('POST', '/nodes/pve1/qemu', { vmid: 99, cores: 'two', net0: 'virtio,bridge=vmbr0,tag=5000', bogus: 1, tags: 'bad tag!' });
    assert.equal(r.status, 400);
    assert.equal(r.reason, 'Parameter verification failed.');
    const errors = (r.body as { errors: Record<string, string> }).errors;
    assert.match(errors.vmid!, /minimum value of 100/);
    assert.match(errors.cores!, /type check \('integer'\) failed - got 'two'/);
    assert.match(errors.net0!, /tag: value must have a maximum value of 4094/);
    assert.match(errors.bogus!, /property is not defined in schema/);
    assert.match(errors.tags!, /invalid characters in tag/);
  });

  it('authenticates tokens and tickets; CSRF token required on writes; expired tickets get 401', async () => {
    const noAuth = await call('GET', '/version', {}, { authorization: '' });
    assert.equal(noAuth.status, 401);
    const badToken = await call('GET', '/version', {}, { authorization: `PVEAPIToken=${fake.token.id}=wrong` });
    assert.equal(badToken.status, 401);
    const login = await call('POST', '/access/ticket', { username: fake.user.username, password: fake.user.password }, { authorization: '' });
    const t = data<{ ticket: string; CSRFPreventionToken: string }>(login);
    assert.match(t.ticket, /^PVE:root@pam:[0-9A-F]{8}::/);
    const cookie = `PVEAuthCookie=${encodeURIComponent(t.ticket)}`;
    assert.equal((await call('GET', '/nodes', {}, { authorization: '', cookie })).status, 200);
    const noCsrf = await call('POST', '/nodes/pve1/qemu', { vmid: 777 }, { authorization: '', cookie });
    assert.equal(noCsrf.status, 401);
    assert.equal(noCsrf.reason, 'Permission denied - invalid csrf token');
    const ok = await call('POST', '/nodes/pve1/qemu', { vmid: 777 }, { authorization: '', cookie, csrfpreventiontoken: t.CSRFPreventionToken });
    assert.equal((await task(data<string>(ok))).exitstatus, 'OK');
    fake.expireTickets();
    const expired = await call('GET', '/nodes', {}, { authorization: '', cookie });
    assert.equal(expired.status, 401);
    assert.equal(expired.reason, 'invalid PVE ticket');
    const wrong = await call('POST', '/access/ticket', { username: 'root@pam', password: 'nope' }, { authorization: '' });
    assert.equal(wrong.status, 401);
  });

  it('reserves a VMID at once (lock create, no tags until the task ends); a second create of it fails as PVE does', async () => {
    const upid = data<string>(await call('POST', '/nodes/pve2/qemu', { vmid: 800, tags: 'vr-uid-x', memory: 1024, scsi0: 'local-lvm:4', net0: 'virtio,bridge=vmbr0' }));
    assert.match(upid, /^UPID:pve2:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmcreate:800:root@pam:$/);
    const during = data<Array<{ vmid: number; lock?: string; tags?: string }>>(await call('GET', '/cluster/resources', { type: 'vm' })).find((v) => v.vmid === 800)!;
    assert.equal(during.lock, 'create');
    assert.equal(during.tags, undefined);
    const dup = await call('POST', '/nodes/pve1/qemu', { vmid: 800 });
    assert.equal(dup.status, 500);
    assert.equal(dup.reason, "unable to create VM 800 - VM 800 already exists on node 'pve2'");
    assert.equal((await task(upid)).exitstatus, 'OK');
    const after = data<Record<string, string>>(await call('GET', '/nodes/pve2/qemu/800/config'));
    assert.equal(after.tags, 'vr-uid-x');
    assert.match(after.scsi0!, /^local-lvm:vm-800-disk-0,size=4G$/);
    assert.match(after.net0!, /^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0$/);
    assert.match(after.digest!, /^[0-9a-f]{40}$/);
  });

  it('locks: a VM in a snapshot refuses changes ("is locked (snapshot)"); a lock file held too long fails the task', async () => {
    await task(data<string>(await call('POST', '/nodes/pve1/qemu', { vmid: 810, memory: 512 })));
    const snap = data<string>(await call('POST', '/nodes/pve1/qemu/810/snapshot', { snapname: 's1' }));
    await new Promise((r) => setTimeout(r, 50));
    const refused = await call('PUT', '/nodes/pve1/qemu/810/config', { cores: 2 });
    assert.equal(refused.status, 500);
    assert.equal(refused.reason, 'VM 810 is locked (snapshot)');
    // A start during the snapshot fails in its task, as qm start does on a locked VM.
    const start = data<string>(await call('POST', '/nodes/pve1/qemu/810/status/start'));
    assert.equal((await task(start)).exitstatus, 'VM 810 is locked (snapshot)');
    assert.equal((await task(snap)).exitstatus, 'OK');
    // A task holding the lock file longer than a synchronous call waits: "can't lock file … got timeout".
    const slow = data<string>(await call('POST', '/nodes/pve1/qemu/810/config', { description: 'slow' }));
    await new Promise((r) => setTimeout(r, 20));
    const waited = await call('PUT', '/nodes/pve1/qemu/810/config', { cores: 2 });
    assert.equal(waited.reason, "can't lock file '/var/lock/qemu-server/lock-810.conf' - got timeout");
    assert.equal((await task(slow)).exitstatus, 'OK');
    const snaps = data<Array<{ name: string }>>(await call('GET', '/nodes/pve1/qemu/810/snapshot'));
    assert.deepEqual(snaps.map((s) => s.name), ['s1', 'current']);
    const dupSnap = await call('POST', '/nodes/pve1/qemu/810/snapshot', { snapname: 's1' });
    assert.equal(dupSnap.reason, "snapshot name 's1' already used");
    const digest = data<{ digest: string }>(await call('GET', '/nodes/pve1/qemu/810/config')).digest;
    await call('PUT', '/nodes/pve1/qemu/810/config', { name: 'changed' });
    const stale = await call('PUT', '/nodes/pve1/qemu/810/config', { cores: 2, digest });
    assert.equal(stale.reason, 'detected modified configuration - file changed by other user? Try again.');
  });

  it('running VMs: hot-pluggable options change at once, the rest is pending until a cold start', async () => {
    await task(data<string>(await call('POST', '/nodes/pve3/qemu', { vmid: 820, memory: 1024, cores: 1, net0: 'virtio,bridge=vmbr0', agent: 1 })));
    await task(data<string>(await call('POST', '/nodes/pve3/qemu/820/status/start')));
    await task(data<string>(await call('POST', '/nodes/pve3/qemu/820/config', { cores: 2, net1: 'virtio,bridge=vmbr1,tag=7', description: 'x' })));
    const pending = data<Array<{ key: string; value?: string; pending?: string }>>(await call('GET', '/nodes/pve3/qemu/820/pending'));
    assert.deepEqual(pending.find((p) => p.key === 'cores'), { key: 'cores', value: '1', pending: '2' });
    assert.equal(pending.find((p) => p.key === 'net1')?.pending, undefined, 'network hot-plug is on by default');
    const ifaces = data<{ result: Array<{ name: string }> }>(await call('GET', '/nodes/pve3/qemu/820/agent/network-get-interfaces'));
    assert.deepEqual(ifaces.result.map((i) => i.name), ['lo', 'eth0', 'eth1']);
    const shrink = await call('PUT', '/nodes/pve3/qemu/820/resize', { disk: 'scsi0', size: '1G' });
    assert.equal(shrink.status, 500);
    await task(data<string>(await call('POST', '/nodes/pve3/qemu/820/status/stop')));
    await task(data<string>(await call('POST', '/nodes/pve3/qemu/820/status/start')));
    assert.equal(data<Record<string, string>>(await call('GET', '/nodes/pve3/qemu/820/config', { current: 1 })).cores, '2');
    const destroyRunning = await call('DELETE', '/nodes/pve3/qemu/820');
    assert.equal(destroyRunning.reason, 'VM 820 is running - destroy failed');
  });

  it('downloads and uploads into storage (iso/import content), refusing to overwrite; lists tasks by VM and state', async () => {
    const dl = data<string>(await call('POST', '/nodes/pve1/storage/local/download-url', { url: 'https://x.example/a.qcow2', content: 'import', filename: 'a b.qcow2' }));
    assert.equal((await task(dl)).exitstatus, 'OK');
    const content = data<Array<{ volid: string }>>(await call('GET', '/nodes/pve1/storage/local/content', { content: 'import' }));
    assert.ok(content.some((c) => c.volid === 'local:import/a_b.qcow2'), 'file name normalised');
    const again = await call('POST', '/nodes/pve1/storage/local/download-url', { url: 'https://x.example/a.qcow2', content: 'import', filename: 'a b.qcow2' });
    assert.equal(again.reason, "refusing to override existing file '/var/lib/vz/import/a_b.qcow2'");
    const wrongContent = await call('POST', '/nodes/pve1/storage/local-lvm/download-url', { url: 'https://x.example/a.iso', content: 'iso', filename: 'a.iso' });
    assert.equal(wrongContent.reason, "storage 'local-lvm' does not support content-type 'iso'");
    const boundary = 'XyZ';
    const form = Buffer.from([
      `--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\niso\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="filename"; filename="tiny.iso"\r\nContent-Type: application/octet-stream\r\n\r\n0123456789\r\n`,
      `--${boundary}--\r\n`,
    ].join(''));
    const up = await request(`${fake.url}/api2/json/nodes/pve2/storage/local/upload`, {
      method: 'POST', dispatcher, headers: { authorization: token, 'content-type': `multipart/form-data; boundary=${boundary}` }, body: form,
    });
    const upid = (JSON.parse(await up.body.text()) as { data: string }).data;
    assert.equal((await task(upid)).exitstatus, 'OK');
    const iso = data<Array<{ volid: string; size: number }>>(await call('GET', '/nodes/pve2/storage/local/content', { content: 'iso' }));
    assert.deepEqual(iso.find((v) => v.volid === 'local:iso/tiny.iso')?.size, 10);
    const active = data<unknown[]>(await call('GET', '/nodes/pve1/tasks', { source: 'active' }));
    assert.deepEqual(active, []);
    const byVm = data<Array<{ type: string }>>(await call('GET', '/nodes/pve1/tasks', { vmid: 810, source: 'all' }));
    assert.ok(byVm.some((t) => t.type === 'qmsnapshot'));
  });
});
