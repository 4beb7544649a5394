/** Resolving a VM's desired state: tables per part, asserting the field that carries the rule. */
import { strict as assert } from 'node:assert';
import { ANNOTATION_ADOPT_ID } from '../../api/objects.ts';
import { quantityToMiB } from '../../dispatcher/resolve/quantity.ts';
import { durationSeconds } from '../../dispatcher/resolve/power.ts';
import { resolveDesired } from '../../dispatcher/resolve/resolve.ts';
import type { Resolution } from '../../dispatcher/resolve/types.ts';
import { dependenciesOf } from '../../dispatcher/resolve/dependencies.ts';
import { multipart } from '../../dispatcher/resolve/cloud-init.ts';
import { Firmware, PowerState, type DesiredVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import {
  aNetwork, aProvider, aVM, aVMClass, aVMImage, defaultLookup, lookupOf, NS, secretsOf, type Overrides,
} from '../support/dispatcher-fixtures.ts';
import type { Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment } from '../../api/objects.ts';

const noSecrets = secretsOf({});
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

function resolved(r: Resolution): DesiredVM {
  if (r.kind !== 'resolved') assert.fail(`expected resolved, got ${JSON.stringify(r)}`);
  return (r as Extract<Resolution, { kind: 'resolved' }>).desired;
}

interface World {
  vm?: Overrides<VirtualMachine>;
  provider?: Overrides<Provider>;
  vmClass?: Overrides<VMClass>;
  image?: Overrides<VMImage>;
  network?: Overrides<VMNetworkAttachment>;
}

function resolveIn(w: World, secrets = noSecrets): Promise<Resolution> {
  return resolveDesired(
    aVM(w.vm),
    lookupOf({ providers: [aProvider(w.provider)], classes: [aVMClass(w.vmClass)], images: [aVMImage(w.image)], networks: [aNetwork(w.network)] }),
    secrets,
  );
}

describe('dispatcher resolve: quantities and durations', () => {
  const table: Array<[number | string, number | undefined]> = [
    ['4Gi', 4096], ['512Mi', 512], ['1.5Gi', 1536], ['4G', 3814], ['1Ti', 1048576], [4294967296, 4096],
    ['2048Ki', 2], ['1e9', 953], ['abc', undefined], ['4 Gi', undefined], ['', undefined],
  ];
  for (const [q, mib] of table) {
    it(`memory ${JSON.stringify(q)} is ${mib === undefined ? 'not a quantity' : `${mib} MiB`}`, () => {
      assert.equal(quantityToMiB(q), mib);
    });
  }
  const durations: Array<[string, number | undefined]> = [['90s', 90], ['2m', 120], ['1m30s', 90], ['1h', 3600], ['500ms', 0.5], ['90', undefined], ['soon', undefined]];
  for (const [d, s] of durations) {
    it(`duration "${d}" is ${s === undefined ? 'refused' : `${s} s`}`, () => assert.equal(durationSeconds(d), s));
  }
});

describe('dispatcher resolve: class', () => {
  it('takes CPUs and memory (quantity → MiB) from the VMClass', async () => {
    const d = resolved(await resolveIn({ vmClass: { spec: { cpu: 4, memory: '8Gi' } } }));
    assert.equal(d.class?.cpus, 4);
    assert.equal(d.class?.memoryMib, 8192n);
    assert.equal(d.class?.name, 'small');
  });

  it('lets spec.resources override the class CPUs and memory', async () => {
    const d = resolved(await resolveIn({ vm: { spec: { resources: { cpu: 8, memoryMiB: 1024 } } } }));
    assert.equal(d.class?.cpus, 8);
    assert.equal(d.class?.memoryMib, 1024n);
  });

  const firmware: Array<[string | undefined, Firmware]> = [[undefined, Firmware.BIOS], ['BIOS', Firmware.BIOS], ['UEFI', Firmware.UEFI], ['EFI', Firmware.UEFI]];
  for (const [fw, want] of firmware) {
    it(`firmware ${fw ?? '(unset)'} → ${Firmware[want]}`, async () => {
      const d = resolved(await resolveIn({ vmClass: { spec: { firmware: fw } } }));
      assert.equal(d.class?.firmware, want);
    });
  }

  it('carries secure boot, TPM, nested virtualization, hot-add and extraConfig', async () => {
    const d = resolved(await resolveIn({
      vmClass: {
        spec: {
          firmware: 'UEFI',
          securityProfile: { secureBoot: true, tpmEnabled: true, tpmVersion: '2.0' },
          performanceProfile: { nestedVirtualization: true, cpuHotAddEnabled: true, memoryHotAddEnabled: true },
          extraConfig: { 'tools.syncTime': 'true' },
          diskDefaults: { type: 'thick' },
        },
      },
    }));
    assert.deepEqual(
      { secureBoot: d.class?.secureBoot, tpm: d.class?.tpm, nested: d.class?.nestedVirtualization, cpuHot: d.class?.cpuHotAdd, memHot: d.class?.memoryHotAdd, disk: d.class?.diskType, extra: d.class?.extraConfig },
      { secureBoot: true, tpm: true, nested: true, cpuHot: true, memHot: true, disk: 'thick', extra: { 'tools.syncTime': 'true' } },
    );
  });

  it('refuses a class memory that is not a quantity (InvalidSpec naming the class)', async () => {
    const r = await resolveIn({ vmClass: { spec: { memory: 'lots' } } });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { problems: string[] }).problems[0]!, /VMClass small: memory "lots" is not a quantity/);
  });

  it('refuses memory below 128 MiB', async () => {
    const r = await resolveIn({ vmClass: { spec: { memory: '64Mi' } } });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { problems: string[] }).problems[0]!, /at least 128 MiB/);
  });
});

