/**
 * W3C trace context for commands. A span is started through @opentelemetry/api, so when the
 * process registers an SDK the dispatch is a real span and the agent's work joins its trace.
 * Without an SDK the API's span is non-recording with an invalid context: a fresh random trace
 * id is generated instead, so the header still ties dispatch → agent → status write together.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, isSpanContextValid, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('virtrigaud-dispatcher');

export const TRACEPARENT_HEADER = 'traceparent';

export interface DispatchSpan {
  traceparent: string;
  end(error?: unknown): void;
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
export function isTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value);
  return m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
}

export function startDispatchSpan(name: string, attributes: Attributes): DispatchSpan {
  const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER, attributes });
  const ctx = span.spanContext();
  const traceparent = isSpanContextValid(ctx)
    ? formatTraceparent(ctx.traceId, ctx.spanId, (ctx.traceFlags & 1) === 1)
    : formatTraceparent(randomBytes(16).toString('hex'), randomBytes(8).toString('hex'), true);
  return {
    traceparent,
    end(error?: unknown) {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
    },
  };
}
