/**
 * Domain XML: built from what the driver resolved (class, disks, NICs, firmware, console), and read
 * back into the facts the driver observes (vCPUs, memory, disks, NICs, graphics, our metadata).
 * Built as an element tree (xml.ts), so every value is escaped.
 */
import { metadataElement, metadataOfDomain, type VrMetadata } from './metadata.ts';
import { child, children, el, parseXml, textOf, type XmlElement } from './xml.ts';

export interface DiskDevice {
  /** Host path of the image file (a pool volume's path). */
  path: string;
  /** qcow2 or raw. */
  format: string;
  /** Guest device name (vda, vdb, …). */
  target: string;
  bus?: 'virtio' | 'sata' | 'scsi';
  device?: 'disk' | 'cdrom';
  readonly?: boolean;
  /** Serial the guest sees (the disk's name, so it can find it in /dev/disk/by-id). */
  serial?: string;
}

export interface NicDevice {
  kind: 'network' | 'bridge';
  source: string;
  mac?: string;
  model: string;
  vlan?: number;
  mtu?: number;
}

export interface DomainSpec {
  name: string;
  uuid: string;
  /** kvm, qemu (TCG) or test. */
  type: string;
  title?: string;
  vcpus: number;
  maxVcpus: number;
  memoryKiB: bigint;
  maxMemoryKiB: bigint;
  firmware: 'bios' | 'efi';
  secureBoot: boolean;
  machine?: string;
  nestedVirtualization: boolean;
  tpm: boolean;
  kernel?: { path: string; initrd?: string; cmdline?: string };
  disks: DiskDevice[];
  nics: NicDevice[];
  graphics: 'vnc' | 'spice' | 'none';
  graphicsListen: string;
  /** Also write the serial console to this host file (through virtlogd). */
  serialLogFile?: string;
  /** A virtio-serial channel for the QEMU guest agent (guest IPs). */
  guestAgent: boolean;
  metadata: VrMetadata;
}

export function diskElement(d: DiskDevice): XmlElement {
  // A read-only disk (the cloud-init seed, raw) takes no part in snapshots: QEMU's internal snapshots need qcow2.
  return el('disk', { type: 'file', device: d.device ?? 'disk', snapshot: d.readonly ? 'no' : undefined }, [
    el('driver', { name: 'qemu', type: d.format }),
    el('source', { file: d.path }),
    el('target', { dev: d.target, bus: d.bus ?? 'virtio' }),
    d.readonly ? el('readonly') : undefined,
    d.serial ? el('serial', {}, d.serial) : undefined,
  ]);
}

export function nicElement(n: NicDevice): XmlElement {
  return el('interface', { type: n.kind }, [
    n.mac ? el('mac', { address: n.mac }) : undefined,
    el('source', n.kind === 'network' ? { network: n.source } : { bridge: n.source }),
    n.vlan ? el('vlan', {}, [el('tag', { id: n.vlan })]) : undefined,
    el('model', { type: n.model }),
    n.mtu ? el('mtu', { size: n.mtu }) : undefined,
  ]);
}

export function buildDomainXml(s: DomainSpec): XmlElement {
  const efi = s.firmware === 'efi';
  const testDriver = s.type === 'test';
  const os = el('os', efi ? { firmware: 'efi' } : {}, [
    el('type', { arch: 'x86_64', machine: s.machine ?? (efi && s.secureBoot ? 'q35' : undefined) }, 'hvm'),
    efi ? el('firmware', {}, [
      el('feature', { enabled: s.secureBoot ? 'yes' : 'no', name: 'secure-boot' }),
      el('feature', { enabled: s.secureBoot ? 'yes' : 'no', name: 'enrolled-keys' }),
    ]) : undefined,
    efi && s.secureBoot ? el('loader', { secure: 'yes' }) : undefined,
    s.kernel ? el('kernel', {}, s.kernel.path) : undefined,
    s.kernel?.initrd ? el('initrd', {}, s.kernel.initrd) : undefined,
    s.kernel?.cmdline ? el('cmdline', {}, s.kernel.cmdline) : undefined,
    s.kernel ? undefined : el('boot', { dev: 'hd' }),
  ]);
  const devices = el('devices', {}, [
    ...s.disks.map(diskElement),
    ...s.nics.map(nicElement),
    // The serial console: a pty for `virsh console`, logged to a file when asked.
    !testDriver ? el('serial', { type: 'pty' }, [s.serialLogFile ? el('log', { file: s.serialLogFile, append: 'off' }) : undefined]) : undefined,
    !testDriver ? el('console', { type: 'pty' }, [el('target', { type: 'serial', port: 0 })]) : undefined,
    s.guestAgent && !testDriver ? el('channel', { type: 'unix' }, [el('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' })]) : undefined,
    s.graphics !== 'none' ? el('graphics', { type: s.graphics, autoport: 'yes', listen: s.graphicsListen }, [el('listen', { type: 'address', address: s.graphicsListen })]) : undefined,
    s.tpm && !testDriver ? el('tpm', { model: 'tpm-crb' }, [el('backend', { type: 'emulator', version: '2.0' })]) : undefined,
    !testDriver ? el('memballoon', { model: 'virtio' }) : undefined,
  ]);
  return el('domain', { type: s.type }, [
    el('name', {}, s.name),
    el('uuid', {}, s.uuid),
    s.title ? el('title', {}, s.title) : undefined,
    el('metadata', {}, [metadataElement(s.metadata)]),
    el('memory', { unit: 'KiB' }, s.maxMemoryKiB.toString()),
    el('currentMemory', { unit: 'KiB' }, s.memoryKiB.toString()),
    el('vcpu', { placement: 'static', current: s.vcpus !== s.maxVcpus ? s.vcpus : undefined }, s.maxVcpus),
    os,
    el('features', {}, [el('acpi'), el('apic'), efi && s.secureBoot ? el('smm', { state: 'on' }) : undefined]),
    s.nestedVirtualization && s.type === 'kvm' ? el('cpu', { mode: 'host-passthrough', check: 'none' }) : undefined,
    el('on_poweroff', {}, 'destroy'),
    el('on_reboot', {}, 'restart'),
    el('on_crash', {}, 'destroy'),
    devices,
  ]);
}

