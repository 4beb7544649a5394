/**
 * OpenTelemetry trace context over NATS headers (W3C `traceparent` / `tracestate`), so one trace
 * covers dispatch → agent → status write. The agent reads the command's context, runs the command
 * in a span of that trace, and writes the span's context on the events it publishes.
 *
 * Without an OpenTelemetry SDK in the process the API's tracer is a no-op whose spans carry their
 * parent's context: the incoming `traceparent` then travels through unchanged.
 * The W3C propagator is implemented here (the API package ships none; @opentelemetry/core is not a
 * dependency) and used directly, so nothing global is changed.
 */
import {
  ROOT_CONTEXT, SpanKind, TraceFlags, createTraceState, isSpanContextValid, trace,
  type Context, type Span, type TextMapGetter, type TextMapPropagator, type TextMapSetter,
} from '@opentelemetry/api';
import type { MsgHdrs } from '@nats-io/nats-core';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** W3C Trace Context (version 00) for any carrier. */
export const w3cTraceContext: TextMapPropagator = {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (!sc || !isSpanContextValid(sc)) return;
    setter.set(carrier, TRACEPARENT, `00-${sc.traceId}-${sc.spanId}-0${Number(sc.traceFlags || TraceFlags.NONE).toString(16)}`);
    const state = sc.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  },
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, TRACEPARENT);
    const header = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!header) return ctx;
    const m = TRACEPARENT_RE.exec(header);
    if (!m || m[1] === 'ff' || (m[1] === '00' && m[5])) return ctx;
    const state = getter.get(carrier, TRACESTATE);
    const sc = {
      traceId: m[2]!,
      spanId: m[3]!,
      traceFlags: parseInt(m[4]!, 16) & TraceFlags.SAMPLED,
      isRemote: true,
      ...(state ? { traceState: createTraceState(Array.isArray(state) ? state.join(',') : state) } : {}),
    };
    return isSpanContextValid(sc) ? trace.setSpanContext(ctx, sc) : ctx;
  },
  fields: () => [TRACEPARENT, TRACESTATE],
};

const headerGetter: TextMapGetter<MsgHdrs | Record<string, string> | undefined> = {
  keys: (carrier) => (!carrier ? [] : isMsgHdrs(carrier) ? carrier.keys() : Object.keys(carrier)),
  get: (carrier, key) => {
    if (!carrier) return undefined;
    if (isMsgHdrs(carrier)) return carrier.has(key) ? carrier.get(key) : undefined;
    return carrier[key];
  },
};

const headerSetter: TextMapSetter<MsgHdrs> = { set: (carrier, key, value) => carrier.set(key, value) };

function isMsgHdrs(carrier: object): carrier is MsgHdrs {
  return typeof (carrier as MsgHdrs).keys === 'function' && typeof (carrier as MsgHdrs).get === 'function';
}

/**
 * The trace context of a command: from its NATS headers, else from the `traceparent` field that
 * gRPC-era callers put in the command itself.
 */
export function extractTraceContext(headers: MsgHdrs | undefined, fallbackTraceparent?: string): Context {
  const fromHeaders = w3cTraceContext.extract(ROOT_CONTEXT, headers, headerGetter);
  if (trace.getSpanContext(fromHeaders) || !fallbackTraceparent) return fromHeaders;
  return w3cTraceContext.extract(ROOT_CONTEXT, { [TRACEPARENT]: fallbackTraceparent }, headerGetter);
}

/** Writes the context's trace (if any) on outgoing headers. */
export function injectTraceContext(ctx: Context, headers: MsgHdrs): void {
  w3cTraceContext.inject(ctx, headers, headerSetter);
}

/** Starts the consumer span of one command as a child of the command's context. */
export function startCommandSpan(name: string, parent: Context, attributes: Record<string, string>): { span: Span; ctx: Context } {
  const span = trace.getTracer('virtrigaud-agent').startSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}
