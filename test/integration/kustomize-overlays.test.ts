/**
 * kustomize/overlays/{dev,staging,prod}: built by both kubectls (the machine's 1.32 with kustomize
 * 5.5, when present, and the pinned one), applied server-side (dry run: the test control plane has
 * no scheduler or kubelet) to the real apiserver with the real cert-manager, KEDA and Prometheus
 * Operator CRDs installed, and checked for what each environment promises. RBAC is applied for real
 * and probed with `kubectl auth can-i --as` each component's ServiceAccount; the NATS
 * configurations are checked by nats-server itself.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { bootstrapNatsAuth } from '../../dispatcher/providers/nats-accounts.ts';
import { findBinaries, pinnedVersions } from '../../scripts/stack/binaries.ts';
import { k, testCluster } from '../support/cluster.ts';
import { installThirdPartyCrds } from '../support/third-party-crds.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const OVERLAYS = ['dev', 'staging', 'prod'] as const;
type Overlay = (typeof OVERLAYS)[number];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  [k: string]: unknown;
}

function build(kubectlBin: string, overlay: string): { code: number; out: string; err: string } {
  const r = spawnSync(kubectlBin, ['kustomize', join(ROOT, 'kustomize/overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const MACHINE_KUBECTL = '/usr/bin/kubectl';

describe('kustomize overlays: built, applied to the real apiserver, and what each environment promises', function () {
  this.timeout(120_000);
  const built = {} as Record<Overlay, { text: string; objects: Obj[] }>;
  const find = (o: Overlay, kind: string, name: string) => {
    const obj = built[o].objects.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(obj, `${o}: no ${kind} ${name}`);
    return obj;
  };
  const container = (o: Overlay, kind: string, name: string) => find(o, kind, name).spec.template.spec.containers[0];
  const env = (c: { env?: Array<{ name: string; value?: string }> }) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

  before(async () => {
    const bins = findBinaries();
    for (const o of OVERLAYS) {
      const r = build(bins.kubectl, o);
      assert.equal(r.code, 0, `kubectl kustomize ${o}: ${r.err}`);
      built[o] = { text: r.out, objects: parseAllDocuments(r.out).map((d) => d.toJS() as Obj) };
    }
    await testCluster();
    await installThirdPartyCrds();
    await k(['create', 'namespace', 'virtrigaud-system']);
  });

  it('builds the same with the machine\'s kubectl 1.32 / kustomize 5.5 as with the pinned kubectl', function () {
    if (!existsSync(MACHINE_KUBECTL)) this.skip();
    for (const o of OVERLAYS) {
      const r = build(MACHINE_KUBECTL, o);
      assert.equal(r.code, 0, `${o}: ${r.err}`);
      assert.equal(r.out, built[o].text, `${o} builds differently`);
    }
  });

  for (const o of OVERLAYS) {
    it(`${o}: the apiserver accepts every object (server-side apply, dry run), third-party kinds against their real schemas`, async () => {
      const r = await k(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '--field-manager=virtrigaud-kustomize-test', '-o', 'name', '-f', '-'], built[o].text);
      assert.equal(r.code, 0, r.stderr);
      const applied = r.stdout.trim().split('\n');
      assert.equal(applied.length, built[o].objects.length);
      for (const kind of o === 'dev' ? ['job.batch/virtrigaud-webhook-certs'] : ['certificate.cert-manager.io/virtrigaud-webhook', 'servicemonitor.monitoring.coreos.com/virtrigaud-agents']) {
        assert.ok(applied.includes(kind), `${o}: ${kind} applied (${applied.join(' ')})`);
      }
    });
  }

  it('refuses an overlay object that breaks a third-party schema (the validation is real)', async () => {
    const bad = { ...find('prod', 'ServiceMonitor', 'virtrigaud-agents'), spec: { endpoints: [{ port: 'metrics', scheme: 'gopher' }], selector: {} } };
    const r = await k(['apply', '--server-side', '--dry-run=server', '-f', '-'], stringify(bad));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /scheme|Unsupported value/);
  });

  for (const o of OVERLAYS) {
    it(`${o}: one image everywhere, the agents run the dispatcher's, every pod non-root with a read-only root`, () => {
      const workloads = built[o].objects.filter((x) => ['Deployment', 'StatefulSet', 'Job'].includes(x.kind));
      const ours = new Set<string>();
      for (const w of workloads) {
        const pod = w.spec.template.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${w.kind} ${w.metadata.name} runs as non-root`);
        for (const c of pod.containers) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${w.metadata.name}/${c.name}`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
          if (String(c.image).startsWith('ghcr.io/virtrigaud/')) ours.add(c.image);
        }
      }
      assert.equal(ours.size, 1, [...ours].join(' '));
      const dispatcher = container(o, 'Deployment', 'virtrigaud-dispatcher');
      assert.equal(env(dispatcher).PROVIDER_AGENT_IMAGE, dispatcher.image);
      assert.equal(container(o, 'StatefulSet', 'virtrigaud-nats').image, `nats:${pinnedVersions().NATS_SERVER_VERSION!.slice(1)}-alpine`);
    });
  }

  it('dev: one replica each, debug logs, one NATS server without a cluster, no disruption budgets, a self-signed certificate', () => {
    assert.equal(find('dev', 'Deployment', 'virtrigaud-webhook').spec.replicas, 1);
    assert.equal(find('dev', 'Deployment', 'virtrigaud-dispatcher').spec.replicas, 1);
    assert.equal(find('dev', 'StatefulSet', 'virtrigaud-nats').spec.replicas, 1);
    assert.equal(env(container('dev', 'Deployment', 'virtrigaud-dispatcher')).LOG_LEVEL, 'debug');
    assert.equal(env(container('dev', 'Deployment', 'virtrigaud-dispatcher')).JETSTREAM_REPLICAS, '1');
    assert.equal(env(container('dev', 'Deployment', 'virtrigaud-webhook')).WEBHOOK_LOG_LEVEL, 'debug');
    assert.doesNotMatch(find('dev', 'ConfigMap', 'virtrigaud-nats-config').data!['nats.conf']!, /cluster/);
    assert.equal(built.dev.objects.filter((x) => x.kind === 'PodDisruptionBudget').length, 0);
    assert.deepEqual(container('dev', 'Job', 'virtrigaud-webhook-certs').args, ['webhook-certs', '--namespace', 'virtrigaud-system']);
    assert.ok(!built.dev.objects.some((x) => x.kind === 'Certificate'));
  });

  it('staging and prod: 2 dispatchers, a 3-node NATS cluster with routes to each pod, streams with 3 replicas, budgets, cert-manager', () => {
    for (const o of ['staging', 'prod'] as const) {
      assert.equal(find(o, 'Deployment', 'virtrigaud-dispatcher').spec.replicas, 2);
      assert.equal(find(o, 'StatefulSet', 'virtrigaud-nats').spec.replicas, 3);
      assert.equal(env(container(o, 'Deployment', 'virtrigaud-dispatcher')).JETSTREAM_REPLICAS, '3');
      const conf = find(o, 'ConfigMap', 'virtrigaud-nats-config').data!['nats.conf']!;
      for (const i of [0, 1, 2]) assert.ok(conf.includes(`nats://virtrigaud-nats-${i}.virtrigaud-nats-headless.virtrigaud-system.svc.cluster.local:6222`));
      assert.equal(find(o, 'Service', 'virtrigaud-nats-headless').spec.clusterIP, 'None');
      assert.deepEqual(built[o].objects.filter((x) => x.kind === 'PodDisruptionBudget').map((x) => x.metadata.name).sort(), ['virtrigaud-dispatcher', 'virtrigaud-nats', 'virtrigaud-webhook']);
      const vwc = find(o, 'ValidatingWebhookConfiguration', 'virtrigaud');
      assert.equal((vwc.metadata.annotations as Record<string, string>)['cert-manager.io/inject-ca-from'], 'virtrigaud-system/virtrigaud-webhook');
    }
    assert.equal(find('staging', 'Deployment', 'virtrigaud-webhook').spec.replicas, 2);
  });

  it('prod: 3 webhooks, anti-affinity, limits on every container, KEDA scaling for agents, ServiceMonitors', () => {
    assert.equal(find('prod', 'Deployment', 'virtrigaud-webhook').spec.replicas, 3);
    for (const [kind, name] of [['Deployment', 'virtrigaud-webhook'], ['Deployment', 'virtrigaud-dispatcher'], ['StatefulSet', 'virtrigaud-nats']] as const) {
      const pod = find('prod', kind, name).spec.template.spec;
      assert.ok(pod.affinity?.podAntiAffinity, `${name} anti-affinity`);
      assert.ok(pod.topologySpreadConstraints?.length, `${name} spreads over zones`);
      for (const c of pod.containers) assert.ok(c.resources?.limits?.memory && c.resources?.limits?.cpu, `${name}/${c.name} limits`);
    }
    assert.ok(find('prod', 'StatefulSet', 'virtrigaud-nats').spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, 'one NATS server per node');
    const e = env(container('prod', 'Deployment', 'virtrigaud-dispatcher'));
    assert.equal(e.PROVIDER_AGENT_AUTOSCALER, 'keda');
    assert.equal(e.NATS_MONITORING_ENDPOINT, 'virtrigaud-nats.virtrigaud-system.svc.cluster.local:8222');
    assert.deepEqual(built.prod.objects.filter((x) => x.kind === 'ServiceMonitor').map((x) => x.metadata.name).sort(), ['virtrigaud-agents', 'virtrigaud-dispatcher', 'virtrigaud-webhook']);
    assert.ok(!built.staging.objects.some((x) => x.metadata.name === 'virtrigaud-dispatcher-keda'), 'staging keeps plain replica counts');
  });

  it('the NATS configurations of every overlay pass nats-server\'s own check, with the bootstrap\'s trust included', async () => {
    const auth = await bootstrapNatsAuth();
    const dir = mkdtempSync(join(tmpdir(), 'vr-natsconf-'));
    try {
      for (const o of OVERLAYS) {
        mkdirSync(join(dir, o, 'config'), { recursive: true });
        mkdirSync(join(dir, o, 'auth'), { recursive: true });
        writeFileSync(join(dir, o, 'config', 'nats.conf'), find(o, 'ConfigMap', 'virtrigaud-nats-config').data!['nats.conf']!);
        writeFileSync(join(dir, o, 'auth', 'auth.conf'), auth.serverConfig);
        const r = spawnSync(findBinaries().natsServer, ['-t', '-c', join(dir, o, 'config', 'nats.conf')], { encoding: 'utf8', env: { ...process.env, POD_NAME: 'virtrigaud-nats-0' } });
        assert.equal(r.status, 0, `${o}: ${r.stderr}`);
        assert.match(r.stderr + r.stdout, /is valid/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('RBAC, applied for real and asked as each ServiceAccount', () => {
    before(async () => {
      const rbac = built.prod.objects.filter((x) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(x.kind));
      const r = await k(['apply', '--server-side', '--force-conflicts', '--field-manager=virtrigaud-kustomize-test', '-f', '-'], rbac.map((x) => stringify(x)).join('---\n'));
      assert.equal(r.code, 0, r.stderr);
    });

    /** `resource` may carry a subresource after `#`: providers.infra.virtrigaud.io#status. */
    const can = async (sa: string, verb: string, resource: string, namespace = 'default', name?: string) => {
      const [res, sub] = resource.split('#');
      const args = ['auth', 'can-i', verb, name ? `${res}/${name}` : res!, '-n', namespace, `--as=system:serviceaccount:${sa}`, ...(sub ? [`--subresource=${sub}`] : [])];
      return (await k(args)).stdout.trim() === 'yes';
    };
    const WEBHOOK = 'virtrigaud-system:virtrigaud-webhook';
    const DISPATCHER = 'virtrigaud-system:virtrigaud-dispatcher';
    const BOOTSTRAP = 'virtrigaud-system:virtrigaud-nats-bootstrap';

    it('the webhook only reads', async () => {
      assert.equal(await can(WEBHOOK, 'list', 'virtualmachines.infra.virtrigaud.io'), true);
      assert.equal(await can(WEBHOOK, 'patch', 'virtualmachines.infra.virtrigaud.io'), false);
      assert.equal(await can(WEBHOOK, 'get', 'secrets'), false);
      assert.equal(await can(WEBHOOK, 'patch', 'providers.infra.virtrigaud.io#status'), false);
    });

    it('the dispatcher writes status, finalizers and the agent objects, deletes nothing, and holds its Lease only at home', async () => {
      assert.equal(await can(DISPATCHER, 'patch', 'providers.infra.virtrigaud.io#status'), true);
      assert.equal(await can(DISPATCHER, 'patch', 'virtualmachines.infra.virtrigaud.io#status'), true);
      assert.equal(await can(DISPATCHER, 'update', 'providers.infra.virtrigaud.io#finalizers'), true);
      for (const r of ['deployments.apps', 'services', 'serviceaccounts', 'secrets']) {
        assert.equal(await can(DISPATCHER, 'patch', r, 'team-a'), true, `patch ${r}`);
        assert.equal(await can(DISPATCHER, 'delete', r, 'team-a'), false, `delete ${r}`);
      }
      assert.equal(await can(DISPATCHER, 'create', 'scaledobjects.keda.sh', 'team-a'), true, 'prod lets it create ScaledObjects');
      assert.equal(await can(DISPATCHER, 'update', 'leases.coordination.k8s.io', 'virtrigaud-system'), true);
      assert.equal(await can(DISPATCHER, 'update', 'leases.coordination.k8s.io', 'default'), false);
      assert.equal(await can(DISPATCHER, 'create', 'pods', 'team-a'), false);
    });

    it('the NATS bootstrap creates Secrets in its namespace and reads back only its own two', async () => {
      assert.equal(await can(BOOTSTRAP, 'create', 'secrets', 'virtrigaud-system'), true);
      assert.equal(await can(BOOTSTRAP, 'get', 'secrets', 'virtrigaud-system', 'virtrigaud-nats-account'), true);
      assert.equal(await can(BOOTSTRAP, 'get', 'secrets', 'virtrigaud-system', 'other'), false);
      assert.equal(await can(BOOTSTRAP, 'create', 'secrets', 'default'), false);
    });
  });
});
