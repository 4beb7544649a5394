/** The local control plane itself: fast to start, RBAC on, webhooks admitted, nothing left behind. */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { startControlPlane, type ControlPlane } from '../../scripts/stack/control-plane.ts';
import { freePort, isAlive } from '../../scripts/stack/processes.ts';
import { httpsGet } from '../../scripts/stack/kubeconfig.ts';
import { kubectl } from '../../scripts/stack/kubectl.ts';

describe('local control plane', function () {
  this.timeout(90_000);
  let cp: ControlPlane | undefined;
  after(async () => {
    await cp?.stop();
  });

  it('is ready within 10 s with cached binaries', async () => {
    cp = await startControlPlane();
    assert.ok(cp.startupMs <= 10_000, `took ${cp.startupMs} ms`);
    assert.equal((await httpsGet(cp.identity, '/readyz')).status, 200);
  });

  it('authorizes with RBAC and turns on both admission webhook plugins', async () => {
    const r = await kubectl(cp!.binaries.kubectl, cp!.kubeconfig, ['auth', 'can-i', 'list', 'pods', '--as=nobody']);
    assert.equal(r.stdout.trim(), 'no', 'an unknown user must be denied under RBAC');
    const admin = await kubectl(cp!.binaries.kubectl, cp!.kubeconfig, ['auth', 'can-i', '*', '*']);
    assert.equal(admin.stdout.trim(), 'yes');
    const metrics = await httpsGet(cp!.identity, '/metrics');
    for (const plugin of ['MutatingAdmissionWebhook', 'ValidatingAdmissionWebhook']) {
      assert.match(metrics.body, new RegExp(`apiserver_admission_.*name="${plugin}"`), `${plugin} not registered`);
    }
  });

  it('deletes a namespace with its contents (kube-controller-manager runs)', async () => {
    const run = (args: string[]) => kubectl(cp!.binaries.kubectl, cp!.kubeconfig, args);
    assert.equal((await run(['create', 'namespace', 'doomed'])).code, 0);
    assert.equal((await run(['create', 'configmap', 'c', '-n', 'doomed'])).code, 0);
    const del = await run(['delete', 'namespace', 'doomed', '--timeout=30s']);
    assert.equal(del.code, 0, del.stderr);
  });

  it('stops leaving no process and no directory behind', async () => {
    const { processes, dir } = cp!;
    await cp!.stop();
    cp = undefined;
    for (const p of processes) assert.equal(isAlive(p.pid), false, `${p.name} (pid ${p.pid}) still runs`);
    assert.equal(existsSync(dir), false);
  });

  it('starts on other ports when the ones it picked are taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as { port: number }).port;
    let handedOut = 0;
    // The first two ports handed out (etcd's client and peer ports) are already taken.
    const pickPort = async () => (handedOut++ < 2 ? busyPort : freePort());
    try {
      cp = await startControlPlane({ controllerManager: false, pickPort });
      assert.ok(handedOut > 3, 'the busy ports were retried with fresh ones');
      assert.equal((await httpsGet(cp.identity, '/readyz')).status, 200);
    } finally {
      busy.close();
      await cp?.stop();
      cp = undefined;
    }
  });

  it('names the missing binary and the command that builds it', async () => {
    const saved = process.env.VIRTRIGAUD_CACHE;
    process.env.VIRTRIGAUD_CACHE = '/nonexistent-virtrigaud-cache';
    try {
      await assert.rejects(startControlPlane(), /kube-apiserver.*build them with: bash scripts\/build-binaries\.sh/s);
    } finally {
      if (saved === undefined) delete process.env.VIRTRIGAUD_CACHE;
      else process.env.VIRTRIGAUD_CACHE = saved;
    }
  });
});
