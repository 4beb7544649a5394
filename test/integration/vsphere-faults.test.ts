/**
 * The vSphere driver when things go wrong, against real vcsims: TLS verification (pinned
 * fingerprint, custom CA, neither), a session that expires, vcsim stopped in the middle of a task,
 * slow tasks followed by the property collector, a guest that does not shut down in time.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { PermanentError, TransientError } from '../../provider-agents/core/errors.ts';
import { VSphereDriver } from '../../provider-agents/vsphere/driver.ts';
import { VimClient, ref } from '../../provider-agents/vsphere/soap/client.ts';
import { HttpTransport } from '../../provider-agents/vsphere/soap/transport.ts';
import { createPki } from '../../scripts/stack/pki.ts';
import { desiredFrom, makeTemplate, opContext, openDriver, startVcsim, type Vcsim } from '../support/vcsim.ts';

const TEMPLATE = 'tmpl-faults';

function fingerprint(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

const open = (sim: Vcsim, tls: { ca?: string; thumbprint?: string; insecureSkipVerify?: boolean }) =>
  VSphereDriver.open({ url: sim.url, username: sim.username, password: sim.password, tls });

describe('vSphere driver faults (real vcsim)', function () {
  this.timeout(60_000);

  describe('TLS', () => {
    let sim: Vcsim;
    let caSim: Vcsim;
    let pkiDir: string;
    let caCert: string;
    before(async () => {
      pkiDir = mkdtempSync(join(tmpdir(), 'vs-pki-'));
      const pki = await createPki(pkiDir);
      caCert = readFileSync(pki.caCert, 'utf8');
      [sim, caSim] = await Promise.all([startVcsim(), startVcsim({ args: ['-tlscert', pki.servingCert, '-tlskey', pki.servingKey] })]);
    });
    after(async () => {
      await Promise.all([sim?.close(), caSim?.close()]);
      rmSync(pkiDir, { recursive: true, force: true });
    });

    it('connects to a self-signed vCenter through its pinned SHA-256 fingerprint, and refuses another certificate', async () => {
      const d = await open(sim, { thumbprint: await fingerprint(sim.url) });
      assert.match((await d.validate()).version, /govmomi simulator/);
      await d.close();
      const other = await fingerprint(caSim.url);
      await assert.rejects(open(sim, { thumbprint: other }), (e: unknown) =>
        e instanceof PermanentError && e.reason === 'CertificateVerificationFailed' && /expected the pinned/.test(e.message));
    });

    it('verifies against the CA from the credential Secret, and refuses an unknown issuer without it', async () => {
      const d = await open(caSim, { ca: caCert });
      assert.equal(d.client.stats.sessionsOpened, 1);
      await d.close();
      await assert.rejects(open(sim, {}), (e: unknown) =>
        e instanceof PermanentError && e.reason === 'CertificateVerificationFailed' && /"ca.crt"/.test(e.message) && /"thumbprint"/.test(e.message));
      await assert.rejects(open(sim, { ca: caCert }), (e: unknown) => e instanceof PermanentError && e.reason === 'CertificateVerificationFailed');
    });

    it('refuses wrong credentials with a reason naming the Secret keys, not their values', async () => {
      const bad = await startVcsim({ username: 'admin', password: 'right-password' });
      try {
        await assert.rejects(VSphereDriver.open({ url: bad.url, username: 'admin', password: 'wrong-password', tls: { insecureSkipVerify: true } }), (e: unknown) =>
          e instanceof PermanentError && e.reason === 'InvalidCredentials' && !e.message.includes('wrong-password') && !e.message.includes('right-password'));
      } finally {
        await bad.close();
      }
    });
  });

  describe('sessions and slow tasks', () => {
    let sim: Vcsim;
    let d: VSphereDriver;
    before(async () => {
      // Slow clones, and a ShutdownGuest that answers only after 4 s (the name delays the call and its
      // task alike); LockHandoff:0 keeps vcsim readable while a task waits.
      sim = await startVcsim({ args: ['-method-delay', 'CloneVm:1500,ShutdownGuest:4000,LockHandoff:0'] });
      d = await openDriver(sim);
      await makeTemplate(d, TEMPLATE);
    });
    after(async () => {
      await d?.close();
      await sim?.close();
    });

    it('follows a slow task through the property collector and reports its end as progress', async () => {
      await d.create(randomUUID(), desiredFrom(TEMPLATE), opContext()); // placement and template looked up once
      const pushed = d.tasks.pushed;
      const reads = d.client.stats.byMethod.get('RetrievePropertiesEx') ?? 0;
      const ctx = opContext();
      const started = Date.now();
      const vm = await d.create(randomUUID(), desiredFrom(TEMPLATE), ctx);
      assert.ok(Date.now() - started >= 1500, 'the clone was slow');
      assert.equal(vm.exists, true);
      assert.ok(d.tasks.pushed > pushed, 'the clone\'s end arrived through WaitForUpdatesEx');
      // Reads: the template's devices, the clone task before and after its filter, the new VM, the
      // identity write's task (vcsim ignores a clone's config) and the VM after it. None depends on
      // how long the task runs.
      const taskReads = (d.client.stats.byMethod.get('RetrievePropertiesEx') ?? 0) - reads;
      assert.ok(taskReads <= 6, `a 1.5 s task is not polled (${taskReads} reads)`);
      assert.ok(ctx.reports.some(([p]) => p === 100));
    });

    it('powers a VM off after the graceful timeout when the guest does not shut down in time', async () => {
      const vm = await d.create(randomUUID(), desiredFrom(TEMPLATE), opContext());
      const on = await d.setPower(vm, PowerState.ON, 0, opContext());
      const offs = d.client.stats.byMethod.get('PowerOffVM_Task') ?? 0;
      const started = Date.now();
      const off = await d.setPower(on, PowerState.OFF_GRACEFUL, 1, opContext());
      const took = Date.now() - started;
      assert.equal(off.powerState, PowerState.OFF);
      assert.ok(took >= 1000 && took < 3500, `took ${took} ms`);
      assert.equal((d.client.stats.byMethod.get('PowerOffVM_Task') ?? 0) - offs, 1);
    });

    it('keeps an idle session alive with CurrentTime', async () => {
      const idle = await openDriver(sim, { keepaliveMs: 1000 });
      try {
        await new Promise((r) => setTimeout(r, 2600));
        assert.ok((idle.client.stats.byMethod.get('CurrentTime') ?? 0) >= 1, JSON.stringify(Object.fromEntries(idle.client.stats.byMethod)));
        assert.equal(idle.client.stats.sessionsOpened, 1);
      } finally {
        await idle.close();
      }
    });

    it('logs in again when the session expires (terminated by vCenter) and carries on with one new session', async () => {
      const admin = await VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, transport: new HttpTransport(sim.url, { insecureSkipVerify: true }) });
      try {
        await admin.call('TerminateSession', { _this: ref(admin.serviceContent.sessionManager), sessionId: [d.client.sessionKey!] });
      } finally {
        await admin.close();
      }
      const uid = randomUUID();
      const vm = await d.create(uid, desiredFrom(TEMPLATE), opContext());
      assert.equal((await d.find(uid))?.id, vm.id);
      assert.equal(d.client.stats.sessionsOpened, 2);
      for (let i = 0; i < 100 && d.inventory.stats.reloads < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(d.inventory.stats.reloads, 2, 'the property collector was made again in the new session');
      // The inventory follows changes again: a power-on is pushed.
      await d.setPower(vm, PowerState.ON, 0, opContext());
      assert.equal((await d.find(uid))?.powerState, PowerState.ON);
    });
  });

  describe('vcsim stopped in the middle of a task', () => {
    let sim: Vcsim;
    let d: VSphereDriver;
    before(async () => {
      sim = await startVcsim({ args: ['-method-delay', 'CloneVm:3000,LockHandoff:0'] });
      d = await openDriver(sim);
      await makeTemplate(d, TEMPLATE);
    });
    after(async () => {
      await d?.close();
      await sim?.close();
    });

    it('fails the create as retryable, never takes the VM for gone while vCenter is away, and recovers when it is back', async () => {
      const known = await d.create(randomUUID(), desiredFrom(TEMPLATE), opContext());
      const knownUid = d.inventory.get({ type: 'VirtualMachine', value: known.id })!.extraConfig.get('virtrigaud.uid')!;
      const uid = randomUUID();
      const creating = d.create(uid, desiredFrom(TEMPLATE), opContext()).then(() => undefined, (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 800));
      await sim.kill();
      const err = await creating;
      assert.ok(err instanceof TransientError, `create failed with ${String(err)}`);
      // A read while vCenter is away is an error, for a VM we know and for one we do not.
      for (const u of [knownUid, uid]) {
        await assert.rejects(d.find(u), (e: unknown) => e instanceof TransientError && e.reason === 'ProviderUnreachable', u);
      }
      await sim.start();
      // A fresh vcsim: the session is gone (log in again) and so are the VMs.
      let version: string | undefined;
      for (let i = 0; i < 200 && !version; i++) {
        version = await d.validate().then((v) => v.version, () => undefined);
        if (!version) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(version, 'the driver reached the restarted vcsim');
      let found: unknown = 'unanswered';
      for (let i = 0; i < 200 && found === 'unanswered'; i++) {
        found = await d.find(knownUid).catch(() => 'unanswered');
        if (found === 'unanswered') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(found, undefined, 'the new vcsim positively has no such VM');
      assert.equal(d.client.stats.sessionsOpened, 2);
    });
  });
});
