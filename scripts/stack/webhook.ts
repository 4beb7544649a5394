/**
 * The admission webhook on the local stack: a serving certificate signed by the control plane's
 * CA, the server on a free loopback port (in this process with given rules, or as a child process
 * running webhook/main.ts with the real ones), and Validating/Mutating WebhookConfigurations that
 * point the apiserver at https://127.0.0.1:<port>/… with that CA as caBundle.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { loadConfig } from '../../webhook/config.ts';
import { silentLogger, type Logger } from '../../webhook/log.ts';
import { DEFAULT_CONFIGURATION_NAME, webhookConfigurations, type LabelSelector } from '../../webhook/registration.ts';
import type { RuleSet } from '../../webhook/server/index.ts';
import { loadKubeConfig, startWebhook, type RunningWebhook } from '../../webhook/start.ts';
import type { ControlPlane } from './control-plane.ts';
import { kubectl, kubectlOk } from './kubectl.ts';
import { serverExt, signLeaf } from './pki.ts';
import { freePort, sleep, startOnFreePorts, startProcess, waitReady, type ManagedProcess } from './processes.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const READY_TIMEOUT_MS = 30_000;
const ACTIVE_TIMEOUT_MS = 15_000;

export type WebhookControlPlane = Pick<ControlPlane, 'dir' | 'pki' | 'kubeconfig' | 'binaries'>;

export interface LocalWebhookOptions {
  cp: WebhookControlPlane;
  /** Serve these rules in this process (tests). Omitted: a child process with the real rules of webhook/kinds. */
  rules?: RuleSet;
  /** Name of the two configurations (default `virtrigaud`); tests use their own so they never collide. */
  name?: string;
  /** Only objects in matching namespaces go to the webhook (tests keep the shared cluster usable). */
  namespaceSelector?: LabelSelector;
  /** Kinds to register (default all ten). */
  kinds?: readonly string[];
  /**
   * A namespace the selector admits: after registering, a server-side dry-run create of a VMClass
   * there is repeated until the server sees it, so the apiserver is known to call the webhooks.
   * Default `default`; `false` (or `kinds` without VMClass) skips the wait.
   */
  probeNamespace?: string | false;
  /** In-process server logs (default silent). */
  log?: Logger;
  /** Child process outlives this one (for `up`); its pid is in LocalWebhook.process. */
  detached?: boolean;
}

export interface LocalWebhook {
  url: string;
  port: number;
  certFile: string;
  keyFile: string;
  /** Base64 of the CA certificate the configurations carry. */
  caBundle: string;
  name: string;
  /** In-process server (with `rules`). */
  running?: RunningWebhook;
  /** Child process (without `rules`). */
  process?: ManagedProcess;
  /** Deletes the configurations first (so the apiserver stops calling), then stops the server. */
  stop(): Promise<void>;
}

/** A serving certificate for 127.0.0.1 and localhost, signed by the control plane's CA. */
export async function webhookServingCert(cp: WebhookControlPlane, dir: string): Promise<{ cert: string; key: string }> {
  mkdirSync(dir, { recursive: true });
  return signLeaf(dir, 'webhook', '/CN=virtrigaud-webhook', serverExt(['localhost'], ['127.0.0.1']),
    { cert: cp.pki.caCert, key: cp.pki.caKey });
}

