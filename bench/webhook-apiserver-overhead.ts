/**
 * What the admission webhooks cost a user's `kubectl apply`: N VirtualMachine creates through the
 * real apiserver without webhooks, with the real webhooks registered (validating + mutating, real
 * rules, informer-backed lookups), and without again (to cancel drift). Target: overhead ≤ 10 %.
 *
 * Between them, the same creates with an allow-all webhook registered the same way (a bare
 * node:https handler that parses each review and allows it: no rules, no caches, no patch): the
 * floor any webhook process pays for the apiserver's two calls per create. On a machine where
 * the apiserver already uses every core, throughput falls by the CPU the calls add (in the
 * apiserver and in the webhook), so each phase also reports CPU seconds per process (from
 * /proc), the CPU of processes outside the benchmark (another job on the machine makes the run
 * unfit to judge) and the load average.
 *
 *   npx tsx bench/webhook-apiserver-overhead.ts [--count 1000] [--concurrency 16] [--rounds 1] [--warm-up 250]
 *
 * Every phase first makes --warm-up creates that are not measured (the apiserver's first creates,
 * a webhook's first reviews and its connections are slower than a running system's).
 * --rounds repeats [allow-all, webhooks, no webhook] and reports the median overhead.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { API_VERSION } from '../api/crd.ts';
import { startControlPlane, type ControlPlane } from '../scripts/stack/control-plane.ts';
import { installCrds } from '../scripts/stack/crds.ts';
import { sleep } from '../scripts/stack/processes.ts';
import { registerWebhooks, startLocalWebhook, unregisterWebhooks, webhookServingCert } from '../scripts/stack/webhook.ts';
import { webhookConfigurations } from '../webhook/registration.ts';
import { cpuSnapshot, cpuUsed, loadAverage } from './lib/cpu.ts';
import { KubeHttp } from './lib/kube-http.ts';
import { formatPhase, runPhase, type PhaseResult } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '1' },
    'warm-up': { type: 'string', default: '250' },
  },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const WARM_UP = Number(values['warm-up']);
const ALLOW_ALL = new URL('./lib/allow-all-webhook.ts', import.meta.url).pathname;

// ---- webhook counters -------------------------------------------------------------------

interface WebhookCounts {
  validate: number;
  mutate: number;
  connections: number;
}

function httpsGet(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

/** Reviews by mode and TLS connections, from the real webhook's /metrics. */
async function realCounts(url: string, ca: Buffer): Promise<WebhookCounts> {
  const counts = { validate: 0, mutate: 0, connections: 0 };
  for (const line of (await httpsGet(`${url}/metrics`, ca)).split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('virtrigaud_webhook_requests_total{path="/validate-')) counts.validate += value;
    else if (line.startsWith('virtrigaud_webhook_requests_total{path="/mutate-')) counts.mutate += value;
    else if (line.startsWith('virtrigaud_webhook_tls_connections_total ')) counts.connections += value;
  }
  return counts;
}

// ---- the workload -----------------------------------------------------------------------

let namespaces = 0;

async function seed(http: KubeHttp): Promise<string> {
  const ns = `bench-${++namespaces}`;
  await http.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const base = `/apis/${API_VERSION}/namespaces/${ns}`;
  await http.send('POST', `${base}/providers`, { apiVersion: API_VERSION, kind: 'Provider', metadata: { name: 'vc' },
    spec: { type: 'vsphere', endpoint: 'https://vcenter.example.com/sdk', credentialSecretRef: { name: 'vc' }, runtime: { mode: 'Remote', image: 'x:y' } } });
  await http.send('POST', `${base}/vmclasses`, { apiVersion: API_VERSION, kind: 'VMClass', metadata: { name: 'small' },
    spec: { cpu: 2, memory: '4Gi', firmware: 'UEFI', securityProfile: { secureBoot: true } } });
  await http.send('POST', `${base}/vmimages`, { apiVersion: API_VERSION, kind: 'VMImage', metadata: { name: 'img' },
    spec: { source: { vsphere: { templateName: 'ubuntu' } } } });
  return ns;
}

