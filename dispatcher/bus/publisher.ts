/**
 * Publishes a planned command on vr.cmd.<provider-ns>.<provider>.<vm-uid> with Nats-Msg-Id =
 * command id (JetStream drops a republish inside the duplicate window) and a traceparent header.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { VirtualMachine } from '../../api/objects.ts';
import { subjects } from '../../proto/bus/subjects.ts';
import { CommandMetaSchema, CommandSchema, ObjectRefSchema, ProviderRefSchema, type Command } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PublishError } from '../errors.ts';
import type { PlannedCommand } from '../reconcile/decide.ts';
import { startDispatchSpan, TRACEPARENT_HEADER } from './trace.ts';

export const PUBLISH_TIMEOUT_MS = 5_000;

export interface Published {
  streamSequence: number;
  /** JetStream already had this Nats-Msg-Id (a republish): nothing new reached the agents. */
  duplicate: boolean;
  publishedAt: number;
}

export interface Publisher {
  publish(vm: VirtualMachine, planned: PlannedCommand): Promise<Published>;
}

/** The protobuf Command for a planned command. */
export function buildCommand(vm: VirtualMachine, planned: PlannedCommand, traceparent: string, now: number): Command {
  const object = create(ObjectRefSchema, {
    namespace: vm.metadata.namespace ?? '',
    name: vm.metadata.name ?? '',
    uid: vm.metadata.uid ?? '',
    generation: BigInt(planned.generation),
  });
  return create(CommandSchema, {
    meta: create(CommandMetaSchema, {
      commandId: planned.id,
      object,
      vm: object,
      provider: create(ProviderRefSchema, planned.provider),
      issuedAtUnixMs: BigInt(now),
      traceparent,
    }),
    op: planned.operation === 'Reconcile'
      ? { case: 'reconcile', value: planned.desired }
      : { case: 'delete', value: planned.delete },
  });
}

export function createPublisher(js: JetStreamClient, now: () => number = Date.now): Publisher {
  return {
    async publish(vm, planned) {
      const subject = subjects.command(planned.provider, vm.metadata.uid ?? '');
      const span = startDispatchSpan(`dispatch ${planned.operation}`, {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.message.id': planned.id,
        'k8s.namespace.name': vm.metadata.namespace ?? '',
        'virtrigaud.vm.name': vm.metadata.name ?? '',
      });
      const h = headers();
      h.set(TRACEPARENT_HEADER, span.traceparent);
      const data = toBinary(CommandSchema, buildCommand(vm, planned, span.traceparent, now()));
      try {
        const ack = await js.publish(subject, data, { msgID: planned.id, headers: h, timeout: PUBLISH_TIMEOUT_MS });
        span.end();
        return { streamSequence: ack.seq, duplicate: ack.duplicate, publishedAt: now() };
      } catch (err) {
        span.end(err);
        throw new PublishError(subject, { cause: err });
      }
    },
  };
}
