/**
 * The one place where a command's outcome becomes a JetStream acknowledgement:
 *   success / stale        → ack (double-acked: the lease is released only once the server confirmed)
 *   transient, lease busy  → nak(delay), the delay from the backoff schedule
 *   shutdown               → nak(0): handed back at once for another replica
 *   permanent, unsupported → term(reason)
 *   invalid message        → term(reason), and recorded on the dead-letter subject by the caller
 * On the last allowed delivery a retryable failure is still nak'd, so the server raises its
 * max-deliveries advisory (the dispatcher turns it into a VM condition); the status event says so too.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { COMMAND_BACKOFF_S, COMMAND_MAX_DELIVER } from '../../proto/bus/topology.ts';
import {
  AgentError, InvalidCommandError, LeaseBusyError, NotSupportedError, PermanentError, ShutdownError, TransientError, isAbort,
} from './errors.ts';

/** Metric label for how a command ended. */
export type Outcome = 'success' | 'stale' | 'retry' | 'busy' | 'exhausted' | 'handed_back' | 'failed' | 'rejected';

export type Decision =
  | { action: 'ack'; outcome: 'success' | 'stale' }
  | { action: 'nak'; delayMs: number; outcome: 'retry' | 'busy' | 'exhausted' | 'handed_back' }
  | { action: 'term'; reason: string; outcome: 'failed' | 'rejected' };

export interface DeliveryState {
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** The consumer's max_deliver (-1 or 0: unlimited). */
  maxDeliver: number;
}

/** What a handler returns when it did not throw. */
export type HandlerResult = 'done' | 'stale';

/** Redelivery delay for the n-th delivery (1-based), from the topology's schedule; the last step repeats. */
export function backoffMs(deliveryCount: number, schedule: readonly number[] = COMMAND_BACKOFF_S): number {
  const i = Math.min(Math.max(deliveryCount, 1), schedule.length) - 1;
  return (schedule[i] ?? 1) * 1000;
}

/** True when this delivery is the last one the consumer allows. */
export function isLastDelivery(d: DeliveryState): boolean {
  return d.maxDeliver > 0 && d.deliveryCount >= d.maxDeliver;
}

export function decide(result: HandlerResult | { error: unknown }, d: DeliveryState = { deliveryCount: 1, maxDeliver: COMMAND_MAX_DELIVER }): Decision {
  if (result === 'done') return { action: 'ack', outcome: 'success' };
  if (result === 'stale') return { action: 'ack', outcome: 'stale' };
  const err = result.error;
  if (err instanceof InvalidCommandError) return { action: 'term', reason: `${err.kind}: ${err.message}`, outcome: 'rejected' };
  if (err instanceof PermanentError || err instanceof NotSupportedError) {
    return { action: 'term', reason: `${err.reason}: ${err.message}`, outcome: 'failed' };
  }
  if (err instanceof ShutdownError || isAbort(err)) return { action: 'nak', delayMs: 0, outcome: 'handed_back' };
  const last = isLastDelivery(d);
  if (err instanceof LeaseBusyError) return { action: 'nak', delayMs: backoffMs(d.deliveryCount), outcome: last ? 'exhausted' : 'busy' };
  // Transient, lease lost, still present, and anything unexpected: retry. An unknown error is
  // treated as transient so a driver bug never makes the agent forget a command.
  const wanted = err instanceof TransientError && err.retryAfterMs !== undefined ? err.retryAfterMs : backoffMs(d.deliveryCount);
  return { action: 'nak', delayMs: wanted, outcome: last ? 'exhausted' : 'retry' };
}

/** The error's condition reason and whether the agent will try again. */
export function describeFailure(err: unknown, d: DeliveryState): { reason: string; message: string; retryable: boolean } {
  const decision = decide({ error: err }, d);
  const reason = err instanceof AgentError ? err.reason : 'InternalError';
  const message = err instanceof Error ? err.message : String(err);
  if (decision.action === 'nak' && decision.outcome === 'exhausted') {
    return { reason: 'RetriesExhausted', message: `gave up after ${d.deliveryCount} deliveries: ${message}`, retryable: false };
  }
  return { reason, message, retryable: decision.action === 'nak' };
}

/**
 * Applies a decision to the message. Returns true once the server has confirmed an ack (double-ack);
 * false for nak/term and for an ack whose confirmation did not arrive (the command may come back,
 * and is then re-applied idempotently).
 */
export async function applyDecision(msg: JsMsg, decision: Decision, ackTimeoutMs = 5000): Promise<boolean> {
  switch (decision.action) {
    case 'ack':
      try {
        return await msg.ackAck({ timeout: ackTimeoutMs });
      } catch {
        return false;
      }
    case 'nak':
    case 'term':
      try {
        if (decision.action === 'nak') msg.nak(decision.delayMs);
        else msg.term(decision.reason);
      } catch {
        // The connection is closed: the server redelivers after the ack deadline anyway.
      }
      return false;
  }
}
