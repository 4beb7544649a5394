/** ObservedVM and SnapshotInfo from what PVE lists. */
import { create } from '@bufbuild/protobuf';
import { ObservedVMSchema, PowerState, SnapshotInfoSchema, type ObservedVM, type SnapshotInfo } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { snapshotIdentity } from './identity.ts';
import type { PveSnapshot } from './parse.ts';

const MIB = 1024 * 1024;

/** The noVNC console of the PVE web UI (the user logs in there with their own PVE account). */
export function consoleUrl(origin: string, node: string, vmid: number, name: string): string {
  const q = new URLSearchParams({ console: 'kvm', novnc: '1', vmid: String(vmid), vmname: name, node, resize: 'off', cmd: '' });
  return `${origin}/?${q.toString()}`;
}

export function snapshotInfo(s: PveSnapshot): SnapshotInfo {
  const id = snapshotIdentity(s.description);
  return create(SnapshotInfoSchema, {
    id: s.name,
    name: id.name ?? s.name,
    hasMemory: s.vmstate,
    createdUnixMs: BigInt((s.snaptime ?? 0) * 1000),
    snapshotUid: id.snapshotUid,
  });
}

export interface VmFacts {
  vmid: number;
  node: string;
  name: string;
  running: boolean;
  cpus: number;
  maxmemBytes: number;
  generation: bigint;
  ips: string[];
  snapshots: SnapshotInfo[];
}

export function observed(origin: string, f: VmFacts): ObservedVM {
  return create(ObservedVMSchema, {
    id: String(f.vmid),
    exists: true,
    powerState: f.running ? PowerState.ON : PowerState.OFF,
    ips: f.ips,
    consoleUrl: consoleUrl(origin, f.node, f.vmid, f.name),
    cpus: f.cpus,
    memoryMib: BigInt(Math.round(f.maxmemBytes / MIB)),
    snapshots: f.snapshots,
    appliedGeneration: f.generation,
  });
}
