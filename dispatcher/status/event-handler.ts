/**
 * An agent's StatusEvent → the VM's status (through the status writer), or, when the agent
 * reports a deleted VM gone (PHASE_DELETED), the finalizer's removal.
 */
import type { VirtualMachine } from '../../api/objects.ts';
import { Phase, type StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { EventVerdict } from '../bus/status-consumer.ts';
import { NotLeaderError } from '../errors.ts';
import type { KubeApi } from '../k8s/kube-api.ts';
import { keyOf, parseKey } from '../k8s/object-key.ts';
import type { Logger } from '../log.ts';
import type { CommandLedger } from '../reconcile/ledger.ts';
import type { DispatcherMetrics } from '../runtime/metrics.ts';
import { timestamp } from './conditions.ts';
import type { FinalizerOutcome } from './finalizers.ts';
import type { CoalesceWindow } from './coalesce-window.ts';
import { newestCommand } from './model.ts';
import { applyEvent, type EventOutcome } from './mutations.ts';
import type { StatusWriter } from './status-writer.ts';

export interface StatusEventHandlerDeps {
  vms: { get(namespace: string, name: string): VirtualMachine | undefined };
  api: Pick<KubeApi, 'getVM'>;
  ledger: CommandLedger;
  statusWriter: StatusWriter;
  removeFinalizer(vm: VirtualMachine): Promise<FinalizerOutcome>;
  metrics: DispatcherMetrics;
  log: Logger;
  /** The current term's signal (aborted when the lease is lost). */
  signal(): AbortSignal | undefined;
  /** The cache key of the VM with this uid (for events that name it by uid alone). */
  vmKeyByUid?: (uid: string) => string | undefined;
  /** How long an interim event (progress) waits for the next change of its VM to share a write (0: none). */
  statusCoalesceMs?: number;
  /** Told when an agent's final answer arrives (how long answers take sets the coalescing wait). */
  coalesce?: Pick<CoalesceWindow, 'answered'>;
  now?: () => number;
}

export function createStatusEventHandler(deps: StatusEventHandlerDeps): (event: StatusEvent) => Promise<EventVerdict> {
  const now = deps.now ?? Date.now;
  return async (event) => {
    const { uid } = event.object!;
    // An agent's own observation (driver watch) names the VM by uid alone.
    const known = event.object!.name ? keyOf(event.object!.namespace, event.object!.name) : deps.vmKeyByUid?.(uid);
    if (!known) {
      deps.metrics.statusEvents.inc({ result: 'orphan' });
      return { action: 'ack' };
    }
    const key = known;
    const { namespace, name } = parseKey(key);
    const signal = deps.signal();
    if (!signal || signal.aborted) throw new NotLeaderError('applying a status event');

    // 1. The VM this event is about; an event for a VM that is gone (or was re-created) is dropped.
    let vm = deps.vms.get(namespace, name);
    const gone = event.phase === Phase.DELETED;
    if (!vm || vm.metadata.uid !== uid || (gone && !vm.metadata.deletionTimestamp)) vm = await deps.api.getVM(namespace, name);
    if (!vm || vm.metadata.uid !== uid) {
      deps.metrics.statusEvents.inc({ result: 'orphan' });
      return { action: 'ack' };
    }

    // 2. Gone while being deleted: the finalizer goes; the object goes with it.
    if (gone && vm.metadata.deletionTimestamp) {
      await deps.removeFinalizer(vm);
      deps.ledger.delete(uid);
      deps.metrics.statusEvents.inc({ result: 'deleted' });
      deps.log.info('VM gone, finalizer removed', { kind: 'VirtualMachine', namespace, name, commandId: event.commandId });
      return { action: 'ack' };
    }

    if (!event.progress && event.commandId) deps.coalesce?.answered(event.commandId);

    // 3. Everything else is a status change, applied in order with the VM's other changes.
    let outcome: EventOutcome = 'stale';
    const at = timestamp(now());
    await deps.statusWriter.update(key, uid, (status, latest) => {
      const r = applyEvent(status, event, {
        currentCommandId: newestCommand(latest.status?.lastCommand, deps.ledger.get(uid))?.id,
        deleting: Boolean(latest.metadata.deletionTimestamp),
        now: at,
      });
      outcome = r.outcome;
      return r.status;
    }, { coalesceMs: event.progress && !event.error ? (deps.statusCoalesceMs ?? 0) : 0 });
    deps.metrics.statusEvents.inc({ result: outcome });
    return { action: 'ack' };
  };
}
