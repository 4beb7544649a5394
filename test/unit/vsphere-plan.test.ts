/** The vSphere agent's pure planning: settings, cloud-init guestinfo, hardware, disks and NICs. */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClassSpecSchema, CloudInitSchema, DiskSpecSchema, Firmware, NetworkSpecSchema,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PROVIDER_CAPABILITIES } from '../../api/capabilities.ts';
import { ConfigError } from '../../provider-agents/core/config.ts';
import { PermanentError } from '../../provider-agents/core/errors.ts';
import { guestinfoFor, networkConfigFor, plannedMacs, stableMac } from '../../provider-agents/vsphere/cloud-init.ts';
import { loadVSphereSettings, sdkUrl } from '../../provider-agents/vsphere/config.ts';
import { parseController, planDisks } from '../../provider-agents/vsphere/disks.ts';
import { VSPHERE_CAPABILITIES } from '../../provider-agents/vsphere/driver.ts';
import { hardwareDelta, hardwareForCreate } from '../../provider-agents/vsphere/hardware.ts';
import { planNics } from '../../provider-agents/vsphere/nics.ts';
import { parseXml, child } from '../../provider-agents/vsphere/soap/xml.ts';
import { decodeDevices, emptyRecord, type Device } from '../../provider-agents/vsphere/vim/vm-record.ts';

/** Devices as vCenter reports them (a template with one disk on scsi0 and one vmxnet3 NIC). */
function templateDevices(extra = ''): Device[] {
  const xml = `<val xmlns:xsi="i"><VirtualDevice xsi:type="VirtualPCIController"><key>100</key><busNumber>0</busNumber></VirtualDevice>
    <VirtualDevice xsi:type="ParaVirtualSCSIController"><key>1000</key><controllerKey>100</controllerKey><unitNumber>3</unitNumber><busNumber>0</busNumber><sharedBus>noSharing</sharedBus></VirtualDevice>
    <VirtualDevice xsi:type="VirtualDisk"><key>2000</key><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] t/t.vmdk</fileName></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>16777216</capacityInKB><capacityInBytes>17179869184</capacityInBytes></VirtualDevice>
    <VirtualDevice xsi:type="VirtualVmxnet3"><key>4000</key><backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName><network type="Network">network-1</network></backing><controllerKey>100</controllerKey><unitNumber>7</unitNumber><addressType>generated</addressType><macAddress>00:50:56:aa:bb:cc</macAddress></VirtualDevice>${extra}</val>`;
  return decodeDevices(child(parseXml(xml), 'val'));
}

const keys = () => {
  let k = -100;
  return () => k--;
};

describe('vSphere agent settings', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vs-creds-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('turns a host name or URL into the SDK URL', () => {
    assert.equal(sdkUrl('vc.example.com').href, 'https://vc.example.com/sdk');
    assert.equal(sdkUrl('https://vc.example.com:8443').href, 'https://vc.example.com:8443/sdk');
    assert.equal(sdkUrl('https://vc.example.com/sdk').href, 'https://vc.example.com/sdk');
    assert.throws(() => sdkUrl('ftp://vc'), ConfigError);
  });

  it('reads the credential Secret (CA, thumbprint) and lists every problem at once, never a value', () => {
    writeFileSync(join(dir, 'username'), 'administrator@vsphere.local');
    writeFileSync(join(dir, 'password'), 's3cret-value');
    writeFileSync(join(dir, 'thumbprint'), 'AB:CD');
    const s = loadVSphereSettings({ AGENT_PROVIDER_ENDPOINT: 'vc.example.com', AGENT_CREDENTIALS_DIR: dir });
    assert.equal(s.url.href, 'https://vc.example.com/sdk');
    assert.equal(s.tls.thumbprint, 'AB:CD');
    assert.equal(s.tls.insecureSkipVerify, false);
    assert.equal(s.keepaliveMs, 300_000);
    rmSync(join(dir, 'password'));
    assert.throws(() => loadVSphereSettings({ AGENT_PROVIDER_ENDPOINT: 'vc', AGENT_CREDENTIALS_DIR: dir, VSPHERE_KEEPALIVE_S: 'soon' }), (e: unknown) =>
      e instanceof ConfigError && e.problems.length === 2 && /"password" is missing/.test(e.message) && /VSPHERE_KEEPALIVE_S/.test(e.message) && !e.message.includes('s3cret'));
  });

  it('claims the features of the vsphere row of the capability table (instant clones aside: the bus has no mode for them)', () => {
    const row = PROVIDER_CAPABILITIES.vsphere;
    const features = ['secureBoot', 'tpm', 'nestedVirtualization', 'cpuHotAdd', 'memoryHotAdd', 'gpu', 'memorySnapshots', 'onlineDiskExpansion'] as const;
    for (const f of features) assert.equal(VSPHERE_CAPABILITIES.includes(f), row[f], f);
    assert.equal(VSPHERE_CAPABILITIES.includes('linkedClones'), row.linkedClones !== 'none');
  });
});

