/**
 * The Provider controller's settings, from the dispatcher's environment. `loadProviderControllerConfig`
 * is pure but for reading the signing-key file, and lists every problem at once.
 *
 * | variable | default | |
 * |---|---|---|
 * | `WATCH_NAMESPACE` | all | Providers of this namespace only |
 * | `NATS_URL` | — | the bus the agents use too, unless `PROVIDER_AGENT_NATS_URL` |
 * | `PROVIDER_AGENT_NATS_URL` | `NATS_URL` | the bus URL as the agents' pods reach it |
 * | `PROVIDER_MANAGE_AGENTS` | `true` | `false`: agents run elsewhere (the local stack, next to the hypervisor); only status is written, from heartbeats |
 * | `PROVIDER_AGENT_IMAGE` | — | runs the agents from this image instead of `spec.runtime.image` (the VirtRigaud image; the original project's provider images do not run our agent) |
 * | `NATS_ACCOUNT` | — | public key (A…) of the bus account; with the next one, turns per-provider credentials on |
 * | `NATS_ACCOUNT_SIGNING_KEY_FILE` | — | file with the account's signing-key seed (SA…) |
 * | `PROVIDER_NATS_CREDS_VALIDITY_HOURS` | 720 | minted credentials expire after this; renewed when a third is left |
 * | `PROVIDER_HEARTBEAT_TIMEOUT_S` | 20 | an agent silent this long no longer counts (heartbeats come every 5 s) |
 * | `PROVIDER_AGENT_AUTOSCALER` | `none` | `keda`: a KEDA ScaledObject per provider scales the agents on JetStream consumer lag |
 * | `PROVIDER_AGENT_MAX_REPLICAS` | 10 | KEDA's upper bound (the lower bound is `spec.runtime.replicas`) |
 * | `PROVIDER_AGENT_LAG_THRESHOLD` | 20 | pending commands per agent replica before KEDA adds one |
 * | `NATS_MONITORING_ENDPOINT` | `virtrigaud-nats.virtrigaud-system.svc.cluster.local:8222` | what KEDA's nats-jetstream scaler polls |
 */
import { readFileSync } from 'node:fs';
import { checkSigner, type AccountSigner } from './nats-accounts.ts';

export interface KedaAutoscaling {
  maxReplicas: number;
  lagThreshold: number;
  monitoringEndpoint: string;
  /** The account whose consumers KEDA reads (JetStream monitoring lists accounts by public key). */
  account: string;
}

export interface ProviderControllerConfig {
  namespace?: string;
  agentNatsUrl: string;
  agentImage?: string;
  /** Create the agents' Deployment, Service, ServiceAccount (false: they run outside the cluster). */
  manageAgents: boolean;
  /** Unset: the bus has no authentication (local stack); agents get no credentials. */
  natsSigner?: AccountSigner;
  credsValidityMs: number;
  heartbeatTimeoutMs: number;
  autoscaling?: KedaAutoscaling;
  /** Server-side apply field manager (and Events' component). */
  fieldManager: string;
  /** Providers reconciled at once. */
  workers: number;
}

export class ProviderConfigError extends Error {
  readonly code = 'ERR_PROVIDER_CONTROLLER_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid Provider controller configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ProviderConfigError';
  }
}

type Env = Record<string, string | undefined>;

export const DEFAULT_MONITORING_ENDPOINT = 'virtrigaud-nats.virtrigaud-system.svc.cluster.local:8222';
export const FIELD_MANAGER = 'virtrigaud-dispatcher';

export function loadProviderControllerConfig(env: Env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): ProviderControllerConfig {
  const problems: string[] = [];
  const value = (name: string) => env[name]?.trim() || undefined;
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return Number(raw);
  };

  const agentNatsUrl = value('PROVIDER_AGENT_NATS_URL') ?? value('NATS_URL');
  if (!agentNatsUrl) problems.push('NATS_URL (or PROVIDER_AGENT_NATS_URL) is required: the agents connect to it');

  let natsSigner: AccountSigner | undefined;
  const account = value('NATS_ACCOUNT');
  const keyFile = value('NATS_ACCOUNT_SIGNING_KEY_FILE');
  if (account || keyFile) {
    if (!account || !keyFile) {
      problems.push('NATS_ACCOUNT and NATS_ACCOUNT_SIGNING_KEY_FILE go together (per-provider credentials need both)');
    } else {
      let seed = '';
      try {
        seed = readFile(keyFile).trim();
      } catch (err) {
        problems.push(`cannot read NATS_ACCOUNT_SIGNING_KEY_FILE ${keyFile}: ${(err as Error).message}`);
      }
      if (seed) {
        const signer = { accountPublicKey: account, signingKeySeed: seed };
        const bad = checkSigner(signer);
        if (bad.length) problems.push(...bad.map((b) => `${b} (NATS_ACCOUNT / NATS_ACCOUNT_SIGNING_KEY_FILE)`));
        else natsSigner = signer;
      }
    }
  }

  const autoscaler = value('PROVIDER_AGENT_AUTOSCALER') ?? 'none';
  let autoscaling: KedaAutoscaling | undefined;
  if (autoscaler === 'keda') {
    autoscaling = {
      maxReplicas: int('PROVIDER_AGENT_MAX_REPLICAS', 10, 1, 1000),
      lagThreshold: int('PROVIDER_AGENT_LAG_THRESHOLD', 20, 1, 100_000),
      monitoringEndpoint: value('NATS_MONITORING_ENDPOINT') ?? DEFAULT_MONITORING_ENDPOINT,
      account: account ?? '$G',
    };
  } else if (autoscaler !== 'none') {
    problems.push(`PROVIDER_AGENT_AUTOSCALER must be none or keda, got ${JSON.stringify(autoscaler)}`);
  }

  const manage = value('PROVIDER_MANAGE_AGENTS') ?? 'true';
  if (manage !== 'true' && manage !== 'false') problems.push(`PROVIDER_MANAGE_AGENTS must be true or false, got ${JSON.stringify(manage)}`);

  const config: ProviderControllerConfig = {
    agentNatsUrl: agentNatsUrl ?? '',
    manageAgents: manage !== 'false',
    credsValidityMs: int('PROVIDER_NATS_CREDS_VALIDITY_HOURS', 720, 1, 24 * 365) * 3_600_000,
    heartbeatTimeoutMs: int('PROVIDER_HEARTBEAT_TIMEOUT_S', 20, 2, 3600) * 1000,
    fieldManager: FIELD_MANAGER,
    workers: 4,
  };
  const namespace = value('WATCH_NAMESPACE');
  if (namespace) config.namespace = namespace;
  const agentImage = value('PROVIDER_AGENT_IMAGE');
  if (agentImage) config.agentImage = agentImage;
  if (natsSigner) config.natsSigner = natsSigner;
  if (autoscaling) config.autoscaling = autoscaling;
  if (problems.length) throw new ProviderConfigError(problems);
  return config;
}
