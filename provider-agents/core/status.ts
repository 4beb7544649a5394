/**
 * The status events an agent reports, built in one place: phase and conditions (Ready, Provisioning,
 * Reconfiguring) with reasons, from what happened. Pure: the publisher adds ids, times and headers.
 */
import { create } from '@bufbuild/protobuf';
import {
  ConditionSchema, ErrorInfoSchema, Phase, PowerState, TaskProgressSchema,
  type Condition, type ObservedVM, type SnapshotInfo, type StatusEvent,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

/** The part of a StatusEvent a handler decides; the publisher fills in the rest. */
export type EventBody = Partial<Pick<StatusEvent, 'phase' | 'vm' | 'conditions' | 'error' | 'progress' | 'snapshot' | 'observedGeneration'>>;

export const CONDITION_READY = 'Ready';
export const CONDITION_PROVISIONING = 'Provisioning';
export const CONDITION_RECONFIGURING = 'Reconfiguring';

type Status = 'True' | 'False' | 'Unknown';
const condition = (type: string, status: Status, reason: string, message = ''): Condition =>
  create(ConditionSchema, { type, status, reason, message });

function phaseOf(vm: ObservedVM): Phase {
  return vm.powerState === PowerState.OFF || vm.powerState === PowerState.OFF_GRACEFUL ? Phase.STOPPED : Phase.RUNNING;
}

/** The VM now has the desired state of `generation`. */
export function convergedEvent(vm: ObservedVM, generation: bigint, opts: { created: boolean; restartRequired: string[] }): EventBody {
  const phase = phaseOf(vm);
  const restart = opts.restartRequired.length > 0;
  return {
    phase,
    vm,
    observedGeneration: generation,
    conditions: [
      condition(CONDITION_READY, 'True', phase === Phase.STOPPED ? 'Stopped' : 'Running',
        phase === Phase.STOPPED ? 'the VM is powered off, as desired' : 'the VM runs with its desired configuration'),
      condition(CONDITION_PROVISIONING, 'False', opts.created ? 'Created' : 'Provisioned'),
      restart
        ? condition(CONDITION_RECONFIGURING, 'True', 'RestartRequired', `applied at the next power cycle: ${opts.restartRequired.join(', ')}`)
        : condition(CONDITION_RECONFIGURING, 'False', 'Reconfigured'),
    ],
  };
}

/** The VM is gone from the hypervisor (destroyed, or released when adopted): the finalizer may go. */
export function deletedEvent(generation: bigint, released: boolean): EventBody {
  return {
    phase: Phase.DELETED,
    observedGeneration: generation,
    conditions: [
      condition(CONDITION_READY, 'False', released ? 'Released' : 'Deleted',
        released ? 'the adopted VM was detached and left running on the hypervisor' : 'the VM no longer exists on the hypervisor'),
    ],
  };
}

/** A long operation is under way. */
export function progressEvent(phase: Phase, percent: number, description: string): EventBody {
  const type = phase === Phase.RECONFIGURING ? CONDITION_RECONFIGURING : CONDITION_PROVISIONING;
  return {
    phase,
    progress: create(TaskProgressSchema, { percent, description }),
    conditions: [condition(type, 'True', 'InProgress', description)],
  };
}

/** The command failed; `retryable` says whether the agent will try again. The VM's phase is left alone. */
export function failureEvent(failure: { reason: string; message: string; retryable: boolean }, opts: { permanent: boolean; vm?: ObservedVM }): EventBody {
  return {
    phase: opts.permanent ? Phase.FAILED : Phase.UNSPECIFIED,
    ...(opts.vm ? { vm: opts.vm } : {}),
    error: create(ErrorInfoSchema, failure),
    conditions: [condition(CONDITION_READY, opts.permanent ? 'False' : 'Unknown', failure.reason, failure.message)],
  };
}

/** A snapshot or clone command finished. */
export function operationDoneEvent(reason: string, message: string, opts: { vm?: ObservedVM; snapshot?: SnapshotInfo; generation: bigint; deleted?: boolean }): EventBody {
  return {
    phase: opts.deleted ? Phase.DELETED : Phase.UNSPECIFIED,
    observedGeneration: opts.generation,
    ...(opts.vm ? { vm: opts.vm } : {}),
    ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
    conditions: [condition(CONDITION_READY, opts.deleted ? 'False' : 'True', reason, message)],
  };
}