describe('dispatcher resolve: image', () => {
  it('libvirt url → DiskImageUrl with format, checksum and storage pool', async () => {
    const d = resolved(await resolveIn({ image: { spec: { source: { libvirt: { url: 'https://x/y.qcow2', format: 'raw', checksum: 'abc', storagePool: 'pool1' } } } } }));
    assert.equal(d.image?.source.case, 'url');
    assert.deepEqual(d.image?.source.case === 'url' && {
      url: d.image.source.value.url, format: d.image.source.value.format, checksum: d.image.source.value.checksum,
      checksumType: d.image.source.value.checksumType, storage: d.image.source.value.storage,
    }, { url: 'https://x/y.qcow2', format: 'raw', checksum: 'abc', checksumType: 'sha256', storage: 'pool1' });
  });

  it('libvirt path → a file:// URL', async () => {
    const d = resolved(await resolveIn({ image: { spec: { source: { libvirt: { url: undefined, path: '/var/lib/libvirt/images/base.qcow2' } } } } }));
    assert.equal(d.image?.source.case === 'url' && d.image.source.value.url, 'file:///var/lib/libvirt/images/base.qcow2');
  });

  it('vsphere templateName → VSphereTemplate for a vsphere provider', async () => {
    const d = resolved(await resolveIn({ provider: { spec: { type: 'vsphere' } }, image: { spec: { source: { libvirt: undefined, vsphere: { templateName: 'ubuntu-22' } } } }, network: { spec: { network: { libvirt: undefined, vsphere: { portgroup: 'VM Network' } } } } }));
    assert.equal(d.image?.source.case, 'vsphereTemplate');
    assert.equal(d.image?.source.case === 'vsphereTemplate' && d.image.source.value.templateName, 'ubuntu-22');
  });

  it('proxmox templateID → ProxmoxTemplate (full clone by default)', async () => {
    const d = resolved(await resolveIn({ provider: { spec: { type: 'proxmox' } }, image: { spec: { source: { libvirt: undefined, proxmox: { templateID: 9000, node: 'pve1' } } } } }));
    assert.deepEqual(d.image?.source.case === 'proxmoxTemplate' && [d.image.source.value.templateId, d.image.source.value.node, d.image.source.value.fullClone], [9000, 'pve1', true]);
  });

  it('refuses a vsphere image for a libvirt provider', async () => {
    const r = await resolveIn({ image: { spec: { source: { libvirt: undefined, vsphere: { templateName: 't' } } } } });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { problems: string[] }).problems.join(), /VMImage ubuntu: a vsphere image cannot be used by a libvirt provider/);
  });

  it('refuses a registry image (not supported yet) naming the source', async () => {
    const r = await resolveIn({ image: { spec: { source: { libvirt: undefined, registry: { image: 'repo/img:1' } } } } });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { problems: string[] }).problems.join(), /registry source is not supported yet/);
  });

  it('importedDisk → ExistingDisk without any VMImage', async () => {
    const vm = aVM({ spec: { imageRef: undefined, importedDisk: { diskID: 'vol-1', path: '/p/vol-1.qcow2' } } });
    const d = resolved(await resolveDesired(vm, lookupOf({ providers: [aProvider()], classes: [aVMClass()] }), noSecrets));
    assert.deepEqual(d.image?.source.case === 'existingDisk' && [d.image.source.value.diskId, d.image.source.value.path, d.image.source.value.format], ['vol-1', '/p/vol-1.qcow2', 'qcow2']);
  });
});

