/** VMClass (+ the VM's resources override) → ClassSpec: CPUs, memory in MiB, firmware, security, hot-add. */
import { create } from '@bufbuild/protobuf';
import type { VirtualMachine, VMClass } from '../../api/objects.ts';
import { ClassSpecSchema, Firmware, GpuSpecSchema, type ClassSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { quantityToMiB } from './quantity.ts';
import type { Problems } from './types.ts';

/** The smallest and largest memory a VM may have (the CRD's bounds on spec.resources.memoryMiB). */
export const MIN_MEMORY_MIB = 128;
export const MAX_MEMORY_MIB = 100 * 1024 * 1024;

export function firmwareOf(value: string | undefined): Firmware {
  switch (value?.toUpperCase()) {
    case 'UEFI':
    case 'EFI':
      return Firmware.UEFI;
    default:
      return Firmware.BIOS;
  }
}

export function resolveClass(vm: VirtualMachine, vmClass: VMClass, problems: Problems): ClassSpec | undefined {
  const spec = vmClass.spec;
  const overrides = vm.spec.resources;
  const classMemory = quantityToMiB(spec.memory);
  if (classMemory === undefined) return problems.bad(`VMClass ${vmClass.metadata.name}: memory "${spec.memory}" is not a quantity (e.g. 4Gi)`);
  const memoryMiB = overrides?.memoryMiB ?? classMemory;
  if (memoryMiB < MIN_MEMORY_MIB || memoryMiB >= MAX_MEMORY_MIB) {
    const from = overrides?.memoryMiB !== undefined ? 'spec.resources.memoryMiB' : `VMClass ${vmClass.metadata.name} memory`;
    return problems.bad(`${from}: expected at least ${MIN_MEMORY_MIB} MiB and below 100Ti, got ${memoryMiB} MiB`);
  }
  const gpu = overrides?.gpu;
  return create(ClassSpecSchema, {
    name: vmClass.metadata.name ?? '',
    cpus: overrides?.cpu ?? spec.cpu,
    memoryMib: BigInt(memoryMiB),
    firmware: firmwareOf(spec.firmware),
    secureBoot: spec.securityProfile?.secureBoot ?? false,
    tpm: spec.securityProfile?.tpmEnabled ?? false,
    nestedVirtualization: spec.performanceProfile?.nestedVirtualization ?? false,
    cpuHotAdd: spec.performanceProfile?.cpuHotAddEnabled ?? false,
    memoryHotAdd: spec.performanceProfile?.memoryHotAddEnabled ?? false,
    diskType: spec.diskDefaults?.type ?? 'thin',
    gpus: gpu ? [create(GpuSpecSchema, { model: gpu.type ?? '', count: gpu.count, memoryMib: BigInt(gpu.memory ?? 0) })] : [],
    extraConfig: { ...(spec.extraConfig ?? {}) },
  });
}
