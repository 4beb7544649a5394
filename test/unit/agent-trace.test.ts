/** W3C trace context from a command's NATS headers onto the agent's status events. */
import { headers } from '@nats-io/nats-core';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { strict as assert } from 'node:assert';
import { extractTraceContext, injectTraceContext, startCommandSpan } from '../../provider-agents/core/trace.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context', () => {
  it('reads traceparent and tracestate from the headers and writes them back out', () => {
    const h = headers();
    h.set('traceparent', TRACEPARENT);
    h.set('tracestate', 'vendor=abc');
    const ctx = extractTraceContext(h);
    assert.deepEqual(trace.getSpanContext(ctx), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true, traceState: trace.getSpanContext(ctx)!.traceState,
    });
    const out = headers();
    injectTraceContext(ctx, out);
    assert.equal(out.get('traceparent'), TRACEPARENT);
    assert.equal(out.get('tracestate'), 'vendor=abc');
  });

  it('keeps the trace through the command span (no SDK: the span carries its parent\'s context)', () => {
    const h = headers();
    h.set('traceparent', TRACEPARENT);
    const { span, ctx } = startCommandSpan('agent reconcile', extractTraceContext(h), {});
    const out = headers();
    injectTraceContext(ctx, out);
    span.end();
    assert.match(out.get('traceparent'), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('falls back to the command\'s traceparent field when the headers carry none', () => {
    assert.equal(trace.getSpanContext(extractTraceContext(undefined, TRACEPARENT))?.spanId, '00f067aa0ba902b7');
  });

  const invalid = ['', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'];
  for (const value of invalid) {
    it(`ignores the invalid traceparent ${JSON.stringify(value)}`, () => {
      const h = headers();
      if (value) h.set('traceparent', value);
      const ctx = extractTraceContext(h);
      assert.equal(trace.getSpanContext(ctx), undefined);
      const out = headers();
      injectTraceContext(ROOT_CONTEXT, out);
      assert.equal(out.has('traceparent'), false);
    });
  }
});
