/**
 * Test harness for agents: a real nats-server, the bus topology, commands published as the
 * dispatcher would, and the status events collected as the dispatcher would consume them.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { subjects, type ProviderKey } from '../../proto/bus/subjects.ts';
import { EVENT_STREAM, dispatcherConsumerConfig, ensureStreams } from '../../proto/bus/topology.ts';
import {
  ClassSpecSchema, CommandSchema, DeleteVMSchema, DesiredVMSchema, ObjectRefSchema, PowerState, ProviderRefSchema, StatusEventSchema,
  type Command, type StatusEvent,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';

export interface ReceivedEvent {
  event: StatusEvent;
  headers: MsgHdrs | undefined;
  subject: string;
}

/** Consumes VR_EVENTS as the dispatcher does (durable `dispatcher`), keeping every event by object uid. */
export class EventCollector {
  private readonly byUid = new Map<string, ReceivedEvent[]>();
  private waiters: Array<() => void> = [];
  private messages: ConsumerMessages | undefined;

  static async start(js: JetStreamClient, jsm: JetStreamManager): Promise<EventCollector> {
    await jsm.consumers.add(EVENT_STREAM, dispatcherConsumerConfig());
    const c = new EventCollector();
    const consumer = await js.consumers.get(EVENT_STREAM, dispatcherConsumerConfig().durable_name!);
    c.messages = await consumer.consume({ max_messages: 500 });
    void (async () => {
      for await (const m of c.messages!) {
        try {
          const event = fromBinary(StatusEventSchema, m.data);
          const uid = event.object?.uid ?? '';
          const list = EventCollector.listFor(c, uid);
          list.push({ event, headers: m.headers, subject: m.subject });
        } finally {
          m.ack();
        }
        const w = c.waiters;
        c.waiters = [];
        w.forEach((f) => f());
      }
    })().catch(() => undefined);
    return c;
  }

  private static listFor(c: EventCollector, uid: string): ReceivedEvent[] {
    let list = c.byUid.get(uid);
    if (!list) c.byUid.set(uid, (list = []));
    return list;
  }

  events(uid: string): ReceivedEvent[] {
    return this.byUid.get(uid) ?? [];
  }

  /** Resolves with the first event of `uid` matching `match`, failing after `timeoutMs` with what arrived. */
  async waitFor(uid: string, match: (e: StatusEvent) => boolean, timeoutMs = 10_000): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events(uid).find((r) => match(r.event));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events(uid).map((r) => `${r.event.commandId}:phase=${r.event.phase}:err=${r.event.error?.reason ?? ''}`);
        throw new Error(`no matching event for ${uid} within ${timeoutMs} ms; got [${seen.join(', ')}]`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.messages?.stop();
  }
}

export interface Bus {
  nats: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  events: EventCollector;
  close(): Promise<void>;
}

export async function startBus(): Promise<Bus> {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  const js = jetstream(nc);
  const events = await EventCollector.start(js, jsm);
  return {
    nats, nc, js, jsm, events,
    close: async () => {
      events.stop();
      await nc.close().catch(() => undefined);
      await nats.stop();
    },
  };
}

let providerCounter = 0;
/** A provider of its own for a test. */
export function freshProvider(): ProviderKey {
  return { namespace: 'vr-test', name: `p${process.pid % 10000}-${++providerCounter}` };
}

export function newUid(): string {
  return randomUUID();
}

export interface CommandSpec {
  provider: ProviderKey;
  uid: string;
  generation?: bigint;
  name?: string;
  commandId?: string;
}

function meta(spec: CommandSpec, op: string) {
  const generation = spec.generation ?? 1n;
  const object = create(ObjectRefSchema, { namespace: 'default', name: spec.name ?? `vm-${spec.uid.slice(0, 8)}`, uid: spec.uid, generation });
  return {
    commandId: spec.commandId ?? `${spec.uid}-${generation}-${op}`,
    object,
    vm: object,
    provider: create(ProviderRefSchema, { ...spec.provider, type: 'mock' }),
    issuedAtUnixMs: BigInt(Date.now()),
  };
}

/** A reconcile command: one valid VM plus overrides. */
export function aReconcile(spec: CommandSpec & { cpus?: number; memoryMib?: bigint; power?: PowerState; adoptId?: string }): Command {
  return create(CommandSchema, {
    meta: meta(spec, 'reconcile'),
    op: {
      case: 'reconcile',
      value: create(DesiredVMSchema, {
        class: create(ClassSpecSchema, { name: 'small', cpus: spec.cpus ?? 2, memoryMib: spec.memoryMib ?? 2048n }),
        powerState: spec.power ?? PowerState.ON,
        adoptId: spec.adoptId ?? '',
      }),
    },
  });
}

export function aDelete(spec: CommandSpec & { adopted?: boolean; destroyAdopted?: boolean }): Command {
  return create(CommandSchema, {
    meta: meta(spec, 'delete'),
    op: { case: 'delete', value: create(DeleteVMSchema, { adopted: spec.adopted ?? false, destroyAdopted: spec.destroyAdopted ?? false }) },
  });
}

/** Publishes as the dispatcher does: on the object's subject, Nats-Msg-Id = command id. */
export async function publishCommand(js: JetStreamClient, provider: ProviderKey, cmd: Command, opts: { msgId?: string; traceparent?: string } = {}): Promise<void> {
  const h = natsHeaders();
  if (opts.traceparent) h.set('traceparent', opts.traceparent);
  await js.publish(subjects.command(provider, cmd.meta!.object!.uid), toBinary(CommandSchema, cmd), {
    msgID: opts.msgId ?? cmd.meta!.commandId,
    headers: h,
  });
}

/** Publishes raw bytes on a command subject (malformed input). */
export async function publishRaw(js: JetStreamClient, provider: ProviderKey, uid: string, data: Uint8Array): Promise<void> {
  await js.publish(subjects.command(provider, uid), data, { msgID: `raw-${randomUUID()}` });
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
