/**
 * The checks of PVE answers: documented shapes are read (PVE's loose booleans and numeric strings
 * included); anything else — fuzzed with fast-check — is a MalformedReplyError (retryable, names the
 * call), never a TypeError and never an empty answer that could be taken for "no such VM".
 */
import fc from 'fast-check';
import { strict as assert } from 'node:assert';
import { TransientError } from '../../provider-agents/core/errors.ts';
import {
  MalformedReplyError, parseAgentAddresses, parseConfig, parsePending, parseResources, parseSnapshots, parseStorageContent, parseTaskList,
  parseTaskLog, parseTaskStatus, parseUpid, parseVersion, parseVmStatus, parseVncProxy, upidNode,
} from '../../provider-agents/proxmox/parse.ts';

const UPID = 'UPID:pve1:00001F40:0000DAC0:674A1B2C:qmclone:9000:root@pam:';

describe('proxmox reply parsing', () => {
  it('reads /cluster/resources: qemu guests (tags, lock, template as 0/1), nodes and storages; skips other types', () => {
    const res = parseResources([
      { id: 'qemu/100', type: 'qemu', vmid: 100, node: 'pve1', name: 'a', status: 'running', template: 0, tags: 'vr-uid-x;prod', lock: 'clone', maxcpu: 2, maxmem: 2147483648 },
      { id: 'qemu/101', type: 'qemu', vmid: '101', node: 'pve2', template: '1' },
      { id: 'lxc/200', type: 'lxc', vmid: 200, node: 'pve1' },
      { id: 'node/pve1', type: 'node', node: 'pve1', status: 'online', maxmem: 100, mem: 40 },
      { id: 'storage/pve1/local-lvm', type: 'storage', node: 'pve1', storage: 'local-lvm', content: 'images,rootdir', shared: 0, status: 'available', maxdisk: 1000, disk: 200 },
      { id: 'sdn/pve1/localnetwork', type: 'sdn', node: 'pve1' },
    ]);
    assert.deepEqual(res.vms.map((v) => [v.vmid, v.node, v.template, v.tags, v.lock]), [[100, 'pve1', false, ['vr-uid-x', 'prod'], 'clone'], [101, 'pve2', true, [], undefined]]);
    assert.deepEqual(res.nodes, [{ node: 'pve1', online: true, maxmem: 100, mem: 40 }]);
    assert.deepEqual(res.storages, [{ node: 'pve1', storage: 'local-lvm', content: ['images', 'rootdir'], shared: false, active: true, avail: 800 }]);
  });

  it('refuses a resource list with a broken guest instead of skipping it (a skipped VM would look deleted)', () => {
    assert.throws(() => parseResources([{ type: 'qemu', node: 'pve1' }]), MalformedReplyError);
    assert.throws(() => parseResources([{ type: 'qemu', vmid: 'abc', node: 'pve1' }]), /vmid/);
    assert.throws(() => parseResources({ data: [] }), /list/);
    assert.throws(() => parseResources(null), MalformedReplyError);
  });

  it('reads task status, log, list and UPIDs', () => {
    assert.deepEqual(parseTaskStatus({ status: 'stopped', exitstatus: 'OK', type: 'qmclone' }, 'x'), { running: false, exitstatus: 'OK', type: 'qmclone' });
    assert.throws(() => parseTaskStatus({ status: 'done' }, 'x'), /running or stopped/);
    assert.deepEqual(parseTaskLog([{ n: 1, t: 'a' }, { n: 2 }], 'x'), [{ n: 1, t: 'a' }, { n: 2, t: '' }]);
    assert.equal(parseUpid(UPID, 'x'), UPID);
    assert.equal(upidNode(UPID), 'pve1');
    assert.equal(parseUpid(null, 'x'), undefined, 'a call that finished synchronously');
    assert.throws(() => parseUpid('OK', 'x'), /UPID/);
    assert.equal(parseTaskList([{ upid: UPID, type: 'qmclone', status: 'OK' }], 'x')[0]!.type, 'qmclone');
  });

  it('reads configs (numbers as strings), pending changes, status, snapshots without "current"', () => {
    assert.deepEqual(parseConfig({ cores: 2, name: 'a', numa: true, digest: 'ab' }, 'x'), { cores: '2', name: 'a', numa: '1', digest: 'ab' });
    assert.throws(() => parseConfig({ net0: { model: 'virtio' } }, 'x'), /net0/);
    assert.deepEqual(parsePending([{ key: 'cores', value: '2', pending: '4' }, { key: 'net1', delete: 1 }], 'x').map((p) => [p.key, p.pending, p.delete]), [['cores', '4', false], ['net1', undefined, true]]);
    const st = parseVmStatus({ status: 'running', tags: 'a;b', cpus: 2, maxmem: 1024, name: 'vm' }, 'x');
    assert.deepEqual([st.status, st.tags, st.cpus], ['running', ['a', 'b'], 2]);
    const snaps = parseSnapshots([{ name: 's1', description: 'd', snaptime: 1700000000, vmstate: 1 }, { name: 'current', description: 'You are here!' }], 'x');
    assert.deepEqual(snaps.map((s) => [s.name, s.vmstate, s.snaptime]), [['s1', true, 1700000000]]);
  });

  it('reads guest-agent addresses without loopback and link-local ones', () => {
    const ips = parseAgentAddresses({
      result: [
        { name: 'lo', 'ip-addresses': [{ 'ip-address': '127.0.0.1' }] },
        { name: 'eth0', 'ip-addresses': [{ 'ip-address': '10.0.0.5' }, { 'ip-address': 'fe80::1' }, { 'ip-address': '2001:db8::5' }] },
        { name: 'eth1' },
      ],
    }, 'x');
    assert.deepEqual(ips, ['10.0.0.5', '2001:db8::5']);
  });

  it('turns any malformed answer into a MalformedReplyError naming the call, for every parser (fuzzed)', () => {
    const parsers: Array<[string, (d: unknown) => unknown]> = [
      ['resources', (d) => parseResources(d, 'GET /cluster/resources')],
      ['config', (d) => parseConfig(d, 'GET config')],
      ['pending', (d) => parsePending(d, 'GET pending')],
      ['status', (d) => parseVmStatus(d, 'GET status')],
      ['snapshots', (d) => parseSnapshots(d, 'GET snapshot')],
      ['task', (d) => parseTaskStatus(d, 'GET task')],
      ['log', (d) => parseTaskLog(d, 'GET log')],
      ['tasks', (d) => parseTaskList(d, 'GET tasks')],
      ['upid', (d) => parseUpid(d, 'POST x')],
      ['version', (d) => parseVersion(d)],
      ['agent', (d) => parseAgentAddresses(d, 'GET agent')],
      ['content', (d) => parseStorageContent(d, 'GET content')],
      ['vnc', (d) => parseVncProxy(d, 'POST vncproxy')],
    ];
    // Shapes near the real ones (right keys, wrong types) as well as arbitrary JSON.
    const key = fc.constantFrom('type', 'vmid', 'node', 'status', 'tags', 'template', 'name', 'key', 'n', 't', 'upid', 'version', 'result', 'ip-addresses', 'ip-address', 'volid', 'port', 'ticket', 'snaptime', 'vmstate', 'exitstatus', 'maxmem');
    const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.constantFrom('qemu', 'node', 'storage', 'running', 'stopped', UPID, '1', '0'));
    const near = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('obj'), tie('arr')),
      obj: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
      arr: fc.array(tie('value'), { maxLength: 4 }),
    })).value;
    fc.assert(fc.property(fc.oneof(near, fc.jsonValue()), fc.constantFrom(...parsers), (data, [, parse]) => {
      try {
        parse(data);
      } catch (err) {
        assert.ok(err instanceof MalformedReplyError, `${String(err)}`);
        assert.ok(err instanceof TransientError);
        assert.equal(err.reason, 'MalformedReply');
      }
    }), { numRuns: 3000 });
  });
});
