/**
 * CPU, memory, firmware and the class's other settings as config-spec fields: all of them for a new
 * VM, only the differences for an existing one. What cannot change while the VM runs (firmware,
 * hot-add flags, CPU or memory without hot-add, and any decrease) is reported as waiting for the
 * next power-off instead of failing the reconfigure.
 */
import { Firmware, type ClassSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError } from '../core/errors.ts';
import type { ConfigSpecFields } from './vim/spec.ts';
import type { VmRecord } from './vim/vm-record.ts';

/** extraConfig prefixes the agent owns; a class cannot set them. */
const RESERVED = ['virtrigaud.', 'guestinfo.', 'SET.'];

export function classExtraConfig(cls: ClassSpec | undefined): [string, string][] {
  return Object.entries(cls?.extraConfig ?? {}).filter(([k]) => !RESERVED.some((p) => k.startsWith(p)));
}

function firmwareOf(cls: ClassSpec): 'bios' | 'efi' | undefined {
  if (cls.firmware === Firmware.UEFI) return 'efi';
  if (cls.firmware === Firmware.BIOS) return 'bios';
  return undefined;
}

/** The class's hardware for a new VM (unset values keep the template's). */
export function hardwareForCreate(cls: ClassSpec | undefined): ConfigSpecFields {
  if (!cls) return {};
  if (cls.secureBoot && cls.firmware === Firmware.BIOS) {
    throw new PermanentError('secure boot needs UEFI firmware; the class asks for BIOS', { reason: 'InvalidSpec' });
  }
  return {
    numCPUs: cls.cpus || undefined,
    memoryMB: cls.memoryMib ? Number(cls.memoryMib) : undefined,
    cpuHotAddEnabled: cls.cpuHotAdd || undefined,
    memoryHotAddEnabled: cls.memoryHotAdd || undefined,
    firmware: firmwareOf(cls) ?? (cls.secureBoot ? 'efi' : undefined),
    efiSecureBootEnabled: cls.secureBoot || undefined,
    nestedHVEnabled: cls.nestedVirtualization || undefined,
  };
}

export interface HardwareDelta {
  fields: ConfigSpecFields;
  deferred: string[];
}

/** What differs between the VM and its class; live changes only where vSphere allows them. */
export function hardwareDelta(vm: VmRecord, cls: ClassSpec | undefined): HardwareDelta {
  const fields: ConfigSpecFields = {};
  const deferred: string[] = [];
  if (!cls) return { fields, deferred };
  const on = vm.powerState === 'poweredOn';
  const cpus = cls.cpus || 0;
  const mem = cls.memoryMib ? Number(cls.memoryMib) : 0;
  const firmware = firmwareOf(cls);

  if (firmware && vm.firmware && firmware !== vm.firmware) {
    if (on) deferred.push(`firmware ${firmware} once the VM is off`);
    else fields.firmware = firmware;
  }
  // Hot-add flags can only change while off; they decide what may change live below.
  if (cls.cpuHotAdd !== vm.cpuHotAdd) {
    if (on) deferred.push(`CPU hot-add ${cls.cpuHotAdd ? 'on' : 'off'} once the VM is off`);
    else fields.cpuHotAddEnabled = cls.cpuHotAdd;
  }
  if (cls.memoryHotAdd !== vm.memoryHotAdd) {
    if (on) deferred.push(`memory hot-add ${cls.memoryHotAdd ? 'on' : 'off'} once the VM is off`);
    else fields.memoryHotAddEnabled = cls.memoryHotAdd;
  }
  if (cpus && cpus !== vm.numCPU) {
    if (!on || (cpus > vm.numCPU && vm.cpuHotAdd)) fields.numCPUs = cpus;
    else deferred.push(`${cpus} CPUs once the VM is off (${cpus < vm.numCPU ? 'CPUs cannot be removed live' : 'CPU hot-add is off'})`);
  }
  if (mem && mem !== vm.memoryMB) {
    if (!on || (mem > vm.memoryMB && vm.memoryHotAdd)) fields.memoryMB = mem;
    else deferred.push(`${mem} MiB memory once the VM is off (${mem < vm.memoryMB ? 'memory cannot be removed live' : 'memory hot-add is off'})`);
  }
  return { fields, deferred };
}
