/** Domain, metadata, snapshot and cloud-init documents the libvirt driver writes and reads. */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parse } from 'yaml';
import { NetworkSpecSchema, SnapshotCreateSchema } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { networkConfigV2 } from '../../provider-agents/libvirt/cloud-init.ts';
import { buildDomainXml, readDomainXml, type DomainSpec } from '../../provider-agents/libvirt/domain-xml.ts';
import { metadataForSet, readMetadata, type VrMetadata } from '../../provider-agents/libvirt/metadata.ts';
import { consoleUrl } from '../../provider-agents/libvirt/observe.ts';
import { readSnapshotXml, snapshotName, snapshotXml } from '../../provider-agents/libvirt/snapshots.ts';
import { escapeXml, parseXml, toXml } from '../../provider-agents/libvirt/xml.ts';

const meta: VrMetadata = { uid: 'u-1', generation: 12n, adopted: false, volumes: [{ pool: 'default', name: 'vr-u-1-root.qcow2' }], bases: [] };

function spec(over: Partial<DomainSpec> = {}): DomainSpec {
  return {
    name: 'vr-u-1', uuid: '0f9c2b1e-1111-4222-8333-444455556666', type: 'kvm', vcpus: 2, maxVcpus: 8, memoryKiB: 1048576n, maxMemoryKiB: 2097152n,
    firmware: 'bios', secureBoot: false, nestedVirtualization: false, tpm: false, disks: [], nics: [], graphics: 'vnc', graphicsListen: '127.0.0.1',
    guestAgent: true, metadata: meta, ...over,
  };
}

