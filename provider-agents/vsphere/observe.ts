/** A VM record as the neutral ObservedVM the runtime reports. */
import { create } from '@bufbuild/protobuf';
import { ObservedVMSchema, PowerState, SnapshotInfoSchema, type ObservedVM, type SnapshotInfo } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { generationOf, guestIps, type SnapshotNode, type VmRecord } from './vim/vm-record.ts';

/** The marker a snapshot's description carries so a retried create finds it (VMSnapshot uid). */
const SNAPSHOT_UID = /\[virtrigaud:snapshot-uid=([^\]\s]+)\]/;

export function describeSnapshot(description: string, snapshotUid: string): string {
  return snapshotUid ? `${description}${description ? '\n' : ''}[virtrigaud:snapshot-uid=${snapshotUid}]` : description;
}

export function snapshotUidOf(s: SnapshotNode): string {
  return SNAPSHOT_UID.exec(s.description)?.[1] ?? '';
}

export function toSnapshotInfo(s: SnapshotNode): SnapshotInfo {
  const t = Date.parse(s.createTime);
  return create(SnapshotInfoSchema, {
    id: s.ref.value,
    name: s.name,
    hasMemory: s.state === 'poweredOn',
    createdUnixMs: BigInt(Number.isFinite(t) ? t : 0),
    snapshotUid: snapshotUidOf(s),
  });
}

export function powerOf(rec: VmRecord): PowerState {
  return rec.powerState === 'poweredOn' ? PowerState.ON : PowerState.OFF;
}

/**
 * `consoleBase`: the vSphere Client's VM page (`https://vc/ui/app/vm;nav=v/urn:vmomi:VirtualMachine:`
 * + id + `:` + vCenter instance uuid + `/summary`). A web-console ticket is a bearer credential,
 * so status carries this stable link; `VSphereDriver.consoleTicket` acquires a ticket on demand.
 */
export function toObserved(rec: VmRecord, console: { origin: string; instanceUuid: string }): ObservedVM {
  return create(ObservedVMSchema, {
    id: rec.ref.value,
    exists: true,
    powerState: powerOf(rec),
    ips: guestIps(rec),
    consoleUrl: `${console.origin}/ui/app/vm;nav=v/urn:vmomi:VirtualMachine:${rec.ref.value}:${console.instanceUuid}/summary`,
    cpus: rec.numCPU,
    memoryMib: BigInt(rec.memoryMB),
    snapshots: rec.snapshots.map(toSnapshotInfo),
    appliedGeneration: generationOf(rec),
  });
}
