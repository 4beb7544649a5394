/**
 * The spine's figures, measured on real servers in one run (issue "the spine"):
 *   1. throughput: N VirtualMachines applied → Ready through dispatcher → JetStream → instant mock
 *      agents → status, next to the apiserver's own create+status baseline for N VMs (ratio ≥ 0.5);
 *   2. idle: commands and status events per minute once every VM is Ready and nothing changes (0);
 *   3. scale-out: M VMs with 50 ms per mock operation, 1 agent vs 4 agents (≥ 3.5×; `--scale-vms 0` skips);
 *   4. dispatcher memory: its RSS with --rss-vms VMs (default 10,000; ≤ 150 MB) — `--rss-vms 0` skips.
 *
 *   npx tsx bench/spine.ts [--count 1000] [--concurrency 32] [--idle-seconds 60]
 *                          [--scale-vms 200] [--agent-concurrency 2] [--rss-vms 10000] [--bundled]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fromBinary } from '@bufbuild/protobuf';
import { connect } from '@nats-io/transport-node';
import { API_VERSION } from '../api/crd.ts';
import { subjects, type ProviderKey } from '../proto/bus/subjects.ts';
import { HeartbeatSchema } from '../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startControlPlane, type ControlPlane } from '../scripts/stack/control-plane.ts';
import { installCrds } from '../scripts/stack/crds.ts';
import { startNats } from '../scripts/stack/nats.ts';
import type { ManagedProcess } from '../scripts/stack/processes.ts';
import { startAgentFleet, startDispatcherProcess } from '../scripts/stack/spine.ts';
import { measureApiserverBaseline } from './apiserver-baseline.ts';
import { cpuSnapshot, cpuUsed, loadAverage } from './lib/cpu.ts';
import { KubeHttp } from './lib/kube-http.ts';
import { formatPhase, percentile, runPhase } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    'idle-seconds': { type: 'string', default: '60' },
    'scale-vms': { type: 'string', default: '200' },
    'agent-concurrency': { type: 'string', default: '2' },
    'rss-vms': { type: 'string', default: '10000' },
    // Run the dispatcher as the image does (esbuild bundle of cli/virtrigaud.ts), not under tsx.
    bundled: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const IDLE_S = Number(values['idle-seconds']);
const SCALE_VMS = Number(values['scale-vms']);
const AGENT_CONCURRENCY = values['agent-concurrency']!;
const RSS_VMS = Number(values['rss-vms']);

const MEM_REPORT = join(tmpdir(), `virtrigaud-bench-mem-${process.pid}.json`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Provider (type mock), VMClass and VMImage a namespace's VMs use. */
async function seedNamespace(http: KubeHttp, ns: string, provider: string): Promise<void> {
  await http.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const base = `/apis/${API_VERSION}/namespaces/${ns}`;
  await http.send('POST', `${base}/providers`, { apiVersion: API_VERSION, kind: 'Provider', metadata: { name: provider },
    spec: { type: 'mock', endpoint: 'mock://bench', credentialSecretRef: { name: 'none' }, runtime: { mode: 'Remote', image: 'virtrigaud:bench' } } });
  await http.send('POST', `${base}/vmclasses`, { apiVersion: API_VERSION, kind: 'VMClass', metadata: { name: 'small' }, spec: { cpu: 1, memory: '1Gi' } });
  await http.send('POST', `${base}/vmimages`, { apiVersion: API_VERSION, kind: 'VMImage', metadata: { name: 'img' },
    spec: { source: { http: { url: 'https://images.example.com/img.qcow2' } } } });
}

