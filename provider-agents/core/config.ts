/**
 * An agent process's configuration, from its environment. Pure: validated once, failing with every
 * problem listed at the same time. `provider-agents/main.ts agent <type>` sets AGENT_PROVIDER_TYPE
 * from its argument.
 */
import { hostname } from 'node:os';
import { VM_LEASE_TTL_S } from '../../proto/bus/topology.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';

export const PROVIDER_TYPES = ['vsphere', 'libvirt', 'proxmox', 'mock'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export interface AgentConfig {
  /** NATS_URL: one or more server URLs, comma-separated (default nats://127.0.0.1:4222). */
  natsServers: string[];
  /** The Provider object this agent serves (AGENT_PROVIDER_NAMESPACE, AGENT_PROVIDER_NAME, AGENT_PROVIDER_TYPE). */
  provider: { namespace: string; name: string; type: ProviderType };
  /** AGENT_ID: who holds VM leases; default `<hostname>-<pid>`, unique among live processes. */
  agentId: string;
  /** AGENT_CONCURRENCY: commands worked on at once (default 8). */
  concurrency: number;
  /** AGENT_METRICS_PORT: Prometheus /metrics, /healthz, /readyz (default 9090; 0 picks a free port; `off` disables). */
  metricsPort: number | undefined;
  /** AGENT_METRICS_HOST (default 0.0.0.0). */
  metricsHost: string;
  /** AGENT_GRPC_PORT: also serve the provider.v1 gRPC service (unset: off; 0 picks a free port). */
  grpcPort: number | undefined;
  /** AGENT_LEASE_TTL_S: VM lease lifetime without renewal (default the topology's VM_LEASE_TTL_S). */
  leaseTtlS: number;
  /** AGENT_HEARTBEAT_INTERVAL_S (default 5). */
  heartbeatIntervalS: number;
  /** AGENT_SHUTDOWN_GRACE_S: how long SIGTERM lets in-flight commands finish before handing them back (default 25). */
  shutdownGraceS: number;
  /** AGENT_LOG_LEVEL: debug | info | warn | error (default info). */
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid-config';
  constructor(readonly problems: readonly string[]) {
    super(`invalid agent configuration: ${problems.join('; ')}`);
  }
}

type Env = Record<string, string | undefined>;

/** Kubernetes names double as NATS subject tokens and KV keys: DNS labels only. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface HostIdentity {
  hostname: string;
  pid: number;
}

export function loadConfig(env: Env, host: HostIdentity = { hostname: hostname(), pid: process.pid }): AgentConfig {
  const problems: string[] = [];
  const text = (name: string, fallback?: string): string => {
    const value = env[name]?.trim();
    if (value === undefined || value === '') {
      if (fallback === undefined) problems.push(`${name} is required`);
      return fallback ?? '';
    }
    return value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const label = (name: string): string => {
    const value = text(name);
    if (value && !DNS_LABEL.test(value)) problems.push(`${name} must be a Kubernetes name (DNS label), got ${JSON.stringify(value)}`);
    return value;
  };
  const optionalPort = (name: string, fallback: number | undefined): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === 'off') return undefined;
    if (raw === undefined || raw === '') return fallback;
    return int(name, 0, 0, 65535);
  };

  const natsServers = text('NATS_URL', 'nats://127.0.0.1:4222').split(',').map((s) => s.trim()).filter(Boolean);
  for (const url of natsServers) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(url)) problems.push(`NATS_URL entries must look like nats://host:port, got ${JSON.stringify(url)}`);
  }
  const type = text('AGENT_PROVIDER_TYPE');
  if (type && !(PROVIDER_TYPES as readonly string[]).includes(type)) {
    problems.push(`AGENT_PROVIDER_TYPE must be one of ${PROVIDER_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  const agentId = text('AGENT_ID', `${host.hostname}-${host.pid}`);
  if (/\s/.test(agentId)) problems.push(`AGENT_ID must not contain spaces, got ${JSON.stringify(agentId)}`);

  const config: AgentConfig = {
    natsServers,
    provider: { namespace: label('AGENT_PROVIDER_NAMESPACE'), name: label('AGENT_PROVIDER_NAME'), type: type as ProviderType },
    agentId,
    concurrency: int('AGENT_CONCURRENCY', 8, 1, 1024),
    metricsPort: optionalPort('AGENT_METRICS_PORT', 9090),
    metricsHost: text('AGENT_METRICS_HOST', '0.0.0.0'),
    grpcPort: optionalPort('AGENT_GRPC_PORT', undefined),
    leaseTtlS: int('AGENT_LEASE_TTL_S', VM_LEASE_TTL_S, 1, 3600),
    heartbeatIntervalS: int('AGENT_HEARTBEAT_INTERVAL_S', 5, 1, 300),
    shutdownGraceS: int('AGENT_SHUTDOWN_GRACE_S', 25, 0, 3600),
    logLevel: 'info',
  };
  const level = env.AGENT_LOG_LEVEL?.trim();
  if (level) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) config.logLevel = level as LogLevel;
    else problems.push(`AGENT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}
