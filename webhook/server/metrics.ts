/**
 * Prometheus metrics of the admission server, in a registry of their own (so tests and
 * benchmarks can run several servers in one process).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome label: what the server answered. */
export type RequestOutcome = 'allowed' | 'patched' | 'denied' | 'error' | 'bad_request' | 'not_found' | 'unavailable';

export interface WebhookMetrics {
  registry: Registry;
  /** One request answered: `path` is a served admission path or `other`. */
  observeRequest(path: string, outcome: RequestOutcome, seconds: number): void;
  /** One field error of a denial, by the rule that raised it. */
  observeDenial(kind: string, rule: string): void;
  /** A TLS certificate reload: `ok` or `failed`. */
  observeTlsReload(result: 'ok' | 'failed'): void;
  /** A client connection completed its TLS handshake (requests per connection = requests / connections). */
  observeConnection(): void;
}

export interface WebhookMetricsOptions {
  /** Also collect the process metrics (CPU, memory, event-loop lag); on in the real process. */
  processMetrics?: boolean;
}

/** Latency buckets in seconds: admission answers are expected well under 2 ms. */
export const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 0.5, 1];

export function createWebhookMetrics(opts: WebhookMetricsOptions = {}): WebhookMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'virtrigaud_webhook_requests_total',
    help: 'Admission requests answered, by path and outcome',
    labelNames: ['path', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'virtrigaud_webhook_request_duration_seconds',
    help: 'Time from the request arriving to the reply being written, by path',
    labelNames: ['path'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const denials = new Counter({
    name: 'virtrigaud_webhook_denials_total',
    help: 'Field errors in denials, by kind and rule',
    labelNames: ['kind', 'rule'] as const,
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'virtrigaud_webhook_tls_reloads_total',
    help: 'Serving certificate reloads, by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const connections = new Counter({
    name: 'virtrigaud_webhook_tls_connections_total',
    help: 'Client connections accepted (TLS handshakes completed); the apiserver keeps its connections alive',
    registers: [registry],
  });
  return {
    registry,
    observeRequest(path, outcome, seconds) {
      requests.inc({ path, outcome });
      latency.observe({ path }, seconds);
    },
    observeDenial(kind, rule) {
      denials.inc({ kind, rule });
    },
    observeTlsReload(result) {
      reloads.inc({ result });
    },
    observeConnection() {
      connections.inc();
    },
  };
}