/** GET over HTTPS trusting only `caFile`; resolves status and body. */
function getWithCa(url: string, caFile: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caFile), timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Admission requests the server has answered so far, from its /metrics. */
async function answeredRequests(url: string, caFile: string): Promise<number> {
  const { body } = await getWithCa(`${url}/metrics`, caFile);
  let total = 0;
  for (const line of body.split('\n')) {
    if (line.startsWith('virtrigaud_webhook_requests_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export async function registerWebhooks(cp: WebhookControlPlane, configurations: { validating: object; mutating: object }): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: [configurations.validating, configurations.mutating] };
  await kubectlOk(cp.binaries.kubectl, cp.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(list) });
}

export async function unregisterWebhooks(cp: WebhookControlPlane, name: string): Promise<void> {
  await kubectlOk(cp.binaries.kubectl, cp.kubeconfig, ['delete', '--ignore-not-found',
    `validatingwebhookconfiguration/${name}`, `mutatingwebhookconfiguration/${name}`]);
}

/** Repeats a dry-run create in `namespace` until the server has answered one: the apiserver now calls it. */
async function waitUntilCalled(cp: WebhookControlPlane, url: string, namespace: string): Promise<void> {
  const probe = JSON.stringify({
    apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMClass',
    metadata: { name: 'webhook-probe', namespace }, spec: { cpu: 1, memory: '1Gi' },
  });
  const before = await answeredRequests(url, cp.pki.caCert);
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    await kubectl(cp.binaries.kubectl, cp.kubeconfig, ['create', '--dry-run=server', '-f', '-'], { input: probe });
    if ((await answeredRequests(url, cp.pki.caCert)) > before) return;
    if (Date.now() > deadline) throw new Error(`the apiserver has not called the webhook at ${url} within ${ACTIVE_TIMEOUT_MS} ms`);
    await sleep(100);
  }
}

async function startInProcess(cp: WebhookControlPlane, rules: RuleSet, tls: { cert: string; key: string }, log: Logger): Promise<RunningWebhook> {
  const config = { ...loadConfig({}), host: '127.0.0.1', port: 0, certFile: tls.cert, keyFile: tls.key };
  const running = await startWebhook({ config, rules, log, kubeConfig: loadKubeConfig(cp.kubeconfig) });
  const timeout = sleep(READY_TIMEOUT_MS).then(() => {
    throw new Error(`webhook caches did not sync within ${READY_TIMEOUT_MS} ms`);
  });
  try {
    await Promise.race([running.caches.synced(), timeout]);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}

async function startChild(cp: WebhookControlPlane, dir: string, tls: { cert: string; key: string }, detached: boolean): Promise<{ proc: ManagedProcess; port: number }> {
  const { proc, ports: [port] } = await startOnFreePorts(freePort, ([p]) => startProcess({
    name: 'webhook',
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'webhook/main.ts')],
    logFile: join(dir, 'webhook.log'),
    detached,
    env: {
      ...process.env,
      KUBECONFIG: cp.kubeconfig,
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(p),
      WEBHOOK_TLS_CERT_FILE: tls.cert,
      WEBHOOK_TLS_KEY_FILE: tls.key,
    },
  }), 1, (p, [port]) => waitReady(p, async () => (await getWithCa(`https://127.0.0.1:${port}/readyz`, cp.pki.caCert)).status === 200, READY_TIMEOUT_MS));
  return { proc, port: port! };
}

/** Starts the webhook on loopback and registers it with the local apiserver. */
export async function startLocalWebhook(opts: LocalWebhookOptions): Promise<LocalWebhook> {
  const { cp } = opts;
  const name = opts.name ?? DEFAULT_CONFIGURATION_NAME;
  const dir = join(cp.dir, `webhook-${name}`);
  // 1. Certificate from the control plane's CA.
  const tls = await webhookServingCert(cp, dir);
  const caBundle = readFileSync(cp.pki.caCert).toString('base64');

  // 2. Server: in this process with the given rules, or a child with the real ones.
  let running: RunningWebhook | undefined;
  let child: ManagedProcess | undefined;
  let port: number;
  if (opts.rules) {
    running = await startInProcess(cp, opts.rules, tls, opts.log ?? silentLogger);
    port = running.server.port;
  } else {
    ({ proc: child, port } = await startChild(cp, dir, tls, opts.detached ?? false));
  }
  const url = `https://127.0.0.1:${port}`;
  const stopServer = async () => {
    await running?.stop();
    await child?.stop();
  };

  // 3. Registration, then wait until the apiserver really calls us.
  const configurations = webhookConfigurations({
    name,
    clientConfig: (path) => ({ url: `${url}${path}`, caBundle }),
    namespaceSelector: opts.namespaceSelector,
    kinds: opts.kinds,
  });
  try {
    await registerWebhooks(cp, configurations);
    // The probe is a VMClass: without VMClass registered there is nothing to probe with.
    const probing = opts.probeNamespace !== false && (!opts.kinds || opts.kinds.includes('VMClass'));
    if (probing) await waitUntilCalled(cp, url, opts.probeNamespace || 'default');
  } catch (err) {
    await unregisterWebhooks(cp, name).catch(() => {});
    await stopServer();
    throw err;
  }
  return {
    url, port, certFile: tls.cert, keyFile: tls.key, caBundle, name,
    ...(running ? { running } : {}),
    ...(child ? { process: child } : {}),
    stop: async () => {
      try {
        await unregisterWebhooks(cp, name);
      } finally {
        await stopServer();
      }
    },
  };
}
