/**
 * Proxmox driver throughput against the fake PVE API (test/fakes/proxmox), in-process.
 *
 * Each "create" is what the agent runtime does for a new VM's reconcile command: find → create →
 * reconfigure → power on → record generation, retried like the runtime retries a command (a
 * TransientError is nak'd and redelivered after its backoff; here: after retryAfterMs or 200 ms,
 * up to 10 attempts).
 *
 *   1. fresh:     N creates of blank VMs at concurrency C, one driver;
 *   2. contended: N creates cloning ONE template, split over two drivers (two agent replicas),
 *                 with the fake's storage lock held 40 ms per allocation and a 60 ms lock timeout,
 *                 so clone tasks fail with "can't lock file …pve-storage-local-lvm - got timeout"
 *                 and are retried; then every create is delivered again to the other replica
 *                 (redelivery), which must find the VM instead of making a second one.
 * Afterwards it checks: every uid on exactly one VM, no VM left locked, no task running, no error.
 *
 *   npx tsx bench/proxmox-creates.ts [--count 200] [--concurrency 20] [--pace-ms 20]
 */
import { parseArgs } from 'node:util';
import { PowerState, type DesiredVM } from '../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { TransientError } from '../provider-agents/core/errors.ts';
import type { ProxmoxDriver } from '../provider-agents/proxmox/driver.ts';
import { aVm, driverFor, opCtx } from '../test/fakes/proxmox/fixtures.ts';
import { FakePve } from '../test/fakes/proxmox/server.ts';
import { cpuSnapshot, cpuUsed } from './lib/cpu.ts';
import { percentile } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
    'pace-ms': { type: 'string', default: '20' },
  },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const PACE = Number(values['pace-ms']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  latenciesMs: number[];
  retries: number;
  failures: string[];
  seconds: number;
}

/** The runtime's reconcile for a new VM, with its retry of transient failures. */
async function reconcile(d: ProxmoxDriver, uid: string, desired: DesiredVM, counters: { retries: number }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const ctx = opCtx(1n);
      let vm = await d.find(uid);
      if (!vm) vm = await d.create(uid, desired, ctx);
      vm = (await d.reconfigure(vm, desired, ctx)).vm;
      if (vm.powerState !== PowerState.ON) vm = await d.setPower(vm, PowerState.ON, 0, ctx);
      await d.recordGeneration(vm, 1n, ctx);
      return;
    } catch (err) {
      if (!(err instanceof TransientError) || attempt >= 10) throw err;
      counters.retries++;
      await sleep(err.retryAfterMs ?? 200);
    }
  }
}

async function run(uids: string[], concurrency: number, work: (uid: string, i: number, counters: { retries: number }) => Promise<void>): Promise<Outcome> {
  const out: Outcome = { latenciesMs: [], retries: 0, failures: [], seconds: 0 };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, uids.length) }, async () => {
    for (let i = next++; i < uids.length; i = next++) {
      const s = performance.now();
      try {
        await work(uids[i]!, i, out);
        out.latenciesMs.push(performance.now() - s);
      } catch (err) {
        out.failures.push(`${uids[i]}: ${(err as Error).message}`);
      }
    }
  }));
  out.seconds = (performance.now() - t0) / 1000;
  out.latenciesMs.sort((a, b) => a - b);
  return out;
}

function report(name: string, o: Outcome, requests: number, n: number): void {
  const perCreate = requests / n;
  console.log(`${name.padEnd(10)} ${n} creates in ${o.seconds.toFixed(2)} s  ${(o.latenciesMs.length / o.seconds).toFixed(1)}/s  `
    + `p50 ${percentile(o.latenciesMs, 50).toFixed(0)} ms  p99 ${percentile(o.latenciesMs, 99).toFixed(0)} ms  `
    + `${perCreate.toFixed(1)} API calls/create  retries ${o.retries}  errors left ${o.failures.length}`);
  for (const f of o.failures.slice(0, 3)) console.log(`  failed: ${f}`);
}

