/**
 * The webhook process's configuration, from its environment. Pure: validated once, failing with
 * every problem listed at the same time.
 */
import { LOG_LEVELS, type LogLevel } from './log.ts';

export interface WebhookConfig {
  /** Address to listen on (WEBHOOK_HOST, default 0.0.0.0). */
  host: string;
  /** HTTPS port (WEBHOOK_PORT, default 9443; 0 picks a free one). */
  port: number;
  /** Serving certificate and key, re-read when they change (WEBHOOK_TLS_CERT_FILE, WEBHOOK_TLS_KEY_FILE). */
  certFile: string;
  keyFile: string;
  /** Largest AdmissionReview body accepted (WEBHOOK_MAX_BODY_BYTES, default 3 MiB). */
  maxBodyBytes: number;
  /** WEBHOOK_LOG_LEVEL: debug | info | warn | error (default info). */
  logLevel: LogLevel;
  /** KUBECONFIG for the caches; unset means in-cluster (or ~/.kube/config). */
  kubeconfig?: string;
  /** How often the certificate files are re-read besides on file events (WEBHOOK_TLS_POLL_MS, default 10 s). */
  tlsPollMs: number;
  /** How long shutdown lets requests in flight finish (WEBHOOK_SHUTDOWN_GRACE_MS, default 5 s). */
  shutdownGraceMs: number;
}

/** controller-runtime's default location, which cert-manager and most charts mount to. */
export const DEFAULT_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid-config';
  constructor(readonly problems: readonly string[]) {
    super(`invalid webhook configuration: ${problems.join('; ')}`);
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env): WebhookConfig {
  const problems: string[] = [];
  const text = (name: string, fallback: string): string => {
    const value = env[name];
    if (value === undefined) return fallback;
    if (!value.trim()) problems.push(`${name} is empty; leave it unset for the default ${JSON.stringify(fallback)}`);
    return value.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const config: WebhookConfig = {
    host: text('WEBHOOK_HOST', '0.0.0.0'),
    port: int('WEBHOOK_PORT', 9443, 0, 65535),
    certFile: text('WEBHOOK_TLS_CERT_FILE', `${DEFAULT_CERT_DIR}/tls.crt`),
    keyFile: text('WEBHOOK_TLS_KEY_FILE', `${DEFAULT_CERT_DIR}/tls.key`),
    maxBodyBytes: int('WEBHOOK_MAX_BODY_BYTES', 3 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: 'info',
    tlsPollMs: int('WEBHOOK_TLS_POLL_MS', 10_000, 100, 3_600_000),
    shutdownGraceMs: int('WEBHOOK_SHUTDOWN_GRACE_MS', 5_000, 0, 120_000),
  };
  const level = env.WEBHOOK_LOG_LEVEL;
  if (level !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) config.logLevel = level as LogLevel;
    else problems.push(`WEBHOOK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  if (env.KUBECONFIG) config.kubeconfig = env.KUBECONFIG;
  if (problems.length) throw new ConfigError(problems);
  return config;
}
