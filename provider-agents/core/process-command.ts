/**
 * One command, from the pulled message to its ack: decode (invalid → term + dead letter), take the
 * VM's lease, keep the message alive, run the handler, report the result or the failure, ack through
 * the ack policy, release the lease. Never throws: whatever happens ends in an ack, a nak or a term.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { SpanStatusCode } from '@opentelemetry/api';
import { Phase } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { applyDecision, decide, describeFailure, type Decision, type DeliveryState, type HandlerResult } from './ack-policy.ts';
import { recordDeadLetter } from './dead-letter.ts';
import { decodeCommand, type DecodedCommand } from './decode.ts';
import type { Driver, OperationContext } from './driver.ts';
import { InvalidCommandError, LeaseBusyError } from './errors.ts';
import type { EventPublisher } from './event-publisher.ts';
import { HANDLERS, type CommandContext } from './handlers/index.ts';
import type { Lease, LeaseManager } from './lease.ts';
import type { Logger } from './log.ts';
import type { AgentMetrics } from './metrics.ts';
import { failureEvent, progressEvent, type EventBody } from './status.ts';
import { extractTraceContext, startCommandSpan } from './trace.ts';
import { keepAlive } from './working.ts';

export interface ProcessDeps {
  driver: Driver;
  /** The provider served (subject tokens). */
  key: { namespace: string; name: string };
  agentId: string;
  leases: LeaseManager;
  events: EventPublisher;
  metrics: AgentMetrics;
  js: JetStreamClient;
  shutdown: AbortSignal;
  baseLog: Logger;
  delivery: DeliveryState;
  workingMs: number;
  progressIntervalMs: number;
  leaseWaitMs: number;
}

/** One command, start to ack. Never throws. */
export async function processMessage(msg: JsMsg, d: ProcessDeps): Promise<void> {
  const started = performance.now();
  const alive = keepAlive(msg, d.workingMs);
  const seconds = () => (performance.now() - started) / 1000;
  try {
    // 1. Decode; a message we cannot act on is terminated and recorded, never retried.
    let cmd: DecodedCommand;
    try {
      cmd = decodeCommand(msg.subject, msg.data, d.key);
    } catch (err) {
      const invalid = err instanceof InvalidCommandError ? err : new InvalidCommandError(String(err), 'malformed', { cause: err });
      await reject(msg, invalid, d);
      d.metrics.observeCommand('unknown', 'rejected', seconds());
      return;
    }
    const meta = cmd.command.meta!;
    const log = d.baseLog.child({
      namespace: meta.object?.namespace, name: meta.object?.name, commandId: cmd.commandId, op: cmd.op,
      vmUid: cmd.vmUid, generation: cmd.generation, delivery: d.delivery.deliveryCount,
    });
    const parent = extractTraceContext(msg.headers, meta.traceparent);
    const { span, ctx: trace } = startCommandSpan(`agent ${cmd.op}`, parent, {
      'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'virtrigaud.command_id': cmd.commandId,
    });

    // 2. Lease, handler, result event.
    let lease: Lease | undefined;
    let linked: LinkedSignal | undefined;
    let deleted = false;
    let result: HandlerResult | { error: unknown };
    try {
      lease = await d.leases.acquire(cmd.vmUid, cmd.commandId, { waitMs: d.leaseWaitMs, onWait: () => d.metrics.observeLeaseWait() });
      linked = linkSignals([d.shutdown, lease.signal]);
      const op: OperationContext = {
        signal: linked.signal,
        generation: cmd.generation,
        progress: progressReporter(cmd, d, trace, log),
      };
      const c: CommandContext = {
        cmd, driver: d.driver, op, lease, log,
        report: (body) => d.events.publish(cmd, body, { key: 'done', trace }),
        markDeleted: () => (deleted = true),
      };
      result = await HANDLERS[cmd.op](c);
    } catch (err) {
      result = { error: err };
    } finally {
      linked?.dispose();
    }
    const decision: Decision = decide(result, d.delivery);

    // 3. Report a failure the dispatcher should know about (not a busy VM, not a hand-back).
    if (typeof result === 'object') {
      const { error } = result;
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      if (decision.outcome === 'retry' || decision.outcome === 'exhausted' || decision.outcome === 'failed') {
        const failure = describeFailure(error, d.delivery);
        log[decision.outcome === 'retry' ? 'warn' : 'error']('command failed', { err: error, reason: failure.reason, retryable: failure.retryable, outcome: decision.outcome });
        try {
          await d.events.publish(cmd, failureEvent(failure, { permanent: decision.outcome === 'failed' }), { key: `failed-${d.delivery.deliveryCount}`, trace });
        } catch (err) {
          log.warn('failure event not published', { err });
        }
      } else if (error instanceof LeaseBusyError) {
        log.debug('VM busy; command retried later', { holder: error.holder });
      } else {
        log.info('command handed back', { err: error, outcome: decision.outcome });
      }
    }

    // 4. Ack (double-acked) before the lease goes, so no other replica can start on a command
    //    whose ack is still in flight.
    alive.stop();
    const confirmed = await applyDecision(msg, decision);
    if (decision.action === 'ack' && !confirmed) log.warn('ack not confirmed; the command may be redelivered and re-applied', {});
    await lease?.release(deleted ? { deletedGeneration: cmd.generation } : {});
    d.metrics.observeCommand(cmd.op, decision.outcome, seconds());
    if (decision.action === 'ack') log.info(decision.outcome === 'stale' ? 'command ignored as stale' : 'command done', { seconds: seconds() });
    span.end();
  } finally {
    alive.stop();
  }
}

interface LinkedSignal {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * One signal aborted when any source aborts, with its reason. Unlike AbortSignal.any, the listeners
 * on the long-lived shutdown signal are removed when the command ends.
 */
function linkSignals(sources: AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const aborted = sources.find((s) => s.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const listeners = sources.map((s) => {
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    return () => s.removeEventListener('abort', onAbort);
  });
  return { signal: controller.signal, dispose: () => listeners.forEach((remove) => remove()) };
}

/** Terms an invalid message and records it on the dead-letter subject (retried if the record fails). */
async function reject(msg: JsMsg, err: InvalidCommandError, d: ProcessDeps): Promise<void> {
  d.metrics.observeRejected(err.kind);
  try {
    await recordDeadLetter(d.js, d.key, msg, err, d.agentId);
  } catch (recordErr) {
    // Without the record the message would vanish in silence: keep it until it can be recorded.
    d.baseLog.warn('dead-letter record failed; message kept for another try', { err: recordErr, subject: msg.subject });
    msg.nak(5000);
    return;
  }
  d.baseLog.warn('message rejected', { subject: msg.subject, kind: err.kind, reason: err.message, seq: msg.info.streamSequence });
  msg.term(`${err.kind}: ${err.message}`);
}

/** Throttled progress events for a long operation. */
function progressReporter(cmd: DecodedCommand, d: ProcessDeps, trace: ReturnType<typeof extractTraceContext>, log: Logger): OperationContext['progress'] {
  let last = 0;
  let n = 0;
  const phase = cmd.op === 'delete' ? Phase.DELETING : cmd.op === 'reconcile' ? Phase.PROVISIONING : Phase.UNSPECIFIED;
  return (percent, description) => {
    const now = Date.now();
    if (now - last < d.progressIntervalMs) return;
    last = now;
    const body: EventBody = progressEvent(phase, Math.max(0, Math.min(100, Math.round(percent))), description);
    d.events.publish(cmd, body, { key: `progress-${d.delivery.deliveryCount}-${++n}`, trace })
      .catch((err: unknown) => log.debug('progress event not published', { err }));
  };
}
