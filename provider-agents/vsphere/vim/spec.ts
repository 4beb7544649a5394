/**
 * Request data objects in the vim25 WSDL's element order (vCenter checks sequences), as typed
 * builders. Only the fields the agent sets are modelled; undefined fields are left out.
 */
import { ref, type MoRef } from '../soap/client.ts';
import { toRequestValue, type XmlInObject, type XmlNode } from '../soap/xml.ts';

export function optionValue(key: string, value: string): XmlInObject {
  return { '@_xsi:type': 'OptionValue', key, value: { '@_xsi:type': 'xsd:string', '#text': value } };
}

export interface ConfigSpecFields {
  name?: string;
  numCPUs?: number;
  memoryMB?: number;
  memoryHotAddEnabled?: boolean;
  cpuHotAddEnabled?: boolean;
  deviceChange?: XmlInObject[];
  extraConfig?: [string, string][];
  efiSecureBootEnabled?: boolean;
  firmware?: 'bios' | 'efi';
  nestedHVEnabled?: boolean;
}

/** VirtualMachineConfigSpec (fields in WSDL order). */
export function configSpec(f: ConfigSpecFields): XmlInObject {
  return {
    name: f.name,
    numCPUs: f.numCPUs,
    memoryMB: f.memoryMB,
    memoryHotAddEnabled: f.memoryHotAddEnabled,
    cpuHotAddEnabled: f.cpuHotAddEnabled,
    deviceChange: f.deviceChange?.length ? f.deviceChange : undefined,
    extraConfig: f.extraConfig?.length ? f.extraConfig.map(([k, v]) => optionValue(k, v)) : undefined,
    bootOptions: f.efiSecureBootEnabled === undefined ? undefined : { efiSecureBootEnabled: f.efiSecureBootEnabled },
    firmware: f.firmware,
    nestedHVEnabled: f.nestedHVEnabled,
  };
}

export function isEmptyConfigSpec(f: ConfigSpecFields): boolean {
  return Object.values(configSpec(f)).every((v) => v === undefined);
}

export interface RelocateFields {
  folder?: MoRef;
  datastore?: MoRef;
  diskMoveType?: 'moveAllDiskBackingsAndDisallowSharing' | 'createNewChildDiskBacking';
  pool?: MoRef;
  host?: MoRef;
  deviceChange?: XmlInObject[];
}

/** VirtualMachineRelocateSpec. */
export function relocateSpec(f: RelocateFields): XmlInObject {
  return {
    folder: f.folder && ref(f.folder),
    datastore: f.datastore && ref(f.datastore),
    diskMoveType: f.diskMoveType,
    pool: f.pool && ref(f.pool),
    host: f.host && ref(f.host),
    deviceChange: f.deviceChange?.length ? f.deviceChange : undefined,
  };
}

/** VirtualMachineCloneSpec. */
export function cloneSpec(f: { location: XmlInObject; template: boolean; config?: XmlInObject; powerOn: boolean; snapshot?: MoRef }): XmlInObject {
  return { location: f.location, template: f.template, config: f.config, powerOn: f.powerOn, snapshot: f.snapshot && ref(f.snapshot) };
}

/** VirtualDeviceConfigSpec. */
export function deviceChange(operation: 'add' | 'edit' | 'remove', device: XmlInObject | XmlNode, fileOperation?: 'create' | 'destroy'): XmlInObject {
  return { operation, fileOperation, device: toRequestValue(device as XmlNode) as XmlInObject };
}

// --- devices ---

/** The elements of VirtualDevice and its subclasses we touch, in WSDL order. */
const DEVICE_ORDER = [
  'key', 'deviceInfo', 'backing', 'connectable', 'slotInfo', 'controllerKey', 'unitNumber', 'numaNode', 'deviceGroupInfo',
  // VirtualController / VirtualSCSIController
  'busNumber', 'device', 'hotAddRemove', 'sharedBus', 'scsiCtlrUnitNumber',
  // VirtualDisk
  'capacityInKB', 'capacityInBytes', 'shares', 'storageIOAllocation', 'diskObjectId', 'vFlashCacheConfigInfo', 'iofilter',
  'vDiskId', 'vDiskVersion', 'nativeUnmanagedLinkedClone', 'independentFilters', 'guestReadOnly',
  // VirtualEthernetCard
  'addressType', 'macAddress', 'wakeOnLanEnabled', 'resourceAllocation', 'externalId', 'uptCompatibilityEnabled', 'uptv2Enabled',
];

/**
 * `node` with `patch` applied, keys in WSDL order: known keys sort by the order above; keys we do
 * not know keep their place after the known key they followed.
 */