function breakdown(fake: FakePve, from: number, n: number): string {
  const counts = new Map<string, number>();
  for (const r of fake.requests.slice(from)) {
    const key = `${r.method} ${r.path.replace(/\/nodes\/[^/]+/, '/nodes/{node}').replace(/\/qemu\/\d+/, '/qemu/{vmid}').replace(/\/tasks\/[^/]+/, '/tasks/{upid}')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `    ${(v / n).toFixed(2).padStart(6)}  ${k}`).join('\n');
}

function check(fake: FakePve, uids: string[]): string[] {
  const problems: string[] = [];
  for (const uid of uids) {
    const n = fake.vmsTagged(`vr-uid-${uid}`).length;
    if (n !== 1) problems.push(`uid ${uid} on ${n} VMs`);
  }
  const locked = fake.vms().filter((v) => v.config.lock);
  if (locked.length) problems.push(`${locked.length} VMs still locked`);
  const running = Object.values(fake.state.tasks).filter((t) => t.status === 'running');
  if (running.length) problems.push(`${running.length} tasks still running`);
  const stopped = fake.vms().filter((v) => v.config.template !== '1' && !v.running);
  if (stopped.length) problems.push(`${stopped.length} VMs not running`);
  return problems;
}

async function main(): Promise<void> {
  const uid = (tag: string, i: number) => `bench${tag}-0000-4000-8000-${String(i).padStart(12, '0')}`;
  console.log(`proxmox creates: ${COUNT} at concurrency ${CONCURRENCY}; fake PVE task pace ${PACE} ms (clone ${PACE * 2} ms), in-process, ${new Date().toISOString()}`);

  // 1. Fresh VMs.
  const fake1 = await FakePve.start({ pace: { default: PACE, qmclone: PACE * 2 } });
  const d1 = driverFor(fake1, { connections: CONCURRENCY });
  try {
    const uids = Array.from({ length: COUNT }, (_, i) => uid('a', i));
    const cpu0 = cpuSnapshot({});
    const r0 = fake1.requests.length;
    const o = await run(uids, CONCURRENCY, (u, _i, c) => reconcile(d1, u, aVm({ cpus: 2, memoryMib: 2048n }), c));
    const cpu = cpuUsed(cpu0, cpuSnapshot({}));
    report('fresh', o, fake1.requests.length - r0, COUNT);
    console.log(`  driver's own count: ${(d1.requests / COUNT).toFixed(1)} requests/create; CPU ${cpu.bench?.toFixed(1)} s in the bench process (driver and fake together), ${cpu.others?.toFixed(1)} s by other processes`);
    console.log(`  calls per create by endpoint:\n${breakdown(fake1, r0, COUNT)}`);
    const problems = check(fake1, uids);
    console.log(`  check: ${problems.length ? problems.join('; ') : 'every uid on one running VM, nothing locked, no task running'}`);
  } finally {
    await d1.close();
    await fake1.stop();
  }

  // 2. One template, two replicas, storage lock contention, then redelivery to the other replica.
  const fake2 = await FakePve.start({ pace: { default: PACE, qmclone: PACE * 2 }, storageLockHoldMs: 40, lockTimeoutMs: 60 });
  fake2.addTemplate({ vmid: 9000, node: 'pve1', name: 'golden' });
  const agents = [driverFor(fake2, { connections: CONCURRENCY }), driverFor(fake2, { connections: CONCURRENCY })];
  try {
    const uids = Array.from({ length: COUNT }, (_, i) => uid('b', i));
    const desired = aVm({ cpus: 2, memoryMib: 2048n, template: { id: 9000 } });
    const r0 = fake2.requests.length;
    const o = await run(uids, CONCURRENCY, (u, i, c) => reconcile(agents[i % 2]!, u, desired, c));
    const lockFailures = Object.values(fake2.state.tasks).filter((t) => /can't lock file/.test(t.exitstatus ?? '')).length;
    report('contended', o, fake2.requests.length - r0, COUNT);
    console.log(`  clone tasks failed on a lock and retried: ${lockFailures}; HTTP 500s answered: ${fake2.requests.slice(r0).filter((r) => r.status === 500).length}`);
    console.log(`  calls per create by endpoint:\n${breakdown(fake2, r0, COUNT)}`);
    const r1 = fake2.requests.length;
    const again = await run(uids, CONCURRENCY, (u, i, c) => reconcile(agents[(i + 1) % 2]!, u, desired, c));
    report('redeliver', again, fake2.requests.length - r1, COUNT);
    const problems = check(fake2, uids);
    const vmCount = fake2.vms().length - 1;
    console.log(`  check: ${vmCount} VMs for ${COUNT} uids; ${problems.length ? problems.join('; ') : 'no duplicate, nothing locked, no task running, no error left'}`);
    if (problems.length || o.failures.length || again.failures.length || vmCount !== COUNT) process.exitCode = 1;
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    await fake2.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
