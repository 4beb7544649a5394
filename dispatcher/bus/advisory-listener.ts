/**
 * JetStream's max-deliveries advisories for VR_COMMANDS: a command no agent acknowledged after
 * the consumer's max_deliver. The leader turns each into a Ready=False CommandDeliveryExhausted
 * condition on the VM (advisories are core NATS: not stored, seen only by the current leader).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { COMMAND_STREAM } from '../../proto/bus/topology.ts';
import type { Logger } from '../log.ts';

export const MAX_DELIVERIES_ADVISORY_SUBJECT = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${COMMAND_STREAM}.>`;

export interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  streamSequence: number;
  deliveries: number;
}

/** Parses an advisory body; undefined when it is not one. */
export function parseMaxDeliveries(text: string): MaxDeliveriesAdvisory | undefined {
  try {
    const a = JSON.parse(text) as { stream?: unknown; consumer?: unknown; stream_seq?: unknown; deliveries?: unknown };
    if (typeof a.stream !== 'string' || typeof a.stream_seq !== 'number') return undefined;
    return {
      stream: a.stream,
      consumer: typeof a.consumer === 'string' ? a.consumer : '',
      streamSequence: a.stream_seq,
      deliveries: typeof a.deliveries === 'number' ? a.deliveries : 0,
    };
  } catch {
    return undefined;
  }
}

export function listenMaxDeliveries(
  nc: NatsConnection,
  handle: (advisory: MaxDeliveriesAdvisory) => Promise<void>,
  log: Logger,
): { stop(): void } {
  const sub = nc.subscribe(MAX_DELIVERIES_ADVISORY_SUBJECT, {
    callback: (err, msg) => {
      if (err) {
        log.warn('advisory subscription error', { err });
        return;
      }
      const advisory = parseMaxDeliveries(msg.string());
      if (!advisory) {
        log.warn('unreadable max-deliveries advisory', { subject: msg.subject });
        return;
      }
      handle(advisory).catch((e: unknown) => log.warn('max-deliveries advisory not applied', { streamSequence: advisory.streamSequence, err: e }));
    },
  });
  return { stop: () => sub.unsubscribe() };
}