export function patchDevice(node: XmlNode, patch: Record<string, XmlInObject | string | number | boolean | undefined>): XmlInObject {
  const src = (typeof node === 'object' ? toRequestValue(node) : {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...src, ...patch };
  const rank = new Map<string, number>();
  let last = -1;
  for (const k of Object.keys(src)) {
    const i = DEVICE_ORDER.indexOf(k);
    if (i >= 0) last = i;
    rank.set(k, i >= 0 ? i : last + 0.5);
  }
  for (const k of Object.keys(patch)) if (!rank.has(k)) rank.set(k, DEVICE_ORDER.indexOf(k) >= 0 ? DEVICE_ORDER.indexOf(k) : 999);
  const keys = Object.keys(merged).filter((k) => merged[k] !== undefined);
  const attrs = keys.filter((k) => k.startsWith('@_'));
  const elems = keys.filter((k) => !k.startsWith('@_')).sort((a, b) => rank.get(a)! - rank.get(b)!);
  const out: Record<string, unknown> = {};
  for (const k of [...attrs, ...elems]) out[k] = merged[k];
  return out as XmlInObject;
}

export const SCSI_TYPES = {
  pvscsi: 'ParaVirtualSCSIController',
  lsilogic: 'VirtualLsiLogicController',
  'lsilogic-sas': 'VirtualLsiLogicSASController',
  buslogic: 'VirtualBusLogicController',
} as const;
export type ScsiKind = keyof typeof SCSI_TYPES;

export function scsiController(kind: ScsiKind, key: number, busNumber: number, sharedBus = 'noSharing'): XmlInObject {
  return { '@_xsi:type': SCSI_TYPES[kind], key, busNumber, sharedBus };
}

export function newDisk(opts: {
  key: number; controllerKey: number; unitNumber: number; sizeGiB: number; datastore?: MoRef; thin: boolean; eagerlyScrub: boolean;
}): XmlInObject {
  const kb = BigInt(opts.sizeGiB) * 1024n * 1024n;
  return {
    '@_xsi:type': 'VirtualDisk',
    key: opts.key,
    backing: {
      '@_xsi:type': 'VirtualDiskFlatVer2BackingInfo',
      fileName: '',
      datastore: opts.datastore && ref(opts.datastore),
      diskMode: 'persistent',
      thinProvisioned: opts.thin,
      eagerlyScrub: opts.eagerlyScrub || undefined,
    },
    controllerKey: opts.controllerKey,
    unitNumber: opts.unitNumber,
    capacityInKB: kb,
    capacityInBytes: kb * 1024n,
  };
}

export const NIC_TYPES = {
  vmxnet3: 'VirtualVmxnet3',
  vmxnet2: 'VirtualVmxnet2',
  e1000: 'VirtualE1000',
  e1000e: 'VirtualE1000e',
  pcnet32: 'VirtualPCNet32',
} as const;
export type NicModel = keyof typeof NIC_TYPES;

export type NicBacking =
  | { kind: 'network'; name: string; network: MoRef }
  | { kind: 'dvportgroup'; switchUuid: string; portgroupKey: string }
  | { kind: 'opaque'; opaqueNetworkId: string; opaqueNetworkType: string };

export function nicBacking(b: NicBacking): XmlInObject {
  switch (b.kind) {
    case 'network':
      return { '@_xsi:type': 'VirtualEthernetCardNetworkBackingInfo', deviceName: b.name, network: ref(b.network) };
    case 'dvportgroup':
      return { '@_xsi:type': 'VirtualEthernetCardDistributedVirtualPortBackingInfo', port: { switchUuid: b.switchUuid, portgroupKey: b.portgroupKey } };
    case 'opaque':
      return { '@_xsi:type': 'VirtualEthernetCardOpaqueNetworkBackingInfo', opaqueNetworkId: b.opaqueNetworkId, opaqueNetworkType: b.opaqueNetworkType };
  }
}

const CONNECTED: XmlInObject = { startConnected: true, allowGuestControl: true, connected: true };

export function newNic(model: NicModel, key: number, backing: NicBacking, mac?: string): XmlInObject {
  return {
    '@_xsi:type': NIC_TYPES[model],
    key,
    backing: nicBacking(backing),
    connectable: CONNECTED,
    addressType: mac ? 'manual' : 'generated',
    macAddress: mac,
  };
}

export function editNic(node: XmlNode, backing: NicBacking, mac?: string): XmlInObject {
  return patchDevice(node, { backing: nicBacking(backing), connectable: CONNECTED, ...(mac ? { addressType: 'manual', macAddress: mac } : {}) });
}
