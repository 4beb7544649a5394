/**
 * The whole designed path with every part real and in its own process: kubectl apply → admission
 * webhook (real rules) → kube-apiserver → dispatcher → NATS JetStream → three mock agent replicas →
 * status events → dispatcher → VM status. What a user sees: `kubectl wait --for=condition=Ready`.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { MockDriver } from '../../provider-agents/mock/driver.ts';
import type { ControlPlane } from '../../scripts/stack/control-plane.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';
import type { ManagedProcess } from '../../scripts/stack/processes.ts';
import { startAgentFleet, startDispatcherProcess } from '../../scripts/stack/spine.ts';
import { startLocalWebhook, type LocalWebhook } from '../../scripts/stack/webhook.ts';
import { k, testCluster } from '../support/cluster.ts';
import { toYaml } from '../support/manifests.ts';

const NS = `e2e-${process.pid}`;
const PROVIDER = { namespace: NS, name: 'sim', type: 'mock' };

const objects = (vmOverrides: Record<string, unknown> = {}) => toYaml(
  { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'Provider', metadata: { name: 'sim', namespace: NS },
    spec: { type: 'mock', endpoint: 'mock://e2e', credentialSecretRef: { name: 'none' }, runtime: { mode: 'Remote', image: 'virtrigaud:test' } } },
  { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMClass', metadata: { name: 'small', namespace: NS }, spec: { cpu: 2, memory: '2Gi' } },
  { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMImage', metadata: { name: 'img', namespace: NS },
    spec: { source: { http: { url: 'https://images.example.com/noble.qcow2' } } } },
  { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: NS },
    spec: { providerRef: { name: 'sim' }, classRef: { name: 'small' }, imageRef: { name: 'img' }, ...vmOverrides } },
);

const jsonpath = async (expr: string) => (await k(['get', 'vm', 'web', '-n', NS, '-o', `jsonpath=${expr}`])).stdout;

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('end to end: kubectl apply → Ready through webhook, dispatcher, JetStream and 3 mock agents', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let nats: NatsServer;
  let webhook: LocalWebhook | undefined;
  const processes: ManagedProcess[] = [];

  before(async () => {
    cp = await testCluster();
    assert.equal((await k(['create', 'namespace', NS])).code, 0);
    assert.equal((await k(['label', 'namespace', NS, 'virtrigaud.io/e2e=true'])).code, 0);
    nats = await startNats();
    webhook = await startLocalWebhook({
      cp, name: `virtrigaud-e2e-${process.pid}`, namespaceSelector: { matchLabels: { 'virtrigaud.io/e2e': 'true' } }, probeNamespace: NS,
    });
    const logs = join(cp.dir, 'logs');
    processes.push(startDispatcherProcess(cp.kubeconfig, nats.url, logs, false, { WATCH_NAMESPACE: NS, LOG_LEVEL: 'warn' }));
    processes.push(...startAgentFleet({ natsUrl: nats.url, provider: PROVIDER, replicas: 3, logDir: logs, label: 'e2e', env: { AGENT_LOG_LEVEL: 'warn' } }));
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await webhook?.stop();
    await nats?.stop();
  });

  it('makes the VM Ready, with the defaults the webhook set and the status the agent reported', async () => {
    const applied = await k(['apply', '--server-side', '--field-manager=e2e', '-f', '-'], objects());
    assert.equal(applied.code, 0, applied.stderr);
    const wait = await k(['wait', '--for=condition=Ready', '--timeout=60s', '-n', NS, 'vm/web']);
    assert.equal(wait.code, 0, wait.stderr);
    assert.equal(await jsonpath('{.spec.powerState}'), 'On', 'the webhook defaulted powerState');
    assert.equal(await jsonpath('{.metadata.labels.virtrigaud\\.io/provider}'), 'sim', 'the webhook labelled the provider');
    assert.equal(await jsonpath('{.status.phase}'), 'Running');
    assert.equal(await jsonpath('{.status.powerState}'), 'On');
    assert.equal(await jsonpath('{.status.observedGeneration}'), '1');
    assert.match(await jsonpath('{.status.id}'), /\S+/);
    assert.equal(await jsonpath('{.status.conditions[0].type}'), 'Ready', 'Ready is the first condition');
    const events = await k(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events.stdout, /Running/);
  });

  it('creates exactly one VM on the hypervisor for it, carrying its UID', async () => {
    const uid = (await k(['get', 'vm', 'web', '-n', NS, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const driver = await MockDriver.open({ natsServers: nats.url, provider: PROVIDER });
    try {
      const vms = (await driver.vms()).filter((vm) => vm.uid === uid);
      assert.equal(vms.length, 1);
    } finally {
      await driver.close();
    }
  });

  it('powers the VM off when the spec says Off (observedGeneration follows)', async () => {
    const patched = await k(['patch', 'vm', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"powerState":"Off"}}']);
    assert.equal(patched.code, 0, patched.stderr);
    await eventually('status.powerState Off at generation 2', async () =>
      (await jsonpath('{.status.powerState}/{.status.observedGeneration}/{.status.phase}')) === 'Off/2/Stopped');
  });

  it('deletes the VM on the hypervisor before the object goes (finalizer)', async () => {
    const uid = (await k(['get', 'vm', 'web', '-n', NS, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const del = await k(['delete', 'vm', 'web', '-n', NS, '--timeout=60s']);
    assert.equal(del.code, 0, del.stderr);
    const driver = await MockDriver.open({ natsServers: nats.url, provider: PROVIDER });
    try {
      assert.deepEqual((await driver.vms()).filter((vm) => vm.uid === uid), []);
    } finally {
      await driver.close();
    }
  });
});
