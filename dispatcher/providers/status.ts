/**
 * A Provider's status as a pure function of what the controller observed: the agent Deployment,
 * the agents' heartbeats, the credential Secret, the bus credentials, the VMs that use it.
 *
 * Conditions (Ready first, then by name):
 *   Ready              Available, HypervisorReachable and CredentialsValid all True
 *   Available          at least one agent replica is available (Deployment status)
 *   CredentialsValid   the credential Secret exists in the Provider's namespace, and the bus
 *                      credentials are issued (when the bus uses per-provider credentials)
 *   HypervisorReachable an agent heard within the heartbeat timeout reaches the hypervisor
 *
 * `healthy` is HypervisorReachable; `lastHealthCheck` is when `healthy` last changed (heartbeats
 * arrive every 5 s; writing each would cost a status write per provider every 5 s for nothing).
 */
import type { ProviderStatus } from '../../api/kinds/provider.ts';
import type { Provider } from '../../api/objects.ts';
import { setConditions, type ConditionUpdate } from '../status/conditions.ts';
import type { HealthSummary } from './heartbeats.ts';
import { grpcEndpoint, names } from './objects.ts';

export type CredentialSecretState = 'found' | 'missing';

export interface DeploymentFacts {
  desired: number;
  ready: number;
  available: number;
  updated: number;
  /** The Deployment controller has seen the newest spec. */
  current: boolean;
}

export interface StatusInputs {
  provider: Provider;
  /** RFC 3339, to the second. */
  now: string;
  /** The spec cannot be run (unsupported type, unusable name): nothing is created. */
  invalid?: { reason: string; message: string };
  credentialSecret: CredentialSecretState;
  /** The agents run outside the cluster (PROVIDER_MANAGE_AGENTS=false): availability is heard, not deployed. */
  externalAgents?: boolean;
  /** Per-provider bus credentials; undefined when the bus has no authentication. */
  natsCreds?: { issued: true; expiresAt: string } | { issued: false; message: string };
  deployment?: DeploymentFacts;
  /** Applying the agent's objects failed (message names the object and the apiserver's answer). */
  applyError?: string;
  health?: HealthSummary;
  connectedVMs: number;
  /** Being deleted: the VMs that still use it (the finalizer waits for them). */
  deletingWith?: string[];
}

type Features = NonNullable<ProviderStatus['capabilities']>;

