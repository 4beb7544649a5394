/**
 * The desired VM as PVE config options, and the changes that bring a VM's current config there.
 * Pure functions: the driver reads the config, asks for a plan, writes it in one call.
 *
 * Mapping:
 * - CPUs: `sockets=1`, `cores=<cpus>`. With cpuHotAdd, `cores` is the ceiling (extraConfig
 *   `proxmox.cores`, default twice the CPUs) and `vcpus=<cpus>` the online count, which PVE changes
 *   live; a count above the ceiling raises it, which waits for a power cycle.
 * - Memory: `memory=<MiB>`; memoryHotAdd adds `numa=1` and `memory` to `hotplug`.
 * - NICs: networks[i] is `net<i>`: `<model>=<MAC>,bridge=<network>,tag=<vlan>,mtu=<mtu>`; an
 *   unset MAC or model keeps the VM's own.
 * - Disks: disks[0] is the boot disk (grown, never shrunk); disks[i>0] are `<controller><unit>`
 *   when given, else `scsi<i>`, added when missing.
 * - extraConfig `proxmox.<option>` passes any other PVE option through (e.g. `proxmox.ostype: l26`).
 */
import type { DesiredVM, DiskSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { Firmware } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';
import { cloudInitOptions, CLOUD_INIT_KEYS } from './cloud-init.ts';
import { bootDiskKey, DISK_KEY_RE, isDataDisk, NIC_MODELS, parseDrive, parseNic, parseProps, printNic, sameNic, type Nic } from './props.ts';

export const GIB = 1024 ** 3;
export const DEFAULT_BOOT_DISK_GIB = 20;
const DEFAULT_HOTPLUG = ['network', 'disk', 'usb'];

/** Options this agent computes; extraConfig cannot override them. */
const MANAGED = /^(tags|description|name|vmid|node|digest|delete|revert|lock|template|cores|sockets|vcpus|memory|numa|hotplug|agent|(net|ipconfig|scsi|virtio|sata|ide|unused)\d+|ciuser|sshkeys|nameserver|searchdomain|cicustom|ciupgrade|cipassword)$/;

export interface SpecContext {
  /** Bridge for a network that names none. */
  bridge: string;
  /** Storage for new disks and the cloud-init drive. */
  storage: string;
}

/** The `proxmox.<option>` pass-through options of the VM's class. */
export function passthroughOptions(desired: DesiredVM): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired.class?.extraConfig ?? {})) {
    if (!k.startsWith('proxmox.')) continue;
    const opt = k.slice('proxmox.'.length);
    if (!/^[a-z][a-z0-9_-]*$/.test(opt)) throw new PermanentError(`extraConfig key ${k} does not name a Proxmox option`, { reason: 'InvalidSpec' });
    if (MANAGED.test(opt)) continue;
    out[opt] = v;
  }
  return out;
}

function hotplugSet(value: string | undefined): Set<string> {
  if (value === undefined || value === '1') return new Set(DEFAULT_HOTPLUG);
  if (value === '0') return new Set();
  return new Set(value.split(',').map((s) => s.trim()).filter(Boolean));
}

/** cores/sockets/vcpus/memory/numa/hotplug wanted, given the current config (empty for a new VM). */
export function hardwareOptions(desired: DesiredVM, current: Record<string, string>): Record<string, string | null> {
  const cls = desired.class;
  const out: Record<string, string | null> = {};
  const cpus = cls?.cpus ?? 0;
  if (cpus > 0) {
    if (cls?.cpuHotAdd) {
      const curCores = Number(current.cores ?? '1') * Number(current.sockets ?? '1');
      const ceiling = Number(cls.extraConfig['proxmox.cores'] ?? '') || cpus * 2;
      out.sockets = '1';
      out.cores = String(curCores >= cpus && current.cores !== undefined ? curCores : Math.max(cpus, ceiling));
      out.vcpus = String(cpus);
    } else {
      out.sockets = '1';
      out.cores = String(cpus);
      out.vcpus = null;
    }
  }
  const mib = Number(cls?.memoryMib ?? 0n);
  if (mib > 0) out.memory = String(mib);
  if (cls?.memoryHotAdd) out.numa = '1';
  if (cls?.cpuHotAdd || cls?.memoryHotAdd) {
    const hp = hotplugSet(current.hotplug);
    if (cls.cpuHotAdd) hp.add('cpu');
    if (cls.memoryHotAdd) hp.add('memory');
    out.hotplug = [...hp].join(',');
  }
  return out;
}

