/**
 * Pushes what the hypervisor reports on its own (power changes, guest IPs, console) to the
 * dispatcher as it happens, from the driver's `watch` (libvirt lifecycle events, vSphere
 * PropertyCollector updates) — no polling. Each event is an observation only: no command id and
 * no phase, so it updates status facts (power state, IPs, id, console) and never Ready or the
 * phase; its generation is the one applied on the hypervisor, so the dispatcher drops it once a
 * newer desired state is reflected. The object is named by uid alone (the dispatcher knows the rest).
 *
 * A VM disappearing is not published here: a delete reports that itself, after the VM and its
 * volumes are gone, and only then may the finalizer go. Every replica watches, so a change may be
 * reported once per replica; the dispatcher's status writes are idempotent, and nothing is sent
 * while nothing changes.
 */
import { randomUUID } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import type { JetStreamClient } from '@nats-io/jetstream';
import { subjects, type ProviderKey } from '../../proto/bus/subjects.ts';
import { ObjectRefSchema, Phase, ProviderRefSchema, StatusEventSchema, type ObservedVM } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Driver } from './driver.ts';
import type { Logger } from './log.ts';
import type { AgentMetrics } from './metrics.ts';

export interface WatchPublisherOptions {
  driver: Driver;
  js: JetStreamClient;
  provider: ProviderKey & { type: string };
  agentId: string;
  metrics: AgentMetrics;
  log: Logger;
}

/** Starts forwarding the driver's changes; returns the function that stops it (a no-op without `watch`). */
export function startWatchPublisher(opts: WatchPublisherOptions): () => void {
  if (!opts.driver.watch) return () => {};
  const provider = create(ProviderRefSchema, { namespace: opts.provider.namespace, name: opts.provider.name, type: opts.provider.type });
  const publish = async (uid: string, vm: ObservedVM) => {
    const event = create(StatusEventSchema, {
      eventId: randomUUID(),
      object: create(ObjectRefSchema, { uid }),
      provider,
      phase: Phase.UNSPECIFIED,
      vm,
      observedGeneration: vm.appliedGeneration,
      observedAtUnixMs: BigInt(Date.now()),
      agentId: opts.agentId,
    });
    await opts.js.publish(subjects.event(opts.provider, uid), toBinary(StatusEventSchema, event), { msgID: event.eventId, timeout: 5000 });
  };
  return opts.driver.watch((uid, vm) => {
    if (!uid || !vm) return;
    publish(uid, vm).then(
      () => opts.metrics.observeEvent('published'),
      (err: unknown) => {
        opts.metrics.observeEvent('failed');
        opts.log.warn('observed change not published; status catches up at the next command', { vmUid: uid, err });
      },
    );
  });
}
