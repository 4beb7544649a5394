/**
 * The Proxmox driver's pure parts: identity on the VM, the desired VM as PVE options and the
 * changes to reach it, cloud-init mapping, error classification, settings and lock backoff.
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import {
  ClassSpecSchema, CloudInitSchema, DesiredVMSchema, DiskSpecSchema, Firmware, GpuSpecSchema, NetworkSpecSchema,
  type DesiredVM,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PROVIDER_CAPABILITIES, type ProviderFeature } from '../../api/capabilities.ts';
import { ConfigError } from '../../provider-agents/core/config.ts';
import { Credentials } from '../../provider-agents/core/connection.ts';
import { PermanentError, ShutdownError, TransientError } from '../../provider-agents/core/errors.ts';
import { cloudInitOptions, decodeSshKeys, encodeSshKeys, netplanToIpconfig } from '../../provider-agents/proxmox/cloud-init.ts';
import { loadProxmoxSettings } from '../../provider-agents/proxmox/config.ts';
import { authFrom, PROXMOX_CAPABILITIES } from '../../provider-agents/proxmox/driver.ts';
import { isLockError, PveApiError, PveTransportError, toAgentError } from '../../provider-agents/proxmox/errors.ts';
import {
  candidateVmids, describeWithUid, identityOf, snapshotDescription, snapshotIdentity, snapshotName, tagsWith, uidInDescription, uidTag, withoutUidLine,
} from '../../provider-agents/proxmox/identity.ts';
import { imageFile } from '../../provider-agents/proxmox/images.ts';
import { chooseNode, chooseStorage } from '../../provider-agents/proxmox/placement.ts';
import type { Resources } from '../../provider-agents/proxmox/parse.ts';
import { bootDiskKey, parseNic, parseSize, printNic } from '../../provider-agents/proxmox/props.ts';
import { lockBackoffMs, retryOnLock } from '../../provider-agents/proxmox/retry.ts';
import { normalizeFingerprint } from '../../provider-agents/proxmox/tls.ts';
import { createOnlyOptions, planConfig } from '../../provider-agents/proxmox/vm-spec.ts';

const UID = '6f1c2e4a-8b7d-4c3e-9a1f-0123456789ab';
const desired = (o: Partial<DesiredVM> & { cpus?: number; memoryMib?: bigint; cpuHotAdd?: boolean; memoryHotAdd?: boolean; extra?: Record<string, string> } = {}) =>
  create(DesiredVMSchema, {
    class: create(ClassSpecSchema, { cpus: o.cpus ?? 2, memoryMib: o.memoryMib ?? 2048n, cpuHotAdd: o.cpuHotAdd ?? false, memoryHotAdd: o.memoryHotAdd ?? false, extraConfig: o.extra ?? {} }),
    networks: o.networks ?? [],
    disks: o.disks ?? [],
    ...(o.cloudInit ? { cloudInit: o.cloudInit } : {}),
  });
const ctx = { bridge: 'vmbr0', storage: 'local-lvm' };
const text = (s: string) => new TextEncoder().encode(s);

describe('proxmox identity', () => {
  it('writes the uid and generation as PVE tags and reads them back, keeping foreign tags', () => {
    const tags = tagsWith(['prod', 'vr-gen-2', 'vr-uid-old'], UID, 5n, ['Team A']);
    assert.deepEqual(tags, [`vr-uid-${UID}`, 'vr-gen-5', 'team-a', 'prod']);
    assert.deepEqual(identityOf(tags), { uid: UID, generation: 5n });
    assert.deepEqual(tagsWith(tags, undefined, undefined), ['team-a', 'prod'], 'release drops only our tags');
    for (const t of tags) assert.match(t, /^[a-z0-9_][a-z0-9_+.-]*$/, 'PVE tag charset');
  });

  it('refuses a uid that cannot be a PVE tag', () => {
    assert.throws(() => uidTag('no spaces allowed'), PermanentError);
  });

  it('keeps the uid in the description for clones, next to the user\'s text', () => {
    const d = describeWithUid('web server\nowner: ops', UID);
    assert.equal(uidInDescription(d), UID);
    assert.equal(identityOf([], d).uid, UID);
    assert.equal(withoutUidLine(d), 'web server\nowner: ops');
    assert.equal(uidInDescription(describeWithUid(d, 'other')), 'other', 'one uid line only');
  });

  it('gives each uid a stable, spread sequence of distinct candidate VMIDs inside the range', () => {
    const a = candidateVmids(UID);
    assert.deepEqual(a, candidateVmids(UID));
    assert.equal(new Set(a).size, a.length);
    assert.ok(a.every((v) => v >= 100_000 && v <= 999_999));
    assert.notDeepEqual(a.slice(0, 3), candidateVmids('another-uid').slice(0, 3));
    const small = candidateVmids(UID, { min: 100, max: 109 });
    assert.deepEqual([...small].sort((x, y) => x - y), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109], 'a small range is covered whole');
  });

  it('names snapshots from the VMSnapshot uid (PVE configid, ≤ 40) and keeps the user\'s name in the description', () => {
    const name = snapshotName(UID, 'Before upgrade!');
    assert.match(name, /^[a-z][a-z0-9_-]{1,39}$/);
    assert.equal(snapshotName('', 'Before upgrade!'), 'before-upgrade-');
    assert.throws(() => snapshotName('', '!!'), PermanentError);
    const d = snapshotDescription('pre-change', UID, 'Before upgrade!');
    assert.deepEqual(snapshotIdentity(d), { snapshotUid: UID, name: 'Before upgrade!' });
  });
});

describe('proxmox property strings', () => {
  it('parses and prints NICs: model=MAC, bridge, VLAN tag, MTU, other options kept', () => {
    const n = parseNic('virtio=bc:24:11:aa:bb:cc,bridge=vmbr1,firewall=1,tag=20');
    assert.deepEqual({ model: n.model, mac: n.mac, bridge: n.bridge, tag: n.tag }, { model: 'virtio', mac: 'BC:24:11:AA:BB:CC', bridge: 'vmbr1', tag: 20 });
    assert.equal(printNic(n), 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr1,firewall=1,tag=20');
    assert.equal(parseNic('e1000,bridge=vmbr0').mac, undefined);
  });

  it('reads disk sizes and finds the boot disk from the boot order', () => {
    assert.equal(parseSize('32G'), 32 * 1024 ** 3);
    assert.equal(parseSize('512M'), 512 * 1024 ** 2);
    assert.equal(parseSize('junk'), undefined);
    assert.equal(bootDiskKey({ boot: 'order=ide2;virtio0;net0', ide2: 'local:iso/x.iso,media=cdrom', virtio0: 'local-lvm:vm-1-disk-0,size=8G' }), 'virtio0');
    assert.equal(bootDiskKey({ scsi0: 'local-lvm:vm-1-disk-0,size=8G' }), 'scsi0');
  });
});

describe('proxmox desired config', () => {
  it('hot-pluggable CPUs: cores is the ceiling, vcpus the count; a running raise within it only changes vcpus', () => {
    const plan = planConfig(desired({ cpus: 2, cpuHotAdd: true, memoryHotAdd: true }), {}, ctx);
    assert.equal(plan.set.cores, '4');
    assert.equal(plan.set.vcpus, '2');
    assert.equal(plan.set.numa, '1');
    assert.deepEqual(new Set(plan.set.hotplug!.split(',')), new Set(['network', 'disk', 'usb', 'cpu', 'memory']));
    const running = { cores: '4', sockets: '1', vcpus: '2', memory: '2048', numa: '1', hotplug: 'network,disk,usb,cpu,memory' };
    const more = planConfig(desired({ cpus: 3, cpuHotAdd: true, memoryHotAdd: true, memoryMib: 4096n }), running, ctx);
    assert.deepEqual(more.set, { vcpus: '3', memory: '4096' });
    assert.deepEqual(planConfig(desired({ cpus: 3, cpuHotAdd: true, memoryHotAdd: true, memoryMib: 4096n }), { ...running, vcpus: '3', memory: '4096' }, ctx).set, {});
  });

  it('without hot-add, cores follows the CPUs and a leftover vcpus is removed', () => {
    const plan = planConfig(desired({ cpus: 4 }), { cores: '2', sockets: '1', vcpus: '2', memory: '2048' }, ctx);
    assert.deepEqual(plan.set, { cores: '4' });
    assert.deepEqual(plan.delete, ['vcpus']);
  });

  it('NICs with VLAN tags: net<i> per network, MAC kept when unset, extra NICs removed', () => {
    const d = desired({
      networks: [
        create(NetworkSpecSchema, { network: 'vmbr0', vlan: 10 }),
        create(NetworkSpecSchema, { network: 'vmbr1', vlan: 20, model: 'e1000', macAddress: 'aa-bb-cc-dd-ee-ff', mtu: 9000 }),
      ],
    });
    const plan = planConfig(d, { net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0', net2: 'virtio,bridge=vmbr9', cores: '2', sockets: '1', memory: '2048' }, ctx);
    assert.equal(plan.set.net0, 'virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=10');
    assert.equal(plan.set.net1, 'e1000=AA:BB:CC:DD:EE:FF,bridge=vmbr1,mtu=9000,tag=20');
    assert.deepEqual(plan.delete, ['net2']);
  });

  it('disks: the first grows the boot disk (never shrinks), others are added where they belong', () => {
    const d = desired({
      disks: [
        create(DiskSpecSchema, { name: 'root', sizeGib: 40 }),
        create(DiskSpecSchema, { name: 'data', sizeGib: 100, type: 'ssd' }),
        create(DiskSpecSchema, { name: 'logs', sizeGib: 5, controller: 'virtio', unit: 2, storage: 'nfs-shared' }),
      ],
    });
    const config = { scsi0: 'local-lvm:vm-1-disk-0,size=20G', cores: '2', sockets: '1', memory: '2048' };
    const plan = planConfig(d, config, ctx);
    assert.deepEqual(plan.grow, [{ key: 'scsi0', sizeGiB: 40 }]);
    assert.equal(plan.set.scsi1, 'local-lvm:100,ssd=1,discard=on');
    assert.equal(plan.set.virtio2, 'nfs-shared:5');
    assert.deepEqual(planConfig(desired({ disks: [create(DiskSpecSchema, { name: 'root', sizeGib: 10 })] }), config, ctx).grow, [], 'never shrinks');
    assert.throws(() => planConfig(desired({ disks: [create(DiskSpecSchema, { name: 'x', sizeGib: 1 }), create(DiskSpecSchema, { name: 'y', sizeGib: 1, controller: 'ide2' })] }),
      { ...config, ide2: 'local:iso/a.iso,media=cdrom' }, ctx), PermanentError);
  });

  it('firmware, TPM, nested virtualisation and GPUs are creation options; extraConfig proxmox.* passes through, managed keys excepted', () => {
    const d = create(DesiredVMSchema, {
      class: create(ClassSpecSchema, {
        cpus: 2, memoryMib: 2048n, firmware: Firmware.UEFI, secureBoot: true, tpm: true, nestedVirtualization: true,
        gpus: [create(GpuSpecSchema, { model: 'a100', count: 2 })], extraConfig: { 'proxmox.ostype': 'win11', 'proxmox.cores': '8', 'proxmox.tags': 'x', 'vsphere.x': 'y' },
      }),
    });
    const o = createOnlyOptions(d, 'local-lvm');
    assert.equal(o.bios, 'ovmf');
    assert.equal(o.efidisk0, 'local-lvm:1,efitype=4m,pre-enrolled-keys=1');
    assert.equal(o.tpmstate0, 'local-lvm:1,version=v2.0');
    assert.equal(o.cpu, 'host');
    assert.equal(o.hostpci0, 'mapping=a100,pcie=1');
    assert.equal(o.hostpci1, 'mapping=a100,pcie=1');
    assert.equal(o.machine, 'q35');
    assert.equal(o.ostype, 'win11');
    assert.equal(o.tags, undefined);
    assert.equal(o.cores, undefined);
  });
});

describe('proxmox cloud-init', () => {
  it('static IPs become ipconfigN, DNS the nameserver, and a cloud-init drive is added', () => {
    const d = desired({
      networks: [
        create(NetworkSpecSchema, { network: 'vmbr0', ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1', dns: ['10.0.0.53'] }),
        create(NetworkSpecSchema, { network: 'vmbr1' }),
      ],
    });
    const plan = planConfig(d, { cores: '2', sockets: '1', memory: '2048', ide2: 'local:iso/x.iso,media=cdrom' }, ctx);
    assert.equal(plan.set.ipconfig0, 'ip=10.0.0.5/24,gw=10.0.0.1');
    assert.equal(plan.set.ipconfig1, 'ip=dhcp');
    assert.equal(plan.set.nameserver, '10.0.0.53');
    assert.equal(plan.set.ide0, 'local-lvm:cloudinit');
  });

  it('#cloud-config users and SSH keys become ciuser and URL-encoded sshkeys, as PVE stores them', () => {
    const ud = '#cloud-config\nhostname: web-1\nusers:\n  - name: ops\n    ssh_authorized_keys:\n      - ssh-ed25519 AAAAC3Nza ops@example\nssh_authorized_keys:\n  - ssh-rsa AAAAB3 root@x\npackage_upgrade: false\n';
    const ci = cloudInitOptions(desired({ cloudInit: create(CloudInitSchema, { userData: text(ud) }) }))!;
    assert.equal(ci.options.ciuser, 'ops');
    assert.equal(ci.options.ciupgrade, '0');
    assert.equal(ci.hostname, 'web-1');
    assert.match(ci.options.sshkeys!, /^[-%a-zA-Z0-9_.!~*'()]*$/, 'PVE urlencoded format');
    assert.deepEqual(decodeSshKeys(ci.options.sshkeys!), ['ssh-rsa AAAAB3 root@x', 'ssh-ed25519 AAAAC3Nza ops@example']);
    assert.equal(encodeSshKeys(['ssh-ed25519 A b']), 'ssh-ed25519%20A%20b%0A');
  });

  it('refuses user-data PVE cannot express, naming the keys and the cicustom way out; accepts it with a user snippet', () => {
    const ud = text('#cloud-config\npackages: [nginx]\nruncmd: [echo hi]\n');
    assert.throws(() => cloudInitOptions(desired({ cloudInit: create(CloudInitSchema, { userData: ud }) })),
      (e: Error) => e instanceof PermanentError && /packages, runcmd/.test(e.message) && /proxmox\.cicustom/.test(e.message));
    assert.throws(() => cloudInitOptions(desired({ cloudInit: create(CloudInitSchema, { userData: text('#!/bin/sh\necho hi\n') }) })), PermanentError);
    assert.throws(() => cloudInitOptions(desired({ cloudInit: create(CloudInitSchema, { ignition: text('{}') }) })), PermanentError);
    const ci = cloudInitOptions(desired({ cloudInit: create(CloudInitSchema, { userData: ud }), extra: { 'proxmox.cicustom': 'user=local:snippets/web.yaml' } }))!;
    assert.equal(ci.options.cicustom, 'user=local:snippets/web.yaml');
    assert.equal(ci.options.ciuser, undefined);
  });

  it('maps a network-config v2 (and v1) to ipconfigN lines and nameservers', () => {
    const v2 = 'version: 2\nethernets:\n  eth0:\n    addresses: [192.168.1.10/24]\n    routes: [{to: default, via: 192.168.1.1}]\n    nameservers: {addresses: [9.9.9.9], search: [example.com]}\n  eth1:\n    dhcp4: true\n';
    assert.deepEqual(netplanToIpconfig(v2), { ipconfig: ['ip=192.168.1.10/24,gw=192.168.1.1', 'ip=dhcp'], nameservers: ['9.9.9.9'], searchdomains: ['example.com'] });
    const v1 = 'version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: static, address: 10.1.1.5, netmask: 255.255.0.0, gateway: 10.1.0.1}]\n';
    assert.deepEqual(netplanToIpconfig(v1).ipconfig, ['ip=10.1.1.5/16,gw=10.1.0.1']);
    assert.throws(() => netplanToIpconfig('{{{'), PermanentError);
    const ci = cloudInitOptions(desired({ networks: [create(NetworkSpecSchema, {})], cloudInit: create(CloudInitSchema, { networkConfig: text(v2) }) }))!;
    assert.equal(ci.options.ipconfig0, 'ip=192.168.1.10/24,gw=192.168.1.1');
    assert.equal(ci.options.nameserver, '9.9.9.9');
    assert.equal(ci.options.searchdomain, 'example.com');
  });

  it('asks for nothing when the VM has no guest initialisation', () => {
    assert.equal(cloudInitOptions(desired({ networks: [create(NetworkSpecSchema, { network: 'vmbr0' })] })), undefined);
  });
});

describe('proxmox errors, placement, settings', () => {
  it('classifies PVE failures: 400 and impossible requests permanent; locks, 5xx, transport transient; aborts pass through', () => {
    const e400 = toAgentError(new PveApiError(400, 'Parameter verification failed.', 'POST /nodes/pve1/qemu', { net0: 'invalid format' }), 'creating VM x');
    assert.ok(e400 instanceof PermanentError);
    assert.match(e400.message, /net0: invalid format/);
    const lock = new PveApiError(500, 'VM 100 is locked (clone)', 'POST x');
    assert.ok(isLockError(lock));
    assert.ok(isLockError(new PveApiError(0, "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout", 'task')));
    assert.ok(!isLockError(new PveApiError(0, 'VM quit/powerdown failed - got timeout', 'task')), 'a shutdown timeout is not a lock');
    assert.equal((toAgentError(lock, 'x') as TransientError).reason, 'VMLocked');
    assert.ok(toAgentError(new PveApiError(500, "storage 'fast' does not exist", 'x'), 'x') instanceof PermanentError);
    assert.ok(toAgentError(new PveTransportError('ECONNREFUSED', 'GET /version'), 'x') instanceof TransientError);
    assert.equal((toAgentError(new PveApiError(401, 'invalid token value!', 'x'), 'x') as TransientError).reason, 'AuthenticationFailed');
    const stop = new ShutdownError();
    assert.equal(toAgentError(stop, 'x'), stop);
  });

  it('retries lock errors with jittered, growing pauses and gives up after the budget', async () => {
    const pauses = Array.from({ length: 200 }, () => lockBackoffMs(3, { baseMs: 200, capMs: 5000 }));
    assert.ok(pauses.every((p) => p >= 50 && p <= 1600));
    assert.ok(new Set(pauses).size > 50, 'jittered');
    assert.equal(lockBackoffMs(30, { baseMs: 200, capMs: 5000 }, () => 1), 5000);
    let calls = 0;
    const got = await retryOnLock(async () => {
      if (++calls < 3) throw new PveApiError(500, 'VM 100 is locked (snapshot)', 'x');
      return 'ok';
    }, { budgetMs: 5000, baseMs: 5, capMs: 10 });
    assert.equal(got, 'ok');
    calls = 0;
    await assert.rejects(retryOnLock(async () => {
      calls++;
      throw new PveApiError(500, 'VM 100 is locked (snapshot)', 'x');
    }, { budgetMs: 60, baseMs: 10, capMs: 20 }), /locked/);
    assert.ok(calls >= 2);
    await assert.rejects(retryOnLock(async () => {
      throw new PveApiError(500, 'other', 'x');
    }, { budgetMs: 60, baseMs: 10, capMs: 20 }), /other/);
  });

  it('places a VM on the named node, else the one with most free memory; storage by name or by room', () => {
    const res: Resources = {
      vms: [],
      nodes: [
        { node: 'a', online: true, maxmem: 64, mem: 60 },
        { node: 'b', online: true, maxmem: 64, mem: 10 },
        { node: 'c', online: false, maxmem: 512, mem: 0 },
      ],
      storages: [
        { node: 'b', storage: 'local', content: ['iso', 'import'], shared: false, active: true, avail: 900 },
        { node: 'b', storage: 'local-lvm', content: ['images'], shared: false, active: true, avail: 100 },
        { node: 'b', storage: 'nfs', content: ['images', 'iso'], shared: true, active: true, avail: 500 },
      ],
    };
    assert.equal(chooseNode(res, undefined), 'b');
    assert.equal(chooseNode(res, 'a'), 'a');
    assert.throws(() => chooseNode(res, 'zz'), PermanentError);
    assert.throws(() => chooseNode(res, 'c'), TransientError);
    assert.equal(chooseStorage(res, 'b', undefined, 'images'), 'nfs');
    assert.equal(chooseStorage(res, 'b', 'local-lvm', 'images'), 'local-lvm');
    assert.throws(() => chooseStorage(res, 'b', 'local', 'images'), /does not hold images/);
    assert.equal(chooseStorage(res, 'b', undefined, 'import'), 'local');
  });

  it('derives one storage file per image URL', () => {
    const a = imageFile({ url: 'https://cloud.example/jammy-server.img', format: '', checksum: '', checksumType: '', storage: '' } as never);
    assert.equal(a.content, 'import');
    assert.match(a.filename, /^jammy-server-[0-9a-f]{10}\.raw$/);
    assert.equal(imageFile({ url: 'https://x/debian.iso', format: '' } as never).content, 'iso');
    assert.throws(() => imageFile({ url: 'ftp://x/y.qcow2', format: '' } as never), PermanentError);
    assert.throws(() => imageFile({ url: 'https://x/y.vhdx', format: 'vhdx' } as never), PermanentError);
  });

  it('reads its settings, listing every problem; credentials pick token or ticket auth', () => {
    assert.deepEqual(loadProxmoxSettings({ PROXMOX_VMID_RANGE: '5000-5999', PROXMOX_BRIDGE: 'vmbr2', PROXMOX_LOCK_RETRY_BUDGET_S: '30' }),
      { vmidRange: { min: 5000, max: 5999 }, bridge: 'vmbr2', lockRetry: { budgetMs: 30_000 } });
    assert.throws(() => loadProxmoxSettings({ PROXMOX_VMID_RANGE: '5-6', PROXMOX_CONNECTIONS: 'lots' }),
      (e: unknown) => e instanceof ConfigError && e.problems.length === 2);
    assert.equal(authFrom(new Credentials({ token_id: 'root@pam!a', token_secret: 's' })).kind, 'token');
    assert.equal(authFrom(new Credentials({ username: 'root@pam', password: 'p' })).kind, 'ticket');
    assert.throws(() => authFrom(new Credentials({ token_id: 'root@pam!a' })), (e: unknown) => e instanceof ConfigError && /token_secret/.test(e.message));
    assert.throws(() => authFrom(new Credentials({})), ConfigError);
  });

  it('reports the features the proxmox row of api/capabilities.ts lists, no more, no less', () => {
    const row = PROVIDER_CAPABILITIES.proxmox;
    const features: ProviderFeature[] = ['secureBoot', 'tpm', 'nestedVirtualization', 'cpuHotAdd', 'memoryHotAdd', 'gpu', 'memorySnapshots', 'linkedClones', 'instantClones', 'onlineDiskExpansion'];
    const listed = features.filter((f) => (f === 'linkedClones' ? row.linkedClones !== 'none' : row[f]));
    assert.deepEqual([...PROXMOX_CAPABILITIES].sort(), listed.sort());
  });

  it('normalises pinned fingerprints', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(normalizeFingerprint('AB:'.repeat(31) + 'AB'), hex);
    assert.equal(normalizeFingerprint(`sha256:${hex}`), hex);
    assert.equal(normalizeFingerprint('abcd'), undefined);
  });
});
