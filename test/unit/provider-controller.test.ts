/** The Provider controller's pure parts: objects, status, heartbeat folding, configuration, bus permissions. */
import { strict as assert } from 'node:assert';
import { create, toBinary } from '@bufbuild/protobuf';
import { KubeConfig } from '@kubernetes/client-node';
import type { Provider } from '../../api/objects.ts';
import { createLogger } from '../../dispatcher/log.ts';
import { ProviderConfigError, loadProviderControllerConfig } from '../../dispatcher/providers/config.ts';
import { startProviderController } from '../../dispatcher/providers/controller.ts';
import { HeartbeatTracker, summarize } from '../../dispatcher/providers/heartbeats.ts';
import { bootstrapNatsAuth } from '../../dispatcher/providers/nats-accounts.ts';
import { agentPermissions } from '../../dispatcher/providers/nats-permissions.ts';
import { agentDeployment, agentScaledObject, agentTypeOf, configHash, providerNameProblem, type AgentContext } from '../../dispatcher/providers/objects.ts';
import { desiredStatus, sameStatus, type StatusInputs } from '../../dispatcher/providers/status.ts';
import { subjects } from '../../proto/bus/subjects.ts';
import { HeartbeatSchema } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { aProvider } from '../support/dispatcher-fixtures.ts';

const ctx: AgentContext = { image: 'img:1', natsUrl: 'nats://nats:4222', credentialSecretVersion: '7', natsCreds: false, autoscaled: false };
const NOW = '2026-11-25T12:00:00Z';
const p = (over: Parameters<typeof aProvider>[0] = {}): Provider => aProvider({ metadata: { uid: 'u-1', generation: 3 }, ...over });

describe('Provider controller: agent objects', () => {
  it('runs the libvirt agent for qemu providers and none for firecracker', () => {
    assert.equal(agentTypeOf('qemu'), 'libvirt');
    assert.equal(agentTypeOf('firecracker'), undefined);
    assert.deepEqual(agentDeployment(p({ spec: { type: 'qemu' } }), ctx).spec!.template.spec!.containers[0]!.args, ['agent', 'libvirt']);
  });

  it('gives agents no bus credentials on an unauthenticated bus, and leaves replicas to KEDA when it scales them', () => {
    const plain = agentDeployment(p(), ctx);
    const env = plain.spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    assert.ok(!env.includes('NATS_CREDS_FILE') && !env.includes('NATS_INBOX_PREFIX'));
    assert.deepEqual(plain.spec!.template.spec!.volumes!.map((v) => v.name), ['credentials', 'tmp']);
    assert.equal(plain.spec!.replicas, 1);
    assert.equal(agentDeployment(p(), { ...ctx, autoscaled: true }).spec!.replicas, undefined);
  });

  it('changes the template hash with the spec or the credential Secret, not otherwise', () => {
    const base = configHash(p(), '7');
    assert.equal(configHash(p(), '7'), base);
    assert.notEqual(configHash(p(), '8'), base);
    assert.notEqual(configHash(p({ spec: { runtime: { image: 'x:2' } } }), '7'), base);
  });

  it('refuses names that cannot name a Service or a subject token', () => {
    assert.equal(providerNameProblem('kvm-1'), undefined);
    assert.match(providerNameProblem('a.b')!, /DNS label/);
    assert.match(providerNameProblem('9lives')!, /starting with a letter/);
    assert.match(providerNameProblem(`a${'b'.repeat(57)}`)!, /at most 57/);
  });

  it('scales on the provider\'s own consumer, from spec.runtime.replicas up', () => {
    const so = agentScaledObject(p({ spec: { runtime: { replicas: 2 } } }), { maxReplicas: 8, lagThreshold: 5, monitoringEndpoint: 'nats:8222', account: 'ABC' });
    assert.equal(so.spec.minReplicaCount, 2);
    assert.equal(so.spec.maxReplicaCount, 8);
    assert.deepEqual(so.spec.triggers[0], {
      type: 'nats-jetstream',
      metadata: { natsServerMonitoringEndpoint: 'nats:8222', account: 'ABC', stream: 'VR_COMMANDS', consumer: 'agents_apps_kvm', lagThreshold: '5' },
    });
  });
});