function normalizeMac(mac: string): string | undefined {
  const m = mac.trim().replace(/-/g, ':').toUpperCase();
  return /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/.test(m) ? m : undefined;
}

/** net<i> for each desired network; extra NICs are removed only when networks are given. */
export function nicOptions(desired: DesiredVM, current: Record<string, string>, ctx: Pick<SpecContext, 'bridge'>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (desired.networks.length === 0) return out;
  desired.networks.forEach((net, i) => {
    const key = `net${i}`;
    const cur = current[key] !== undefined ? parseNic(current[key]!) : undefined;
    const model = net.model && NIC_MODELS.has(net.model) ? net.model : cur?.model || 'virtio';
    const want: Nic = {
      model,
      mac: normalizeMac(net.macAddress) ?? cur?.mac,
      bridge: net.network || cur?.bridge || ctx.bridge,
      tag: net.vlan > 0 ? net.vlan : undefined,
      mtu: net.mtu > 0 ? net.mtu : undefined,
      other: cur?.other ?? [],
    };
    if (!cur || !sameNic(cur, want)) out[key] = printNic(want);
  });
  for (const key of Object.keys(current)) {
    const m = /^net(\d+)$/.exec(key);
    if (m && Number(m[1]) >= desired.networks.length) out[key] = null;
  }
  return out;
}

/** The option name a desired disk lives at. */
export function diskKey(disk: DiskSpec, index: number, config: Record<string, string>): string {
  const c = disk.controller.trim().toLowerCase();
  if (DISK_KEY_RE.test(c)) return c;
  if (/^(scsi|virtio|sata|ide)$/.test(c)) return `${c}${disk.unit}`;
  if (index === 0) return bootDiskKey(config) ?? 'scsi0';
  return `scsi${index}`;
}

export function newDiskValue(storage: string, sizeGiB: number, type: string): string {
  return `${storage}:${sizeGiB}${type === 'ssd' ? ',ssd=1,discard=on' : ''}`;
}

export interface DiskPlan {
  add: Record<string, string>;
  grow: Array<{ key: string; sizeGiB: number }>;
}

export function diskPlan(desired: DesiredVM, config: Record<string, string>, ctx: Pick<SpecContext, 'storage'>): DiskPlan {
  const plan: DiskPlan = { add: {}, grow: [] };
  const seen = new Set<string>();
  desired.disks.forEach((d, i) => {
    const key = diskKey(d, i, config);
    if (seen.has(key)) throw new PermanentError(`disks ${d.name} and another one both map to ${key}; give each its controller and unit`, { reason: 'InvalidSpec' });
    seen.add(key);
    if (d.sizeGib <= 0) return;
    const value = config[key];
    if (value === undefined) {
      plan.add[key] = newDiskValue(d.storage || ctx.storage, d.sizeGib, d.type);
      return;
    }
    const drive = parseDrive(value);
    if (!isDataDisk(drive)) throw new PermanentError(`disk ${d.name} maps to ${key}, which holds a CD-ROM or cloud-init drive; give the disk another controller or unit`, { reason: 'InvalidSpec' });
    if (drive.sizeBytes !== undefined && drive.sizeBytes < d.sizeGib * GIB) plan.grow.push({ key, sizeGiB: d.sizeGib });
  });
  return plan;
}

/** A free slot for the cloud-init drive (an IDE or SATA CD-ROM). */
export function cloudInitSlot(config: Record<string, string>): string {
  return ['ide0', 'ide1', 'ide3', 'sata5', 'sata4'].find((k) => config[k] === undefined) ?? 'ide0';
}

