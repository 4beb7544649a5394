/**
 * Several agent replicas of one provider against a real nats-server: shared work, one agent per VM
 * at a time, an agent killed mid-operation, a nats-server restart mid-run.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProviderKey } from '../../proto/bus/subjects.ts';
import type { StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { aReconcile, eventually, freshProvider, newUid, publishCommand, startBus, type Bus } from '../support/agent-bus.ts';
import { metricValue, startMockAgent, type MockAgent } from '../support/agent-fixtures.ts';
import { MockDriver } from '../../provider-agents/mock/driver.ts';
import { VM_LEASE_BUCKET } from '../../proto/bus/topology.ts';
import { Kvm } from '@nats-io/kv';
import { LeaseLostError } from '../../provider-agents/core/errors.ts';
import { LeaseManager } from '../../provider-agents/core/lease.ts';
import { silentLogger } from '../../provider-agents/core/log.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const isReady = (e: StatusEvent) => e.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

async function stopAll(agents: MockAgent[]): Promise<void> {
  await Promise.all(agents.map((a) => a.stop()));
}

/** An agent in a process of its own (`main.ts agent mock`), to be killed like a crashed pod. */
function spawnAgent(bus: Bus, provider: ProviderKey, env: Record<string, string>): { child: ChildProcess; log: () => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vr-agent-'));
  const logFile = join(dir, 'agent.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'provider-agents/main.ts'), 'agent', 'mock'], {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      NATS_URL: bus.nats.url,
      AGENT_PROVIDER_NAMESPACE: provider.namespace,
      AGENT_PROVIDER_NAME: provider.name,
      AGENT_METRICS_PORT: 'off',
      AGENT_LOG_LEVEL: 'debug',
      ...env,
    },
  });
  return {
    child,
    log: () => readFileSync(logFile, 'utf8'),
    cleanup: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('agent replicas (real nats-server)', function () {
  this.timeout(45_000);
  let bus: Bus;

  before(async () => {
    bus = await startBus();
  });
  after(async () => {
    await bus?.close();
  });

  it('3 replicas, 50 VMs, then two quick generations each: every VM created once, never two agents on one VM', async () => {
    const provider = freshProvider();
    const mock = { detectOverlaps: true, defaultDelayMs: 5, delaysMs: { create: 40, reconfigure: 40 } };
    const agents = await Promise.all([1, 2, 3].map(() => startMockAgent(bus, provider, { mock, agent: { concurrency: 4 } })));
    try {
      const uids = Array.from({ length: 50 }, () => newUid());
      await Promise.all(uids.map((uid) => publishCommand(bus.js, provider, aReconcile({ provider, uid, generation: 1n, cpus: 2 }))));
      await Promise.all(uids.map((uid) => bus.events.waitFor(uid, isReady, 30_000)));
      // Generation 2 then 3 back to back: while one replica works on 2, another receives 3.
      for (const uid of uids) {
        await publishCommand(bus.js, provider, aReconcile({ provider, uid, generation: 2n, cpus: 3 }));
        await publishCommand(bus.js, provider, aReconcile({ provider, uid, generation: 3n, cpus: 4 }));
      }
      await Promise.all(uids.map((uid) => bus.events.waitFor(uid, (e) => isReady(e) && e.observedGeneration === 3n, 30_000)));

      const driver = agents[0]!.driver;
      const vms = await driver.vms();
      assert.equal(vms.length, 50);
      assert.equal(new Set(vms.map((v) => v.uid)).size, 50);
      assert.equal(await driver.creates(), 50, 'each VM created exactly once');
      assert.deepEqual(await driver.overlaps(), [], 'no two agents on one VM at a time');
      assert.ok(vms.every((v) => v.cpus === 4 && v.generation === '3'), 'every VM has its newest generation');
      const sum = async (name: string, labels: Record<string, string> = {}) =>
        (await Promise.all(agents.map((a) => metricValue(a.agent, name, labels)))).reduce((x, y) => x + y, 0);
      assert.ok((await sum('virtrigaud_agent_lease_waits_total')) > 0, 'the run had commands for a VM another replica was working on');
      const done = await Promise.all(agents.map((a) => metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'success' })));
      assert.ok(done.every((n) => n > 0), `every replica took a share of the work: ${done.join(', ')}`);
    } finally {
      await stopAll(agents);
    }
  });

  it('the overlap detector the test above relies on does see two operations on one VM at once', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider, { mock: { detectOverlaps: true, delaysMs: { find: 300 } } });
    const b = await startMockAgent(bus, provider, { mock: { detectOverlaps: true, delaysMs: { find: 300 } } });
    try {
      const uid = newUid();
      await Promise.all([a.driver.find(uid), b.driver.find(uid)]); // bypassing the lease on purpose
      const overlaps = await a.driver.overlaps();
      assert.equal(overlaps.length, 1);
      assert.equal(overlaps[0]!.uid, uid);
      assert.notEqual(overlaps[0]!.first.actor, overlaps[0]!.second.actor);
    } finally {
      await stopAll([a, b]);
    }
  });

  it('a nats-server restart mid-run: agents reconnect and every command is done, none twice', async () => {
    const provider = freshProvider();
    const agents = await Promise.all([1, 2].map(() => startMockAgent(bus, provider, { mock: { delaysMs: { create: 150 } }, agent: { concurrency: 3 } })));
    try {
      const before = Array.from({ length: 30 }, () => newUid());
      await Promise.all(before.map((uid) => publishCommand(bus.js, provider, aReconcile({ provider, uid }))));
      await eventually(() => (before.filter((uid) => bus.events.events(uid).some((r) => isReady(r.event))).length >= 5 ? true : undefined), 10_000, 'some done');
      await bus.nats.restart();
      const after = Array.from({ length: 10 }, () => newUid());
      await eventually(async () => {
        await Promise.all(after.map((uid) => publishCommand(bus.js, provider, aReconcile({ provider, uid }))));
        return true;
      }, 10_000, 'publish after restart');
      await Promise.all([...before, ...after].map((uid) => bus.events.waitFor(uid, isReady, 30_000)));
      const driver = agents[0]!.driver;
      assert.equal((await driver.vms()).length, 40);
      assert.equal(await driver.creates(), 40);
      assert.ok(agents.every((a) => a.agent.ready()));
    } finally {
      await stopAll(agents);
    }
  });
});

