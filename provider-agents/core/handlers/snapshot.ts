/**
 * Snapshot commands (object = the VMSnapshot, vm = its VM). Each is idempotent: a snapshot carrying
 * the VMSnapshot's uid is found again instead of taken twice; deleting a missing one is done.
 */
import type { SnapshotCreate, SnapshotDelete, SnapshotRevert } from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { HandlerResult } from '../ack-policy.ts';
import { TransientError } from '../errors.ts';
import { operationDoneEvent } from '../status.ts';
import { checkpoint, type CommandContext } from './context.ts';

async function vmOf(c: CommandContext) {
  const vm = await c.driver.find(c.cmd.vmUid);
  checkpoint(c);
  // The VM may still be being created: retry rather than fail.
  if (!vm) throw new TransientError(`expected VM ${c.cmd.vmUid} to exist for ${c.cmd.op}, found none`, { reason: 'VMNotFound' });
  return vm;
}

export async function snapshotCreate(c: CommandContext): Promise<HandlerResult> {
  const req = c.cmd.command.op.value as SnapshotCreate;
  const vm = await vmOf(c);
  const existing = req.snapshotUid ? vm.snapshots.find((s) => s.snapshotUid === req.snapshotUid) : undefined;
  const snapshot = existing ?? (await c.driver.snapshotCreate(vm, req, c.op));
  checkpoint(c);
  const after = (await c.driver.find(c.cmd.vmUid)) ?? vm;
  await c.report(operationDoneEvent('SnapshotReady', `snapshot ${snapshot.name || snapshot.id} exists`, { vm: after, snapshot, generation: c.cmd.generation }));
  return 'done';
}

export async function snapshotRevert(c: CommandContext): Promise<HandlerResult> {
  const req = c.cmd.command.op.value as SnapshotRevert;
  const vm = await vmOf(c);
  const after = await c.driver.snapshotRevert(vm, req.snapshotId, c.op);
  await c.report(operationDoneEvent('Reverted', `the VM was reverted to snapshot ${req.snapshotId}`, { vm: after, generation: c.cmd.generation }));
  return 'done';
}

export async function snapshotDelete(c: CommandContext): Promise<HandlerResult> {
  const req = c.cmd.command.op.value as SnapshotDelete;
  const vm = await c.driver.find(c.cmd.vmUid);
  checkpoint(c);
  if (vm && vm.snapshots.some((s) => s.id === req.snapshotId)) await c.driver.snapshotDelete(vm, req.snapshotId, c.op);
  await c.report(operationDoneEvent('Deleted', `snapshot ${req.snapshotId} no longer exists`, { generation: c.cmd.generation, deleted: true }));
  return 'done';
}