describe('Provider controller: status', () => {
  const health = { agents: 2, reachable: 2, healthy: true, version: '0.1.0', hypervisorVersion: 'libvirt 9.0', capabilities: ['memorySnapshots', 'cpuHotAdd'] };
  const running = { desired: 2, ready: 2, available: 2, updated: 2, current: true };
  const inputs = (over: Partial<StatusInputs> = {}): StatusInputs => ({ provider: p(), now: NOW, credentialSecret: 'found', connectedVMs: 4, deployment: running, health, ...over });

  it('is Ready with agents available and the hypervisor reachable; Ready comes first', () => {
    const s = desiredStatus(inputs());
    assert.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason]), [
      ['Ready', 'True', 'AgentsReady'], ['Available', 'True', 'MinimumReplicasAvailable'],
      ['CredentialsValid', 'True', 'SecretFound'], ['HypervisorReachable', 'True', 'HypervisorAnswers'],
    ]);
    assert.equal(s.healthy, true);
    assert.equal(s.version, '0.1.0');
    assert.equal(s.connectedVMs, 4);
    assert.equal(s.observedGeneration, 3);
    assert.deepEqual(s.runtime, { mode: 'Remote', phase: 'Running', readyReplicas: 2, availableReplicas: 2, serviceRef: { name: 'kvm-agent' }, endpoint: 'kvm-agent.apps.svc:9443' });
    assert.equal(s.reportedCapabilities!.supportsMemorySnapshots, true);
    assert.equal(s.reportedCapabilities!.supportsReconfigureOnline, true);
    assert.equal(s.reportedCapabilities!.supportsLinkedClones, false);
  });

  it('names the first thing to fix as the Ready reason', () => {
    assert.equal(desiredStatus(inputs({ credentialSecret: 'missing' })).conditions![0]!.reason, 'SecretNotFound');
    assert.equal(desiredStatus(inputs({ deployment: { ...running, available: 0, ready: 0 } })).conditions![0]!.reason, 'NoAgentAvailable');
    const silent = desiredStatus(inputs({ health: undefined }));
    assert.equal(silent.conditions![0]!.reason, 'NoHeartbeat');
    assert.equal(silent.healthy, false);
    assert.equal(desiredStatus(inputs({ natsCreds: { issued: false, message: 'no key' } })).conditions![0]!.reason, 'BusCredentialsNotIssued');
  });

  it('with agents outside the cluster, is Available from their heartbeats and names no Service', () => {
    const s = desiredStatus(inputs({ externalAgents: true, deployment: undefined, credentialSecret: 'missing' }));
    assert.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason]), [
      ['Ready', 'True', 'AgentsReady'], ['Available', 'True', 'AgentsReporting'],
      ['CredentialsValid', 'True', 'AgentsOutsideCluster'], ['HypervisorReachable', 'True', 'HypervisorAnswers'],
    ]);
    assert.deepEqual(s.runtime, { mode: 'Remote', phase: 'Running', readyReplicas: 2, availableReplicas: 2 });
    assert.equal(desiredStatus(inputs({ externalAgents: true, deployment: undefined, health: undefined })).conditions![0]!.reason, 'NoAgentHeartbeat');
  });

  it('keeps lastTransitionTime and lastHealthCheck while nothing changes, so a repeat is no change', () => {
    const first = desiredStatus(inputs());
    const later = desiredStatus({ ...inputs(), provider: { ...p(), status: first }, now: '2026-11-25T12:05:00Z' });
    assert.ok(sameStatus(first, later));
    const flipped = desiredStatus({ ...inputs({ health: { ...health, reachable: 0, healthy: false } }), provider: { ...p(), status: first }, now: '2026-11-25T12:05:00Z' });
    assert.equal(flipped.lastHealthCheck, '2026-11-25T12:05:00Z');
    assert.ok(!sameStatus(first, flipped));
  });
});

describe('Provider controller: heartbeats', () => {
  const beat = (agentId: string, reachable = true, version = '0.1.0') => toBinary(HeartbeatSchema, create(HeartbeatSchema, {
    agentId, version, hypervisorReachable: reachable, hypervisorVersion: 'hv-1', capabilities: ['tpm'],
  }));

  it('reports a change of the summary only, not every beat', () => {
    let clock = 0;
    const changes: string[] = [];
    const t = new HeartbeatTracker({ nc: undefined as never, timeoutMs: 1000, onChange: (k) => changes.push(k), log: createLogger({ level: 'silent' }), now: () => clock });
    const subject = subjects.heartbeat({ namespace: 'ns', name: 'p' });
    t.receive(subject, beat('a'));
    for (let i = 0; i < 10; i++) {
      clock += 100;
      t.receive(subject, beat('a'));
    }
    assert.deepEqual(changes, ['ns/p']);
    t.receive(subject, beat('b', false));
    assert.equal(changes.length, 2, 'a second agent changes the summary');
    assert.deepEqual(t.summary('ns/p'), { agents: 2, reachable: 1, healthy: true, version: '0.1.0', hypervisorVersion: 'hv-1', capabilities: ['tpm'] });
    clock += 2000;
    t.sweep();
    assert.equal(t.summary('ns/p'), undefined, 'silent agents are dropped');
    assert.equal(changes.length, 3);
    t.receive(subject, new Uint8Array([0xff, 0xff]));
    t.receive('vr.hb.too.many.tokens', beat('c'));
    assert.equal(changes.length, 3, 'malformed beats and foreign subjects are ignored');
  });

  it('reports the newest version while a rollout mixes them', () => {
    const s = summarize([
      { seenAt: 0, version: '0.9.0', reachable: true, hypervisorVersion: '', capabilities: [] },
      { seenAt: 0, version: '0.10.0', reachable: true, hypervisorVersion: '', capabilities: [] },
    ]);
    assert.equal(s.version, '0.10.0');
  });
});

