/**
 * The webhook behind the real kube-apiserver: registered by scripts/stack/webhook.ts for this
 * suite's namespaces only (so the shared cluster stays usable), reached over loopback HTTPS with
 * the control plane's CA. `kubectl apply` is refused with the field named, warnings reach
 * kubectl's stderr, defaults are applied. Everything registered is deleted in after().
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlane } from '../../scripts/stack/control-plane.ts';
import { startLocalWebhook, type LocalWebhook } from '../../scripts/stack/webhook.ts';
import { freshNamespace, k, testCluster } from '../support/cluster.ts';
import { aVirtualMachine, aVmClass, TEST_RULES } from '../support/webhook-fixtures.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const LABEL = 'virtrigaud.io/webhook-test';

// YAML 1.1 quoting: kubectl reads a bare Off as false.
const yaml = (...objects: object[]) => objects.map((o) => stringify(o, { version: '1.1' })).join('---\n');

async function labelledNamespace(value: string): Promise<string> {
  const ns = await freshNamespace('wh');
  const r = await k(['label', 'namespace', ns, `${LABEL}=${value}`]);
  assert.equal(r.code, 0, r.stderr);
  return ns;
}

/** Polls until `check` holds (informer caches follow the apiserver by a few milliseconds). */
async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhook behind the real apiserver', function () {
  this.timeout(120_000);
  let cp: ControlPlane;

  before(async () => {
    cp = await testCluster();
  });
  after(async () => {
    // The shared cluster must not keep calling a stopped webhook (failurePolicy Fail would refuse every write).
    const left = await k(['get', 'validatingwebhookconfigurations,mutatingwebhookconfigurations', '-o', 'name']);
    assert.doesNotMatch(left.stdout, new RegExp(`virtrigaud-(test|child)-${process.pid}`));
  });

  describe('in-process, with test rules', () => {
    let webhook: LocalWebhook | undefined;
    let ns: string;
    let other: string;

    before(async () => {
      ns = await labelledNamespace(`inproc-${process.pid}`);
      other = await freshNamespace('wh-other');
      webhook = await startLocalWebhook({
        cp,
        rules: TEST_RULES,
        name: `virtrigaud-test-${process.pid}`,
        namespaceSelector: { matchLabels: { [LABEL]: `inproc-${process.pid}` } },
        probeNamespace: ns,
      });
    });
    after(async () => {
      await webhook?.stop();
      if (ns) await k(['delete', 'namespace', ns, other, '--wait=false']);
    });

    it('kubectl apply of a VMClass with cpu over 64 is refused, naming the field and the limit', async () => {
      const r = await k(['apply', '-n', ns, '-f', '-'], yaml(aVmClass('big', { cpu: 100 }, ns)));
      assert.notEqual(r.code, 0);
      // kubectl words an Invalid status from its causes: the field and what was wrong.
      assert.match(r.stderr, /The VMClass "big" is invalid: spec\.cpu: Invalid value: 100: must be at most 64/);
      assert.equal((await k(['get', 'vmclass', 'big', '-n', ns])).code, 1, 'nothing was stored');
    });

    it('refuses with every cause: duplicate disk names of a VirtualMachine', async () => {
      const vm = aVirtualMachine('dup', { disks: [{ name: 'data', sizeGiB: 10 }, { name: 'data', sizeGiB: 20 }] }, ns);
      const r = await k(['apply', '-n', ns, '-f', '-'], yaml(vm));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /VirtualMachine "dup" is invalid: spec\.disks\[1\]\.name: Duplicate value: "data"/);
    });

    it('prints admission warnings in kubectl\'s output and stores the object', async () => {
      const r = await k(['apply', '-n', ns, '-f', '-'], yaml(aVmClass('wide', { cpu: 48 }, ns)));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Warning: spec\.cpu 48 is over 32: few hosts fit this class/);
      assert.match(r.stdout, /vmclass.infra.virtrigaud.io\/wide created/);
    });

    it('applies defaults (powerState On, class label) without touching what the user set; warns of a missing class', async () => {
      const r = await k(['apply', '-n', ns, '-f', '-'], yaml(aVirtualMachine('web', { classRef: { name: 'later' } }, ns)));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`Warning: VMClass "later" not found in namespace "${ns}"; the VM waits for it`));
      const vm = JSON.parse((await k(['get', 'vm', 'web', '-n', ns, '-o', 'json'])).stdout) as { metadata: { labels: Record<string, string> }; spec: { powerState: string } };
      assert.equal(vm.spec.powerState, 'On');
      assert.equal(vm.metadata.labels['virtrigaud.io/class'], 'later');

      const mine = aVirtualMachine('mine', { classRef: { name: 'later' }, powerState: 'Off' }, ns);
      mine.metadata.labels = { 'virtrigaud.io/class': 'custom' };
      const applied = await k(['apply', '-n', ns, '-f', '-'], yaml(mine));
      assert.equal(applied.code, 0, applied.stderr);
      const stored = JSON.parse((await k(['get', 'vm', 'mine', '-n', ns, '-o', 'json'])).stdout) as typeof vm;
      assert.equal(stored.spec.powerState, 'Off');
      assert.equal(stored.metadata.labels['virtrigaud.io/class'], 'custom');
    });

    it('looks up the informer caches: once the class exists the warning goes, and deleting it while used is refused', async () => {
      assert.equal((await k(['apply', '-n', ns, '-f', '-'], yaml(aVmClass('later', {}, ns)))).code, 0);
      const lookup = webhook!.running!.caches.lookup;
      await eventually(() => lookup.vmClass(ns, 'later') !== undefined, 'the class in the cache');
      const r = await k(['apply', '-n', ns, '-f', '-'], yaml(aVirtualMachine('web2', { classRef: { name: 'later' } }, ns)));
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Warning/);

      await eventually(() => lookup.virtualMachines(ns).length >= 3, 'the VMs in the cache');
      const del = await k(['delete', 'vmclass', 'later', '-n', ns]);
      assert.notEqual(del.code, 0);
      assert.match(del.stderr, /VMClass "later" is invalid: metadata\.name: Forbidden: VMClass is used by (mine|web|web2)/);
    });

    it('leaves namespaces outside its selector alone', async () => {
      const r = await k(['apply', '-n', other, '-f', '-'], yaml(aVmClass('big', { cpu: 100 }, other)));
      assert.equal(r.code, 0, r.stderr);
    });

    it('the cluster manifests\' configurations are accepted by the apiserver (server-side dry run)', async () => {
      const r = await k(['apply', '--dry-run=server', '-f', join(ROOT, 'manifests/webhook/webhook-configurations.yaml')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /validatingwebhookconfiguration.admissionregistration.k8s.io\/virtrigaud created \(server dry run\)/);
    });
  });

  describe('as a child process (webhook/main.ts), with the real rules', () => {
    let webhook: LocalWebhook | undefined;
    let ns: string;

    before(async () => {
      ns = await labelledNamespace(`child-${process.pid}`);
      webhook = await startLocalWebhook({
        cp,
        name: `virtrigaud-child-${process.pid}`,
        namespaceSelector: { matchLabels: { [LABEL]: `child-${process.pid}` } },
        probeNamespace: ns,
      });
    });
    after(async () => {
      await webhook?.stop();
      if (ns) await k(['delete', 'namespace', ns, '--wait=false']);
    });

    it('refuses a libvirt Provider with an https endpoint, saying what would be accepted', async () => {
      const provider = {
        apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'Provider', metadata: { name: 'kvm', namespace: ns },
        spec: {
          type: 'libvirt', endpoint: 'https://kvm.example.com', credentialSecretRef: { name: 'creds' },
          runtime: { mode: 'Remote', image: 'ghcr.io/projectbeskar/virtrigaud/provider-libvirt:v0.2.3' },
        },
      };
      const r = await k(['apply', '-n', ns, '-f', '-'], yaml(provider));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /The Provider "kvm" is invalid: spec\.endpoint: Unsupported value: endpoint https:\/\/kvm\.example\.com does not fit a libvirt provider, which takes qemu\+ssh:\/\/…/);
    });

    it('logs structured JSON lines: listening, caches synced', async () => {
      assert.ok(webhook?.process, 'runs as a child process');
      assert.equal(webhook.process.exited(), undefined);
      const lines = readFileSync(webhook.process.logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
      assert.ok(lines.some((l) => l.level === 'info' && l.msg === 'webhook listening'));
      assert.ok(lines.some((l) => l.msg === 'caches synced; webhook ready'));
    });
  });
});