describe('dispatcher resolve: networks, disks, placement, power, tags, adoption', () => {
  it('a libvirt network attachment gives the network name; the VM gives the static address', async () => {
    const d = resolved(await resolveIn({
      vm: { spec: { networks: [{ name: 'eth0', networkRef: { name: 'lan' }, ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1', dns: '1.1.1.1, 8.8.8.8', macAddress: '52:54:00:00:00:01' }] } },
    }));
    const n = d.networks[0]!;
    assert.deepEqual(
      { name: n.name, network: n.network, kind: n.kind, model: n.model, ip: n.ipAddress, prefix: n.prefix, gw: n.gateway, dns: n.dns, mac: n.macAddress },
      { name: 'eth0', network: 'default', kind: 'network', model: 'virtio', ip: '10.0.0.5', prefix: 24, gw: '10.0.0.1', dns: ['1.1.1.1', '8.8.8.8'], mac: '52:54:00:00:00:01' },
    );
  });

  it('a libvirt bridge wins over a network name', async () => {
    const d = resolved(await resolveIn({ vm: { spec: { networks: [{ name: 'eth0', networkRef: { name: 'lan' } }] } }, network: { spec: { network: { libvirt: { bridge: { name: 'br0' } } } } } }));
    assert.deepEqual([d.networks[0]!.network, d.networks[0]!.kind], ['br0', 'bridge']);
  });

  it('a vSphere attachment gives portgroup, VLAN and adapter for a vsphere provider', async () => {
    const d = resolved(await resolveIn({
      provider: { spec: { type: 'vsphere' } },
      image: { spec: { source: { libvirt: undefined, vsphere: { templateName: 't' } } } },
      network: { spec: { network: { libvirt: undefined, vsphere: { portgroup: 'pg-app', vlan: { type: 'vlan', vlanID: 120 }, distributedSwitch: { name: 'dvs' } } } } },
      vm: { spec: { networks: [{ name: 'nic0', networkRef: { name: 'lan' } }] } },
    }));
    const n = d.networks[0]!;
    assert.deepEqual([n.network, n.kind, n.vlan, n.model], ['pg-app', 'distributed-portgroup', 120, 'vmxnet3']);
  });

  it('a Proxmox attachment gives bridge and VLAN tag', async () => {
    const d = resolved(await resolveIn({
      provider: { spec: { type: 'proxmox' } },
      image: { spec: { source: { libvirt: undefined, proxmox: { templateName: 'tpl' } } } },
      network: { spec: { network: { libvirt: undefined, proxmox: { bridge: 'vmbr1', vlanTag: 42, mtu: 9000 } } } },
      vm: { spec: { networks: [{ name: 'net0', networkRef: { name: 'lan' } }] } },
    }));
    const n = d.networks[0]!;
    assert.deepEqual([n.network, n.kind, n.vlan, n.mtu], ['vmbr1', 'bridge', 42, 9000]);
  });

  it('static addressing from the attachment when the VM names none', async () => {
    const d = resolved(await resolveIn({
      vm: { spec: { networks: [{ name: 'eth0', networkRef: { name: 'lan' } }] } },
      network: { spec: { ipAllocation: { type: 'Static', staticConfig: { address: '192.168.1.10/24', gateway: '192.168.1.1' }, dnsConfig: { servers: ['192.168.1.2'] } } } },
    }));
    const n = d.networks[0]!;
    assert.deepEqual([n.ipAddress, n.prefix, n.gateway, n.dns], ['192.168.1.10', 24, '192.168.1.1', ['192.168.1.2']]);
  });

  it('an attachment without a section for the provider type is InvalidSpec', async () => {
    const r = await resolveIn({ vm: { spec: { networks: [{ name: 'eth0', networkRef: { name: 'lan' } }] } }, network: { spec: { network: { libvirt: undefined, vsphere: { portgroup: 'pg' } } } } });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { problems: string[] }).problems.join(), /VMNetworkAttachment lan: has no network.libvirt section/);
  });

  it('disks take the class default type and name their SCSI controller', async () => {
    const d = resolved(await resolveIn({
      vmClass: { spec: { diskDefaults: { type: 'thick' } } },
      vm: { spec: { disks: [{ name: 'data', sizeGiB: 100 }, { name: 'logs', sizeGiB: 10, type: 'thin', expandPolicy: 'Online', scsi: { controller: 1, controllerType: 'pvscsi' } }] } },
    }));
    assert.deepEqual(d.disks.map((x) => [x.name, x.sizeGib, x.type, x.expandPolicy, x.controller]), [
      ['data', 100, 'thick', 'Offline', ''],
      ['logs', 10, 'thin', 'Online', 'pvscsi:1'],
    ]);
  });

  it('placement falls back to the Provider defaults field by field; a datastore hides the datastore cluster', async () => {
    const d = resolved(await resolveIn({
      provider: { spec: { defaults: { cluster: 'c1', datastore: 'ds-default', folder: 'f', storagePod: 'pod' } } },
      vm: { spec: { placement: { folder: 'vms', host: 'esx1' } } },
    }));
    assert.deepEqual(
      [d.placement?.cluster, d.placement?.datastore, d.placement?.folder, d.placement?.host, d.placement?.datastoreCluster],
      ['c1', 'ds-default', 'vms', 'esx1', ''],
    );
  });

  const power: Array<['On' | 'Off' | 'OffGraceful' | undefined, PowerState]> = [[undefined, PowerState.ON], ['On', PowerState.ON], ['Off', PowerState.OFF], ['OffGraceful', PowerState.OFF_GRACEFUL]];
  for (const [p, want] of power) {
    it(`powerState ${p ?? '(unset)'} → ${PowerState[want]}`, async () => {
      const d = resolved(await resolveIn({ vm: { spec: { powerState: p } } }));
      assert.equal(d.powerState, want);
    });
  }

  it('graceful timeout from lifecycle (60 s by default), tags, and the adopt-id annotation', async () => {
    const dflt = resolved(await resolveIn({}));
    assert.equal(dflt.gracefulTimeoutSeconds, 60);
    const d = resolved(await resolveIn({ vm: { metadata: { annotations: { [ANNOTATION_ADOPT_ID]: 'vm-1234' } }, spec: { lifecycle: { gracefulShutdownTimeout: '90s' }, tags: ['env:prod'] } } }));
    assert.deepEqual([d.gracefulTimeoutSeconds, d.tags, d.adoptId], [90, ['env:prod'], 'vm-1234']);
  });

  it('a graceful timeout that is not a duration is InvalidSpec naming the field', async () => {
    const r = await resolveIn({ vm: { spec: { lifecycle: { gracefulShutdownTimeout: 'a while' } } } });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { problems: string[] }).problems.join(), /spec\.lifecycle\.gracefulShutdownTimeout/);
  });
});

