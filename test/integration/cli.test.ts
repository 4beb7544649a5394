/**
 * The `virtrigaud` command: help and usage errors, every environment variable the processes read
 * documented in their --help, the process subcommands really starting the existing entries, the
 * user commands against the real test apiserver, the installation commands (nats-bootstrap,
 * webhook-certs) against it, and the image definition (Dockerfile) with its bundle step run here.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { HELP, MAIN_HELP } from '../../cli/help.ts';
import { run } from '../../cli/virtrigaud.ts';
import { startNats } from '../../scripts/stack/nats.ts';
import { freshNamespace, k, testCluster } from '../support/cluster.ts';
import { aVirtualMachine, toYaml } from '../support/manifests.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'cli/bin.mjs');

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** Runs the CLI as a process (package.json's bin). */
function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Environment variable names a configuration module reads. */
function envNames(...files: string[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/(?:env\.|env\[['"]|\b(?:text|int|label|optionalPort|number|value|ms)\(')([A-Z][A-Z0-9_]{3,})/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

describe('virtrigaud CLI', function () {
  this.timeout(60_000);

  describe('help and usage', () => {
    it('lists every command, and each one\'s --help exits 0', async () => {
      const top = await cli('--help');
      assert.equal(top.code, 0);
      for (const c of ['webhook', 'dispatcher', 'agent <type>', 'up', 'down', 'status', 'vm list', 'vm console <name>', 'nats-bootstrap', 'webhook-certs']) {
        assert.ok(top.out.includes(`  ${c}`), `main help names ${c}`);
      }
      for (const c of Object.keys(HELP)) {
        const r = await cli(c, '--help');
        assert.equal(r.code, 0, c);
        assert.equal(r.out, HELP[c]);
      }
      assert.equal((await cli('help', 'vm')).out, HELP.vm);
    });

    it('documents every environment variable the webhook, the dispatcher and the agents read', () => {
      const missing = (help: string, names: string[]) => names.filter((n) => !help.includes(n));
      assert.deepEqual(missing(HELP.webhook!, envNames('webhook/config.ts')), []);
      assert.deepEqual(missing(HELP.dispatcher!, envNames('dispatcher/config.ts', 'dispatcher/providers/config.ts')), []);
      assert.deepEqual(missing(HELP.agent!, envNames('provider-agents/core/config.ts', 'provider-agents/core/connection.ts', 'provider-agents/core/nats-auth.ts', 'provider-agents/mock/config.ts')), []);
      assert.ok(envNames('provider-agents/core/config.ts').includes('AGENT_PROVIDER_NAME'), 'the scan finds names');
    });

    it('refuses an unknown command, a bad flag or a missing argument with exit 2 and a pointer to --help', async () => {
      const unknown = spawnCli(['frobnicate']);
      assert.equal(unknown.code, 2);
      assert.equal(unknown.err, 'virtrigaud: unknown command "frobnicate"\nRun \'virtrigaud --help\' for usage.\n');
      const badType = spawnCli(['agent', 'hyperv']);
      assert.equal(badType.code, 2);
      assert.match(badType.err, /unknown agent type "hyperv": use one of vsphere, libvirt, proxmox, mock\nRun 'virtrigaud agent --help'/);
      const badFlag = await cli('vm', 'list', '--bogus');
      assert.equal(badFlag.code, 2);
      assert.match(badFlag.err, /Unknown option '--bogus'[\s\S]*Run 'virtrigaud vm --help'/);
      assert.equal((await cli('vm', 'console')).code, 2);
      assert.equal((await cli('vm', 'list', '-A', '-n', 'x')).err, "virtrigaud: use either --namespace or --all-namespaces\nRun 'virtrigaud vm --help' for usage.\n");
      assert.match((await cli()).out, /^Usage: virtrigaud <command>/);
      assert.equal(MAIN_HELP.includes('Exit codes: 0 done, 1 failed, 2 wrong usage.'), true);
    });
  });

  describe('process commands start the existing entries', () => {
    it('dispatcher and webhook: their own configuration checks answer (exit 2)', () => {
      const d = spawnCli(['dispatcher'], { NATS_URL: '' });
      assert.equal(d.code, 2);
      assert.match(d.err, /invalid dispatcher configuration:\n {2}- NATS_URL: required/);
      const w = spawnCli(['webhook'], { WEBHOOK_LOG_LEVEL: 'loud' });
      assert.equal(w.code, 2);
      assert.match(w.out + w.err, /WEBHOOK_LOG_LEVEL/);
    });

    it('agent mock: runs an agent against a real nats-server and stops cleanly on SIGTERM', async () => {
      const nats = await startNats();
      const child = spawn(process.execPath, [BIN, 'agent', 'mock'], {
        env: { ...process.env, NATS_URL: nats.url, AGENT_PROVIDER_NAMESPACE: 'cli', AGENT_PROVIDER_NAME: 'm1', AGENT_METRICS_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        const deadline = Date.now() + 20_000;
        while (!out.includes('agent process ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        assert.match(out, /agent process ready/);
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await nats.stop();
      }
    });
  });

  describe('against the test cluster', () => {
    let kubeconfig: string;
    let ns: string;
    before(async () => {
      kubeconfig = (await testCluster()).kubeconfig;
      ns = await freshNamespace('cli');
      const vms = [aVirtualMachine('web-1', ns), aVirtualMachine('db-1', ns, { spec: { providerRef: { name: 'kvm', namespace: 'infra' } } })];
      assert.equal((await k(['apply', '--server-side', '--field-manager=test', '-f', '-'], toYaml(...vms))).code, 0);
      const status = { status: { phase: 'Running', ips: ['10.0.0.5', '10.0.0.6'], consoleURL: 'vnc://kvm.example.com:5901', conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: '', lastTransitionTime: '2026-11-25T00:00:00Z' }] } };
      const r = await k(['patch', 'vm', '-n', ns, 'web-1', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
      assert.equal(r.code, 0, r.stderr);
    });

    it('vm list: one line per VM with provider, phase, Ready and IPs', async () => {
      const r = await cli('vm', 'list', '-n', ns, '--kubeconfig', kubeconfig);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
      assert.deepEqual(lines, [
        ['NAME', 'PROVIDER', 'PHASE', 'READY', 'IPS'],
        ['db-1', 'infra/kvm'],
        ['web-1', 'libvirt-local', 'Running', 'True', '10.0.0.5,10.0.0.6'],
      ]);
      const all = await cli('vm', 'list', '-A', '--kubeconfig', kubeconfig);
      assert.match(all.out, /^NAMESPACE\s+NAME/);
      assert.ok(all.out.includes(`${ns}   web-1`) || new RegExp(`${ns}\\s+web-1`).test(all.out));
      const empty = await cli('vm', 'list', '-n', 'kube-public', '--kubeconfig', kubeconfig);
      assert.equal(empty.code, 0);
      assert.equal(empty.err, 'no VirtualMachines in namespace kube-public\n');
    });

    it('vm console: prints the console URL, or says why there is none (exit 1)', async () => {
      assert.deepEqual(await cli('vm', 'console', 'web-1', '-n', ns, '--kubeconfig', kubeconfig), { code: 0, out: 'vnc://kvm.example.com:5901\n', err: '' });
      const none = await cli('vm', 'console', 'db-1', '-n', ns, '--kubeconfig', kubeconfig);
      assert.equal(none.code, 1);
      assert.equal(none.err, `VirtualMachine ${ns}/db-1 has no console URL yet (status.consoleURL is empty; phase unknown)\n`);
      const missing = await cli('vm', 'console', 'nope', '-n', ns, '--kubeconfig', kubeconfig);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /cannot read VirtualMachine .*\/nope: .*not found/);
    });

    it('status: the cluster\'s Providers and VMs by phase', async () => {
      const r = await cli('status', '--kubeconfig', kubeconfig);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /cluster: https:\/\/127\.0\.0\.1:\d+/);
      assert.match(r.out, /\d+ VirtualMachines?: .*Running/);
    });

    it('nats-bootstrap: makes the bus trust once, restores the server Secret from the account Secret, and the result runs a NATS server', async () => {
      const bns = await freshNamespace('natsboot');
      const first = await cli('nats-bootstrap', '--namespace', bns, '--kubeconfig', kubeconfig);
      assert.equal(first.code, 0, first.err);
      const secret = async (name: string) => JSON.parse((await k(['get', 'secret', '-n', bns, name, '-o', 'json'])).stdout) as { data: Record<string, string> };
      const account = await secret('virtrigaud-nats-account');
      assert.deepEqual(Object.keys(account.data).sort(), ['account', 'auth.conf', 'dispatcher.creds', 'signing-key.nk', 'system.creds']);
      const again = await cli('nats-bootstrap', '--namespace', bns, '--kubeconfig', kubeconfig);
      assert.match(again.out, /exists; keeping it[\s\S]*exists; keeping it/);
      assert.deepEqual((await secret('virtrigaud-nats-account')).data, account.data, 'nothing generated twice');
      assert.equal((await k(['delete', 'secret', '-n', bns, 'virtrigaud-nats-auth'])).code, 0);
      assert.match((await cli('nats-bootstrap', '--namespace', bns, '--kubeconfig', kubeconfig)).out, /created Secret .*virtrigaud-nats-auth/);
      const authConf = Buffer.from((await secret('virtrigaud-nats-auth')).data['auth.conf']!, 'base64').toString();
      const nats = await startNats({ extraConfig: authConf });
      try {
        const nc = await connect({ servers: nats.url, authenticator: credsAuthenticator(Buffer.from(account.data['dispatcher.creds']!, 'base64')) });
        await nc.flush();
        await nc.close();
      } finally {
        await nats.stop();
      }
    });

    it('webhook-certs: a CA and a serving certificate for the Service, the caBundle on every webhook, kept on a re-run', async () => {
      const name = `vr-cli-test-${process.pid}`;
      const hook = (kind: string, prefix: string) => ({
        apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name },
        webhooks: ['a', 'b'].map((w) => ({
          name: `${prefix}${w}.test.virtrigaud.io`, admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Ignore',
          clientConfig: { service: { namespace: ns, name: 'virtrigaud-webhook', path: '/x' } },
          // Matches no namespace: registering it changes nothing for other tests.
          namespaceSelector: { matchLabels: { 'vr-cli-test': 'never' } },
          rules: [{ apiGroups: ['infra.virtrigaud.io'], apiVersions: ['v1beta1'], operations: ['CREATE'], resources: ['vmclasses'] }],
        })),
      });
      assert.equal((await k(['apply', '-f', '-'], `${stringify(hook('ValidatingWebhookConfiguration', 'v'))}---\n${stringify(hook('MutatingWebhookConfiguration', 'm'))}`)).code, 0);
      try {
        const r = await cli('webhook-certs', '--namespace', ns, '--webhook-name', name, '--kubeconfig', kubeconfig);
        assert.equal(r.code, 0, r.err);
        const s = JSON.parse((await k(['get', 'secret', '-n', ns, 'virtrigaud-webhook-tls', '-o', 'json'])).stdout) as { type: string; data: Record<string, string> };
        assert.equal(s.type, 'kubernetes.io/tls');
        const cert = new X509Certificate(Buffer.from(s.data['tls.crt']!, 'base64'));
        const ca = new X509Certificate(Buffer.from(s.data['ca.crt']!, 'base64'));
        assert.equal(cert.subjectAltName, `DNS:virtrigaud-webhook.${ns}.svc, DNS:virtrigaud-webhook.${ns}.svc.cluster.local`);
        assert.ok(cert.verify(ca.publicKey), 'signed by the CA');
        for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
          const cfg = JSON.parse((await k(['get', kind, name, '-o', 'json'])).stdout) as { webhooks: Array<{ clientConfig: { caBundle?: string } }> };
          assert.deepEqual(cfg.webhooks.map((w) => w.clientConfig.caBundle), [s.data['ca.crt'], s.data['ca.crt']]);
        }
        const again = await cli('webhook-certs', '--namespace', ns, '--webhook-name', name, '--kubeconfig', kubeconfig);
        assert.match(again.out, /valid for 30 more days; keeping it/);
        const s2 = JSON.parse((await k(['get', 'secret', '-n', ns, 'virtrigaud-webhook-tls', '-o', 'json'])).stdout) as { data: Record<string, string> };
        assert.equal(s2.data['tls.crt'], s.data['tls.crt']);
      } finally {
        await k(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', name, '--ignore-not-found']);
      }
    });
  });

  describe('the image definition', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

    it('copies only files that exist, and runs `virtrigaud` as a non-root user', () => {
      const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
      assert.ok(sources.length >= 8);
      for (const s of sources) assert.ok(existsSync(join(ROOT, s)), `Dockerfile copies ${s}, which exists`);
      assert.match(dockerfile, /^ENTRYPOINT \["virtrigaud"\]$/m);
      assert.match(dockerfile, /^USER 65532:65532$/m);
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      const bin = join(ROOT, pkg.bin.virtrigaud!);
      assert.ok(statSync(bin).mode & 0o111, `${pkg.bin.virtrigaud} is executable`);
    });

    it('its bundle step makes a `virtrigaud` that runs (the esbuild command of the Dockerfile, here)', () => {
      const step = /^RUN npx esbuild (.+?) --outdir=(\S+) (.*)$/m.exec(dockerfile.replace(/\\\n\s*/g, ''));
      assert.ok(step, 'the Dockerfile bundles with esbuild');
      // Inside node_modules so the bundle resolves its (external) packages as in the image.
      const outDir = join(ROOT, 'node_modules/.cache/virtrigaud-cli-test');
      mkdirSync(outDir, { recursive: true });
      const outfile = join(outDir, 'virtrigaud.mjs');
      const args = [...step[1]!.split(/\s+/), `--outdir=${outDir}`, ...step[3]!.trim().split(/\s+/)];
      const built = spawnSync(join(ROOT, 'node_modules/.bin/esbuild'), args, { cwd: ROOT, encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
      const help = spawnSync(process.execPath, [outfile, 'agent', '--help'], { encoding: 'utf8' });
      assert.equal(help.status, 0, help.stderr);
      assert.equal(help.stdout, HELP.agent);
      const bad = spawnSync(process.execPath, [outfile, 'dispatcher'], { encoding: 'utf8', env: { ...process.env, NATS_URL: '' } });
      assert.equal(bad.status, 2, 'the bundle includes the dispatcher entry');
    });
  });
});