/** Our capability names (api/capabilities.ts) → the original's status vocabulary. */
function reported(features: readonly string[]): { capabilities: Features; reportedCapabilities: NonNullable<ProviderStatus['reportedCapabilities']> } {
  const has = (f: string) => features.includes(f);
  // Every agent drives VMs, snapshots, clones, disks and NICs (the Driver interface requires them).
  const capabilities: Features = ['VirtualMachines', 'Snapshots', 'Cloning', 'DiskManagement', 'NetworkManagement'];
  if (has('gpu')) capabilities.push('GPUPassthrough');
  return {
    capabilities,
    reportedCapabilities: {
      supportsSnapshots: true,
      supportsMemorySnapshots: has('memorySnapshots'),
      supportsLinkedClones: has('linkedClones'),
      supportsDiskExpansionOnline: has('onlineDiskExpansion'),
      supportsReconfigureOnline: has('cpuHotAdd') || has('memoryHotAdd'),
    },
  };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function phaseOf(i: StatusInputs): NonNullable<NonNullable<ProviderStatus['runtime']>['phase']> {
  if (i.provider.metadata.deletionTimestamp) return 'Stopping';
  if (i.invalid || i.applyError) return 'Failed';
  if (i.externalAgents) return i.health ? 'Running' : 'Pending';
  if (!i.deployment) return 'Pending';
  if (i.deployment.available > 0 && i.deployment.current && i.deployment.updated >= i.deployment.desired) return 'Running';
  return 'Starting';
}

export function desiredStatus(i: StatusInputs): ProviderStatus {
  const p = i.provider;
  const old = p.status ?? {};
  const ns = p.metadata.namespace ?? '';
  const secretName = p.spec.credentialSecretRef.name;
  const updates: ConditionUpdate[] = [];

  // CredentialsValid
  if (i.externalAgents) {
    updates.push({ type: 'CredentialsValid', status: 'True', reason: 'AgentsOutsideCluster', message: `the agents run outside the cluster and hold their own credentials (Secret ${ns}/${secretName} is not mounted by the dispatcher)` });
  } else if (i.credentialSecret === 'missing') {
    updates.push({ type: 'CredentialsValid', status: 'False', reason: 'SecretNotFound', message: `Secret ${ns}/${secretName} (spec.credentialSecretRef) does not exist; create it in the Provider's namespace` });
  } else if (i.natsCreds && !i.natsCreds.issued) {
    updates.push({ type: 'CredentialsValid', status: 'False', reason: 'BusCredentialsNotIssued', message: i.natsCreds.message });
  } else {
    const bus = i.natsCreds?.issued ? `; bus credentials in Secret ${names.natsCreds(p)} valid until ${i.natsCreds.expiresAt}` : '';
    updates.push({ type: 'CredentialsValid', status: 'True', reason: 'SecretFound', message: `Secret ${ns}/${secretName} is mounted into the agents${bus}` });
  }

  // Available
  const d = i.deployment;
  if (i.invalid) updates.push({ type: 'Available', status: 'False', reason: i.invalid.reason, message: i.invalid.message });
  else if (i.externalAgents) {
    updates.push(i.health
      ? { type: 'Available', status: 'True', reason: 'AgentsReporting', message: `${plural(i.health.agents, 'agent')} outside the cluster report heartbeats` }
      : { type: 'Available', status: 'False', reason: 'NoAgentHeartbeat', message: 'no agent outside the cluster reports heartbeats' });
  }
  else if (i.applyError) updates.push({ type: 'Available', status: 'False', reason: 'ApplyFailed', message: i.applyError });
  else if (!d) updates.push({ type: 'Available', status: 'False', reason: 'AgentsNotCreated', message: `Deployment ${names.agent(p)} does not exist yet` });
  else if (d.available > 0) updates.push({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${d.available} of ${plural(d.desired, 'agent replica')} available` });
  else updates.push({ type: 'Available', status: 'False', reason: 'NoAgentAvailable', message: `0 of ${plural(d.desired, 'agent replica')} available (Deployment ${names.agent(p)})` });

  // HypervisorReachable
  const h = i.health;
  if (!h) updates.push({ type: 'HypervisorReachable', status: 'Unknown', reason: 'NoHeartbeat', message: 'no agent heartbeat within the timeout' });
  else if (h.healthy) updates.push({ type: 'HypervisorReachable', status: 'True', reason: 'HypervisorAnswers', message: `${h.reachable} of ${plural(h.agents, 'agent')} reach the hypervisor${h.hypervisorVersion ? ` (${h.hypervisorVersion})` : ''}` });
  else updates.push({ type: 'HypervisorReachable', status: 'False', reason: 'HypervisorUnreachable', message: `none of ${plural(h.agents, 'agent')} reaches ${p.spec.endpoint}; check the endpoint and the credentials` });

  // Ready: the first thing that is not right, in the order a user fixes them.
  const failing = updates.find((u) => u.status !== 'True');
  if (p.metadata.deletionTimestamp) {
    const vms = i.deletingWith ?? [];
    updates.push(vms.length
      ? { type: 'Ready', status: 'False', reason: 'DeletionWaitingForVMs', message: `deletion waits for ${plural(vms.length, 'VM')} still using this provider: ${vms.slice(0, 5).join(', ')}${vms.length > 5 ? ', …' : ''}` }
      : { type: 'Ready', status: 'False', reason: 'Deleting', message: 'being deleted' });
  } else if (failing) {
    updates.push({ type: 'Ready', status: 'False', reason: failing.reason, message: failing.message });
  } else {
    updates.push({ type: 'Ready', status: 'True', reason: 'AgentsReady', message: `${plural(h!.agents, 'agent')} serve this provider` });
  }

  const conditions = setConditions(old.conditions, updates, i.now, p.metadata.generation);
  const healthy = Boolean(h?.healthy);
  const status: ProviderStatus = {
    ...old,
    conditions,
    healthy,
    lastHealthCheck: old.healthy === healthy && old.lastHealthCheck ? old.lastHealthCheck : i.now,
    connectedVMs: i.connectedVMs,
    observedGeneration: p.metadata.generation,
    runtime: {
      mode: 'Remote',
      phase: phaseOf(i),
      readyReplicas: i.externalAgents ? (h?.agents ?? 0) : (d?.ready ?? 0),
      availableReplicas: i.externalAgents ? (h?.agents ?? 0) : (d?.available ?? 0),
      ...(i.invalid || i.externalAgents ? {} : { serviceRef: { name: names.agent(p) }, endpoint: grpcEndpoint(p) }),
      ...(i.invalid || i.applyError ? { message: i.invalid?.message ?? i.applyError } : {}),
    },
  };
  // What the agents report; kept from the last report while none is heard.
  if (h) {
    Object.assign(status, reported(h.capabilities));
    if (h.version) status.version = h.version;
  }
  return status;
}

/** Stable JSON (sorted keys) for "did anything change". */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function sameStatus(a: ProviderStatus | undefined, b: ProviderStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}