describe('libvirt XML documents', () => {
  it('escapes any text and attribute value: what goes in comes back out as data', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (text, attr) => {
      const clean = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
      const back = parseXml(toXml({ name: 'a', attrs: { v: attr }, children: [], text }));
      assert.equal(back.attrs.v ?? '', clean(attr));
      assert.equal(back.text ?? '', clean(text));
    }), { numRuns: 300 });
    assert.equal(escapeXml(`<a b="c">&'`), '&lt;a b=&quot;c&quot;&gt;&amp;&apos;');
  });

  it('builds a domain whose facts read back: sizes, disks, NICs, graphics and our metadata', () => {
    const xml = toXml(buildDomainXml(spec({
      disks: [{ path: '/p/vr-u-1-root.qcow2', format: 'qcow2', target: 'vda', serial: 'root' }, { path: '/p/seed.iso', format: 'raw', target: 'vdb', readonly: true }],
      nics: [{ kind: 'network', source: 'default', mac: '52:54:00:00:00:01', model: 'virtio' }, { kind: 'bridge', source: 'br0', model: 'e1000', vlan: 42, mtu: 9000 }],
    })));
    const f = readDomainXml(xml);
    assert.equal(f.vcpus, 2);
    assert.equal(f.maxVcpus, 8);
    assert.equal(f.memoryKiB, 1048576n);
    assert.equal(f.maxMemoryKiB, 2097152n);
    assert.deepEqual(f.disks.map((d) => [d.target, d.file, d.format, d.readonly]), [['vda', '/p/vr-u-1-root.qcow2', 'qcow2', false], ['vdb', '/p/seed.iso', 'raw', true]]);
    assert.match(xml, /<disk type="file" device="disk" snapshot="no">/, 'the read-only seed takes no part in snapshots');
    assert.deepEqual(f.nics.map((n) => [n.type, n.source, n.mac, n.model]), [['network', 'default', '52:54:00:00:00:01', 'virtio'], ['bridge', 'br0', undefined, 'e1000']]);
    assert.match(xml, /<vlan><tag id="42"\/><\/vlan>/);
    assert.deepEqual(f.metadata, meta);
    assert.match(xml, /<channel type="unix"><target type="virtio" name="org.qemu.guest_agent.0"\/><\/channel>/);
  });

  it('asks for UEFI with secure boot (q35, SMM, enrolled keys) and BIOS otherwise; direct kernel boot when given', () => {
    const sb = toXml(buildDomainXml(spec({ firmware: 'efi', secureBoot: true })));
    assert.match(sb, /<os firmware="efi"><type arch="x86_64" machine="q35">hvm<\/type><firmware><feature enabled="yes" name="secure-boot"\/><feature enabled="yes" name="enrolled-keys"\/><\/firmware><loader secure="yes"\/>/);
    assert.match(sb, /<smm state="on"\/>/);
    const bios = toXml(buildDomainXml(spec({ kernel: { path: '/k', initrd: '/i', cmdline: 'console=ttyS0' } })));
    assert.doesNotMatch(bios, /firmware=/);
    assert.match(bios, /<kernel>\/k<\/kernel><initrd>\/i<\/initrd><cmdline>console=ttyS0<\/cmdline>/);
  });

  it('writes metadata for setMetadata without prefix or namespace (libvirt adds them), and reads it back', () => {
    const m: VrMetadata = { ...meta, adopted: true, bases: [{ pool: 'p', name: 'b"ase' }] };
    const text = metadataForSet(m);
    assert.ok(text.startsWith('<virtrigaud uid="u-1" generation="12" adopted="true">'), text);
    assert.deepEqual(readMetadata(text), m);
    assert.equal(readMetadata('<virtrigaud generation="1"/>'), undefined, 'no uid, not ours');
  });

  it('ignores a virtrigaud element of another namespace in a domain', () => {
    const f = readDomainXml(`<domain type='kvm'><name>x</name><metadata><o:virtrigaud xmlns:o="https://example.com/other" uid="evil"/></metadata><vcpu>1</vcpu><memory unit='MiB'>64</memory></domain>`);
    assert.equal(f.metadata, undefined);
    assert.equal(f.memoryKiB, 65536n);
  });

  it('carries the VMSnapshot uid in the snapshot description and reads memory state back', () => {
    const req = create(SnapshotCreateSchema, { snapshotUid: 'snap-1', name: 'before <upgrade>', description: 'why', includeMemory: true });
    assert.equal(snapshotName(req), 'before-upgrade');
    assert.match(snapshotXml(req, 'n', true), /<memory snapshot="internal"\/>/);
    assert.match(snapshotXml(req, 'n', false), /<memory snapshot="no"\/>/);
    const info = readSnapshotXml(`<domainsnapshot><name>n</name><description>why\nvirtrigaud-snapshot-uid: snap-1</description><state>running</state><creationTime>1700000000</creationTime><memory snapshot='internal'/></domainsnapshot>`);
    assert.deepEqual([info.id, info.snapshotUid, info.hasMemory, info.createdUnixMs], ['n', 'snap-1', true, 1700000000000n]);
  });

  it('makes a netplan v2 network-config only when a NIC has a static address, matching NICs by MAC', () => {
    const dhcp = create(NetworkSpecSchema, { name: 'a', network: 'default' });
    assert.equal(networkConfigV2([{ spec: dhcp, mac: '52:54:00:00:00:01' }]), undefined);
    const fixed = create(NetworkSpecSchema, { name: 'b', network: 'lab', ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1', dns: ['10.0.0.53'], mtu: 9000 });
    assert.deepEqual(parse(networkConfigV2([{ spec: dhcp, mac: '52:54:00:00:00:01' }, { spec: fixed, mac: '52:54:00:00:00:02' }])!), {
      version: 2,
      ethernets: {
        nic0: { match: { macaddress: '52:54:00:00:00:01' }, dhcp4: true },
        nic1: { match: { macaddress: '52:54:00:00:00:02' }, addresses: ['10.0.0.5/24'], routes: [{ to: 'default', via: '10.0.0.1' }], nameservers: { addresses: ['10.0.0.53'] }, mtu: 9000 },
      },
    });
  });

  it('builds the console URL from the live graphics element', () => {
    assert.equal(consoleUrl([{ type: 'vnc', port: 5901, listen: '0.0.0.0' }], 'kvm1'), 'vnc://kvm1:5901');
    assert.equal(consoleUrl([{ type: 'spice', port: 5930, listen: '192.0.2.7' }], 'kvm1'), 'spice://192.0.2.7:5930');
    assert.equal(consoleUrl([{ type: 'vnc', port: -1, listen: '127.0.0.1' }], 'kvm1'), '', 'no port yet (not running)');
  });
});
