/**
 * Delete: destroy the VM — or, when it was adopted and the object does not ask to destroy adopted
 * VMs, release it (our uid removed, the VM left alone) — then check that the hypervisor no longer
 * shows it under our uid. Only then is PHASE_DELETED reported, so the finalizer never goes while
 * the VM may still exist. A read error throws; it never counts as "gone".
 */
import type { DeleteVM } from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { HandlerResult } from '../ack-policy.ts';
import { StillPresentError } from '../errors.ts';
import { deletedEvent } from '../status.ts';
import { checkpoint, type CommandContext } from './context.ts';

export async function deleteVm(c: CommandContext): Promise<HandlerResult> {
  const req = c.cmd.command.op.value as DeleteVM;
  const uid = c.cmd.vmUid;
  const release = req.adopted && !req.destroyAdopted;

  // 1. Observe.
  const vm = await c.driver.find(uid);
  checkpoint(c);
  // 2. Act.
  if (vm) {
    if (release) await c.driver.release(vm, c.op);
    else await c.driver.destroy(vm, c.op);
    checkpoint(c);
    // 3. Verify.
    if (await c.driver.find(uid)) throw new StillPresentError(uid);
  }
  // 4. Report.
  c.markDeleted();
  await c.report(deletedEvent(c.cmd.generation, release));
  return 'done';
}