interface Phase {
  result: PhaseResult;
  cpu: Record<string, number>;
  load: number;
  webhook?: WebhookCounts;
}

async function createVMs(http: KubeHttp, ns: string, count: number, label: string): Promise<PhaseResult> {
  return runPhase(label, count, CONCURRENCY, async (i) => {
    await http.send('POST', `/apis/${API_VERSION}/namespaces/${ns}/virtualmachines`, {
      apiVersion: API_VERSION, kind: 'VirtualMachine', metadata: { name: `vm-${i}` },
      spec: { providerRef: { name: 'vc' }, classRef: { name: 'small' }, imageRef: { name: 'img' },
        networks: [{ name: 'lan', ipAddress: `10.${Math.floor(i / 250)}.${i % 250}.10`, prefix: 16, gateway: `10.${Math.floor(i / 250)}.0.1` }] },
    });
  });
}

/**
 * One phase: WARM_UP creates in a namespace of their own (not measured: connections, caches and
 * JIT warm up as in a webhook that has been running a while), then COUNT measured creates.
 */
async function creates(http: KubeHttp, label: string, pids: Record<string, number>, counts?: () => Promise<WebhookCounts>): Promise<Phase> {
  if (WARM_UP > 0) await createVMs(http, await seed(http), WARM_UP, `${label} (warm-up)`);
  const ns = await seed(http);
  // Let the seed's watch events and the warm-up's stragglers settle.
  await sleep(500);
  const load = loadavg()[0]!;
  const counts0 = await counts?.();
  const cpu0 = cpuSnapshot(pids);
  const result = await createVMs(http, ns, COUNT, label);
  // The webhook's informers receive the last creates' watch events just after the last reply.
  await sleep(200);
  const cpu = cpuUsed(cpu0, cpuSnapshot(pids));
  const phase: Phase = { result, cpu, load };
  if (counts && counts0) {
    const c = await counts();
    phase.webhook = { validate: c.validate - counts0.validate, mutate: c.mutate - counts0.mutate, connections: c.connections - counts0.connections };
  }
  console.log(describe(phase));
  return phase;
}

const per1000 = (seconds: number) => (seconds * 1000) / COUNT;

