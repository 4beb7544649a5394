/**
 * What the agent keeps about each VirtualMachine, decoded from property-collector values. Device
 * nodes are kept as parsed: their element order is vCenter's (the WSDL order), so a device can be
 * sent back in an `edit` change with only the changed fields replaced.
 */
import { decodeMoRef, type MoRef } from '../soap/client.ts';
import { child, children, textOf, xsiType, type XmlNode } from '../soap/xml.ts';
import { bool, int, str } from './property.ts';

/** The extraConfig keys that carry our identity, next to each other in one write. */
export const UID_KEY = 'virtrigaud.uid';
export const GENERATION_KEY = 'virtrigaud.generation';
/** Disk name → controller address (`scsi1:0`), written with the disk in the same reconfigure. */
export const DISK_KEY_PREFIX = 'virtrigaud.disk.';
/** Tags this agent attached, so it detaches only its own. */
export const TAGS_KEY = 'virtrigaud.tags';

/**
 * The VM properties the inventory follows for every VM (one filter, updated by WaitForUpdatesEx):
 * identity, size and status — what `find` and `watch` report. Kept small: vCenter sends a
 * property whole whenever it changes, and the collector holds it for every VM.
 */
export const VM_PATHS = [
  'name', 'config.template', 'config.extraConfig', 'config.hardware.numCPU', 'config.hardware.memoryMB',
  'runtime.powerState', 'guest.ipAddress', 'guest.net', 'snapshot', 'resourcePool', 'parent',
] as const;

/**
 * What an operation on one VM reads besides (devices, hot-add flags, firmware), once, right
 * before or after it changes the VM: never for every VM, never in a loop.
 */
export const DETAIL_PATHS = ['config.hardware.device', 'config.cpuHotAddEnabled', 'config.memoryHotAddEnabled', 'config.firmware'] as const;

export const FULL_PATHS = [...VM_PATHS, ...DETAIL_PATHS] as const;

export interface SnapshotNode {
  ref: MoRef;
  name: string;
  description: string;
  createTime: string;
  /** The VM's power state when taken: poweredOn means the snapshot holds memory. */
  state: string;
  quiesced: boolean;
}

export interface Device {
  /** xsi:type: VirtualDisk, VirtualVmxnet3, ParaVirtualSCSIController, … */
  type: string;
  key: number;
  controllerKey: number | undefined;
  unitNumber: number | undefined;
  /** The parsed device, to send back in an edit. */
  node: XmlNode;
}

export interface VmRecord {
  ref: MoRef;
  name: string;
  template: boolean;
  extraConfig: Map<string, string>;
  numCPU: number;
  memoryMB: number;
  cpuHotAdd: boolean;
  memoryHotAdd: boolean;
  firmware: string;
  devices: Device[];
  powerState: string;
  guestIp: string;
  guestNics: { mac: string; network: string; ips: string[] }[];
  snapshots: SnapshotNode[];
  currentSnapshot: MoRef | undefined;
  resourcePool: MoRef | undefined;
  folder: MoRef | undefined;
  /** True once DETAIL_PATHS were read (devices, hot-add flags and firmware are not followed). */
  detailed: boolean;
}

export function emptyRecord(ref: MoRef): VmRecord {
  return {
    ref, name: '', template: false, extraConfig: new Map(), numCPU: 0, memoryMB: 0, cpuHotAdd: false, memoryHotAdd: false,
    firmware: '', devices: [], powerState: 'poweredOff', guestIp: '', guestNics: [], snapshots: [], currentSnapshot: undefined,
    resourcePool: undefined, folder: undefined, detailed: false,
  };
}

export function decodeExtraConfig(val: XmlNode | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of children(val, 'OptionValue')) {
    const key = textOf(child(o, 'key'));
    if (key) out.set(key, textOf(child(o, 'value')) ?? '');
  }
  return out;
}

export function decodeDevices(val: XmlNode | undefined): Device[] {
  return children(val, 'VirtualDevice').map((node) => ({
    type: xsiType(node) ?? 'VirtualDevice',
    key: int(child(node, 'key')) ?? 0,
    controllerKey: int(child(node, 'controllerKey')),
    unitNumber: int(child(node, 'unitNumber')),
    node,
  }));
}

