/**
 * Publishes status events on vr.evt.<ns>.<provider>.<object-uid>, each with a Nats-Msg-Id derived
 * from the command (so a redelivered command's repeated event is dropped by the stream's duplicate
 * window) and the command's trace context in the headers. Resolves once the stream stored it.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Context } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { subjects } from '../../proto/bus/subjects.ts';
import { ProviderRefSchema, StatusEventSchema, type ProviderRef } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { DecodedCommand } from './decode.ts';
import type { AgentMetrics } from './metrics.ts';
import type { EventBody } from './status.ts';
import { injectTraceContext } from './trace.ts';

export interface EventPublisher {
  /** `key` names the event within its command (`done`, `retry-3`, `progress-2`): it makes the Nats-Msg-Id. */
  publish(cmd: DecodedCommand, body: EventBody, opts: { key: string; trace: Context }): Promise<void>;
}

export interface EventPublisherOptions {
  js: JetStreamClient;
  provider: { namespace: string; name: string; type: string };
  agentId: string;
  metrics: AgentMetrics;
  timeoutMs?: number;
}

export function createEventPublisher(opts: EventPublisherOptions): EventPublisher {
  const key = { namespace: opts.provider.namespace, name: opts.provider.name };
  return {
    async publish(cmd, body, { key: eventKey, trace }) {
      const meta = cmd.command.meta!;
      const provider: ProviderRef = meta.provider?.name
        ? meta.provider
        : create(ProviderRefSchema, { namespace: key.namespace, name: key.name, type: opts.provider.type });
      const event = create(StatusEventSchema, {
        ...body,
        // Progress and failure events answer the command's generation too: the dispatcher orders
        // and de-duplicates events by it, and would drop a failure stamped with generation 0.
        observedGeneration: body.observedGeneration ?? cmd.generation,
        eventId: randomUUID(),
        object: meta.object,
        provider,
        commandId: cmd.commandId,
        observedAtUnixMs: BigInt(Date.now()),
        agentId: opts.agentId,
      });
      const h = natsHeaders();
      injectTraceContext(trace, h);
      try {
        await opts.js.publish(subjects.event(key, cmd.objectUid), toBinary(StatusEventSchema, event), {
          msgID: `${cmd.commandId}:${eventKey}`,
          headers: h,
          timeout: opts.timeoutMs ?? 5000,
        });
        opts.metrics.observeEvent('published');
      } catch (err) {
        opts.metrics.observeEvent('failed');
        throw err;
      }
    },
  };
}
