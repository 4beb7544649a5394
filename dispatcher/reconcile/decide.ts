/**
 * decide(vm, resolution, last) → what to do: pure, table-tested (test/unit/dispatcher-decide).
 *
 * - The finalizer is added before the first command that can create a VM.
 * - Nothing is published while the resolved desired state and generation equal the last
 *   command's (status.lastCommand, or the in-memory ledger when it is newer).
 * - Deleting: a DeleteVM command, the finalizer kept until an agent reports the VM gone
 *   (status consumer), or removed at once with virtrigaud.io/force-delete: "true". An
 *   unreachable provider never removes it.
 * - A command the bus gave up delivering is published again (new id) after a delay.
 */
import { create } from '@bufbuild/protobuf';
import { ANNOTATION_ADOPT_ID, ANNOTATION_DESTROY_ADOPTED, ANNOTATION_FORCE_DELETE, FINALIZER_VM, type VirtualMachine } from '../../api/objects.ts';
import { DeleteVMSchema, type DeleteVM, type DesiredVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { DEFAULT_GRACEFUL_TIMEOUT_S, gracefulTimeoutOf } from '../resolve/power.ts';
import type { ProviderTarget, Resolution } from '../resolve/types.ts';
import { clearIfSet, findCondition, REASON, timestamp, type ConditionUpdate } from '../status/conditions.ts';
import type { LastCommand, StatusIntent } from '../status/model.ts';
import { commandId, DELETE_HASH } from './command-id.ts';
import { hashDesired } from './desired-hash.ts';

export interface DecideInput {
  vm: VirtualMachine;
  /** The resolved desired state; not needed (undefined) while the VM is being deleted. */
  resolution?: Resolution;
  /** The provider's type as the cache knows it (commands carry it; deletes need no resolution). */
  providerType?: string;
  /** The newest record of the last published command (status or ledger). */
  last?: LastCommand;
  now: number;
  redispatchAfterExhaustedMs: number;
}

interface PlannedBase {
  id: string;
  sequence: number;
  generation: number;
  hash: string;
  provider: ProviderTarget;
}
export type PlannedCommand =
  | (PlannedBase & { operation: 'Reconcile'; desired: DesiredVM })
  | (PlannedBase & { operation: 'Delete'; delete: DeleteVM });

export type DecisionReason =
  | 'no-finalizer' | 'force-delete' | 'delete' | 'delete-pending'
  | 'waiting' | 'invalid' | 'create' | 'update' | 'unchanged' | 'redispatch' | 'exhausted-wait';

export interface Decision {
  reason: DecisionReason;
  finalizer?: 'add' | 'remove';
  command?: PlannedCommand;
  /** What to write to status (the writer skips it when it changes nothing). */
  status?: StatusIntent;
  requeueAfterMs?: number;
}

export const isForceDelete = (vm: VirtualMachine): boolean => vm.metadata.annotations?.[ANNOTATION_FORCE_DELETE] === 'true';
export const hasFinalizer = (vm: VirtualMachine): boolean => vm.metadata.finalizers?.includes(FINALIZER_VM) ?? false;

/** When an exhausted command is due again; undefined when it is not exhausted. */
function redispatchDue(last: LastCommand | undefined, afterMs: number): number | undefined {
  if (!last?.deliveryExhaustedAt) return undefined;
  return Date.parse(last.deliveryExhaustedAt) + afterMs;
}

function plan(vm: VirtualMachine, last: LastCommand | undefined, now: number, provider: ProviderTarget, operation: 'Reconcile' | 'Delete', hash: string) {
  const sequence = (last?.sequence ?? 0) + 1;
  const generation = vm.metadata.generation ?? 0;
  const id = commandId({ uid: vm.metadata.uid ?? '', operation, sequence, generation, hash });
  const record: LastCommand = { id, operation, sequence, generation, desiredHash: hash, publishedAt: timestamp(now) };
  return { base: { id, sequence, generation, hash, provider }, record };
}

function decideDelete(input: DecideInput): Decision {
  const { vm, last, now } = input;
  // 1. Nothing of ours to clean up.
  if (!hasFinalizer(vm)) return { reason: 'no-finalizer' };
  // 2. The user's explicit escape hatch (e.g. the provider is gone for good): the hypervisor VM is left as it is.
  if (isForceDelete(vm)) return { reason: 'force-delete', finalizer: 'remove' };
  const deletingUpdates: ConditionUpdate[] = [];
  // 3. A delete is already out: wait for the agent's PHASE_DELETED (or re-send one the bus gave up on).
  if (last?.operation === 'Delete') {
    const due = redispatchDue(last, input.redispatchAfterExhaustedMs);
    if (due === undefined) return { reason: 'delete-pending', status: { phase: 'Deleting', conditions: deletingUpdates } };
    if (now < due) return { reason: 'exhausted-wait', requeueAfterMs: due - now };
  }
  // 4. Publish DeleteVM; the finalizer stays until the VM is reported gone.
  const ns = vm.metadata.namespace ?? '';
  const provider: ProviderTarget = {
    namespace: vm.spec.providerRef.namespace ?? ns,
    name: vm.spec.providerRef.name,
    type: input.providerType ?? '',
  };
  const { base, record } = plan(vm, last, now, provider, 'Delete', DELETE_HASH);
  const annotations = vm.metadata.annotations ?? {};
  const del = create(DeleteVMSchema, {
    id: vm.status?.id ?? '',
    adopted: Boolean(annotations[ANNOTATION_ADOPT_ID]),
    destroyAdopted: annotations[ANNOTATION_DESTROY_ADOPTED] === 'true',
    gracefulTimeoutSeconds: gracefulTimeoutOf(vm) ?? DEFAULT_GRACEFUL_TIMEOUT_S,
  });
  const message = `delete command ${base.id} published to provider ${provider.namespace}/${provider.name}; the finalizer stays until an agent reports the VM gone`;
  return {
    reason: 'delete',
    command: { ...base, operation: 'Delete', delete: del },
    status: {
      phase: 'Deleting',
      lastCommand: record,
      conditions: [
        { type: 'Ready', status: 'False', reason: REASON.Deleting, message },
        { type: 'Deleting', status: 'True', reason: REASON.DeleteRequested, message },
      ],
    },
  };
}

export function decide(input: DecideInput): Decision {
  const { vm, resolution, last, now } = input;
  const conditions = vm.status?.conditions;
  if (vm.metadata.deletionTimestamp) return decideDelete(input);
  if (!resolution) throw new Error('decide: a VM that is not being deleted needs its resolution');

  // 1. Something it refers to is missing: say what, and wait for it to appear (no polling).
  if (resolution.kind === 'waiting') {
    const message = `waiting for ${resolution.missing.join(', ')}`;
    const updates: ConditionUpdate[] = [{ type: 'WaitingForDependencies', status: 'True', reason: REASON.DependenciesMissing, message }];
    if (!last) updates.unshift({ type: 'Ready', status: 'False', reason: REASON.WaitingForDependencies, message });
    return { reason: 'waiting', status: { phase: vm.status?.phase ?? 'Pending', conditions: updates } };
  }
  const resolved = clearIfSet(conditions, 'WaitingForDependencies', REASON.DependenciesResolved, 'every dependency exists');

  // 2. The spec cannot be turned into a desired state until it changes.
  if (resolution.kind === 'invalid') {
    const message = resolution.problems.join('; ');
    return {
      reason: 'invalid',
      status: {
        phase: vm.status?.phase ?? 'Pending',
        conditions: [{ type: 'Ready', status: 'False', reason: REASON.InvalidSpec, message }, ...resolved],
      },
    };
  }

  // 3. Same desired state and generation as the last command: publish nothing.
  const hash = hashDesired(resolution.desired);
  const generation = vm.metadata.generation ?? 0;
  const finalizer = hasFinalizer(vm) ? undefined : 'add' as const;
  let reason: DecisionReason = last ? 'update' : 'create';
  if (last?.operation === 'Reconcile' && last.generation === generation && last.desiredHash === hash) {
    const due = redispatchDue(last, input.redispatchAfterExhaustedMs);
    if (due === undefined || now < due) {
      const statusIntent: StatusIntent = { conditions: resolved };
      // The ledger is ahead of status (a status write failed after a publish): record it.
      if (vm.status?.lastCommand?.id !== last.id) statusIntent.lastCommand = last;
      return {
        reason: due === undefined ? 'unchanged' : 'exhausted-wait',
        finalizer,
        status: statusIntent,
        ...(due !== undefined ? { requeueAfterMs: due - now } : {}),
      };
    }
    reason = 'redispatch';
  }

  // 4. Publish the desired state (create, reconfigure, power: the agent converges to it).
  const { base, record } = plan(vm, last, now, resolution.provider, 'Reconcile', hash);
  const creating = !vm.status?.id;
  const where = `provider ${resolution.provider.namespace}/${resolution.provider.name}`;
  const message = `command ${base.id} (generation ${generation}) published to ${where}`;
  const kind = creating ? 'Provisioning' : 'Reconfiguring';
  const updates: ConditionUpdate[] = [
    { type: 'Ready', status: 'False', reason: creating ? REASON.Provisioning : REASON.Reconfiguring, message },
    { type: kind, status: 'True', reason: REASON.CommandPublished, message },
    ...resolved,
  ];
  if (!creating && findCondition(conditions, 'Provisioning')?.status === 'True') {
    updates.push({ type: 'Provisioning', status: 'False', reason: REASON.Provisioned, message: 'the VM exists' });
  }
  return {
    reason,
    finalizer,
    command: { ...base, operation: 'Reconcile', desired: resolution.desired },
    status: { phase: kind, lastCommand: record, conditions: updates },
  };
}
