/**
 * A tiny stand-in for a provider's agents in dispatcher tests: consumes the provider's commands
 * from VR_COMMANDS (its own durable consumer) and answers with StatusEvents on VR_EVENTS. Each
 * command is recorded with its headers; the answer is configurable per command.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects, type ProviderKey } from '../../proto/bus/subjects.ts';
import { agentConsumerConfig, agentConsumerName, COMMAND_STREAM, ensureStreams } from '../../proto/bus/topology.ts';
import {
  CommandSchema, ObservedVMSchema, Phase, PowerState, ProviderRefSchema, StatusEventSchema,
  type Command, type StatusEvent,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';

export interface ReceivedCommand {
  command: Command;
  msgId: string;
  traceparent: string;
  streamSequence: number;
}

/** What to do with a command: answer with these events (in order), stay silent, or nak it. */
export type Reply = { events: Array<Partial<Omit<StatusEvent, '$typeName'>>> } | 'silent' | 'nak';

export interface FakeAgentOptions {
  nc: NatsConnection;
  provider: ProviderKey;
  respond?: (cmd: Command) => Reply;
  /** Overrides of the consumer configuration (e.g. a low max_deliver). */
  consumer?: Partial<ConsumerConfig>;
}

export interface FakeAgent {
  received: ReceivedCommand[];
  /** Commands received for a VM uid. */
  commandsFor(uid: string): ReceivedCommand[];
  /** Publishes a status event as the agent would. */
  emit(cmd: Command, event: Partial<Omit<StatusEvent, '$typeName'>>): Promise<void>;
  stop(): Promise<void>;
}

/** The answer a working agent gives: the VM running (or stopped), or gone after a delete. */
export function defaultReply(cmd: Command): Reply {
  const uid = cmd.meta?.object?.uid ?? '';
  if (cmd.op.case === 'delete') return { events: [{ phase: Phase.DELETED, vm: create(ObservedVMSchema, { exists: false }) }] };
  if (cmd.op.case !== 'reconcile') return 'silent';
  const off = cmd.op.value.powerState === PowerState.OFF || cmd.op.value.powerState === PowerState.OFF_GRACEFUL;
  return {
    events: [{
      phase: off ? Phase.STOPPED : Phase.RUNNING,
      vm: create(ObservedVMSchema, {
        id: `dom-${uid.slice(0, 8)}`, exists: true, powerState: off ? PowerState.OFF : PowerState.ON,
        ips: off ? [] : ['10.0.0.5'], consoleUrl: `vnc://agent.example:5900/${uid.slice(0, 8)}`,
      }),
    }],
  };
}

export async function startFakeAgent(opts: FakeAgentOptions): Promise<FakeAgent> {
  const js = jetstream(opts.nc);
  const jsm = await jetstreamManager(opts.nc);
  await ensureStreams(jsm);
  const config: Partial<ConsumerConfig> = opts.consumer
    ? {
      durable_name: agentConsumerName(opts.provider),
      filter_subject: subjects.commandsOf(opts.provider),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...opts.consumer,
    }
    : agentConsumerConfig(opts.provider);
  await jsm.consumers.add(COMMAND_STREAM, config);
  const consumer = await js.consumers.get(COMMAND_STREAM, config.durable_name!);
  const messages = await consumer.consume({ max_messages: 64 });
  const received: ReceivedCommand[] = [];
  const respond = opts.respond ?? defaultReply;
  let eventCounter = 0;

  const emit = async (cmd: Command, event: Partial<Omit<StatusEvent, '$typeName'>>) => {
    const object = cmd.meta!.object!;
    const body = create(StatusEventSchema, {
      eventId: `evt-${process.pid}-${++eventCounter}`,
      object,
      provider: create(ProviderRefSchema, cmd.meta!.provider ?? { namespace: opts.provider.namespace, name: opts.provider.name }),
      commandId: cmd.meta!.commandId,
      observedGeneration: object.generation,
      observedAtUnixMs: BigInt(Date.now()),
      agentId: 'fake-agent',
      ...event,
    });
    await js.publish(subjects.event(opts.provider, object.uid), toBinary(StatusEventSchema, body), { msgID: body.eventId });
  };

  const handle = async (m: JsMsg) => {
    const command = fromBinary(CommandSchema, m.data);
    const reply = respond(command);
    if (reply === 'nak') {
      m.nak();
      return;
    }
    received.push({ command, msgId: m.headers?.get('Nats-Msg-Id') ?? '', traceparent: m.headers?.get('traceparent') ?? '', streamSequence: m.seq });
    if (reply !== 'silent') for (const e of reply.events) await emit(command, e);
    m.ack();
  };
  const loop = (async () => {
    for await (const m of messages) await handle(m).catch(() => m.nak());
  })();

  return {
    received,
    commandsFor: (uid) => received.filter((r) => r.command.meta?.object?.uid === uid),
    emit,
    async stop() {
      messages.stop();
      await loop;
      await jsm.consumers.delete(COMMAND_STREAM, config.durable_name!).catch(() => false);
    },
  };
}
