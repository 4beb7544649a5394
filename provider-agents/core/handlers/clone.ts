/**
 * Clone (object = the VMClone, vm = the source VM): the clone carries its target's uid, so a retry
 * finds it instead of cloning twice.
 */
import { CloneMode, type CloneVM, DesiredVMSchema } from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { create } from '@bufbuild/protobuf';
import type { HandlerResult } from '../ack-policy.ts';
import { TransientError } from '../errors.ts';
import { operationDoneEvent } from '../status.ts';
import { checkpoint, type CommandContext } from './context.ts';

export async function cloneVm(c: CommandContext): Promise<HandlerResult> {
  const req = c.cmd.command.op.value as CloneVM;
  const targetUid = req.target!.uid;
  const source = await c.driver.find(c.cmd.vmUid);
  checkpoint(c);
  if (!source) throw new TransientError(`expected source VM ${c.cmd.vmUid} to exist for clone, found none`, { reason: 'VMNotFound' });
  let target = await c.driver.find(targetUid);
  checkpoint(c);
  if (!target) {
    const op = { ...c.op, generation: req.target!.generation };
    target = await c.driver.clone(source, targetUid, req.mode === CloneMode.LINKED, req.targetDesired ?? create(DesiredVMSchema), op);
  }
  await c.report(operationDoneEvent('Cloned', `clone ${targetUid} exists`, { vm: target, generation: c.cmd.generation }));
  return 'done';
}
