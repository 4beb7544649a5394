/** The VM's extra disks → DiskSpecs (type, expand policy, controller, storage), class defaults filling gaps. */
import { create } from '@bufbuild/protobuf';
import type { VirtualMachine, VMClass } from '../../api/objects.ts';
import { DiskSpecSchema, type DiskSpec } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

export function resolveDisks(vm: VirtualMachine, vmClass: VMClass): DiskSpec[] {
  const defaultType = vmClass.spec.diskDefaults?.type ?? 'thin';
  return (vm.spec.disks ?? []).map((d) => create(DiskSpecSchema, {
    name: d.name,
    sizeGib: d.sizeGiB,
    type: d.type ?? defaultType,
    expandPolicy: d.expandPolicy ?? 'Offline',
    // vSphere SCSI: the controller type, and its bus number when the VM names one.
    controller: d.scsi ? `${d.scsi.controllerType ?? 'pvscsi'}${d.scsi.controller !== undefined ? `:${d.scsi.controller}` : ''}` : '',
    unit: 0,
    storage: d.storageClass ?? vmClass.spec.diskDefaults?.storageClass ?? '',
  }));
}
