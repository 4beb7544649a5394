/**
 * Disk changes that bring a VM's disks to DesiredVM.disks: disks grow (never shrink), new disks are
 * added on the controller the disk asks for (created when missing). Each disk we add is recorded in
 * extraConfig (`virtrigaud.disk.<name>` = `scsi1:0`) in the same reconfigure, so it is found again
 * by name and never added twice. A disk named `root` is the VM's first disk (the template's).
 *
 * `controller` takes `scsi<N>` (bus N, pvscsi when created), a type (`pvscsi`, `lsilogic`,
 * `lsilogic-sas`, `buslogic`, `nvme`: the first controller of that type), or both (`scsi1:lsilogic`).
 */
import type { DiskSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';
import type { MoRef } from './soap/client.ts';
import { child, textOf, type XmlInObject } from './soap/xml.ts';
import { int } from './vim/property.ts';
import { deviceChange, newDisk, patchDevice, scsiController, SCSI_TYPES, type ScsiKind } from './vim/spec.ts';
import { DISK_KEY_PREFIX, type Device } from './vim/vm-record.ts';

type ControllerKind = ScsiKind | 'nvme';
const CONTROLLER_TYPES: Record<ControllerKind, string> = { ...SCSI_TYPES, nvme: 'VirtualNVMEController' };
const KIND_OF_TYPE = new Map(Object.entries(CONTROLLER_TYPES).map(([k, t]) => [t, k as ControllerKind]));
const MAX_BUS = 3;

interface Controller {
  key: number;
  kind: ControllerKind;
  bus: number;
  /** Units taken by devices on it. */
  used: Set<number>;
}

export interface ControllerRequest {
  bus: number | undefined;
  kind: ControllerKind | undefined;
}

export function parseController(value: string, diskName: string): ControllerRequest {
  const v = value.trim().toLowerCase();
  if (!v) return { bus: undefined, kind: undefined };
  const m = /^(?:(scsi|nvme)(\d))?(?:[:/]?(pvscsi|lsilogic-sas|lsilogic|buslogic|nvme))?$/.exec(v);
  if (!m || (!m[1] && !m[3])) {
    throw new PermanentError(`disk ${diskName}: controller "${value}" is not scsi<0-3>, a controller type (${Object.keys(CONTROLLER_TYPES).join(', ')}) or both (scsi1:lsilogic)`, { reason: 'InvalidSpec' });
  }
  const bus = m[2] === undefined ? undefined : Number(m[2]);
  if (bus !== undefined && bus > MAX_BUS) throw new PermanentError(`disk ${diskName}: controller bus ${bus} is beyond ${MAX_BUS}`, { reason: 'InvalidSpec' });
  const kind = (m[3] as ControllerKind | undefined) ?? (m[1] === 'nvme' ? 'nvme' : undefined);
  return { bus, kind };
}

function controllersOf(devices: readonly Device[]): Controller[] {
  const ctrls: Controller[] = [];
  for (const d of devices) {
    const kind = KIND_OF_TYPE.get(d.type);
    if (!kind) continue;
    ctrls.push({ key: d.key, kind, bus: int(child(d.node, 'busNumber')) ?? 0, used: new Set() });
  }
  for (const d of devices) {
    const c = ctrls.find((x) => x.key === d.controllerKey);
    if (c && d.unitNumber !== undefined) c.used.add(d.unitNumber);
  }
  for (const c of ctrls) if (c.kind !== 'nvme') c.used.add(7); // the SCSI controller's own unit
  return ctrls;
}

const isDisk = (d: Device) => d.type === 'VirtualDisk';
const capacityKB = (d: Device) => BigInt(textOf(child(d.node, 'capacityInKB')) || '0');

export interface DiskPlan {
  changes: XmlInObject[];
  extraConfig: [string, string][];
  /** Growth that waits for the VM to be off (expandPolicy Offline). */
  deferred: string[];
}

export interface DiskPlanInput {
  devices: readonly Device[];
  extraConfig: ReadonlyMap<string, string>;
  desired: readonly DiskSpec[];
  defaultType: string;
  poweredOn: boolean;
  /** The datastore for a disk's `storage` name. */
  datastoreOf: (name: string) => MoRef | undefined;
  nextKey: () => number;
}

export function planDisks(input: DiskPlanInput): DiskPlan {
  const plan: DiskPlan = { changes: [], extraConfig: [], deferred: [] };
  const ctrls = controllersOf(input.devices);
  const disks = input.devices.filter(isDisk);
  const addressOf = (d: Device) => {
    const c = ctrls.find((x) => x.key === d.controllerKey);
    return c ? `${c.kind === 'nvme' ? 'nvme' : 'scsi'}${c.bus}:${d.unitNumber ?? 0}` : undefined;
  };
  const firstDisk = [...disks].sort((a, b) => (addressOf(a) ?? '~').localeCompare(addressOf(b) ?? '~'))[0];

  for (const want of input.desired) {
    const recorded = input.extraConfig.get(DISK_KEY_PREFIX + want.name);
    const existing = want.name === 'root' && !recorded ? firstDisk : disks.find((d) => recorded && addressOf(d) === recorded);
    const wantKB = BigInt(want.sizeGib) * 1024n * 1024n;
    if (existing) {
      const have = capacityKB(existing);
      if (wantKB <= have) continue; // equal, or a shrink vSphere cannot do: the webhook refuses those
      if (input.poweredOn && want.expandPolicy !== 'Online') {
        plan.deferred.push(`disk ${want.name}: grows to ${want.sizeGib} GiB once the VM is off (expandPolicy Offline)`);
        continue;
      }
      plan.changes.push(deviceChange('edit', patchDevice(existing.node, { capacityInKB: wantKB.toString(), capacityInBytes: (wantKB * 1024n).toString() })));
      continue;
    }
    const req = parseController(want.controller, want.name);
    let ctrl = ctrls.find((c) => (req.bus === undefined || c.bus === req.bus) && (req.kind === undefined || c.kind === req.kind)
      && (req.kind !== undefined || c.kind !== 'nvme'));
    if (!ctrl && req.bus !== undefined && ctrls.some((c) => c.bus === req.bus && (c.kind === 'nvme') === (req.kind === 'nvme'))) {
      const other = ctrls.find((c) => c.bus === req.bus)!;
      throw new PermanentError(`disk ${want.name}: controller bus ${req.bus} is a ${other.kind} controller, not ${req.kind}`, { reason: 'InvalidSpec' });
    }
    if (!ctrl) {
      const kind = req.kind ?? 'pvscsi';
      const family = ctrls.filter((c) => (c.kind === 'nvme') === (kind === 'nvme'));
      const bus = req.bus ?? [0, 1, 2, 3].find((b) => !family.some((c) => c.bus === b));
      if (bus === undefined) throw new PermanentError(`disk ${want.name}: every ${kind} controller bus is taken; name one (scsi0-3)`, { reason: 'InvalidSpec' });
      ctrl = { key: input.nextKey(), kind, bus, used: new Set(kind === 'nvme' ? [] : [7]) };
      ctrls.push(ctrl);
      plan.changes.push(deviceChange('add', kind === 'nvme'
        ? { '@_xsi:type': 'VirtualNVMEController', key: ctrl.key, busNumber: bus }
        : scsiController(kind, ctrl.key, bus)));
    }
    const max = ctrl.kind === 'nvme' ? 14 : 15;
    let unit = want.unit > 0 ? want.unit : undefined;
    if (unit !== undefined && (unit > max || ctrl.used.has(unit))) {
      throw new PermanentError(`disk ${want.name}: unit ${unit} on ${ctrl.kind} bus ${ctrl.bus} is ${unit > max ? 'out of range' : 'taken'}`, { reason: 'InvalidSpec' });
    }
    unit ??= Array.from({ length: max + 1 }, (_, i) => i).find((u) => !ctrl!.used.has(u));
    if (unit === undefined) throw new PermanentError(`disk ${want.name}: ${ctrl.kind} bus ${ctrl.bus} has no free unit`, { reason: 'InvalidSpec' });
    ctrl.used.add(unit);
    const type = want.type || input.defaultType || 'thin';
    const datastore = want.storage ? input.datastoreOf(want.storage) : undefined;
    if (want.storage && !datastore) throw new PermanentError(`disk ${want.name}: datastore "${want.storage}" not found`, { reason: 'PlacementNotFound' });
    plan.changes.push(deviceChange('add', newDisk({
      key: input.nextKey(), controllerKey: ctrl.key, unitNumber: unit, sizeGiB: want.sizeGib, datastore,
      thin: type === 'thin' || type === 'ssd' || type === 'hdd' || type === 'nvme', eagerlyScrub: type === 'eagerzeroedthick',
    }), 'create'));
    const address = `${ctrl.kind === 'nvme' ? 'nvme' : 'scsi'}${ctrl.bus}:${unit}`;
    plan.extraConfig.push([DISK_KEY_PREFIX + want.name, address]);
    if (type === 'ssd') plan.extraConfig.push([`${address}.virtualSSD`, '1']);
  }
  return plan;
}
