/**
 * The dispatcher's configuration, read once from the environment: `loadConfig(env)` is pure and
 * fails with every problem listed, not the first one.
 */
import { hostname } from 'node:os';
import type { LogLevel } from './log.ts';

export interface LeaseConfig {
  /** Namespace of the coordination.k8s.io/v1 Lease (must exist). */
  namespace: string;
  name: string;
  /** A follower takes over this long after it last saw the lease renewed. */
  durationMs: number;
  /** The leader renews this often. */
  renewIntervalMs: number;
  /** The leader steps down when it could not renew for this long (< durationMs). */
  renewDeadlineMs: number;
  /** A follower checks the lease this often. */
  retryIntervalMs: number;
}

export interface QueueConfig {
  /** Reconciles running at once. */
  workers: number;
  /** First and largest per-VM retry delay after a failed reconcile. */
  baseRetryMs: number;
  maxRetryMs: number;
  /** Overall rate of retries (token bucket): a failing dependency cannot flood the apiserver. */
  retryQps: number;
  retryBurst: number;
}

export interface Config {
  /** Kubeconfig file; in-cluster or ~/.kube/config when unset. */
  kubeconfigPath?: string;
  /** Only this namespace's objects (all namespaces when unset). */
  namespace?: string;
  natsUrl: string;
  /** NATS_CREDS_FILE: a .creds file (user JWT + seed) when the bus runs with decentralized auth. */
  natsCredsFile?: string;
  /** This replica's name in the Lease. */
  identity: string;
  lease: LeaseConfig;
  queue: QueueConfig;
  /** Status events processed at once. */
  eventConcurrency: number;
  /**
   * How long the "command published" status waits for the agent's answer so that both go in one
   * status write (0: written at once).
   */
  statusCoalesceMs: number;
  /** The longest that wait grows to while agents answer slowly (status/coalesce-window.ts). */
  statusCoalesceMaxMs: number;
  /** Prometheus /metrics port; 0 turns the endpoint off. */
  metricsPort: number;
  logLevel: LogLevel;
  /** JetStream stream replicas (1 for a single server, 3 in a cluster). */
  streamReplicas: number;
  /** After the bus gave up delivering a command, publish it again (new id) this much later. */
  redispatchAfterExhaustedMs: number;
}

export const DEFAULT_LEASE_NAME = 'virtrigaud-dispatcher';
export const DEFAULT_LEASE_DURATION_S = 10;
export const DEFAULT_LEASE_RENEW_S = 3;
export const DEFAULT_LEASE_RENEW_DEADLINE_S = 7;
export const DEFAULT_LEASE_RETRY_S = 1.5;
export const DEFAULT_WORKERS = 16;
export const DEFAULT_EVENT_CONCURRENCY = 64;
export const DEFAULT_STATUS_COALESCE_MS = 500;
export const DEFAULT_STATUS_COALESCE_MAX_MS = 5000;
export const DEFAULT_METRICS_PORT = 9090;
export const DEFAULT_REDISPATCH_AFTER_EXHAUSTED_S = 300;

export class ConfigError extends Error {
  readonly code = 'ERR_DISPATCHER_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid dispatcher configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const text = (name: string) => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  const number = (name: string, fallback: number, check: (n: number) => boolean, what: string) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || !check(n)) {
      problems.push(`${name}: expected ${what}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const positiveInt = (name: string, fallback: number) =>
    number(name, fallback, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  const seconds = (name: string, fallback: number) =>
    number(name, fallback, (n) => n > 0, 'a positive number of seconds') * 1000;

  const natsUrl = text('NATS_URL');
  if (!natsUrl) problems.push('NATS_URL: required (e.g. nats://127.0.0.1:4222)');
  else if (!/^(nats|tls|wss?):\/\//.test(natsUrl)) problems.push(`NATS_URL: expected a nats://, tls:// or ws(s):// URL, got "${natsUrl}"`);

  const natsCredsFile = text('NATS_CREDS_FILE');

  const namespace = text('WATCH_NAMESPACE');
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) problems.push(`WATCH_NAMESPACE: expected a namespace name, got "${namespace}"`);
  const leaseNamespace = text('LEASE_NAMESPACE') ?? text('POD_NAMESPACE') ?? namespace ?? 'default';
  if (!DNS_LABEL.test(leaseNamespace)) problems.push(`LEASE_NAMESPACE: expected a namespace name, got "${leaseNamespace}"`);