export function hasCloudInitDrive(config: Record<string, string>): boolean {
  return Object.entries(config).some(([k, v]) => DISK_KEY_RE.test(k) && /cloudinit/.test(v));
}

export interface ConfigPlan {
  /** Options to set (one POST …/config). */
  set: Record<string, string>;
  /** Options to remove. */
  delete: string[];
  /** Disks to grow (PUT …/resize each). */
  grow: Array<{ key: string; sizeGiB: number }>;
  /** A hostname cloud-init asked for (the VM's name). */
  hostname: string | undefined;
}

/** Everything that differs between `config` and `desired` (tags excepted: identity is the driver's). */
export function planConfig(desired: DesiredVM, config: Record<string, string>, ctx: SpecContext): ConfigPlan {
  const want: Record<string, string | null> = {
    ...passthroughOptions(desired),
    ...hardwareOptions(desired, config),
    ...nicOptions(desired, config, ctx),
  };
  const ci = cloudInitOptions(desired);
  if (ci) {
    Object.assign(want, ci.options);
    for (const key of CLOUD_INIT_KEYS) if (!(key in ci.options) && config[key] !== undefined) want[key] = null;
    for (const key of Object.keys(config)) if (/^ipconfig\d+$/.test(key) && !(key in ci.options)) want[key] = null;
    if (!hasCloudInitDrive(config)) want[cloudInitSlot(config)] = `${ctx.storage}:cloudinit`;
  }
  const disks = diskPlan(desired, config, ctx);
  Object.assign(want, disks.add);
  const plan: ConfigPlan = { set: {}, delete: [], grow: disks.grow, hostname: ci?.hostname };
  for (const [k, v] of Object.entries(want)) {
    if (v === null) {
      if (config[k] !== undefined) plan.delete.push(k);
    } else if (!sameOption(k, config[k], v)) {
      plan.set[k] = v;
    }
  }
  return plan;
}

function sameOption(key: string, current: string | undefined, wanted: string): boolean {
  if (current === undefined) return false;
  if (key === 'hotplug') return [...hotplugSet(current)].sort().join() === [...hotplugSet(wanted)].sort().join();
  if (key === 'memory') return (parseProps(current, 'current').get('current') ?? current) === wanted;
  return current === wanted;
}

export interface CreateDisk {
  /** scsi0's value: a new volume, an import, or a blank disk next to an ISO. */
  boot: string;
  /** ide2's value when booting an installer ISO. */
  cdrom?: string;
}

/** Options a VM gets at creation only (firmware, TPM, CPU type, GPUs, agent), plus the pass-through ones. */
export function createOnlyOptions(desired: DesiredVM, storage: string): Record<string, string> {
  const cls = desired.class;
  const out: Record<string, string> = { agent: '1', scsihw: 'virtio-scsi-single', ostype: 'l26' };
  if (cls?.firmware === Firmware.UEFI || cls?.secureBoot) {
    out.bios = 'ovmf';
    out.machine = 'q35';
    out.efidisk0 = `${storage}:1,efitype=4m,pre-enrolled-keys=${cls.secureBoot ? 1 : 0}`;
  }
  if (cls?.tpm) out.tpmstate0 = `${storage}:1,version=v2.0`;
  if (cls?.nestedVirtualization) out.cpu = 'host';
  let pci = 0;
  for (const gpu of cls?.gpus ?? []) {
    for (let n = 0; n < Math.max(1, gpu.count); n++) {
      out[`hostpci${pci++}`] = `mapping=${gpu.model},pcie=1`;
      out.machine = 'q35';
    }
  }
  return { ...out, ...passthroughOptions(desired) };
}

/** Which user-visible setting a pending option belongs to (for "restart required" conditions). */
export function settingOf(key: string): string {
  if (/^(cores|sockets|vcpus|cpu|affinity)$/.test(key)) return 'cpus';
  if (/^(memory|balloon|numa|hugepages)$/.test(key)) return 'memory';
  if (/^net\d+$/.test(key)) return `network ${key}`;
  if (DISK_KEY_RE.test(key)) return `disk ${key}`;
  if (key === 'hotplug') return 'hotplug';
  return key;
}
