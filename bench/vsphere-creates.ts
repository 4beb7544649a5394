/**
 * vSphere agent benchmark: N creates from a template at concurrency C against a fresh vcsim
 * (govmomi's simulator, built by scripts/build-binaries.sh), through the VSphereDriver as the agent
 * runtime calls it. Then the same VMs powered on and looked up by uid. (No timed destroy phase:
 * vcsim recomputes every filter over all VMs for each change, so mass deletes of a few hundred VMs
 * take it minutes; vcsim and its VMs are thrown away at the end.)
 *
 *   npx tsx bench/vsphere-creates.ts [--count 200] [--concurrency 20]
 *
 * Prints per phase: throughput and p50/p99 latency of one driver operation; for creates, the SOAP
 * calls per create (total and by method, counted in the client), sessions opened, and how many reads
 * (RetrievePropertiesEx) and collector rounds (WaitForUpdatesEx) a create cost, to show that no VM
 * and no task is polled. vcsim runs every task in milliseconds: the figures measure the agent and
 * the simulator on this machine, not a vCenter.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PowerState, type ObservedVM } from '../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { desiredFrom, makeTemplate, opContext, openDriver, startVcsim } from '../test/support/vcsim.ts';
import { processCpu } from './lib/cpu.ts';
import { formatPhase, runPhase } from './lib/stats.ts';
import { pinnedVersions } from '../scripts/stack/binaries.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '20' } } });
const count = Number(values.count);
const concurrency = Number(values.concurrency);

const sim = await startVcsim();
const driver = await openDriver(sim);
try {
  await makeTemplate(driver, 'bench-template');
  const simPid = Number(/GOVC_SIM_PID=(\d+)/.exec(readFileSync(sim.logFile, 'utf8'))?.[1] ?? 0);
  const uids = Array.from({ length: count }, () => randomUUID());
  const vms: ObservedVM[] = new Array(count);
  const desired = desiredFrom('bench-template');

  const snapshot = () => ({ ...Object.fromEntries(driver.client.stats.byMethod), calls: driver.client.stats.calls, sessions: driver.client.stats.sessionsOpened });
  const cpu0 = { agent: process.cpuUsage(), sim: processCpu(simPid) };
  const before = snapshot();
  const create = await runPhase('create', count, concurrency, async (i) => {
    vms[i] = await driver.create(uids[i]!, desired, opContext(1n));
  });
  const after = snapshot();
  const cpu1 = { agent: process.cpuUsage(cpu0.agent), sim: processCpu(simPid) };

  const power = await runPhase('power on', count, concurrency, async (i) => {
    vms[i] = await driver.setPower(vms[i]!, PowerState.ON, 0, opContext());
  });
  const findCalls = driver.client.stats.calls;
  const find = await runPhase('find (by uid)', count * 10, concurrency, async (i) => {
    if (!(await driver.find(uids[i % count]!))) throw new Error(`VM ${uids[i % count]} not found`);
  });
  const findSoap = driver.client.stats.calls - findCalls;

  const per = (k: string) => (((after as Record<string, number>)[k] ?? 0) - ((before as Record<string, number>)[k] ?? 0)) / count;
  const methods = Object.keys(after).filter((k) => k !== 'calls' && k !== 'sessions' && per(k) > 0).sort();
  console.log(`vSphere driver against vcsim (govmomi ${pinnedVersions().GOVMOMI_VERSION}), ${count} creates from one template, concurrency ${concurrency}`);
  for (const r of [create, power, find]) console.log(formatPhase(r));
  console.log('');
  console.log(`per create: ${per('calls').toFixed(1)} SOAP calls — ${methods.map((m) => `${m} ${per(m).toFixed(2)}`).join(', ')}`);
  console.log(`sessions opened in all: ${driver.client.stats.sessionsOpened} (SOAP), ${driver.stats().restSessions} (REST)`);
  console.log(`finds: ${findSoap} SOAP calls for ${count * 10} lookups (answered from the property-collector inventory)`);
  console.log(`tasks whose end was pushed by WaitForUpdatesEx: ${driver.tasks.pushed}; inventory syncs ${driver.inventory.stats.syncs}, collector rounds ${driver.inventory.stats.rounds}`);
  console.log(`CPU during creates: agent ${((cpu1.agent.user + cpu1.agent.system) / 1e6).toFixed(1)} s, vcsim ${(cpu1.sim - cpu0.sim).toFixed(1)} s over ${create.seconds.toFixed(1)} s`);
} finally {
  await driver.close();
  await sim.close();
}