describe('dispatcher resolve: cloud-init', () => {
  it('inline user-data is carried as is', async () => {
    const d = resolved(await resolveIn({ vm: { spec: { userData: { cloudInit: { inline: '#cloud-config\nhostname: web\n' } } } } }));
    assert.equal(text(d.cloudInit?.userData), '#cloud-config\nhostname: web\n');
  });

  it('user-data and meta-data from Secrets, read at dispatch time under the original key names', async () => {
    const secrets = secretsOf({ [`${NS}/ud`]: { 'user-data': '#cloud-config\nusers: []\n' }, [`${NS}/md`]: { meta_data: 'instance-id: web\n' } });
    const d = resolved(await resolveIn({ vm: { spec: { userData: { cloudInit: { secretRef: { name: 'ud' } } }, metaData: { cloudInit: { secretRef: { name: 'md' } } } } } }, secrets));
    assert.equal(text(d.cloudInit?.userData), '#cloud-config\nusers: []\n');
    assert.equal(text(d.cloudInit?.metaData), 'instance-id: web\n');
    assert.deepEqual(secrets.reads.sort(), [`${NS}/md`, `${NS}/ud`]);
  });

  it('inline and Secret user-data together become one multipart document', async () => {
    const secrets = secretsOf({ [`${NS}/ud`]: { userdata: 'runcmd: [b]' } });
    const d = resolved(await resolveIn({ vm: { spec: { userData: { cloudInit: { inline: 'runcmd: [a]', secretRef: { name: 'ud' } } } } } }, secrets));
    assert.equal(text(d.cloudInit?.userData), multipart(['runcmd: [a]', 'runcmd: [b]']));
  });

  it('a missing Secret is a missing dependency naming it', async () => {
    const r = await resolveIn({ vm: { spec: { userData: { cloudInit: { secretRef: { name: 'nope' } } } } } });
    assert.deepEqual(r, { kind: 'waiting', missing: [`Secret ${NS}/nope`] });
  });

  it('a Secret without a user-data key is a missing dependency naming the keys, never a value', async () => {
    const secrets = secretsOf({ [`${NS}/ud`]: { password: 'hunter2' } });
    const r = await resolveIn({ vm: { spec: { userData: { cloudInit: { secretRef: { name: 'ud' } } } } } }, secrets);
    assert.equal(r.kind, 'waiting');
    const message = (r as { missing: string[] }).missing.join();
    assert.match(message, /Secret apps\/ud key for user-data \(one of userdata, user-data, cloud-init, cloud-config\)/);
    assert.doesNotMatch(message, /hunter2/);
  });
});

