/**
 * Small helpers over NATS KV shared by the lease and the mock hypervisor: open-or-create a bucket
 * whatever its current config, and recognise an optimistic-concurrency conflict.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

/** True when a conditional write lost the race (the key's revision was not the one expected). */
export function isRevisionConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown;
  }
  return /wrong last sequence/i.test(String(err));
}

/**
 * Creates the bucket, or opens it when it already exists (possibly with other limits, set by an
 * earlier process): the first writer's config stands, and the caller reads it from `status()`.
 */
export async function openBucket(nc: NatsConnection, name: string, opts: Partial<KvOptions>): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(name, opts);
  } catch (err) {
    if (!/already in use|already exists|different configuration/i.test(String(err))) throw err;
    return kvm.open(name, { bindOnly: true });
  }
}