function decodeSnapshots(val: XmlNode | undefined): { list: SnapshotNode[]; current: MoRef | undefined } {
  const list: SnapshotNode[] = [];
  const walk = (trees: XmlNode[]) => {
    for (const t of trees) {
      list.push({
        ref: decodeMoRef(child(t, 'snapshot'), 'VirtualMachineSnapshotTree.snapshot'),
        name: str(child(t, 'name')) ?? '',
        description: str(child(t, 'description')) ?? '',
        createTime: str(child(t, 'createTime')) ?? '',
        state: str(child(t, 'state')) ?? '',
        quiesced: bool(child(t, 'quiesced')) ?? false,
      });
      walk(children(t, 'childSnapshotList'));
    }
  };
  walk(children(val, 'rootSnapshotList'));
  const cur = child(val, 'currentSnapshot');
  return { list, current: cur === undefined ? undefined : decodeMoRef(cur, 'snapshot.currentSnapshot') };
}

function decodeGuestNics(val: XmlNode | undefined): VmRecord['guestNics'] {
  return children(val, 'GuestNicInfo').map((n) => ({
    mac: str(child(n, 'macAddress')) ?? '',
    network: str(child(n, 'network')) ?? '',
    ips: children(n, 'ipAddress').map((i) => textOf(i) ?? '').filter(Boolean),
  }));
}

/** The parts of VirtualMachineConfigInfo the record keeps: path below `config` → property name. */
const CONFIG_FIELDS: [string[], string][] = [
  [['template'], 'config.template'],
  [['extraConfig'], 'config.extraConfig'],
  [['hardware', 'numCPU'], 'config.hardware.numCPU'],
  [['hardware', 'memoryMB'], 'config.hardware.memoryMB'],
  [['hardware', 'device'], 'config.hardware.device'],
  [['cpuHotAddEnabled'], 'config.cpuHotAddEnabled'],
  [['memoryHotAddEnabled'], 'config.memoryHotAddEnabled'],
  [['firmware'], 'config.firmware'],
];

/** A nested value; repeated elements (extraConfig, device) are gathered under their ArrayOf name. */
function childPath(node: XmlNode, path: string[]): XmlNode | undefined {
  let cur: XmlNode | undefined = node;
  for (let i = 0; i < path.length - 1; i++) cur = child(cur, path[i]!);
  const last = path[path.length - 1]!;
  if (last === 'extraConfig') return { OptionValue: children(cur, 'extraConfig') };
  if (last === 'device') return { VirtualDevice: children(cur, 'device') };
  return child(cur, last);
}

/** Applies one property's new value (undefined: unset) to the record. */
export function applyProperty(rec: VmRecord, name: string, val: XmlNode | undefined): void {
  switch (name) {
    case 'name': rec.name = str(val) ?? ''; break;
    case 'config':
      for (const [sub, path] of CONFIG_FIELDS) applyProperty(rec, path, val === undefined ? undefined : childPath(val, sub));
      break;
    case 'config.template': rec.template = bool(val) ?? false; break;
    case 'config.extraConfig': rec.extraConfig = decodeExtraConfig(val); break;
    case 'config.hardware.numCPU': rec.numCPU = int(val) ?? 0; break;
    case 'config.hardware.memoryMB': rec.memoryMB = int(val) ?? 0; break;
    case 'config.hardware.device': rec.devices = decodeDevices(val); break;
    case 'config.cpuHotAddEnabled': rec.cpuHotAdd = bool(val) ?? false; break;
    case 'config.memoryHotAddEnabled': rec.memoryHotAdd = bool(val) ?? false; break;
    case 'config.firmware': rec.firmware = str(val) ?? ''; break;
    case 'runtime.powerState': rec.powerState = str(val) ?? 'poweredOff'; break;
    case 'guest.ipAddress': rec.guestIp = str(val) ?? ''; break;
    case 'guest.net': rec.guestNics = decodeGuestNics(val); break;
    case 'snapshot': {
      const s = decodeSnapshots(val);
      rec.snapshots = s.list;
      rec.currentSnapshot = s.current;
      break;
    }
    case 'resourcePool': rec.resourcePool = val === undefined ? undefined : decodeMoRef(val, 'resourcePool'); break;
    case 'parent': rec.folder = val === undefined ? undefined : decodeMoRef(val, 'parent'); break;
    default: break;
  }
}

export function uidOf(rec: VmRecord): string | undefined {
  const uid = rec.extraConfig.get(UID_KEY);
  return uid ? uid : undefined;
}

export function generationOf(rec: VmRecord): bigint {
  const g = rec.extraConfig.get(GENERATION_KEY);
  return g && /^\d+$/.test(g) ? BigInt(g) : 0n;
}

/** Every guest IP, the primary one first, without duplicates. */
export function guestIps(rec: VmRecord): string[] {
  const ips = [rec.guestIp, ...rec.guestNics.flatMap((n) => n.ips)].filter(Boolean);
  return [...new Set(ips)];
}