  const logLevel = (text('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const lease: LeaseConfig = {
    namespace: leaseNamespace,
    name: text('LEASE_NAME') ?? DEFAULT_LEASE_NAME,
    durationMs: seconds('LEASE_DURATION_SECONDS', DEFAULT_LEASE_DURATION_S),
    renewIntervalMs: seconds('LEASE_RENEW_SECONDS', DEFAULT_LEASE_RENEW_S),
    renewDeadlineMs: seconds('LEASE_RENEW_DEADLINE_SECONDS', DEFAULT_LEASE_RENEW_DEADLINE_S),
    retryIntervalMs: seconds('LEASE_RETRY_SECONDS', DEFAULT_LEASE_RETRY_S),
  };
  if (lease.renewDeadlineMs >= lease.durationMs) {
    problems.push(`LEASE_RENEW_DEADLINE_SECONDS (${lease.renewDeadlineMs / 1000}) must be below LEASE_DURATION_SECONDS (${lease.durationMs / 1000}), so a leader steps down before another may take over`);
  }
  if (lease.renewIntervalMs >= lease.renewDeadlineMs) {
    problems.push(`LEASE_RENEW_SECONDS (${lease.renewIntervalMs / 1000}) must be below LEASE_RENEW_DEADLINE_SECONDS (${lease.renewDeadlineMs / 1000})`);
  }

  const queue: QueueConfig = {
    workers: positiveInt('WORKERS', DEFAULT_WORKERS),
    baseRetryMs: number('RETRY_BASE_MS', 200, (n) => n > 0, 'a positive number of milliseconds'),
    maxRetryMs: number('RETRY_MAX_MS', 60_000, (n) => n > 0, 'a positive number of milliseconds'),
    retryQps: number('RETRY_QPS', 50, (n) => n > 0, 'a positive number'),
    retryBurst: positiveInt('RETRY_BURST', 200),
  };

  const config: Config = {
    kubeconfigPath: text('KUBECONFIG'),
    namespace,
    natsUrl: natsUrl ?? '',
    ...(natsCredsFile ? { natsCredsFile } : {}),
    identity: text('DISPATCHER_ID') ?? text('POD_NAME') ?? `${hostname()}-${process.pid}`,
    lease,
    queue,
    eventConcurrency: positiveInt('EVENT_CONCURRENCY', DEFAULT_EVENT_CONCURRENCY),
    statusCoalesceMs: number('STATUS_COALESCE_MS', DEFAULT_STATUS_COALESCE_MS, (n) => n >= 0 && n <= 10_000, 'milliseconds from 0 to 10000'),
    statusCoalesceMaxMs: number('STATUS_COALESCE_MAX_MS', DEFAULT_STATUS_COALESCE_MAX_MS, (n) => n >= 0 && n <= 60_000, 'milliseconds from 0 to 60000'),
    metricsPort: number('METRICS_PORT', DEFAULT_METRICS_PORT, (n) => Number.isInteger(n) && n >= 0 && n < 65536, 'a port (0 turns metrics off)'),
    logLevel,
    streamReplicas: number('JETSTREAM_REPLICAS', 1, (n) => n === 1 || n === 3 || n === 5, '1, 3 or 5'),
    redispatchAfterExhaustedMs: seconds('REDISPATCH_AFTER_EXHAUSTED_SECONDS', DEFAULT_REDISPATCH_AFTER_EXHAUSTED_S),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