interface ReadyRun {
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Creates `count` VMs and waits until a watch has seen every one Ready. */
async function applyUntilReady(http: KubeHttp, ns: string, provider: string, count: number, timeoutMs: number): Promise<ReadyRun> {
  const created = new Map<string, number>();
  const ready = new Map<string, number>();
  let allReady!: () => void;
  const done = new Promise<void>((resolve) => (allReady = resolve));
  const see = (obj: Record<string, unknown>) => {
    const name = (obj.metadata as { name: string }).name;
    const conditions = ((obj.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions) ?? [];
    if (!ready.has(name) && conditions.some((c) => c.type === 'Ready' && c.status === 'True')) {
      ready.set(name, performance.now());
      if (ready.size === count) allReady();
    }
  };
  const base = `/apis/${API_VERSION}/namespaces/${ns}/virtualmachines`;
  // A watch the apiserver closed (it drops watchers that fall behind) is replaced by listing every
  // 2 s; Ready times seen that way are up to 2 s late, which the p50/p99 then include.
  let polling = false;
  const poll = async () => {
    while (polling && ready.size < count) {
      let next = '';
      do {
        const page = await http.send('GET', `${base}?limit=1000${next ? `&continue=${encodeURIComponent(next)}` : ''}`) as
          { items: Record<string, unknown>[]; metadata: { continue?: string } };
        page.items.forEach(see);
        next = page.metadata.continue ?? '';
      } while (next);
      await sleep(2000);
    }
  };
  const watch = await http.watch(`${base}?watch=1`, (_type, obj) => see(obj), () => {
    if (polling || ready.size >= count) return;
    console.log(`   (the apiserver closed the Ready watch at ${ready.size}/${count}; listing every 2 s instead)`);
    polling = true;
    void poll();
  });
  const t0 = performance.now();
  try {
    await runPhase('create', count, CONCURRENCY, async (i) => {
      const name = `vm-${i}`;
      created.set(name, performance.now());
      await http.send('POST', `/apis/${API_VERSION}/namespaces/${ns}/virtualmachines`, {
        apiVersion: API_VERSION, kind: 'VirtualMachine', metadata: { name },
        spec: { providerRef: { name: provider }, classRef: { name: 'small' }, imageRef: { name: 'img' }, powerState: 'On' },
      });
    });
    const timer = sleep(timeoutMs).then(() => { throw new Error(`only ${ready.size}/${count} VMs Ready after ${timeoutMs} ms`); });
    await Promise.race([done, timer]);
  } finally {
    polling = false;
    watch.stop();
  }
  const seconds = (Math.max(...ready.values()) - t0) / 1000;
  const latencies = [...ready].map(([name, t]) => t - created.get(name)!).sort((a, b) => a - b);
  return { seconds, perSecond: count / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/**
 * Waits until `n` agents of `provider` have sent a heartbeat (they are connected and pulling), so
 * a measurement does not include agent processes starting up.
 */
async function waitForAgents(natsUrl: string, provider: ProviderKey, n: number): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const seen = new Set<string>();
    const sub = nc.subscribe(subjects.heartbeat(provider));
    const timer = setTimeout(() => sub.unsubscribe(), 120_000);
    for await (const m of sub) {
      seen.add(fromBinary(HeartbeatSchema, m.data).agentId);
      if (seen.size >= n) break;
    }
    clearTimeout(timer);
    if (seen.size < n) throw new Error(`only ${seen.size}/${n} agents of ${provider.namespace}/${provider.name} sent a heartbeat within 120 s`);
  } finally {
    await nc.close();
  }
}

/** The image's bundle (the Dockerfile's esbuild step), inside node_modules so its packages resolve as in the image. */
function buildBundle(): string {
  const root = join(import.meta.dirname, '..');
  const dir = join(root, 'node_modules', '.cache', 'virtrigaud-bench');
  execFileSync(join(root, 'node_modules', '.bin', 'esbuild'), [
    join(root, 'cli', 'virtrigaud.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node20',
    '--packages=external', '--splitting', `--outdir=${dir}`, '--out-extension:.js=.mjs', '--log-level=warning',
  ], { stdio: 'inherit' });
  return join(dir, 'virtrigaud.mjs');
}

/** apiserver_request_total summed by verb and resource (from the apiserver's /metrics). */
async function apiserverRequests(http: KubeHttp): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await http.getText('/metrics')).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.verb === 'WATCH' || labels.verb === 'LIST') continue;
    // Refused requests (409 conflicts above all) are counted apart: they are work too.
    const refused = labels.code && !labels.code.startsWith('2') ? ` (${labels.code})` : '';
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}${refused}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function main(): Promise<void> {
  const cp: ControlPlane = await startControlPlane({ controllerManager: false });
  const nats = await startNats();
  const logs = join(cp.dir, 'logs');
  const processes: ManagedProcess[] = [];
  const http = new KubeHttp(cp.identity, CONCURRENCY + 4);
  try {
    await installCrds(cp.binaries.kubectl, cp.kubeconfig);
    console.log(`spine benchmark: real etcd + kube-apiserver, nats-server (JetStream, file store, sync always),`);
    console.log(`the dispatcher and mock agents as separate processes, on ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores.`);
    console.log(`Clients create VMs over keep-alive HTTPS (concurrency ${CONCURRENCY}); Ready is seen through a watch.\n`);

    // 1. Baseline and throughput.
    const basePids = { etcd: cp.processes[0]!.pid, apiserver: cp.processes[1]!.pid };
    const baseCpu0 = cpuSnapshot(basePids);
    const base = await measureApiserverBaseline(cp, { count: COUNT, concurrency: CONCURRENCY, namespace: 'baseline' });
    const baseCpu = cpuUsed(baseCpu0, cpuSnapshot(basePids));
    const baselinePerSecond = COUNT / (base.creates.seconds + base.statusWrites.seconds);
    console.log('1. apiserver baseline (create, then one status write per VM):');
    console.log(`   ${formatPhase(base.creates)}\n   ${formatPhase(base.statusWrites)}`);
    console.log(`   → ${baselinePerSecond.toFixed(0)} VMs/s (create + status)`);
    const cpuPerVm = (used: Record<string, number>) =>
      Object.entries(used).map(([k, v]) => `${k} ${((v * 1000) / COUNT).toFixed(2)} ms`).join(', ');
    console.log(`   CPU per VM during the baseline: ${cpuPerVm(baseCpu)}`);

    // The baseline's VMs go before the dispatcher starts: it watches every namespace and would
    // otherwise spend the spine run writing WaitingForDependencies on 1,100 VMs nobody measures.
    await http.send('DELETE', `/apis/${API_VERSION}/namespaces/baseline/virtualmachines`);
    while (((await http.send('GET', `/apis/${API_VERSION}/namespaces/baseline/virtualmachines?limit=1`)) as { items: unknown[] }).items.length) await sleep(200);

    const bundle = values.bundled ? buildBundle() : undefined;
    const dispatcher = startDispatcherProcess(cp.kubeconfig, nats.url, logs, false, {
      LOG_LEVEL: 'warn',
      // Live memory on request (phase 4); BENCH_HEAP=<dir> adds a heap snapshot written there then,
      // BENCH_PROF=<dir> a V8 CPU profile written there at exit.
      NODE_OPTIONS: [
        `--require ${join(import.meta.dirname, 'lib', 'memory-report-preload.cjs')}`,
        ...(process.env.BENCH_PROF ? [`--require ${join(import.meta.dirname, 'lib', 'cpu-profile-preload.cjs')}`] : []),
        // (startDispatcherProcess adds the Deployment's own NODE_OPTIONS, so the figures are the image's.)
        ...(process.env.BENCH_NODE_OPTIONS ? [process.env.BENCH_NODE_OPTIONS] : []),
      ].join(' '),
      VR_MEM_REPORT: MEM_REPORT,
      ...(process.env.BENCH_PROF ? { VR_CPU_PROF_DIR: process.env.BENCH_PROF } : {}),
      ...(process.env.BENCH_HEAP ? { VR_HEAP_SNAPSHOT_DIR: process.env.BENCH_HEAP } : {}),
    }, bundle);
    processes.push(dispatcher);
    await seedNamespace(http, 'spine', 'mock');
    processes.push(...startAgentFleet({ natsUrl: nats.url, provider: { namespace: 'spine', name: 'mock', type: 'mock' }, replicas: 2,
      logDir: logs, env: { AGENT_CONCURRENCY: '32', AGENT_LOG_LEVEL: 'warn' }, label: 'instant' }));
    await waitForAgents(nats.url, { namespace: 'spine', name: 'mock' }, 2);
    const agentPids = processes.slice(1).map((p) => p.pid);
    const pids: Record<string, number> = {
      etcd: cp.processes[0]!.pid, apiserver: cp.processes[1]!.pid, nats: nats.process.pid, dispatcher: dispatcher.pid,
      ...Object.fromEntries(agentPids.map((pid, i) => [`agent${i + 1}`, pid])),
    };
    const requests0 = await apiserverRequests(http);
    const cpu0 = cpuSnapshot(pids);
    const run = await applyUntilReady(http, 'spine', 'mock', COUNT, 300_000);
    const cpu = cpuUsed(cpu0, cpuSnapshot(pids));
    const requests = await apiserverRequests(http);
    console.log(`   spine: ${COUNT} VMs apply → Ready in ${run.seconds.toFixed(2)} s = ${run.perSecond.toFixed(0)} VMs/s, ` +
      `p50 ${run.p50Ms.toFixed(0)} ms, p99 ${run.p99Ms.toFixed(0)} ms (2 instant agents)`);
    console.log(`   ratio to baseline: ${(run.perSecond / baselinePerSecond).toFixed(2)} (target ≥ 0.5)`);
    // Where the time went: on a 2-core machine the run is CPU-bound, so CPU per VM is the cost.
    console.log(`   CPU per VM during the spine run: ${cpuPerVm(cpu)}`);
    // On a machine whose cores are all busy, VMs/s is at most cores / CPU-seconds per VM.
    const ours = (used: Record<string, number>) => Object.entries(used).filter(([k]) => k !== 'others').reduce((a, [, v]) => a + v, 0) / COUNT;
    console.log(`   CPU-bound ceiling of the ratio on this machine: ${(ours(baseCpu) / ours(cpu)).toFixed(2)} (baseline CPU per VM / spine CPU per VM)`);
    console.log(`   (bench = this process: creates and the Ready watch; others = anything else on the machine; load ${loadAverage()})`);
    const perVmRequests = [...requests].map(([k, n]) => [k, (n - (requests0.get(k) ?? 0)) / COUNT] as const).filter(([, n]) => n >= 0.05);
    console.log(`   apiserver requests per VM: ${perVmRequests.map(([k, n]) => `${k} ${n.toFixed(2)}`).join(', ')}\n`);

    // 2. Idle cost.
    const nc = await connect({ servers: nats.url });
    const counts = { commands: 0, events: 0, heartbeats: 0 };
    nc.subscribe('vr.cmd.>', { callback: () => { counts.commands++; } });
    nc.subscribe('vr.evt.>', { callback: () => { counts.events++; } });
    nc.subscribe('vr.hb.>', { callback: () => { counts.heartbeats++; } });
    await sleep(IDLE_S * 1000);
    await nc.close();
    const perMin = (n: number) => ((n * 60) / IDLE_S).toFixed(1);
    console.log(`2. idle, ${COUNT} Ready VMs, nothing changing, ${IDLE_S} s observed on the bus:`);
    console.log(`   commands ${perMin(counts.commands)}/min, status events ${perMin(counts.events)}/min (target 0); ` +
      `agent heartbeats ${perMin(counts.heartbeats)}/min (per agent, not per VM)\n`);

    // 3. Scale-out with 50 ms per operation.
    const scaled: Record<number, ReadyRun> = {};
    if (SCALE_VMS > 0) console.log(`3. scale-out: ${SCALE_VMS} VMs, mock operations take 50 ms, AGENT_CONCURRENCY=${AGENT_CONCURRENCY} per agent:`);
    for (const replicas of SCALE_VMS > 0 ? [1, 4] : []) {
      const ns = `scale-${replicas}`;
      await seedNamespace(http, ns, 'mock');
      const fleet = startAgentFleet({ natsUrl: nats.url, provider: { namespace: ns, name: 'mock', type: 'mock' }, replicas, logDir: logs,
        env: { AGENT_CONCURRENCY, MOCK_DELAY_MS: '50', AGENT_LOG_LEVEL: 'warn' }, label: ns });
      processes.push(...fleet);
      await waitForAgents(nats.url, { namespace: ns, name: 'mock' }, replicas);
      scaled[replicas] = await applyUntilReady(http, ns, 'mock', SCALE_VMS, 600_000);
      console.log(`   ${replicas} agent(s): ${scaled[replicas]!.perSecond.toFixed(1)} VMs/s (p50 ${scaled[replicas]!.p50Ms.toFixed(0)} ms)`);
      await Promise.all(fleet.map((a) => a.stop()));
    }
    if (SCALE_VMS > 0) console.log(`   4 agents / 1 agent: ${(scaled[4]!.perSecond / scaled[1]!.perSecond).toFixed(2)}× (target ≥ 3.5×)\n`);

    // 4. Dispatcher memory at RSS_VMS VMs.
    if (RSS_VMS > 0) {
      const before = rssMiB(dispatcher.pid);
      await seedNamespace(http, 'rss', 'mock');
      processes.push(...startAgentFleet({ natsUrl: nats.url, provider: { namespace: 'rss', name: 'mock', type: 'mock' }, replicas: 2,
        logDir: logs, env: { AGENT_CONCURRENCY: '32', AGENT_LOG_LEVEL: 'warn' }, label: 'rss' }));
      await waitForAgents(nats.url, { namespace: 'rss', name: 'mock' }, 2);
      const r = await applyUntilReady(http, 'rss', 'mock', RSS_VMS, 1_800_000);
      await sleep(5000);
      const after = rssMiB(dispatcher.pid);
      console.log(`4. dispatcher memory with ${RSS_VMS + COUNT + 2 * SCALE_VMS} VMs cached (${RSS_VMS} more Ready in ${r.seconds.toFixed(0)} s):`);
      console.log(`   RSS ${after.rss.toFixed(0)} MiB (peak ${after.peak.toFixed(0)} MiB; ${before.rss.toFixed(0)} MiB before) (target ≤ 150 MB)`);
      // Live memory: a full GC first (RSS keeps garbage V8 has not collected, and heap it keeps reserved).
      process.kill(dispatcher.pid, 'SIGUSR2');
      await sleep(process.env.BENCH_HEAP ? 30_000 : 3000);
      const live = JSON.parse(readFileSync(MEM_REPORT, 'utf8')) as NodeJS.MemoryUsage & { spaces: Record<string, number> };
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
      console.log(`   after a full GC: RSS ${rssMiB(dispatcher.pid).rss.toFixed(0)} MiB, V8 heap used ${mib(live.heapUsed)} of ${mib(live.heapTotal)}, ` +
        `external ${mib(live.external)} (array buffers ${mib(live.arrayBuffers)} of it)`);
      console.log(`   V8 spaces used: ${Object.entries(live.spaces).filter(([, b]) => b > 2 ** 20).map(([k, b]) => `${k} ${mib(b)}`).join(', ')}`);
      console.log(values.bundled ? '   (the dispatcher runs the image\'s esbuild bundle)' : '   (the dispatcher runs under tsx here: TypeScript compiled in-process; --bundled runs the image\'s bundle)');
    }
  } finally {
    http.close();
    await Promise.all(processes.map((p) => p.stop()));
    await nats.stop();
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