describe('agent processes (real nats-server of their own)', function () {
  this.timeout(45_000);
  let bus: Bus;

  // Their own server: the lease bucket's TTL is set by whoever creates the bucket, and these tests
  // shorten it so a dead agent's lease expires in 2 s instead of 60.
  before(async () => {
    bus = await startBus();
  });
  after(async () => {
    await bus?.close();
  });

  it('an agent killed mid-create: the command is redelivered to another replica and no second VM is made', async () => {
    const provider = freshProvider();
    // The killed agent's lease must expire before the survivor may act: a short TTL keeps the test short.
    const victim = spawnAgent(bus, provider, { AGENT_ID: 'victim', AGENT_LEASE_TTL_S: '2', MOCK_DELAY_CREATE_MS: '4000' });
    let survivor: MockAgent | undefined;
    try {
      const uid = newUid();
      await eventually(() => (/agent started/.test(victim.log()) ? true : undefined), 15_000, 'victim started');
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      survivor = await startMockAgent(bus, provider, { agent: { agentId: 'survivor', leaseTtlS: 2 }, mock: { detectOverlaps: false } });
      // The victim has taken the command (its lease), the VM exists, and the create is still running.
      await eventually(async () => ((await survivor!.driver.vms()).some((v) => v.uid === uid) ? true : undefined), 10_000, 'victim mid-create');
      assert.match(victim.log(), /"agentId":"victim"/);
      victim.child.kill('SIGKILL');
      const { event } = await bus.events.waitFor(uid, isReady, 15_000);
      assert.equal(event.agentId, 'survivor');
      assert.equal((await survivor.driver.vms()).filter((v) => v.uid === uid).length, 1);
      assert.equal(await survivor.driver.creates(), 1);
      assert.equal(bus.events.events(uid).filter((r) => r.event.agentId === 'victim' && isReady(r.event)).length, 0);
    } finally {
      victim.cleanup();
      await survivor?.stop();
    }
  });

  it('a SIGTERM\'d agent process finishes the command it works on, releases its lease and exits 0', async () => {
    const provider = freshProvider();
    const agent = spawnAgent(bus, provider, { AGENT_ID: 'graceful', AGENT_LEASE_TTL_S: '2', MOCK_DELAY_CREATE_MS: '1500', AGENT_SHUTDOWN_GRACE_S: '10' });
    const hypervisor = await MockDriver.open({ natsServers: bus.nats.url, provider });
    try {
      const uid = newUid();
      await eventually(() => (/agent started/.test(agent.log()) ? true : undefined), 15_000, 'agent started');
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      await eventually(async () => ((await hypervisor.vms()).some((v) => v.uid === uid) ? true : undefined), 10_000, 'mid-create');
      const exited = new Promise<number | null>((resolve) => agent.child.once('exit', (code) => resolve(code)));
      agent.child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const { event } = await bus.events.waitFor(uid, isReady, 5000);
      assert.equal(event.agentId, 'graceful');
      assert.match(agent.log(), /"msg":"agent stopped"/);
      const kv = await new Kvm(bus.nc).open(VM_LEASE_BUCKET);
      assert.notEqual((await kv.get(uid))?.operation, 'PUT', 'lease released');
    } finally {
      agent.cleanup();
      await hypervisor.close();
    }
  });

  it('aborts the work of an agent whose lease was taken from it (it expired while the agent was cut off)', async () => {
    const leases = await LeaseManager.open(bus.nc, { agentId: 'slow-agent', ttlS: 2, log: silentLogger });
    const uid = newUid();
    const lease = await leases.acquire(uid, 'c1');
    // As if the TTL ran out and another agent took the VM.
    const kv = await new Kvm(bus.nc).open(VM_LEASE_BUCKET);
    await kv.put(uid, JSON.stringify({ holder: 'other-agent', commandId: 'c2', since: Date.now() }));
    await eventually(() => (lease.signal.aborted ? true : undefined), 5000, 'lease loss noticed');
    assert.ok(lease.signal.reason instanceof LeaseLostError);
    await lease.release(); // never frees what is no longer ours
    assert.equal(JSON.parse((await kv.get(uid))!.string()).holder, 'other-agent');
  });
});
