/**
 * Level-triggered reconcile: whatever the VM was, converge it to the command's desired state.
 *   1. A VM deleted moments ago (lease tombstone) is never brought back by a stale reconcile.
 *   2. Observe: find(uid). A read error throws (TransientError) — never taken for "VM gone".
 *   3. Fence: a VM that already has a newer generation ignores this older command.
 *   4. Create when absent (or adopt the VM named by adopt_id); the driver writes uid and generation.
 *   5. Reconfigure CPU, memory, disks, NICs where they differ.
 *   6. Converge power.
 *   7. Record the applied generation next to the uid.
 *   8. Report phase, observed VM and conditions.
 */
import { PowerState, type DesiredVM, type ObservedVM } from '../../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { HandlerResult } from '../ack-policy.ts';
import { convergedEvent } from '../status.ts';
import { checkpoint, type CommandContext } from './context.ts';

/** True when the observed power state already is what the desired one asks for. */
export function powerMatches(observed: PowerState, desired: PowerState): boolean {
  if (desired === PowerState.UNSPECIFIED) return true;
  if (desired === PowerState.OFF_GRACEFUL) return observed === PowerState.OFF || observed === PowerState.OFF_GRACEFUL;
  return observed === desired;
}

export async function reconcile(c: CommandContext): Promise<HandlerResult> {
  const desired = c.cmd.command.op.value as DesiredVM;
  const { vmUid: uid, generation } = c.cmd;
  const log = c.log;

  // 1.
  if (c.lease.deletedGeneration !== undefined) {
    log.info('reconcile ignored: the VM was deleted', { deletedGeneration: c.lease.deletedGeneration });
    return 'stale';
  }
  // 2.
  let vm: ObservedVM | undefined = await c.driver.find(uid);
  checkpoint(c);
  // 3.
  if (vm && vm.appliedGeneration > generation) {
    log.info('reconcile ignored: the VM has a newer generation', { appliedGeneration: vm.appliedGeneration, generation });
    return 'stale';
  }
  // 4.
  let created = false;
  if (!vm) {
    if (desired.adoptId) {
      vm = await c.driver.adopt(uid, desired.adoptId, c.op);
    } else {
      vm = await c.driver.create(uid, desired, c.op);
      created = true;
    }
    checkpoint(c);
  }
  // 5.
  const reconfigured = await c.driver.reconfigure(vm, desired, c.op);
  vm = reconfigured.vm;
  checkpoint(c);
  // 6.
  if (!powerMatches(vm.powerState, desired.powerState)) {
    vm = await c.driver.setPower(vm, desired.powerState, desired.gracefulTimeoutSeconds, c.op);
    checkpoint(c);
  }
  // 7.
  if (c.driver.recordGeneration) vm = await c.driver.recordGeneration(vm, generation, c.op);
  // 8.
  await c.report(convergedEvent(vm, generation, { created, restartRequired: reconfigured.restartRequired }));
  return 'done';
}