describe('Provider controller: configuration', () => {
  it('lists every problem at once', () => {
    assert.throws(() => loadProviderControllerConfig({ NATS_ACCOUNT: 'nope', PROVIDER_AGENT_AUTOSCALER: 'hpa', PROVIDER_HEARTBEAT_TIMEOUT_S: '0' }), (err: unknown) => {
      assert.ok(err instanceof ProviderConfigError);
      assert.deepEqual(err.problems, [
        'NATS_URL (or PROVIDER_AGENT_NATS_URL) is required: the agents connect to it',
        'NATS_ACCOUNT and NATS_ACCOUNT_SIGNING_KEY_FILE go together (per-provider credentials need both)',
        'PROVIDER_AGENT_AUTOSCALER must be none or keda, got "hpa"',
        'PROVIDER_HEARTBEAT_TIMEOUT_S must be a whole number from 2 to 3600, got "0"',
      ]);
      return true;
    });
  });

  it('reads the signing key from its file and checks it without printing it', async () => {
    const auth = await bootstrapNatsAuth();
    const c = loadProviderControllerConfig({ NATS_URL: 'nats://n:4222', NATS_ACCOUNT: auth.accountPublicKey, NATS_ACCOUNT_SIGNING_KEY_FILE: '/k' }, () => `${auth.signingKeySeed}\n`);
    assert.equal(c.natsSigner?.signingKeySeed, auth.signingKeySeed);
    assert.throws(() => loadProviderControllerConfig({ NATS_URL: 'nats://n:4222', NATS_ACCOUNT: auth.accountPublicKey, NATS_ACCOUNT_SIGNING_KEY_FILE: '/k' }, () => 'SUAGARBAGE'), (err: Error) => {
      assert.match(err.message, /signing key is not an account seed/);
      assert.ok(!err.message.includes('SUAGARBAGE'));
      return true;
    });
  });
});

describe('Provider controller: bus permissions', () => {
  const key = { namespace: 'ns', name: 'p' };
  const matches = (pattern: string, subject: string) => {
    const a = pattern.split('.');
    const b = subject.split('.');
    for (let i = 0; i < a.length; i++) {
      if (a[i] === '>') return b.length > i;
      if (a[i] !== '*' && a[i] !== b[i]) return false;
    }
    return a.length === b.length;
  };
  const allowed = (subject: string, type = 'libvirt') => agentPermissions(key, type).pub.allow.some((pat) => matches(pat, subject));

  it('allows the agent\'s own event, heartbeat and dead-letter subjects, no other provider\'s, and no command', () => {
    assert.ok(allowed(subjects.event(key, 'uid-1')));
    assert.ok(allowed(subjects.heartbeat(key)));
    assert.ok(allowed(subjects.deadLetter(key)));
    const other = { namespace: 'ns', name: 'q' };
    assert.ok(!allowed(subjects.event(other, 'uid-1')));
    assert.ok(!allowed(subjects.heartbeat(other)));
    assert.ok(!allowed(subjects.command(key, 'uid-1')));
    assert.ok(!allowed('$JS.API.STREAM.UPDATE.VR_COMMANDS'));
    assert.ok(!allowed('$JS.API.CONSUMER.CREATE.VR_COMMANDS.agents_ns_q.vr.cmd.ns.q.>'));
    assert.ok(!allowed('$KV.VR_MOCK_HV_ns_p.vm.1'), 'a libvirt agent has no mock bucket');
    assert.ok(allowed('$KV.VR_MOCK_HV_ns_p.vm.1', 'mock'));
  });
});

describe('Provider controller: start', () => {
  it('gives up when the term ends before its caches fill (an apiserver that never answers)', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    const nc = { subscribe: () => ({ unsubscribe: () => undefined }) } as never;
    const term = new AbortController();
    const started = startProviderController({
      kubeConfig: kc, nc, log: createLogger({ level: 'silent' }), signal: term.signal,
      config: loadProviderControllerConfig({ NATS_URL: 'nats://n:4222' }),
    });
    setTimeout(() => term.abort(), 200);
    await assert.rejects(started, /leadership term ended while its caches were filling/);
  });
});
