/**
 * The provider's durable pull consumer on VR_COMMANDS, shared by all replicas: created (or brought
 * to the topology's config) idempotently, and read back so the runtime knows the real ack deadlines
 * and max deliveries the server applies.
 */
import type { ConsumerConfig, JetStreamManager } from '@nats-io/jetstream';
import { COMMAND_STREAM, agentConsumerConfig, agentConsumerName } from '../../proto/bus/topology.ts';
import type { ProviderKey } from '../../proto/bus/subjects.ts';

export async function ensureAgentConsumer(jsm: JetStreamManager, provider: ProviderKey): Promise<ConsumerConfig> {
  const name = agentConsumerName(provider);
  const wanted = agentConsumerConfig(provider);
  try {
    return (await jsm.consumers.add(COMMAND_STREAM, wanted)).config;
  } catch (err) {
    // Exists with another config (an older topology): bring it up to date.
    if (!/already exists|already in use|consumer name already/i.test(String(err))) throw err;
    const { durable_name: _unused, ...update } = wanted;
    return (await jsm.consumers.update(COMMAND_STREAM, name, update)).config;
  }
}