function describe(p: Phase): string {
  const cpu = Object.entries(p.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  let line = `${formatPhase(p.result)}\n    CPU s: ${cpu} | load ${p.load.toFixed(2)}`;
  if (p.webhook) {
    const { validate, mutate, connections } = p.webhook;
    line += `\n    webhook: ${validate} validating + ${mutate} mutating reviews; ${connections} new TLS connections `
      + '(handshakes) during the phase, the warm-up\'s kept alive';
  }
  return line;
}

/** The allow-all webhook as a child process, registered like the real one. */
async function startAllowAll(cp: ControlPlane, http: KubeHttp): Promise<{ pid: number; counts: () => Promise<WebhookCounts>; stop: () => Promise<void> }> {
  const tls = await webhookServingCert(cp, join(cp.dir, 'webhook-allow-all'));
  const child = spawn(process.execPath, ['--import', 'tsx', ALLOW_ALL, tls.cert, tls.key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`allow-all webhook exited (${code}) before listening`)));
  });
  const url = `https://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  const ca = readFileSync(cp.pki.caCert);
  const counts = async () => JSON.parse(await httpsGet(`${url}/stats`, ca)) as WebhookCounts;
  const name = 'allow-all';
  await registerWebhooks(cp, webhookConfigurations({
    name, clientConfig: (path) => ({ url: `${url}${path}`, caBundle: ca.toString('base64') }),
  }));
  // Wait until the apiserver calls it (a server-side dry run).
  const probe = `/apis/${API_VERSION}/namespaces/default/vmclasses?dryRun=All`;
  for (const deadline = Date.now() + 15_000; ;) {
    await http.send('POST', probe, { apiVersion: API_VERSION, kind: 'VMClass', metadata: { name: 'probe' }, spec: { cpu: 1, memory: '1Gi' } });
    const c = await counts();
    if (c.validate + c.mutate > 0) break;
    if (Date.now() > deadline) throw new Error('the apiserver never called the allow-all webhook');
    await sleep(100);
  }
  return {
    pid: child.pid!,
    counts,
    stop: async () => {
      await unregisterWebhooks(cp, name);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const cp = await startControlPlane({ controllerManager: false });
const http = new KubeHttp(cp.identity, CONCURRENCY);
try {
  await installCrds(cp.binaries.kubectl, cp.kubeconfig);
  const base: Record<string, number> = Object.fromEntries(cp.processes.map((p) => [p.name, p.pid]));
  console.log(`${COUNT} VirtualMachine creates (with a static IP each) at concurrency ${CONCURRENCY}, keep-alive HTTPS,`
    + ` each phase after ${WARM_UP} unmeasured creates,`);
  console.log('real etcd + kube-apiserver; the webhook is webhook/main.ts as its own process with the real rules.');
  console.log(`load average at start: ${loadAverage()}\n`);

  const plain: Phase[] = [await creates(http, 'no webhook', base)];
  const floor: Phase[] = [];
  const hooked: Phase[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const allowAll = await startAllowAll(cp, http);
    floor.push(await creates(http, 'allow-all hook', { ...base, webhook: allowAll.pid }, allowAll.counts));
    await allowAll.stop();

    const webhook = await startLocalWebhook({ cp });
    const ca = readFileSync(cp.pki.caCert);
    hooked.push(await creates(http, 'webhooks', { ...base, webhook: webhook.process!.pid }, () => realCounts(webhook.url, ca)));
    await webhook.stop();

    plain.push(await creates(http, 'no webhook again', base));
  }

  // Each webhook phase against the mean of the no-webhook phases either side of its round.
  const around = (round: number) => (plain[round]!.result.perSecond + plain[round + 1]!.result.perSecond) / 2;
  const overhead = (phases: Phase[]) => phases.map((p, round) => 1 - p.result.perSecond / around(round));
  const p50Delta = (phases: Phase[]) => phases.map((p, round) => p.result.p50Ms - (plain[round]!.result.p50Ms + plain[round + 1]!.result.p50Ms) / 2);
  const plainApiserver = median(plain.map((p) => p.cpu['kube-apiserver']!));
  const apiserverExtra = (phases: Phase[]) => median(phases.map((p) => p.cpu['kube-apiserver']! - plainApiserver));
  const others = Math.max(...[...plain, ...floor, ...hooked].map((p) => p.cpu.others!));

  console.log('\nCPU seconds per 1,000 creates (median of rounds):');
  console.log(`  no webhook:     apiserver ${per1000(plainApiserver).toFixed(2)}, etcd ${per1000(median(plain.map((p) => p.cpu.etcd!))).toFixed(2)}`);
  for (const [label, phases] of [['allow-all hook', floor], ['webhooks', hooked]] as const) {
    console.log(`  ${`${label}:`.padEnd(15)} webhook process ${per1000(median(phases.map((p) => p.cpu.webhook!))).toFixed(2)}, `
      + `apiserver +${per1000(apiserverExtra(phases)).toFixed(2)} over no webhook`);
  }
  console.log(`\noverhead (throughput against the no-webhook phases either side${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''}):`);
  console.log(`  allow-all hook (floor): ${(median(overhead(floor)) * 100).toFixed(1)} % (p50 +${median(p50Delta(floor)).toFixed(1)} ms)`);
  console.log(`  webhooks:               ${(median(overhead(hooked)) * 100).toFixed(1)} % (p50 +${median(p50Delta(hooked)).toFixed(1)} ms) (target ≤ 10 %)`);
  console.log(`  load average at end: ${loadAverage()}; CPU of other processes: up to ${others.toFixed(2)} s in a phase`
    + (others > 0.2 ? ' — something else ran on the machine: rerun when it is idle' : ''));
} finally {
  http.close();
  await cp.stop();
}
