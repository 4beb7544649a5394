/**
 * The JetStream topology, declared once and created idempotently by whoever starts first
 * (dispatcher or agent). See README "Bus topology" for the why of each number.
 */
import {
  AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType,
  type ConsumerConfig, type JetStreamManager, type StreamConfig,
} from '@nats-io/jetstream';
import { subjects, type ProviderKey } from './subjects.ts';

const SECOND_NS = 1_000_000_000;
const ns = (seconds: number) => seconds * SECOND_NS;

export const COMMAND_STREAM = 'VR_COMMANDS';
export const EVENT_STREAM = 'VR_EVENTS';
export const DEAD_LETTER_STREAM = 'VR_DEAD_LETTERS';
/** KV bucket of per-VM work leases: one agent acts on a VM at a time. */
export const VM_LEASE_BUCKET = 'VR_VM_LEASES';
export const DISPATCHER_CONSUMER = 'dispatcher';

/** Window in which a republished command (same Nats-Msg-Id) is dropped. */
export const DUPLICATE_WINDOW_S = 120;
/** Redelivery after this long without an ack or an in-progress ack. */
export const COMMAND_ACK_WAIT_S = 30;
/** Agents send an in-progress ack this often during long operations. */
export const WORKING_INTERVAL_S = 10;
/** After this many deliveries the command stops; the dispatcher turns the advisory into a condition. */
export const COMMAND_MAX_DELIVER = 10;
/** Redelivery delays; the last one repeats. */
export const COMMAND_BACKOFF_S = [1, 2, 5, 10, 30];
/** A VM lease expires this long after its last renewal (holder crashed). */
export const VM_LEASE_TTL_S = 60;

export function commandStreamConfig(replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: COMMAND_STREAM,
    subjects: [subjects.allCommands],
    // Work queue: a command is gone once an agent acks it, so an idle system stores nothing.
    retention: RetentionPolicy.Workqueue,
    // Level-triggered: only the newest command per object waits; a newer one replaces it.
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    storage: StorageType.File,
    duplicate_window: ns(DUPLICATE_WINDOW_S),
    num_replicas: replicas,
  };
}

export function eventStreamConfig(replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: EVENT_STREAM,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: ns(DUPLICATE_WINDOW_S),
    num_replicas: replicas,
  };
}

export function deadLetterStreamConfig(replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: DEAD_LETTER_STREAM,
    subjects: [subjects.allDeadLetters],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: ns(7 * 24 * 3600),
    max_msgs: 100_000,
    num_replicas: replicas,
  };
}

/** Durable name of the pull consumer all agent replicas of one provider share. */
export function agentConsumerName(provider: ProviderKey): string {
  return `agents_${provider.namespace}_${provider.name}`;
}

export function agentConsumerConfig(provider: ProviderKey): Partial<ConsumerConfig> {
  return {
    durable_name: agentConsumerName(provider),
    filter_subject: subjects.commandsOf(provider),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ns(COMMAND_ACK_WAIT_S),
    max_deliver: COMMAND_MAX_DELIVER,
    backoff: COMMAND_BACKOFF_S.map(ns),
    max_ack_pending: 1000,
  };
}

export function dispatcherConsumerConfig(): Partial<ConsumerConfig> {
  return {
    durable_name: DISPATCHER_CONSUMER,
    filter_subject: subjects.allEvents,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ns(COMMAND_ACK_WAIT_S),
    max_ack_pending: 5000,
  };
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!/stream not found/i.test(String(err))) throw err;
    try {
      await jsm.streams.add(config);
      return;
    } catch (addErr) {
      // Another process created it between our info and add: fall through to update.
      if (!/already in use|already exists/i.test(String(addErr))) throw addErr;
    }
  }
  await jsm.streams.update(config.name, config);
}

/**
 * Creates the streams that do not exist and leaves existing ones as they are: for agents, whose
 * bus credentials in a cluster may read stream info but not create or change streams (the
 * dispatcher owns the topology and its replica count).
 */
export async function ensureStreamsExist(jsm: JetStreamManager, replicas = 1): Promise<void> {
  for (const config of [commandStreamConfig(replicas), eventStreamConfig(replicas), deadLetterStreamConfig(replicas)]) {
    try {
      await jsm.streams.info(config.name);
    } catch (err) {
      if (!/stream not found/i.test(String(err))) throw err;
      await ensureStream(jsm, config);
    }
  }
}

/** Creates or updates the streams (idempotent; safe from several processes at once). */
export async function ensureStreams(jsm: JetStreamManager, replicas = 1): Promise<void> {
  await ensureStream(jsm, commandStreamConfig(replicas));
  await ensureStream(jsm, eventStreamConfig(replicas));
  await ensureStream(jsm, deadLetterStreamConfig(replicas));
}