describe('dispatcher resolve: missing dependencies', () => {
  it('names every missing dependency at once', async () => {
    const vm = aVM({ spec: { networks: [{ name: 'eth0', networkRef: { name: 'lan2' } }] } });
    const r = await resolveDesired(vm, lookupOf({}), noSecrets);
    assert.deepEqual(r, { kind: 'waiting', missing: [`Provider ${NS}/kvm`, `VMClass ${NS}/small`, `VMImage ${NS}/ubuntu`, `VMNetworkAttachment ${NS}/lan2`] });
  });

  it('follows a reference into another namespace', async () => {
    const vm = aVM({ spec: { classRef: { name: 'shared', namespace: 'catalog' } } });
    const r = await resolveDesired(vm, defaultLookup(), noSecrets);
    assert.deepEqual(r, { kind: 'waiting', missing: ['VMClass catalog/shared'] });
  });

  it('dependenciesOf lists provider, class, image, network attachments and Secrets as index keys', () => {
    const vm = aVM({ spec: {
      networks: [{ name: 'a', networkRef: { name: 'lan' } }, { name: 'b' }],
      userData: { cloudInit: { secretRef: { name: 'ud' } } },
      metaData: { cloudInit: { secretRef: { name: 'md' } } },
    } });
    assert.deepEqual(dependenciesOf(vm).sort(), [
      `Provider/${NS}/kvm`, `Secret/${NS}/md`, `Secret/${NS}/ud`, `VMClass/${NS}/small`, `VMImage/${NS}/ubuntu`, `VMNetworkAttachment/${NS}/lan`,
    ]);
  });
});