// --- reading a domain's XML ---

export interface DomainDisk {
  device: string;
  target: string;
  bus: string | undefined;
  /** File path, or undefined for network/volume sources we do not model. */
  file: string | undefined;
  /** Volume source (<source pool= volume=>). */
  volume: { pool: string; volume: string } | undefined;
  format: string | undefined;
  readonly: boolean;
}

export interface DomainNic {
  type: string;
  mac: string | undefined;
  source: string | undefined;
  model: string | undefined;
}

export interface DomainGraphics {
  type: string;
  port: number;
  listen: string | undefined;
}

export interface DomainFacts {
  name: string;
  uuid: string;
  type: string;
  /** Current (live, for a running domain's live XML) and maximum vCPUs. */
  vcpus: number;
  maxVcpus: number;
  memoryKiB: bigint;
  maxMemoryKiB: bigint;
  disks: DomainDisk[];
  nics: DomainNic[];
  graphics: DomainGraphics[];
  metadata: VrMetadata | undefined;
  root: XmlElement;
}

function kib(e: XmlElement | undefined): bigint {
  const text = textOf(e);
  if (!text || !/^\d+$/.test(text)) return 0n;
  const value = BigInt(text);
  switch ((e!.attrs.unit ?? 'KiB').toLowerCase()) {
    case 'b': case 'bytes': return value / 1024n;
    case 'mib': case 'm': return value * 1024n;
    case 'gib': case 'g': return value * 1024n * 1024n;
    default: return value;
  }
}

export function readDomainXml(xml: string): DomainFacts {
  const root = parseXml(xml, 'domain XML');
  if (root.name !== 'domain') throw new Error(`expected a <domain> document, got <${root.name}>`);
  const vcpu = child(root, 'vcpu');
  const maxVcpus = Number(textOf(vcpu) ?? '0') || 0;
  const devices = child(root, 'devices');
  const memory = kib(child(root, 'memory'));
  return {
    name: textOf(child(root, 'name')) ?? '',
    uuid: textOf(child(root, 'uuid')) ?? '',
    type: root.attrs.type ?? '',
    vcpus: Number(vcpu?.attrs.current ?? maxVcpus) || maxVcpus,
    maxVcpus,
    memoryKiB: kib(child(root, 'currentMemory')) || memory,
    maxMemoryKiB: memory,
    disks: children(devices, 'disk').map((d) => {
      const source = child(d, 'source');
      return {
        device: d.attrs.device ?? 'disk',
        target: child(d, 'target')?.attrs.dev ?? '',
        bus: child(d, 'target')?.attrs.bus,
        file: source?.attrs.file ?? source?.attrs.dev,
        volume: source?.attrs.pool && source.attrs.volume ? { pool: source.attrs.pool, volume: source.attrs.volume } : undefined,
        format: child(d, 'driver')?.attrs.type,
        readonly: child(d, 'readonly') !== undefined,
      };
    }),
    nics: children(devices, 'interface').map((n) => {
      const source = child(n, 'source');
      return {
        type: n.attrs.type ?? '',
        mac: child(n, 'mac')?.attrs.address?.toLowerCase(),
        source: source?.attrs.network ?? source?.attrs.bridge ?? source?.attrs.dev,
        model: child(n, 'model')?.attrs.type,
      };
    }),
    graphics: children(devices, 'graphics').map((g) => ({
      type: g.attrs.type ?? '',
      port: Number(g.attrs.port ?? '-1'),
      listen: child(g, 'listen')?.attrs.address ?? g.attrs.listen,
    })),
    metadata: metadataOfDomain(root),
    root,
  };
}
