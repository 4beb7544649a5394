/**
 * In-progress acks. The server redelivers a command that stays unacknowledged past its ack
 * deadline; an agent still working on it sends `working()` well before that. With a `backoff` list
 * on the consumer the deadline of delivery n is backoff[n-1] (the last entry repeats) and
 * `ack_wait` is not used — the topology's 1 s first step means a first delivery must be kept alive
 * every few hundred milliseconds, not every WORKING_INTERVAL_S.
 */
import type { ConsumerConfig, JsMsg } from '@nats-io/jetstream';
import { WORKING_INTERVAL_S } from '../../proto/bus/topology.ts';

const NS_PER_MS = 1_000_000;

/** Milliseconds the server waits for an ack (or an in-progress ack) on the n-th delivery. */
export function ackDeadlineMs(config: Pick<ConsumerConfig, 'ack_wait' | 'backoff'>, deliveryCount: number): number {
  const backoff = config.backoff ?? [];
  if (backoff.length) {
    const i = Math.min(Math.max(deliveryCount, 1), backoff.length) - 1;
    return backoff[i]! / NS_PER_MS;
  }
  return (config.ack_wait ?? 30_000 * NS_PER_MS) / NS_PER_MS;
}

/** How often to send `working()`: a third of the deadline, at most WORKING_INTERVAL_S, at least 100 ms. */
export function workingIntervalMs(deadlineMs: number, maxMs = WORKING_INTERVAL_S * 1000): number {
  return Math.max(100, Math.min(maxMs, Math.floor(deadlineMs / 3)));
}

export interface KeepAlive {
  stop(): void;
}

/** Sends `working()` on the message every interval until stopped. */
export function keepAlive(msg: JsMsg, intervalMs: number): KeepAlive {
  const timer = setInterval(() => {
    try {
      msg.working();
    } catch {
      // Disconnected: the client buffers or the connection is closing; the server redelivers if it must.
    }
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