describe('vSphere cloud-init through guestinfo', () => {
  it('writes user data and metadata base64-encoded, with instance-id and the network config inside the metadata', () => {
    const networks = [
      create(NetworkSpecSchema, { name: 'a', ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1', dns: ['1.1.1.1'] }),
      create(NetworkSpecSchema, { name: 'b' }),
      create(NetworkSpecSchema, { name: 'c', macAddress: '00-50-56-01-02-03' }),
    ];
    const macs = plannedMacs('uid-1', networks);
    assert.equal(macs[0], stableMac('uid-1', 0));
    assert.match(macs[0]!, /^00:50:56:[0-3][0-9a-f](:[0-9a-f]{2}){2}$/);
    assert.equal(macs[1], undefined);
    assert.equal(macs[2], '00:50:56:01:02:03');
    const ci = create(CloudInitSchema, { userData: new TextEncoder().encode('#cloud-config\nusers: []\n'), metaData: new TextEncoder().encode('local-hostname: web-1\n') });
    const entries = new Map(guestinfoFor('uid-1', ci, networks, macs));
    assert.equal(Buffer.from(entries.get('guestinfo.userdata')!, 'base64').toString(), '#cloud-config\nusers: []\n');
    assert.equal(entries.get('guestinfo.userdata.encoding'), 'base64');
    const meta = JSON.parse(Buffer.from(entries.get('guestinfo.metadata')!, 'base64').toString());
    assert.equal(meta['local-hostname'], 'web-1');
    assert.equal(meta['instance-id'], 'uid-1');
    assert.equal(meta['network.encoding'], 'base64');
    const net = JSON.parse(Buffer.from(meta.network, 'base64').toString());
    assert.deepEqual(net.ethernets.nic0, { match: { macaddress: macs[0] }, addresses: ['10.0.0.5/24'], routes: [{ to: 'default', via: '10.0.0.1' }], nameservers: { addresses: ['1.1.1.1'] } });
    assert.deepEqual(net.ethernets.nic2, { match: { macaddress: '00:50:56:01:02:03' }, dhcp4: true });
    assert.equal(net.ethernets.nic1, undefined, 'a NIC without a known MAC cannot be matched');
  });

  it('uses a given network config as is, writes nothing without cloud-init or static addresses, and refuses metadata that is not a mapping', () => {
    const given = create(CloudInitSchema, { networkConfig: new TextEncoder().encode('version: 2\n') });
    const meta = JSON.parse(Buffer.from(new Map(guestinfoFor('u', given, [], [])).get('guestinfo.metadata')!, 'base64').toString());
    assert.equal(Buffer.from(meta.network, 'base64').toString(), 'version: 2\n');
    assert.deepEqual(guestinfoFor('u', undefined, [create(NetworkSpecSchema, { name: 'dhcp' })], [undefined]), []);
    assert.equal(networkConfigFor([create(NetworkSpecSchema, { name: 'dhcp' })], [undefined]), undefined);
    assert.throws(() => guestinfoFor('u', create(CloudInitSchema, { metaData: new TextEncoder().encode('- a list') }), [], []), (e: unknown) => e instanceof PermanentError && e.reason === 'InvalidCloudInit');
  });
});

describe('vSphere hardware from the class', () => {
  it('sets CPU, memory, firmware, secure boot, hot-add and nesting on a new VM; refuses secure boot on BIOS', () => {
    const hw = hardwareForCreate(create(ClassSpecSchema, { cpus: 4, memoryMib: 8192n, firmware: Firmware.UEFI, secureBoot: true, cpuHotAdd: true, memoryHotAdd: true, nestedVirtualization: true }));
    assert.deepEqual(hw, { numCPUs: 4, memoryMB: 8192, cpuHotAddEnabled: true, memoryHotAddEnabled: true, firmware: 'efi', efiSecureBootEnabled: true, nestedHVEnabled: true });
    assert.throws(() => hardwareForCreate(create(ClassSpecSchema, { firmware: Firmware.BIOS, secureBoot: true })), (e: unknown) => e instanceof PermanentError);
  });

  it('changes a running VM live only where hot-add allows, and defers the rest to the next power-off', () => {
    const vm = { ...emptyRecord({ type: 'VirtualMachine', value: 'vm-1' }), numCPU: 2, memoryMB: 4096, cpuHotAdd: true, memoryHotAdd: false, firmware: 'bios', powerState: 'poweredOn' };
    const grow = hardwareDelta(vm, create(ClassSpecSchema, { cpus: 4, memoryMib: 8192n, cpuHotAdd: true }));
    assert.deepEqual(grow.fields, { numCPUs: 4 });
    assert.equal(grow.deferred.length, 1);
    assert.match(grow.deferred[0]!, /8192 MiB memory once the VM is off \(memory hot-add is off\)/);
    const shrink = hardwareDelta(vm, create(ClassSpecSchema, { cpus: 1, memoryMib: 4096n, cpuHotAdd: true, firmware: Firmware.UEFI }));
    assert.deepEqual(shrink.fields, {});
    assert.deepEqual(shrink.deferred.map((d) => d.split(' ')[0]), ['firmware', '1']);
    const off = hardwareDelta({ ...vm, powerState: 'poweredOff' }, create(ClassSpecSchema, { cpus: 1, memoryMib: 2048n, firmware: Firmware.UEFI, memoryHotAdd: true }));
    assert.deepEqual(off.fields, { firmware: 'efi', cpuHotAddEnabled: false, memoryHotAddEnabled: true, numCPUs: 1, memoryMB: 2048 });
  });
});

describe('vSphere disks', () => {
  const plan = (desired: ReturnType<typeof create<typeof DiskSpecSchema>>[], devices = templateDevices(), extraConfig = new Map<string, string>(), poweredOn = false) =>
    planDisks({ devices, extraConfig, desired, defaultType: 'thin', poweredOn, datastoreOf: () => undefined, nextKey: keys() });

  it('parses controller requests', () => {
    assert.deepEqual(parseController('scsi1', 'd'), { bus: 1, kind: undefined });
    assert.deepEqual(parseController('lsilogic', 'd'), { bus: undefined, kind: 'lsilogic' });
    assert.deepEqual(parseController('scsi2:lsilogic-sas', 'd'), { bus: 2, kind: 'lsilogic-sas' });
    assert.deepEqual(parseController('nvme0', 'd'), { bus: 0, kind: 'nvme' });
    assert.deepEqual(parseController('', 'd'), { bus: undefined, kind: undefined });
    assert.throws(() => parseController('scsi7', 'd'), /beyond 3/);
    assert.throws(() => parseController('ide0', 'd'), /not scsi<0-3>/);
  });

  it('adds a disk on a new controller bus and records its address with it', () => {
    const p = plan([create(DiskSpecSchema, { name: 'data', sizeGib: 10, controller: 'scsi1' })]);
    assert.equal(p.changes.length, 2);
    const ctrl = p.changes[0]!.device as Record<string, unknown>;
    assert.equal(ctrl['@_xsi:type'], 'ParaVirtualSCSIController');
    assert.equal(ctrl.busNumber, 1);
    const disk = p.changes[1]!.device as Record<string, unknown>;
    assert.equal(disk.controllerKey, ctrl.key);
    assert.equal(disk.unitNumber, 0);
    assert.equal(p.changes[1]!.fileOperation, 'create');
    assert.deepEqual(p.extraConfig, [['virtrigaud.disk.data', 'scsi1:0']]);
  });

  it('picks the first free unit on an existing controller (never 7) and honours an asked unit', () => {
    const p = plan([create(DiskSpecSchema, { name: 'a', sizeGib: 1, controller: 'scsi0' }), create(DiskSpecSchema, { name: 'b', sizeGib: 1, controller: 'pvscsi', unit: 9 })]);
    assert.deepEqual(p.extraConfig, [['virtrigaud.disk.a', 'scsi0:1'], ['virtrigaud.disk.b', 'scsi0:9']]);
    assert.throws(() => plan([create(DiskSpecSchema, { name: 'x', sizeGib: 1, controller: 'scsi0', unit: 7 })]), /unit 7 on pvscsi bus 0 is taken/);
    assert.throws(() => plan([create(DiskSpecSchema, { name: 'x', sizeGib: 1, controller: 'scsi0:lsilogic' })]), /bus 0 is a pvscsi controller, not lsilogic/);
  });

  it('grows a recorded disk (and root), never shrinks, and defers an offline growth of a running VM', () => {
    const devices = templateDevices('<VirtualDevice xsi:type="VirtualDisk"><key>2001</key><controllerKey>1000</controllerKey><unitNumber>1</unitNumber><capacityInKB>1048576</capacityInKB></VirtualDevice>');
    const recorded = new Map([['virtrigaud.disk.data', 'scsi0:1']]);
    const grow = plan([create(DiskSpecSchema, { name: 'data', sizeGib: 5 }), create(DiskSpecSchema, { name: 'root', sizeGib: 32 })], devices, recorded);
    assert.equal(grow.changes.length, 2);
    assert.deepEqual(grow.changes.map((c) => [c.operation, (c.device as Record<string, unknown>).key, (c.device as Record<string, unknown>).capacityInKB]), [['edit', '2001', '5242880'], ['edit', '2000', '33554432']]);
    assert.deepEqual(plan([create(DiskSpecSchema, { name: 'data', sizeGib: 1 })], devices, recorded).changes, []);
    const running = plan([create(DiskSpecSchema, { name: 'data', sizeGib: 5 })], devices, recorded, true);
    assert.deepEqual(running.changes, []);
    assert.match(running.deferred[0]!, /disk data: grows to 5 GiB once the VM is off/);
    const online = plan([create(DiskSpecSchema, { name: 'data', sizeGib: 5, expandPolicy: 'Online' })], devices, recorded, true);
    assert.equal(online.changes.length, 1);
  });
});

describe('vSphere NICs', () => {
  const std = { kind: 'network' as const, name: 'VM Network', network: { type: 'Network', value: 'network-1' } };
  const dv = { kind: 'dvportgroup' as const, switchUuid: 'u-1', portgroupKey: 'dvportgroup-9' };

  it('keeps an adapter already on the right network, re-backs it otherwise, adds the missing ones', () => {
    const same = planNics(templateDevices(), [create(NetworkSpecSchema, { name: 'a' })], [std], [undefined], keys());
    assert.deepEqual(same.changes, []);
    const p = planNics(templateDevices(), [create(NetworkSpecSchema, { name: 'a' }), create(NetworkSpecSchema, { name: 'b', model: 'e1000e' })], [dv, std], [undefined, '00:50:56:00:00:09'], keys());
    assert.deepEqual(p.changes.map((c) => [c.operation, (c.device as Record<string, unknown>)['@_xsi:type']]), [['edit', 'VirtualVmxnet3'], ['add', 'VirtualE1000e']]);
    const edited = p.changes[0]!.device as Record<string, Record<string, unknown>>;
    assert.deepEqual(edited.backing, { '@_xsi:type': 'VirtualEthernetCardDistributedVirtualPortBackingInfo', port: { switchUuid: 'u-1', portgroupKey: 'dvportgroup-9' } });
    const added = p.changes[1]!.device as Record<string, unknown>;
    assert.equal(added.addressType, 'manual');
    assert.equal(added.macAddress, '00:50:56:00:00:09');
  });

  it('replaces an adapter of another model and removes surplus ones; an empty list keeps the template\'s', () => {
    const p = planNics(templateDevices(), [create(NetworkSpecSchema, { name: 'a', model: 'e1000' })], [undefined], [undefined], keys());
    assert.deepEqual(p.changes.map((c) => c.operation), ['remove', 'add']);
    const fewer = planNics(templateDevices('<VirtualDevice xsi:type="VirtualE1000"><key>4001</key><controllerKey>100</controllerKey><unitNumber>8</unitNumber></VirtualDevice>'), [create(NetworkSpecSchema, { name: 'a' })], [undefined], [undefined], keys());
    assert.deepEqual(fewer.changes.map((c) => [c.operation, (c.device as Record<string, unknown>).key]), [['remove', '4001']]);
    assert.deepEqual(planNics(templateDevices(), [], [], [], keys()).changes, []);
    assert.throws(() => planNics(templateDevices(), [create(NetworkSpecSchema, { name: 'a', model: 'rtl8139' })], [std], [undefined], keys()), /not one vSphere offers/);
  });
});
