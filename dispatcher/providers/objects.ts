/**
 * What a Provider becomes in the cluster, as pure functions of the Provider (and a few facts):
 *
 *   <provider>-agent       ServiceAccount (no token mounted, no RBAC: agents never call the apiserver)
 *   <provider>-agent       Deployment running `virtrigaud agent <type>`, spec.runtime's pod settings,
 *                          the credential Secret mounted at /etc/virtrigaud/credentials (this
 *                          Deployment only), the bus credentials at /etc/virtrigaud/nats
 *   <provider>-agent       Service: gRPC (spec.runtime.service.port, default 9443) and metrics
 *   <provider>-nats-creds  Secret: the provider's own bus credentials (nats-accounts.ts)
 *   <provider>-agent       KEDA ScaledObject, when the dispatcher runs with PROVIDER_AGENT_AUTOSCALER=keda
 *
 * Every object is owned by the Provider (ownerReferences, controller), so deleting the Provider
 * lets the garbage collector remove them all, and carries the labels below.
 */
import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1EnvVar, V1PodSecurityContext, V1Secret, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { API_VERSION } from '../../api/crd.ts';
import type { Provider } from '../../api/objects.ts';
import { COMMAND_STREAM, agentConsumerName } from '../../proto/bus/topology.ts';
import type { KedaAutoscaling } from './config.ts';
import { agentInboxPrefix } from './nats-permissions.ts';

export const CREDENTIALS_DIR = '/etc/virtrigaud/credentials';
export const NATS_CREDS_DIR = '/etc/virtrigaud/nats';
export const NATS_CREDS_KEY = 'nats.creds';
export const DEFAULT_GRPC_PORT = 9443;
export const AGENT_METRICS_PORT = 9090;

/** Pod-template annotation: hash of the Provider's spec and its credential Secret's resourceVersion. */
export const CONFIG_HASH_ANNOTATION = 'infra.virtrigaud.io/config-hash';
export const PROVIDER_LABEL = 'infra.virtrigaud.io/provider';
export const MANAGED_BY = 'virtrigaud-dispatcher';
/** Selects every object this controller manages (its informers watch only these). */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;

/** Agent types by Provider type: QEMU providers are driven through libvirt; firecracker has no agent. */
const AGENT_TYPES: Readonly<Record<string, string>> = { vsphere: 'vsphere', libvirt: 'libvirt', qemu: 'libvirt', proxmox: 'proxmox', mock: 'mock' };

export function agentTypeOf(providerType: string): string | undefined {
  return AGENT_TYPES[providerType];
}

/** Longest Provider name whose objects still have valid names (a Service name is a DNS label of 63). */
export const MAX_PROVIDER_NAME = 63 - '-agent'.length;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Why a Provider name cannot name its agent's objects and bus subjects; undefined when it can. */
export function providerNameProblem(name: string): string | undefined {
  if (name.length > MAX_PROVIDER_NAME) return `the name is ${name.length} characters; at most ${MAX_PROVIDER_NAME} fit the agent's Service name (<name>-agent)`;
  if (!DNS_LABEL.test(name)) return 'the name must be a DNS label starting with a letter (lowercase letters, digits and -): it names the agent\'s Service and the bus subjects';
  return undefined;
}

export const names = {
  agent: (p: Provider) => `${p.metadata.name}-agent`,
  natsCreds: (p: Provider) => `${p.metadata.name}-nats-creds`,
};

export function agentSelector(p: Provider): Record<string, string> {
  return { 'app.kubernetes.io/name': 'virtrigaud-agent', 'app.kubernetes.io/instance': p.metadata.name ?? '' };
}

