/**
 * The Provider controller against the real test apiserver (+ kube-controller-manager: Deployments,
 * ReplicaSets, garbage collection; no scheduler, so agent pods never run) and a real nats-server in
 * operator/JWT mode. A real mock agent runs in-process on the credentials the controller minted.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, type CoreV1Event, type V1Deployment, type V1Secret, type V1Service, type V1ServiceAccount } from '@kubernetes/client-node';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Provider } from '../../api/objects.ts';
import { createLogger } from '../../dispatcher/log.ts';
import { loadProviderControllerConfig } from '../../dispatcher/providers/config.ts';
import { PROVIDER_FINALIZER, startProviderController, type ProviderController } from '../../dispatcher/providers/controller.ts';
import { bootstrapNatsAuth, inspectCreds, type NatsAuthBootstrap } from '../../dispatcher/providers/nats-accounts.ts';
import { CONFIG_HASH_ANNOTATION } from '../../dispatcher/providers/objects.ts';
import { ensureStreams } from '../../proto/bus/topology.ts';
import { startAgent } from '../../provider-agents/core/agent.ts';
import { MockDriver } from '../../provider-agents/mock/index.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';
import { freshNamespace, k, testCluster } from '../support/cluster.ts';
import { waitFor, sleep } from '../support/dispatcher-harness.ts';
import { installThirdPartyCrds } from '../support/third-party-crds.ts';
import { aProvider, aVirtualMachine, toYaml } from '../support/manifests.ts';
import { sharedVMInformer } from '../support/vm-event-source.ts';

type Obj = Record<string, unknown>;

const ROOT = new URL('../..', import.meta.url).pathname;
const DISPATCHER_SA = 'system:serviceaccount:virtrigaud-system:virtrigaud-dispatcher';

async function apply(...objects: Obj[]): Promise<void> {
  const r = await k(['apply', '--server-side', '--field-manager=test', '-f', '-'], toYaml(...objects));
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

async function getJson<T>(kind: string, namespace: string, name: string): Promise<T | undefined> {
  const r = await k(['get', kind, '-n', namespace, name, '-o', 'json']);
  if (r.code !== 0) {
    if (/NotFound/.test(r.stderr)) return undefined;
    throw new Error(r.stderr);
  }
  return JSON.parse(r.stdout) as T;
}

const secret = (name: string, namespace: string, data: Record<string, string>): Obj =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data });

const cond = (p: Provider | undefined, type: string) => p?.status?.conditions?.find((c) => c.type === type);

describe('Provider controller (real apiserver, real nats-server in JWT mode)', function () {
  this.timeout(90_000);
  let auth: NatsAuthBootstrap;
  let nats: NatsServer;
  let nc: NatsConnection;
  let controller: ProviderController;
  let sharedVMs: ReturnType<typeof sharedVMInformer> | undefined;
  let ns: string;
  let dir: string;
  let kc: KubeConfig;
  const agentImage = 'ghcr.io/virtrigaud/virtrigaud:test';
  const recorded: CoreV1Event[] = [];

  before(async () => {
    const cp = await testCluster();
    auth = await bootstrapNatsAuth();
    nats = await startNats({ extraConfig: auth.serverConfig });
    nc = await connect({ servers: nats.url, authenticator: credsAuthenticator(new TextEncoder().encode(auth.dispatcherCreds)) });
    await ensureStreams(await jetstreamManager(nc));
    dir = mkdtempSync(join(tmpdir(), 'vr-provider-'));
    writeFileSync(join(dir, 'signing.nk'), auth.signingKeySeed);
    ns = await freshNamespace('prov');
    // The controller runs with exactly the dispatcher's RBAC from the manifests (impersonating its
    // ServiceAccount), so a missing permission fails here.
    await k(['create', 'namespace', 'virtrigaud-system']);
    const rbac = await k(['apply', '--server-side', '--field-manager=test', '-f', join(ROOT, 'manifests/dispatcher/rbac.yaml'), '-f', join(ROOT, 'kustomize/components/keda-autoscaling/rbac.yaml')]);
    assert.equal(rbac.code, 0, rbac.stderr);
    const admin = new KubeConfig();
    admin.loadFromFile(cp.kubeconfig);
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: admin.clusters, contexts: admin.contexts, currentContext: admin.currentContext,
      users: admin.users.map((u) => ({ ...u, impersonateUser: DISPATCHER_SA })),
    });
    const config = loadProviderControllerConfig({
      WATCH_NAMESPACE: ns, NATS_URL: 'nats://virtrigaud-nats.virtrigaud-system:4222', PROVIDER_AGENT_IMAGE: agentImage,
      NATS_ACCOUNT: auth.accountPublicKey, NATS_ACCOUNT_SIGNING_KEY_FILE: join(dir, 'signing.nk'), PROVIDER_HEARTBEAT_TIMEOUT_S: '2',
    });
    // VMs come from a cache shared as the dispatcher shares its own (the KEDA suite below watches them itself).
    sharedVMs = sharedVMInformer(kc, ns);
    controller = await startProviderController({
      kubeConfig: kc, vms: sharedVMs, nc, config, log: createLogger({ level: 'silent' }),
      events: { createEvent: async (_namespace, event) => { recorded.push(event); } },
    });
  });

  after(async () => {
    await controller?.stop();
    await sharedVMs?.stop();
    await nc?.close().catch(() => undefined);
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const provider = (name: string, over: Obj = {}) => aProvider(name, ns, over);
  const getProvider = (name: string) => getJson<Provider>('providers.infra.virtrigaud.io', ns, name);

  it('turns a Provider into its agent Deployment, Service, ServiceAccount and bus credentials, exactly as specified', async () => {
    await apply(secret('kvm-a-creds', ns, { username: 'root', password: 'pw-a' }), provider('kvm-a', {
      spec: {
        credentialSecretRef: { name: 'kvm-a-creds' },
        runtime: {
          mode: 'Remote', image: 'ghcr.io/projectbeskar/virtrigaud/provider-libvirt:v0.2.0', replicas: 2, logLevel: 'debug',
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'virt', effect: 'NoSchedule' }],
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'virt', operator: 'Exists' }] }] } } },
          env: [{ name: 'LIBVIRT_EXTRA', value: 'x' }, { name: 'NATS_URL', value: 'nats://evil:4222' }],
          imagePullSecrets: [{ name: 'regcred' }],
          securityContext: { runAsUser: 1000, runAsNonRoot: true },
          service: { port: 9555 },
        },
      },
    }));
    const d = await waitFor('the agent Deployment', () => getJson<V1Deployment>('deployment', ns, 'kvm-a-agent'));
    const p = (await getProvider('kvm-a'))!;
    const pod = d.spec!.template.spec!;
    const c = pod.containers[0]!;
    assert.equal(d.spec!.replicas, 2);
    assert.deepEqual(d.metadata!.ownerReferences, [{ apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'Provider', name: 'kvm-a', uid: p.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(c.image, agentImage, 'PROVIDER_AGENT_IMAGE runs the VirtRigaud image');
    assert.deepEqual(c.args, ['agent', 'libvirt']);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
    assert.deepEqual(env, {
      NATS_URL: 'nats://virtrigaud-nats.virtrigaud-system:4222',
      NATS_CREDS_FILE: '/etc/virtrigaud/nats/nats.creds',
      NATS_INBOX_PREFIX: `_INBOX_${ns}_kvm-a`,
      AGENT_PROVIDER_NAMESPACE: ns,
      AGENT_PROVIDER_NAME: 'kvm-a',
      AGENT_PROVIDER_TYPE: 'libvirt',
      AGENT_PROVIDER_ENDPOINT: 'qemu+tcp://kvm.example.com/system',
      AGENT_CREDENTIALS_DIR: '/etc/virtrigaud/credentials',
      AGENT_ID: 'metadata.name',
      AGENT_INSECURE_SKIP_VERIFY: 'false',
      AGENT_GRPC_PORT: '9555',
      AGENT_METRICS_PORT: '9090',
      AGENT_LOG_LEVEL: 'debug',
      LIBVIRT_EXTRA: 'x',
    }, 'the agent contract, plus spec.runtime.env (which cannot replace the bus or identity settings)');
    assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(pod.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'virt', effect: 'NoSchedule' }]);
    assert.ok(pod.affinity?.nodeAffinity);
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(pod.securityContext?.runAsUser, 1000);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, 'kvm-a-agent');
    assert.deepEqual(c.ports?.map((x) => [x.name, x.containerPort]), [['grpc', 9555], ['metrics', 9090]]);
    assert.deepEqual(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.match(d.spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION]!, /^[0-9a-f]{16}$/);
    assert.deepEqual(pod.volumes?.filter((v) => v.secret).map((v) => [v.name, v.secret!.secretName]), [['credentials', 'kvm-a-creds'], ['nats-creds', 'kvm-a-nats-creds']]);
    assert.deepEqual(c.volumeMounts?.filter((m) => m.name !== 'tmp').map((m) => [m.name, m.mountPath, m.readOnly]), [
      ['credentials', '/etc/virtrigaud/credentials', true], ['nats-creds', '/etc/virtrigaud/nats', true],
    ]);

    const svc = (await getJson<V1Service>('service', ns, 'kvm-a-agent'))!;
    assert.deepEqual(svc.spec!.ports!.map((x) => [x.name, x.port, x.targetPort]), [['grpc', 9555, 'grpc'], ['metrics', 9090, 'metrics']]);
    assert.deepEqual(svc.spec!.selector, { 'app.kubernetes.io/name': 'virtrigaud-agent', 'app.kubernetes.io/instance': 'kvm-a' });
    const sa = (await getJson<V1ServiceAccount>('serviceaccount', ns, 'kvm-a-agent'))!;
    assert.equal(sa.automountServiceAccountToken, false);
    const credsSecret = (await getJson<V1Secret>('secret', ns, 'kvm-a-nats-creds'))!;
    assert.equal(credsSecret.metadata!.ownerReferences![0]!.uid, p.metadata.uid);
    const creds = inspectCreds(Buffer.from(credsSecret.data!['nats.creds']!, 'base64').toString())!;
    assert.equal(creds.issuerAccount, auth.accountPublicKey);
    assert.deepEqual(creds.sub, [`_INBOX_${ns}_kvm-a.>`]);
    assert.ok(creds.pub.includes(`vr.hb.${ns}.kvm-a`));
    assert.ok(p.metadata.finalizers?.includes(PROVIDER_FINALIZER));

    const status = await waitFor('the status', async () => {
      const s = (await getProvider('kvm-a'))?.status;
      return s?.runtime?.endpoint ? s : undefined;
    });
    assert.deepEqual(status.runtime, {
      mode: 'Remote', phase: 'Starting', readyReplicas: 0, availableReplicas: 0, serviceRef: { name: 'kvm-a-agent' }, endpoint: `kvm-a-agent.${ns}.svc:9555`,
    });
    assert.equal(status.conditions![0]!.type, 'Ready', 'Ready comes first');
    assert.equal(status.healthy, false);
    assert.equal(status.connectedVMs, 0);
    assert.equal(status.observedGeneration, p.metadata.generation);
    assert.equal(cond(await getProvider('kvm-a'), 'CredentialsValid')?.status, 'True');
    assert.equal(cond(await getProvider('kvm-a'), 'Available')?.reason, 'NoAgentAvailable');
    const columns = (await k(['get', 'providers', '-n', ns, 'kvm-a', '-o', 'wide'])).stdout.split('\n')[0]!.trim().split(/\s{2,}/);
    assert.deepEqual(columns, ['NAME', 'TYPE', 'ENDPOINT', 'HEALTHY', 'CONNECTED VMS', 'READY', 'AGENTS', 'VERSION', 'AGE']);
    const event = recorded.find((e) => e.involvedObject.name === 'kvm-a');
    assert.equal(event?.type, 'Warning', 'a Ready transition becomes an Event');
  });

  it('mounts each credential Secret only into its own provider\'s agents', async () => {
    await apply(secret('kvm-b-creds', ns, { username: 'u', password: 'pw-b' }), provider('kvm-b', { spec: { credentialSecretRef: { name: 'kvm-b-creds' } } }));
    await waitFor('kvm-b-agent', () => getJson<V1Deployment>('deployment', ns, 'kvm-b-agent'));
    const list = JSON.parse((await k(['get', 'deployments', '-n', ns, '-o', 'json'])).stdout) as { items: V1Deployment[] };
    const mounts = Object.fromEntries(list.items.map((d) => [d.metadata!.name, d.spec!.template.spec!.volumes!.filter((v) => v.secret).map((v) => v.secret!.secretName).sort()]));
    assert.deepEqual(mounts['kvm-a-agent'], ['kvm-a-creds', 'kvm-a-nats-creds']);
    assert.deepEqual(mounts['kvm-b-agent'], ['kvm-b-creds', 'kvm-b-nats-creds']);
  });

  it('issues new bus credentials when their Secret is deleted', async () => {
    const user = async () => (await getJson<V1Secret>('secret', ns, 'kvm-b-nats-creds'))?.metadata?.annotations?.['infra.virtrigaud.io/nats-user'];
    const before = await waitFor('the first credentials', user);
    assert.equal((await k(['delete', 'secret', '-n', ns, 'kvm-b-nats-creds'])).code, 0);
    const after = await waitFor('new credentials', async () => {
      const u = await user();
      return u && u !== before ? u : undefined;
    });
    assert.match(after, /^U[A-Z0-9]{55}$/);
  });

  it('rolls the agents when the Provider or its credential Secret changes', async () => {
    const hash = async () => (await getJson<V1Deployment>('deployment', ns, 'kvm-b-agent'))!.spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION];
    const first = await hash();
    await apply(provider('kvm-b', { spec: { credentialSecretRef: { name: 'kvm-b-creds' }, runtime: { mode: 'Remote', image: 'virtrigaud/agent:dev', replicas: 3 } } }));
    const second = await waitFor('a new template hash after a spec change', async () => {
      const h = await hash();
      return h !== first ? h : undefined;
    });
    assert.equal((await getJson<V1Deployment>('deployment', ns, 'kvm-b-agent'))!.spec!.replicas, 3);
    await apply(secret('kvm-b-creds', ns, { username: 'u', password: 'rotated' }));
    await waitFor('a new template hash after the credential Secret changed', async () => ((await hash()) !== second ? true : undefined));
  });

  it('reports healthy, version and capabilities from a real agent on the minted credentials, without a status write per heartbeat', async () => {
    await apply(secret('sim-creds', ns, { token: 't' }), provider('sim', { spec: { type: 'mock', endpoint: 'mock://local', credentialSecretRef: { name: 'sim-creds' } } }));
    const credsSecret = await waitFor('the bus credentials', () => getJson<V1Secret>('secret', ns, 'sim-nats-creds'));
    const credsFile = join(dir, 'sim.creds');
    writeFileSync(credsFile, Buffer.from(credsSecret.data!['nats.creds']!, 'base64'));
    const key = { namespace: ns, name: 'sim' };
    const natsAuth = { credsFile, inboxPrefix: `_INBOX_${ns}_sim` };
    const driver = await MockDriver.open({ natsServers: nats.url, natsAuth, provider: key, actor: 'agent-0' });
    const agent = await startAgent({ natsServers: nats.url, natsAuth, provider: key, driver, agentId: 'agent-0', heartbeatIntervalMs: 200, shutdownGraceMs: 1000 });
    try {
      const healthy = await waitFor('healthy', async () => {
        const p = await getProvider('sim');
        return p?.status?.healthy ? p : undefined;
      }, 15_000);
      assert.equal(healthy.status!.version, '0.1.0');
      assert.ok(healthy.status!.capabilities!.includes('VirtualMachines'));
      assert.equal(healthy.status!.reportedCapabilities!.supportsMemorySnapshots, true);
      assert.equal(cond(healthy, 'HypervisorReachable')?.status, 'True');
      assert.match(cond(healthy, 'HypervisorReachable')!.message, /1 of 1 agent reach the hypervisor \(mock-1\)/);
      // 2 s of heartbeats every 200 ms: nothing to write.
      const rv = healthy.metadata.resourceVersion;
      await sleep(2000);
      assert.equal((await getProvider('sim'))!.metadata.resourceVersion, rv, 'no status write while heartbeats say the same');
    } finally {
      await agent.stop();
      await driver.close();
    }
    const silent = await waitFor('unhealthy after the agent stopped', async () => {
      const p = await getProvider('sim');
      return p?.status?.healthy === false ? p : undefined;
    }, 10_000);
    assert.equal(cond(silent, 'HypervisorReachable')?.reason, 'NoHeartbeat');
    assert.equal(silent.status!.version, '0.1.0', 'the last reported version stays');
  });

  it('counts connected VMs, and holds a Provider\'s deletion (and its agents) until no VM uses it', async () => {
    await apply(aVirtualMachine('vm-1', ns, { spec: { providerRef: { name: 'kvm-b' } } }), aVirtualMachine('vm-2', ns, { spec: { providerRef: { name: 'kvm-b' } } }));
    await waitFor('connectedVMs = 2', async () => ((await getProvider('kvm-b'))?.status?.connectedVMs === 2 ? true : undefined));
    assert.equal((await k(['delete', 'provider', '-n', ns, 'kvm-b', '--wait=false'])).code, 0);
    const held = await waitFor('deletion waiting for VMs', async () => {
      const p = await getProvider('kvm-b');
      return cond(p, 'Ready')?.reason === 'DeletionWaitingForVMs' ? p : undefined;
    });
    assert.match(cond(held, 'Ready')!.message, /2 VMs still using this provider: vm-1, vm-2/);
    assert.equal(held.status!.runtime!.phase, 'Stopping');
    assert.ok(await getJson('deployment', ns, 'kvm-b-agent'), 'the agents stay while VMs need them');
    assert.equal((await k(['delete', 'vm', '-n', ns, 'vm-1', 'vm-2'])).code, 0);
    await waitFor('the Provider gone', async () => ((await getProvider('kvm-b')) === undefined ? true : undefined));
    for (const [kind, name] of [['deployment', 'kvm-b-agent'], ['service', 'kvm-b-agent'], ['serviceaccount', 'kvm-b-agent'], ['secret', 'kvm-b-nats-creds']] as const) {
      // The garbage collector watches a CRD kind from its first discovery resync (every 30 s)
      // after the CRD appeared: on a control plane younger than that, this waits for it.
      await waitFor(`${kind} ${name} garbage-collected`, async () => ((await getJson(kind, ns, name)) === undefined ? true : undefined), 60_000, 250);
    }
    assert.ok(await getJson('secret', ns, 'kvm-b-creds'), "the user's credential Secret is not ours to delete");
  });

  it('runs nothing for a Provider it cannot run, and says why', async () => {
    await apply(secret('fc-creds', ns, { token: 't' }), provider('fc', { spec: { type: 'firecracker', endpoint: 'https://fc.example.com:8443', credentialSecretRef: { name: 'fc-creds' } } }));
    const p = await waitFor('a Failed runtime', async () => {
      const x = await getProvider('fc');
      return x?.status?.runtime?.phase === 'Failed' ? x : undefined;
    });
    assert.equal(cond(p, 'Ready')?.reason, 'UnsupportedProviderType');
    assert.match(cond(p, 'Ready')!.message, /no agent for provider type firecracker/);
    assert.equal(await getJson('deployment', ns, 'fc-agent'), undefined);
  });

  it('waits for a missing credential Secret before rolling out agents', async () => {
    await apply(provider('nosecret', { spec: { credentialSecretRef: { name: 'not-yet' } } }));
    const p = await waitFor('CredentialsValid=False', async () => {
      const x = await getProvider('nosecret');
      return cond(x, 'CredentialsValid')?.status === 'False' ? x : undefined;
    });
    assert.equal(cond(p, 'CredentialsValid')?.reason, 'SecretNotFound');
    assert.equal(cond(p, 'Ready')?.reason, 'SecretNotFound');
    assert.equal(await getJson('deployment', ns, 'nosecret-agent'), undefined);
    await apply(secret('not-yet', ns, { username: 'x' }));
    await waitFor('the Deployment once the Secret exists', () => getJson<V1Deployment>('deployment', ns, 'nosecret-agent'));
  });

  describe('with KEDA scaling the agents (prod overlay)', () => {
    let kedaController: ProviderController;
    let kedaNs: string;
    before(async () => {
      await installThirdPartyCrds();
      kedaNs = await freshNamespace('keda');
      kedaController = await startProviderController({
        kubeConfig: kc, nc, log: createLogger({ level: 'silent' }),
        config: loadProviderControllerConfig({
          WATCH_NAMESPACE: kedaNs, NATS_URL: 'nats://virtrigaud-nats.virtrigaud-system:4222',
          NATS_ACCOUNT: auth.accountPublicKey, NATS_ACCOUNT_SIGNING_KEY_FILE: join(dir, 'signing.nk'),
          PROVIDER_AGENT_AUTOSCALER: 'keda', PROVIDER_AGENT_MAX_REPLICAS: '6',
        }),
      });
    });
    after(async () => {
      await kedaController?.stop();
    });

    it('gives each Provider a ScaledObject on its own consumer\'s lag, valid against KEDA\'s CRD, and leaves replicas to it', async () => {
      await apply(secret('pve-creds', kedaNs, { token_id: 'a', token_secret: 'b' }),
        aProvider('pve', kedaNs, { spec: { type: 'proxmox', endpoint: 'https://pve.example.com:8006', credentialSecretRef: { name: 'pve-creds' }, runtime: { mode: 'Remote', image: 'x/y:1', replicas: 2 } } }));
      type ScaledObject = { spec: { scaleTargetRef: { name: string }; minReplicaCount: number; maxReplicaCount: number; triggers: Array<{ type: string; metadata: Record<string, string> }> } };
      const so = await waitFor('the ScaledObject', () => getJson<ScaledObject>('scaledobject.keda.sh', kedaNs, 'pve-agent'));
      assert.equal(so.spec.scaleTargetRef.name, 'pve-agent');
      assert.deepEqual([so.spec.minReplicaCount, so.spec.maxReplicaCount], [2, 6]);
      assert.equal(so.spec.triggers[0]!.type, 'nats-jetstream');
      assert.equal(so.spec.triggers[0]!.metadata.consumer, `agents_${kedaNs}_pve`);
      assert.equal(so.spec.triggers[0]!.metadata.account, auth.accountPublicKey);
      const r = await k(['get', 'deployment', '-n', kedaNs, 'pve-agent', '-o', 'json', '--show-managed-fields']);
      const d = JSON.parse(r.stdout) as { metadata: { managedFields: Array<{ manager: string; operation: string; fieldsV1: Record<string, Record<string, unknown>> }> } };
      const ours = d.metadata.managedFields.find((m) => m.manager === 'virtrigaud-dispatcher' && m.operation === 'Apply')!;
      assert.ok(ours.fieldsV1['f:spec']!['f:template'], 'the dispatcher applies the pod template');
      assert.ok(!('f:replicas' in ours.fieldsV1['f:spec']!), 'the dispatcher does not own spec.replicas');
    });
  });
});
