/**
 * The durable `dispatcher` pull consumer on VR_EVENTS (the leader alone runs it). Each message
 * is decoded and checked; a malformed one is terminated, counted and recorded as a dead letter,
 * never crashing the process. Events of one VM are handled in order, different VMs concurrently
 * (bounded). The handler's verdict becomes ack, nak(delay) or term in this one place.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { parseObjectSubject } from '../../proto/bus/subjects.ts';
import { DISPATCHER_CONSUMER, dispatcherConsumerConfig, EVENT_STREAM } from '../../proto/bus/topology.ts';
import { Phase, StatusEventSchema, type StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { NotLeaderError } from '../errors.ts';
import type { Logger } from '../log.ts';

export type EventVerdict =
  | { action: 'ack' }
  | { action: 'nak'; delayMs: number }
  | { action: 'term'; reason: string };

export interface StatusConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  concurrency: number;
  handle(event: StatusEvent): Promise<EventVerdict>;
  /** A message that is not a valid StatusEvent (it has been terminated). */
  onMalformed(msg: JsMsg, reason: string): void;
  log: Logger;
}

export interface StatusConsumer {
  /** Resolves when consuming ended by itself (e.g. the consumer was deleted); the caller restarts it. */
  ended: Promise<void>;
  stop(): Promise<void>;
}

/** Decodes and checks a status event; a string says why it is malformed. */
export function decodeStatusEvent(subject: string, data: Uint8Array): StatusEvent | string {
  let event: StatusEvent;
  try {
    event = fromBinary(StatusEventSchema, data);
  } catch (err) {
    return `not a StatusEvent: ${err instanceof Error ? err.message : String(err)}`;
  }
  const o = event.object;
  if (!o?.uid) return 'StatusEvent without an object uid';
  // Answers to commands name the object; an agent's own observation (no command) may name it by uid alone.
  if ((!o.namespace || !o.name) && (event.commandId || event.phase !== Phase.UNSPECIFIED)) {
    return 'StatusEvent without object namespace and name (only an observation without a command may omit them)';
  }
  const parsed = parseObjectSubject(subject);
  if (!parsed || parsed.kind !== 'evt') return `not an event subject: ${subject}`;
  if (parsed.objectUid !== o.uid) return `subject names object ${parsed.objectUid}, body ${o.uid}`;
  return event;
}

/** Creates the durable consumer (or keeps the existing one) and starts consuming. */
export async function startStatusConsumer(opts: StatusConsumerOptions): Promise<StatusConsumer> {
  const config = dispatcherConsumerConfig();
  try {
    await opts.jsm.consumers.add(EVENT_STREAM, config);
  } catch (err) {
    if (!/already exists|already in use/i.test(String(err))) throw err;
    await opts.jsm.consumers.update(EVENT_STREAM, DISPATCHER_CONSUMER, config);
  }
  const consumer = await opts.js.consumers.get(EVENT_STREAM, DISPATCHER_CONSUMER);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(opts.concurrency * 2, 16) });

  const inFlight = new Set<Promise<void>>();
  const perObject = new Map<string, Promise<void>>();
  let slots = opts.concurrency;
  let slotWaiters: Array<() => void> = [];
  const acquire = async () => {
    while (slots === 0) await new Promise<void>((resolve) => slotWaiters.push(resolve));
    slots--;
  };
  const release = () => {
    slots++;
    const waiters = slotWaiters;
    slotWaiters = [];
    for (const w of waiters) w();
  };

  const settle = (m: JsMsg, verdict: EventVerdict) => {
    if (verdict.action === 'ack') m.ack();
    else if (verdict.action === 'nak') m.nak(verdict.delayMs);
    else m.term(verdict.reason);
  };

  const process = async (m: JsMsg, event: StatusEvent) => {
    let verdict: EventVerdict;
    try {
      verdict = await opts.handle(event);
    } catch (err) {
      if (err instanceof NotLeaderError) {
        // The next leader takes it at once.
        settle(m, { action: 'nak', delayMs: 0 });
        return;
      }
      opts.log.warn('status event not applied', {
        kind: 'VirtualMachine', namespace: event.object?.namespace, name: event.object?.name, commandId: event.commandId, err,
      });
      verdict = { action: 'nak', delayMs: Math.min(30_000, 500 * 2 ** Math.min(m.info.deliveryCount, 6)) };
    }
    settle(m, verdict);
  };

  const loop = (async () => {
    for await (const m of messages) {
      const decoded = decodeStatusEvent(m.subject, m.data);
      if (typeof decoded === 'string') {
        m.term(decoded);
        opts.onMalformed(m, decoded);
        continue;
      }
      await acquire();
      // Events of one VM in order: each waits for the previous one of the same object.
      const uid = decoded.object!.uid;
      const previous = perObject.get(uid) ?? Promise.resolve();
      const run: Promise<void> = previous.then(() => process(m, decoded)).finally(() => {
        release();
        inFlight.delete(run);
        if (perObject.get(uid) === run) perObject.delete(uid);
      });
      perObject.set(uid, run);
      inFlight.add(run);
    }
  })().catch((err: unknown) => opts.log.error('status consumer stopped', { err }));

  return {
    ended: loop.then(() => undefined),
    async stop() {
      messages.stop();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
