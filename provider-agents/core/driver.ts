/**
 * The hypervisor-neutral driver interface every agent implements (one folder per hypervisor).
 * No SDK type crosses it: inputs are bus messages (proto), outputs are neutral values.
 *
 * Rules every driver keeps:
 * - Identity lives on the hypervisor: `find(uid)` looks the VM up by the object UID written on it
 *   at create time (domain metadata, extraConfig, tags or notes), never by a name or a stored id.
 * - `find` returns `undefined` only when the hypervisor positively says no such VM exists. Any read
 *   error throws (a `TransientError`): an error is never taken for "VM gone".
 * - Every method is idempotent: called twice, or after a crash half-way, it converges and never
 *   makes a second VM or leaks one.
 * - Generation fencing: the driver stores, next to the UID, the newest generation applied to the VM
 *   and reports it as `ObservedVM.appliedGeneration`. `create` and `adopt` store `ctx.generation` in
 *   the same write as the UID; `recordGeneration` stores it after the runtime converged the VM. The
 *   runtime never applies a command whose generation is lower. A driver that stores nothing reports
 *   0 and gets no fencing (the lease still serialises work).
 */
import type {
  DesiredVM, ImageSpec, ObservedVM, PowerState, SnapshotCreate, SnapshotInfo,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

/** Progress reporting and cancellation for one operation. */
export interface OperationContext {
  /** Aborted when the agent shuts down or loses the VM's lease: stop at a safe point. */
  signal: AbortSignal;
  /** Reports task progress (also keeps the command from being redelivered). */
  progress(percent: number, description: string): void;
  /**
   * metadata.generation of the command being applied, when it is a VM command. Drivers that can
   * write it in the same hypervisor call as the UID (create, adopt) do so. Optional: added after the
   * first version of this interface, so contexts built elsewhere need not carry it.
   */
  generation?: bigint;
}

/** What a reconfigure could not apply live. */
export interface ReconfigureResult {
  vm: ObservedVM;
  /** Changes that wait for the next power cycle (e.g. CPU on a domain without hot-add). */
  restartRequired: string[];
}

export interface Driver {
  /** "vsphere", "libvirt", "proxmox" or "mock". */
  readonly type: string;
  /** Feature names the hypervisor supports (api/capabilities.ts names). */
  capabilities(): Promise<string[]>;
  /** Checks connectivity and credentials; throws with a reason when the hypervisor is unusable. */
  validate(): Promise<{ version: string }>;

  find(uid: string): Promise<ObservedVM | undefined>;
  /** Creates the VM carrying `uid`; if one already carries it, returns that one. */
  create(uid: string, desired: DesiredVM, ctx: OperationContext): Promise<ObservedVM>;
  /** Brings CPU, memory, disks and NICs to the desired state where they differ. */
  reconfigure(vm: ObservedVM, desired: DesiredVM, ctx: OperationContext): Promise<ReconfigureResult>;
  /** Drives the power state; OFF_GRACEFUL shuts down and falls back to off after the timeout. */
  setPower(vm: ObservedVM, state: PowerState, gracefulTimeoutSeconds: number, ctx: OperationContext): Promise<ObservedVM>;
  /** Destroys the VM and the volumes it owns. Returns once the hypervisor no longer has it. */
  destroy(vm: ObservedVM, ctx: OperationContext): Promise<void>;
  /** Finds an existing VM by its hypervisor id and writes `uid` onto it (adoption). */
  adopt(uid: string, hypervisorId: string, ctx: OperationContext): Promise<ObservedVM>;
  /** Removes `uid` from an adopted VM without destroying it. */
  release(vm: ObservedVM, ctx: OperationContext): Promise<void>;

  snapshotCreate(vm: ObservedVM, req: SnapshotCreate, ctx: OperationContext): Promise<SnapshotInfo>;
  snapshotRevert(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<ObservedVM>;
  snapshotDelete(vm: ObservedVM, snapshotId: string, ctx: OperationContext): Promise<void>;
  clone(source: ObservedVM, targetUid: string, linked: boolean, target: DesiredVM, ctx: OperationContext): Promise<ObservedVM>;

  /**
   * Optional: stores `generation` next to the VM's UID as its applied generation, keeping the larger
   * of the stored and the given value (never lowers it), and returns the VM as now observed. The
   * runtime calls it once the VM has converged to that generation's desired state.
   */
  recordGeneration?(vm: ObservedVM, generation: bigint, ctx: OperationContext): Promise<ObservedVM>;

  /** Optional: pushes observed changes as they happen (power, IPs), instead of polling. */
  watch?(onChange: (uid: string, vm: ObservedVM | undefined) => void): () => void;
  /** Releases connections. */
  close(): Promise<void>;
}

/** The image spec type, re-exported so drivers need not reach into generated code. */
export type { DesiredVM, ImageSpec, ObservedVM, PowerState, SnapshotCreate, SnapshotInfo };