export function agentLabels(p: Provider): Record<string, string> {
  return {
    ...agentSelector(p),
    'app.kubernetes.io/component': 'agent',
    'app.kubernetes.io/part-of': 'virtrigaud',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [PROVIDER_LABEL]: p.metadata.name ?? '',
  };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export function ownerReference(p: Provider): OwnerReference {
  return { apiVersion: API_VERSION, kind: 'Provider', name: p.metadata.name ?? '', uid: p.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function meta(p: Provider, name: string, extra: { annotations?: Record<string, string> } = {}) {
  return { name, namespace: p.metadata.namespace ?? '', labels: agentLabels(p), ownerReferences: [ownerReference(p)], ...extra };
}

/** The facts a Deployment depends on besides the Provider. */
export interface AgentContext {
  /** The image to run (PROVIDER_AGENT_IMAGE, else spec.runtime.image). */
  image: string;
  natsUrl: string;
  /** resourceVersion of the credential Secret (a new one rolls the agents: they read it at start). */
  credentialSecretVersion: string;
  /** Mount the bus credentials (per-provider users are on). */
  natsCreds: boolean;
  /** KEDA owns the replica count: the Deployment leaves it alone. */
  autoscaled: boolean;
}

export function grpcPort(p: Provider): number {
  return p.spec.runtime.service?.port ?? DEFAULT_GRPC_PORT;
}

/** Hash of everything the pods depend on that is not already in their template. */
export function configHash(p: Provider, credentialSecretVersion: string): string {
  return createHash('sha256').update(JSON.stringify({ spec: p.spec, credentialSecretVersion })).digest('hex').slice(0, 16);
}

/** Environment the agent contract defines; these names are ours, so spec.runtime.env cannot replace them. */
const RESERVED_ENV = new Set([
  'NATS_URL', 'NATS_CREDS_FILE', 'NATS_INBOX_PREFIX', 'AGENT_PROVIDER_NAMESPACE', 'AGENT_PROVIDER_NAME', 'AGENT_PROVIDER_TYPE',
  'AGENT_PROVIDER_ENDPOINT', 'AGENT_CREDENTIALS_DIR', 'AGENT_ID',
]);

export function reservedEnvNames(): readonly string[] {
  return [...RESERVED_ENV];
}

function agentEnv(p: Provider, ctx: AgentContext, agentType: string): V1EnvVar[] {
  const key = { namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '' };
  const env: V1EnvVar[] = [
    { name: 'NATS_URL', value: ctx.natsUrl },
    ...(ctx.natsCreds ? [{ name: 'NATS_CREDS_FILE', value: `${NATS_CREDS_DIR}/${NATS_CREDS_KEY}` }, { name: 'NATS_INBOX_PREFIX', value: agentInboxPrefix(key) }] : []),
    { name: 'AGENT_PROVIDER_NAMESPACE', value: key.namespace },
    { name: 'AGENT_PROVIDER_NAME', value: key.name },
    { name: 'AGENT_PROVIDER_TYPE', value: agentType },
    { name: 'AGENT_PROVIDER_ENDPOINT', value: p.spec.endpoint },
    { name: 'AGENT_CREDENTIALS_DIR', value: CREDENTIALS_DIR },
    { name: 'AGENT_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'AGENT_INSECURE_SKIP_VERIFY', value: String(p.spec.runtime.service?.tls?.insecureSkipVerify ?? p.spec.insecureSkipVerify ?? false) },
    { name: 'AGENT_GRPC_PORT', value: String(grpcPort(p)) },
    { name: 'AGENT_METRICS_PORT', value: String(AGENT_METRICS_PORT) },
    { name: 'AGENT_LOG_LEVEL', value: p.spec.runtime.logLevel ?? 'info' },
  ];
  // spec.runtime.env adds variables and may tune ours (log level, ports are ours to keep in step
  // with the Service, so only the non-reserved ones); the identity and bus settings stay ours.
  const byName = new Map(env.map((e) => [e.name, e] as const));
  for (const e of p.spec.runtime.env ?? []) {
    if (RESERVED_ENV.has(e.name) || e.name === 'AGENT_GRPC_PORT' || e.name === 'AGENT_METRICS_PORT') continue;
    byName.set(e.name, e as V1EnvVar);
  }
  return [...byName.values()];
}

const DEFAULT_POD_SECURITY: V1PodSecurityContext = {
  runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' },
};

/** The agent Deployment (apply configuration: only the fields we own). */
export function agentDeployment(p: Provider, ctx: AgentContext): V1Deployment {
  const agentType = agentTypeOf(p.spec.type) ?? p.spec.type;
  const rt = p.spec.runtime;
  const probe = (path: string) => ({ httpGet: { path, port: 'metrics' }, periodSeconds: 10, failureThreshold: 3 });
  const container: V1Container = {
    name: 'agent',
    image: ctx.image,
    imagePullPolicy: rt.imagePullPolicy ?? 'IfNotPresent',
    args: ['agent', agentType],
    env: agentEnv(p, ctx, agentType),
    ports: [
      { name: 'grpc', containerPort: grpcPort(p), protocol: 'TCP' },
      { name: 'metrics', containerPort: AGENT_METRICS_PORT, protocol: 'TCP' },
    ],
    readinessProbe: (rt.readinessProbe as V1Container['readinessProbe']) ?? probe('/readyz'),
    livenessProbe: (rt.livenessProbe as V1Container['livenessProbe']) ?? probe('/healthz'),
    resources: (rt.resources as V1Container['resources']) ?? { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: [
      { name: 'credentials', mountPath: CREDENTIALS_DIR, readOnly: true },
      ...(ctx.natsCreds ? [{ name: 'nats-creds', mountPath: NATS_CREDS_DIR, readOnly: true }] : []),
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(p, names.agent(p)),
    spec: {
      selector: { matchLabels: agentSelector(p) },
      // A new agent is up before an old one leaves; leases keep two from acting on one VM.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: agentLabels(p), annotations: { [CONFIG_HASH_ANNOTATION]: configHash(p, ctx.credentialSecretVersion) } },
        spec: {
          serviceAccountName: names.agent(p),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // SIGTERM lets in-flight commands finish for 25 s (AGENT_SHUTDOWN_GRACE_S).
          terminationGracePeriodSeconds: 35,
          securityContext: { ...DEFAULT_POD_SECURITY, ...(rt.securityContext as V1PodSecurityContext | undefined) },
          containers: [container],
          volumes: [
            { name: 'credentials', secret: { secretName: p.spec.credentialSecretRef.name, defaultMode: 0o440 } },
            ...(ctx.natsCreds ? [{ name: 'nats-creds', secret: { secretName: names.natsCreds(p), defaultMode: 0o440 } }] : []),
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
          ...(rt.nodeSelector ? { nodeSelector: rt.nodeSelector } : {}),
          ...(rt.tolerations ? { tolerations: rt.tolerations as never } : {}),
          ...(rt.affinity ? { affinity: rt.affinity as never } : {}),
          ...(rt.imagePullSecrets ? { imagePullSecrets: rt.imagePullSecrets as never } : {}),
        },
      },
    },
  };
  if (!ctx.autoscaled) deployment.spec!.replicas = rt.replicas ?? 1;
  return deployment;
}

export function agentService(p: Provider): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(p, names.agent(p)),
    spec: {
      selector: agentSelector(p),
      ports: [
        { name: 'grpc', port: grpcPort(p), targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'metrics', port: AGENT_METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
  };
}

export function agentServiceAccount(p: Provider): V1ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(p, names.agent(p)), automountServiceAccountToken: false };
}

/** Annotations on the bus-credentials Secret: what was minted, so renewal needs no Secret read. */
export const NATS_ANNOTATIONS = {
  issuer: 'infra.virtrigaud.io/nats-issuer',
  expiresAt: 'infra.virtrigaud.io/nats-expires-at',
  permissions: 'infra.virtrigaud.io/nats-permissions',
  user: 'infra.virtrigaud.io/nats-user',
} as const;

export function natsCredsSecret(p: Provider, minted: { creds: string; userPublicKey: string; expiresAt: number }, issuer: string, permissionsHash: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(p, names.natsCreds(p), {
      annotations: {
        [NATS_ANNOTATIONS.issuer]: issuer,
        [NATS_ANNOTATIONS.expiresAt]: new Date(minted.expiresAt).toISOString(),
        [NATS_ANNOTATIONS.permissions]: permissionsHash,
        [NATS_ANNOTATIONS.user]: minted.userPublicKey,
      },
    }),
    type: 'Opaque',
    data: { [NATS_CREDS_KEY]: Buffer.from(minted.creds).toString('base64') },
  };
}

export interface ScaledObject {
  apiVersion: 'keda.sh/v1alpha1';
  kind: 'ScaledObject';
  metadata: ReturnType<typeof meta>;
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: Array<{ type: string; metadata: Record<string, string> }>;
  };
}

/** A KEDA ScaledObject: agents from spec.runtime.replicas up to the configured maximum, on consumer lag. */
export function agentScaledObject(p: Provider, keda: KedaAutoscaling): ScaledObject {
  const key = { namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '' };
  const min = p.spec.runtime.replicas ?? 1;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: meta(p, names.agent(p)),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names.agent(p) },
      minReplicaCount: min,
      maxReplicaCount: Math.max(min, keda.maxReplicas),
      triggers: [{
        type: 'nats-jetstream',
        metadata: {
          natsServerMonitoringEndpoint: keda.monitoringEndpoint,
          account: keda.account,
          stream: COMMAND_STREAM,
          consumer: agentConsumerName(key),
          lagThreshold: String(keda.lagThreshold),
        },
      }],
    },
  };
}

/** The gRPC endpoint the Service gives (status.runtime.endpoint). */
export function grpcEndpoint(p: Provider): string {
  return `${names.agent(p)}.${p.metadata.namespace}.svc:${grpcPort(p)}`;
}

