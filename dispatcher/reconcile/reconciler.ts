/**
 * One VM's reconcile: the latest object from the cache → resolve → decide → thin effects
 * (finalizer, command, one status write). Effects check the term's AbortSignal first: a replica
 * that lost the lease publishes and writes nothing more.
 */
import type { VirtualMachine } from '../../api/objects.ts';
import type { Publisher } from '../bus/publisher.ts';
import { NotLeaderError } from '../errors.ts';
import { parseKey } from '../k8s/object-key.ts';
import type { Logger } from '../log.ts';
import { resolveDesired } from '../resolve/resolve.ts';
import type { Lookup, SecretReader } from '../resolve/types.ts';
import type { DispatcherMetrics } from '../runtime/metrics.ts';
import { timestamp } from '../status/conditions.ts';
import type { FinalizerOutcome } from '../status/finalizers.ts';
import { newestCommand } from '../status/model.ts';
import { applyIntent } from '../status/mutations.ts';
import type { StatusIntent } from '../status/model.ts';
import type { StatusMutation, StatusWriter } from '../status/status-writer.ts';
import { decide, type Decision, type DecisionReason } from './decide.ts';
import type { CommandLedger } from './ledger.ts';
import type { CoalesceWindow } from '../status/coalesce-window.ts';
import type { ReconcileOutcome } from './retry-policy.ts';

export interface ReconcilerDeps {
  vms: { get(namespace: string, name: string): VirtualMachine | undefined };
  lookup: Lookup;
  secrets: SecretReader;
  ledger: CommandLedger;
  publisher: Publisher;
  statusWriter: StatusWriter;
  finalizers: { add(vm: VirtualMachine): Promise<FinalizerOutcome>; remove(vm: VirtualMachine): Promise<FinalizerOutcome> };
  metrics: DispatcherMetrics;
  log: Logger;
  redispatchAfterExhaustedMs: number;
  /**
   * How long the "command published" status waits for the agent's answer so both go in one
   * status write (0: written at once).
   */
  statusCoalesceMs?: number;
  /** The wait of a "command published" change, adapting to how fast agents answer (default: statusCoalesceMs). */
  coalesce?: CoalesceWindow;
  /** A status write the reconcile did not wait for failed: reconcile the key again (rate-limited). */
  retryLater?: (key: string) => void;
  now?: () => number;
}

export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileOutcome & { reason?: DecisionReason }>;

function ensureLeader(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new NotLeaderError(what);
}

/** An intent that cannot change any status (the writer would find nothing to write). */
function isEmptyIntent(intent: StatusIntent): boolean {
  return !intent.phase && intent.message === undefined && !intent.lastCommand && intent.conditions.length === 0;
}

export function createReconciler(deps: ReconcilerDeps): Reconcile {
  const now = deps.now ?? Date.now;

  /**
   * Publishes the planned command; its status change is queued first (so the agent's answer is
   * applied after it) and settled after the ack. It then waits up to statusCoalesceMs for that
   * answer, to go in the same write; the reconcile does not wait for the write: the ledger already
   * records the command, and a failed write reconciles the VM again, which records it from the ledger.
   */
  async function dispatch(key: string, vm: VirtualMachine, decision: Decision, signal: AbortSignal, log: Logger): Promise<void> {
    const planned = decision.command!;
    const intent = decision.status!;
    const uid = vm.metadata.uid ?? '';
    const previous = deps.ledger.get(uid);
    const record = intent.lastCommand!;
    deps.ledger.set(uid, record);
    let settle!: (m: StatusMutation | undefined) => void;
    let published = false;
    const written = deps.statusWriter.update(
      key, uid, new Promise<StatusMutation | undefined>((resolve) => (settle = resolve)), { coalesceMs: deps.coalesce?.current() ?? deps.statusCoalesceMs ?? 0 },
    );
    written.catch((err: unknown) => {
      // On a failed publish its outcome does not matter (the reconcile fails and is retried).
      if (!published) return;
      log.warn('status write after publish failed; reconciling again', { commandId: planned.id, err });
      deps.retryLater?.(key);
    });
    try {
      ensureLeader(signal, 'publishing a command');
      const pub = await deps.publisher.publish(vm, planned);
      deps.metrics.commandsPublished.inc({ operation: planned.operation, duplicate: String(pub.duplicate) });
      const publishedRecord = { ...record, streamSequence: pub.streamSequence, publishedAt: timestamp(pub.publishedAt) };
      deps.ledger.set(uid, publishedRecord);
      deps.coalesce?.published(planned.id);
      const at = timestamp(now());
      published = true;
      settle((s) => applyIntent(s, { ...intent, lastCommand: publishedRecord }, planned.generation, at));
      log.info(pub.duplicate ? 'command republished (dropped as duplicate)' : 'command published', {
        commandId: planned.id, operation: planned.operation, generation: planned.generation, reason: decision.reason, streamSequence: pub.streamSequence,
      });
    } catch (err) {
      deps.ledger.restore(uid, previous);
      settle(undefined);
      throw err;
    }
  }

  return async (key, signal) => {
    // 1. The latest object, from the cache.
    const { namespace, name } = parseKey(key);
    const vm = deps.vms.get(namespace, name);
    if (!vm) return {};
    const uid = vm.metadata.uid ?? '';
    const providerNs = vm.spec.providerRef.namespace ?? namespace;
    const provider = deps.lookup.provider(providerNs, vm.spec.providerRef.name);
    const log = deps.log.child({ kind: 'VirtualMachine', namespace, name, provider: `${providerNs}/${vm.spec.providerRef.name}` });

    // 2. Its desired state (not needed to delete it).
    const resolution = vm.metadata.deletionTimestamp ? undefined : await resolveDesired(vm, deps.lookup, deps.secrets);

    // 3. Decide against the newest record of what was published.
    const decision = decide({
      vm, resolution, providerType: provider?.spec.type,
      last: newestCommand(vm.status?.lastCommand, deps.ledger.get(uid)),
      now: now(),
      redispatchAfterExhaustedMs: deps.redispatchAfterExhaustedMs,
    });
    if (decision.reason === 'waiting' || decision.reason === 'invalid') {
      log.debug('not dispatchable', { reason: decision.reason });
    }

    // 4. Effects: the finalizer before anything that can create a VM, then the command and its status.
    ensureLeader(signal, 'reconciling');
    if (decision.finalizer === 'remove') {
      await deps.finalizers.remove(vm);
      deps.ledger.delete(uid);
      log.info('finalizer removed', { reason: decision.reason });
      return { reason: decision.reason };
    }
    if (decision.finalizer === 'add' && (await deps.finalizers.add(vm)) === 'gone') return { reason: decision.reason };
    if (decision.command) {
      await dispatch(key, vm, decision, signal, log);
    } else if (decision.status && !isEmptyIntent(decision.status)) {
      ensureLeader(signal, 'writing status');
      const intent = decision.status;
      const generation = vm.metadata.generation ?? 0;
      const at = timestamp(now());
      // Nothing to publish: what it records (the ledger's command, dependency conditions) can
      // share the write of a change already waiting for the agent's answer.
      const coalesceMs = decision.reason === 'unchanged' ? (deps.statusCoalesceMs ?? 0) : 0;
      await deps.statusWriter.update(key, uid, (s) => applyIntent(s, intent, generation, at), { coalesceMs });
    }
    return { reason: decision.reason, ...(decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {}) };
  };
}
