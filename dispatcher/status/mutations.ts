/**
 * Pure status changes: what a reconcile decided, what an agent reported, what the bus gave up
 * on. Each takes the current status and returns the next one (never mutating its input); the
 * status writer applies them in order and writes the result once.
 */
import { Phase, PowerState, type StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { clearIfSet, REASON, setConditions, type ConditionUpdate } from './conditions.ts';
import type { StatusIntent, VMPhase, VMPowerState, VMStatus } from './model.ts';

export function applyIntent(status: VMStatus, intent: StatusIntent, generation: number, now: string): VMStatus {
  const next: VMStatus = { ...status };
  if (intent.phase) next.phase = intent.phase;
  if (intent.message !== undefined) next.message = intent.message;
  if (intent.lastCommand) next.lastCommand = { ...intent.lastCommand };
  if (intent.conditions.length) next.conditions = setConditions(status.conditions, intent.conditions, now, generation);
  return next;
}

const PHASE_NAME: Partial<Record<Phase, VMPhase>> = {
  [Phase.PENDING]: 'Pending',
  [Phase.PROVISIONING]: 'Provisioning',
  [Phase.RUNNING]: 'Running',
  [Phase.STOPPED]: 'Stopped',
  [Phase.RECONFIGURING]: 'Reconfiguring',
  [Phase.DELETING]: 'Deleting',
  [Phase.DELETED]: 'Deleting',
  [Phase.FAILED]: 'Failed',
};

const POWER_NAME: Partial<Record<PowerState, VMPowerState>> = {
  [PowerState.ON]: 'On',
  [PowerState.OFF]: 'Off',
  // Observed power is on or off; a graceful shutdown that finished is off.
  [PowerState.OFF_GRACEFUL]: 'Off',
};

export interface EventContext {
  /** The id of the newest command published for the VM (ledger or status), if any. */
  currentCommandId?: string;
  /** The VM has a deletionTimestamp. */
  deleting: boolean;
  now: string;
}

export type EventOutcome =
  /** Phase, conditions and observations applied. */
  | 'applied'
  /** Older than the generation status already reflects: nothing applied. */
  | 'stale'
  /** About a command a newer one replaced: only observations (id, IPs, power) applied. */
  | 'superseded'
  /** The agent reports the VM gone and the object is being deleted: the finalizer may go. */
  | 'deleted';

/** Observations (hypervisor id, IPs, console, power) from an event, whatever command it answers. */
function observe(status: VMStatus, event: StatusEvent): VMStatus {
  const vm = event.vm;
  if (!vm || !vm.exists) return status;
  const next: VMStatus = { ...status };
  if (vm.id) next.id = vm.id;
  next.ips = [...vm.ips];
  if (vm.consoleUrl) next.consoleURL = vm.consoleUrl;
  const power = POWER_NAME[vm.powerState];
  if (power) next.powerState = power;
  return next;
}

function conditionsFor(status: VMStatus, event: StatusEvent, ctx: EventContext): { phase?: VMPhase; updates: ConditionUpdate[] } {
  const c = status.conditions;
  const where = event.provider ? ` on provider ${event.provider.namespace}/${event.provider.name}` : '';
  const err = event.error;
  if (err?.reason && (!err.retryable || event.phase === Phase.FAILED)) {
    return {
      phase: 'Failed',
      updates: [
        { type: 'Ready', status: 'False', reason: err.reason, message: err.message },
        ...clearIfSet(c, 'Provisioning', err.reason, err.message),
        ...clearIfSet(c, 'Reconfiguring', err.reason, err.message),
      ],
    };
  }
  if (err?.reason) {
    return { updates: [{ type: 'Ready', status: 'False', reason: err.reason, message: `${err.message} (retrying)` }] };
  }
  const progress = event.progress?.description ? `: ${event.progress.description}` : '';
  switch (event.phase) {
    case Phase.PENDING:
      return { phase: 'Pending', updates: [{ type: 'Ready', status: 'False', reason: REASON.Pending, message: `waiting for an agent${where}` }] };
    case Phase.PROVISIONING:
      return {
        phase: 'Provisioning',
        updates: [
          { type: 'Ready', status: 'False', reason: REASON.Provisioning, message: `creating the VM${where}${progress}` },
          { type: 'Provisioning', status: 'True', reason: REASON.Provisioning, message: `creating the VM${where}${progress}` },
        ],
      };
    case Phase.RECONFIGURING:
      return {
        phase: 'Reconfiguring',
        updates: [
          { type: 'Ready', status: 'False', reason: REASON.Reconfiguring, message: `converging the VM to its spec${where}${progress}` },
          { type: 'Reconfiguring', status: 'True', reason: REASON.Reconfiguring, message: `converging the VM to its spec${where}${progress}` },
        ],
      };
    case Phase.RUNNING:
    case Phase.STOPPED: {
      const running = event.phase === Phase.RUNNING;
      const id = event.vm?.id ? ` as ${event.vm.id}` : '';
      const message = `the VM is ${running ? 'running' : 'stopped'}${where}${id}`;
      return {
        phase: running ? 'Running' : 'Stopped',
        updates: [
          { type: 'Ready', status: 'True', reason: running ? REASON.Running : REASON.Stopped, message },
          ...clearIfSet(c, 'Provisioning', REASON.Provisioned, `the VM exists${where}${id}`),
          ...clearIfSet(c, 'Reconfiguring', REASON.Reconfigured, `the VM matches generation ${event.observedGeneration}`),
        ],
      };
    }
    case Phase.DELETING:
      return {
        phase: 'Deleting',
        updates: [
          { type: 'Ready', status: 'False', reason: REASON.Deleting, message: `deleting the VM${where}${progress}` },
          { type: 'Deleting', status: 'True', reason: REASON.Deleting, message: `deleting the VM${where}${progress}` },
        ],
      };
    case Phase.DELETED:
      if (ctx.deleting) {
        return { phase: 'Deleting', updates: [{ type: 'Deleting', status: 'True', reason: REASON.Deleted, message: `the VM is gone${where}` }] };
      }
      return {
        phase: 'Failed',
        updates: [{ type: 'Ready', status: 'False', reason: REASON.VMMissing, message: `the VM is gone${where}; change or re-apply the object to create it again` }],
      };
    case Phase.FAILED:
      return { phase: 'Failed', updates: [{ type: 'Ready', status: 'False', reason: REASON.Failed, message: `the agent reports a failure${where}` }] };
    default:
      return { updates: [] };
  }
}

/** Applies an agent's status event: stale ones are ignored, superseded ones only observed. */
export function applyEvent(status: VMStatus, event: StatusEvent, ctx: EventContext): { status: VMStatus; outcome: EventOutcome } {
  const eventGen = Number(event.observedGeneration);
  const deleted = event.phase === Phase.DELETED && ctx.deleting;
  // 1. Older than what status reflects: ignore (a gone VM is news whatever its generation).
  if (!deleted && eventGen < (status.observedGeneration ?? 0)) return { status, outcome: 'stale' };
  // 2. Observations are facts whichever command they came with.
  let next = observe(status, event);
  // 3. An answer to a command a newer one replaced says nothing about the newest desired state.
  if (event.commandId && ctx.currentCommandId && event.commandId !== ctx.currentCommandId && !deleted) {
    return { status: next, outcome: 'superseded' };
  }
  // 4. While the object is being deleted, only the deletion's progress (or an error) says anything new.
  if (ctx.deleting && !deleted && event.phase !== Phase.DELETING && !event.error?.reason) {
    return { status: next, outcome: 'superseded' };
  }
  // 5. Phase, conditions, observedGeneration.
  const { phase, updates } = conditionsFor(next, event, ctx);
  next = { ...next };
  if (phase) next.phase = phase;
  if (updates.length) next.conditions = setConditions(next.conditions, updates, ctx.now, eventGen);
  if (event.progress?.description) next.message = event.progress.description;
  else if (event.error?.message) next.message = event.error.message;
  if (eventGen > (next.observedGeneration ?? 0)) next.observedGeneration = eventGen;
  return { status: next, outcome: deleted ? 'deleted' : 'applied' };
}

export interface DeliveryExhausted {
  commandId?: string;
  streamSequence: number;
  deliveries: number;
}

/** The bus gave up delivering the VM's current command: Ready=False CommandDeliveryExhausted. */
export function applyDeliveryExhausted(status: VMStatus, ex: DeliveryExhausted, now: string, retryAt: string): VMStatus {
  const last = status.lastCommand;
  const matches = last && (ex.commandId ? last.id === ex.commandId : last.streamSequence === ex.streamSequence);
  if (!last || !matches) return status;
  return {
    ...status,
    lastCommand: { ...last, deliveryExhaustedAt: now },
    conditions: setConditions(status.conditions, [{
      type: 'Ready',
      status: 'False',
      reason: REASON.CommandDeliveryExhausted,
      message: `no agent of the provider acknowledged command ${last.id} after ${ex.deliveries} deliveries; ` +
        `check that the provider's agents run. It is published again at ${retryAt}, or at the VM's next change`,
    }], now, last.generation),
  };
}
