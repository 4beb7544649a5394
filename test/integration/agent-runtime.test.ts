/**
 * The agent runtime against a real nats-server: commands published as the dispatcher would, status
 * events consumed as the dispatcher would, the mock hypervisor in NATS KV.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { subjects } from '../../proto/bus/subjects.ts';
import { DEAD_LETTER_STREAM, VM_LEASE_BUCKET } from '../../proto/bus/topology.ts';
import { CommandSchema, HeartbeatSchema, ObservedVMSchema, Phase, PowerState, type ObservedVM, type StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startAgent } from '../../provider-agents/core/agent.ts';
import type { Driver } from '../../provider-agents/core/driver.ts';
import { MockDriver } from '../../provider-agents/mock/driver.ts';
import { DLQ_HEADER_KIND, DLQ_HEADER_REASON } from '../../provider-agents/core/dead-letter.ts';
import { LeaseBusyError } from '../../provider-agents/core/errors.ts';
import { LeaseManager } from '../../provider-agents/core/lease.ts';
import { silentLogger } from '../../provider-agents/core/log.ts';
import { Kvm } from '@nats-io/kv';
import {
  aDelete, aReconcile, eventually, freshProvider, newUid, publishCommand, publishRaw, startBus, type Bus,
} from '../support/agent-bus.ts';
import { metricValue, startMockAgent } from '../support/agent-fixtures.ts';

const isReady = (e: StatusEvent) => e.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
const conditions = (e: StatusEvent) => Object.fromEntries(e.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('agent runtime (real nats-server)', function () {
  this.timeout(20_000);
  let bus: Bus;

  before(async () => {
    bus = await startBus();
  });
  after(async () => {
    await bus?.close();
  });

  it('reports Ready with the observed VM, generation and command id after a create', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider);
    try {
      const uid = newUid();
      const cmd = aReconcile({ provider, uid, generation: 3n, cpus: 4, power: PowerState.ON });
      await publishCommand(bus.js, provider, cmd);
      const { event, headers, subject } = await bus.events.waitFor(uid, isReady);
      assert.equal(subject, subjects.event(provider, uid));
      assert.equal(event.phase, Phase.RUNNING);
      assert.deepEqual(conditions(event), { Ready: 'True/Running', Provisioning: 'False/Created', Reconfiguring: 'False/Reconfigured' });
      assert.equal(event.observedGeneration, 3n);
      assert.equal(event.commandId, cmd.meta!.commandId);
      assert.equal(event.agentId, a.agent.agentId);
      assert.equal(event.vm?.cpus, 4);
      assert.equal(event.vm?.powerState, PowerState.ON);
      assert.equal(event.vm?.appliedGeneration, 3n);
      assert.equal(event.vm?.ips.length, 1);
      assert.equal(headers?.get('Nats-Msg-Id'), `${cmd.meta!.commandId}:done`);
      const vms = await a.driver.vms();
      assert.equal(vms.length, 1);
      assert.equal(vms[0]!.uid, uid);
    } finally {
      await a.stop();
    }
  });

  it('leaves one VM for a republished, a re-sent and a lost-answer create', async () => {
    const provider = freshProvider();
    // The first create takes effect on the hypervisor but its answer is lost (error after the fact).
    const a = await startMockAgent(bus, provider, { mock: { faults: [{ op: 'create', when: 'after' }] } });
    try {
      const uid = newUid();
      const cmd = aReconcile({ provider, uid });
      await publishCommand(bus.js, provider, cmd);
      await publishCommand(bus.js, provider, cmd); // same Nats-Msg-Id: dropped by the stream
      await bus.events.waitFor(uid, isReady);
      await publishCommand(bus.js, provider, cmd, { msgId: `${cmd.meta!.commandId}-resent` }); // as a redelivery
      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'success' })) >= 2 || undefined);
      assert.equal((await a.driver.vms()).length, 1);
      assert.equal(await a.driver.creates(), 1);
      const failed = bus.events.events(uid).filter((r) => r.event.error);
      assert.equal(failed.length, 1, 'the lost answer was reported once, as retryable');
      assert.equal(failed[0]!.event.error!.retryable, true);
    } finally {
      await a.stop();
    }
  });

  it('ignores an older generation that arrives after a newer one', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider);
    try {
      const uid = newUid();
      await publishCommand(bus.js, provider, aReconcile({ provider, uid, generation: 5n, cpus: 8 }));
      await bus.events.waitFor(uid, (e) => isReady(e) && e.observedGeneration === 5n);
      const older = aReconcile({ provider, uid, generation: 4n, cpus: 1, power: PowerState.OFF });
      await publishCommand(bus.js, provider, older);
      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'stale' })) === 1 || undefined);
      const [vm] = await a.driver.vms();
      assert.equal(vm!.cpus, 8);
      assert.equal(vm!.power, 'on');
      assert.equal(vm!.generation, '5');
      assert.equal(bus.events.events(uid).filter((r) => r.event.commandId === older.meta!.commandId).length, 0);
    } finally {
      await a.stop();
    }
  });

  it('rejects a malformed message, an unknown operation and a command without meta: terminated, counted, dead-lettered, agent alive', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider);
    try {
      await publishRaw(bus.js, provider, newUid(), new TextEncoder().encode('this is not protobuf {{{'));
      const withoutOp = create(CommandSchema, aReconcile({ provider, uid: newUid() }));
      withoutOp.op = { case: undefined };
      const unknownOp = new Uint8Array([...toBinary(CommandSchema, withoutOp), 0x9a, 0x06, 0x00]); // field 99, empty
      await publishRaw(bus.js, provider, withoutOp.meta!.object!.uid, unknownOp);
      const noMeta = aReconcile({ provider, uid: newUid() });
      const noMetaUid = noMeta.meta!.object!.uid;
      noMeta.meta = undefined;
      await publishRaw(bus.js, provider, noMetaUid, toBinary(CommandSchema, noMeta));

      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_rejected_messages_total')) === 3 || undefined, 10_000, 'three rejections');
      assert.equal(await metricValue(a.agent, 'virtrigaud_agent_rejected_messages_total', { reason: 'malformed' }), 1);
      assert.equal(await metricValue(a.agent, 'virtrigaud_agent_rejected_messages_total', { reason: 'unknown_op' }), 1);
      assert.equal(await metricValue(a.agent, 'virtrigaud_agent_rejected_messages_total', { reason: 'invalid' }), 1);

      const consumer = await bus.js.consumers.get(DEAD_LETTER_STREAM, { filter_subjects: [subjects.deadLetter(provider)] });
      const kinds: string[] = [];
      for await (const m of await consumer.fetch({ max_messages: 3, expires: 3000 })) {
        kinds.push(m.headers!.get(DLQ_HEADER_KIND));
        assert.ok(m.headers!.get(DLQ_HEADER_REASON).length > 0);
      }
      assert.deepEqual(kinds.sort(), ['invalid', 'malformed', 'unknown_op']);
      // Terminated: nothing left for the consumer, and the agent still works.
      const uid = newUid();
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      await bus.events.waitFor(uid, isReady);
      assert.ok(a.agent.ready());
    } finally {
      await a.stop();
    }
  });

  it('never takes a read error for "VM gone": no create, a retryable event, then Ready once the hypervisor answers', async () => {
    const provider = freshProvider();
    const uid = newUid();
    const a = await startMockAgent(bus, provider, { mock: { faults: [{ op: 'find', uid, times: 2 }] } });
    try {
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      const { event } = await bus.events.waitFor(uid, (e) => e.error !== undefined);
      assert.equal(event.error!.retryable, true);
      assert.equal(event.error!.reason, 'ProviderUnreachable');
      assert.equal(event.observedGeneration, 1n, 'the failure answers the command\'s generation');
      assert.equal(event.phase, Phase.UNSPECIFIED);
      assert.notEqual(event.phase, Phase.DELETED);
      assert.equal(a.driver.calls.create, 0, 'no create while find fails');
      await bus.events.waitFor(uid, isReady);
      assert.equal(a.driver.calls.find >= 3, true);
      assert.equal(await a.driver.creates(), 1);
      assert.equal(await metricValue(a.agent, 'virtrigaud_agent_commands_total', { op: 'reconcile', outcome: 'retry' }), 2);
    } finally {
      await a.stop();
    }
  });

  it('reports PHASE_DELETED only once the VM is gone', async () => {
    const provider = freshProvider();
    const uid = newUid();
    const a = await startMockAgent(bus, provider, { mock: { faults: [{ op: 'destroy', uid, times: 1 }] } });
    try {
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      await bus.events.waitFor(uid, isReady);
      await publishCommand(bus.js, provider, aDelete({ provider, uid }));
      const failed = await bus.events.waitFor(uid, (e) => e.error !== undefined);
      assert.equal(failed.event.error!.retryable, true);
      assert.equal((await a.driver.vms()).length, 1, 'the VM is still there after the failed destroy');
      assert.equal(bus.events.events(uid).some((r) => r.event.phase === Phase.DELETED), false);
      const deleted = await bus.events.waitFor(uid, (e) => e.phase === Phase.DELETED);
      assert.equal(deleted.event.conditions[0]!.reason, 'Deleted');
      assert.equal((await a.driver.vms()).length, 0);
      // A reconcile that raced the delete never brings the VM back.
      await publishCommand(bus.js, provider, aReconcile({ provider, uid, commandId: 'late-reconcile' }));
      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'stale' })) === 1 || undefined);
      assert.equal((await a.driver.vms()).length, 0);
    } finally {
      await a.stop();
    }
  });

  it('releases an adopted VM on delete instead of destroying it', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider);
    try {
      const existing = await a.driver.seedUnmanaged({ cpus: 2, power: 'on' });
      const uid = newUid();
      await publishCommand(bus.js, provider, aReconcile({ provider, uid, adoptId: existing.id, cpus: 2 }));
      const ready = await bus.events.waitFor(uid, isReady);
      assert.equal(ready.event.vm?.id, existing.id);
      assert.equal(await a.driver.creates(), 0);
      await publishCommand(bus.js, provider, aDelete({ provider, uid, adopted: true }));
      const deleted = await bus.events.waitFor(uid, (e) => e.phase === Phase.DELETED);
      assert.equal(deleted.event.conditions[0]!.reason, 'Released');
      const vms = await a.driver.vms();
      assert.equal(vms.length, 1);
      assert.equal(vms[0]!.id, existing.id);
      assert.equal(vms[0]!.uid, '', 'our uid is removed');
      assert.equal(vms[0]!.power, 'on', 'left running');
      assert.equal(a.driver.calls.destroy, 0);
    } finally {
      await a.stop();
    }
  });

  it('retries a VM whose lease another agent holds, and works on it once released', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider, { agent: { leaseWaitMs: 200 } });
    const other = await LeaseManager.open(bus.nc, { agentId: 'someone-else', log: silentLogger });
    try {
      const uid = newUid();
      const held = await other.acquire(uid, 'theirs');
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'busy' })) >= 1 || undefined);
      assert.equal(a.driver.calls.find, 0, 'nothing done on a VM someone else works on');
      await held.release();
      await bus.events.waitFor(uid, isReady);
      const kv = await new Kvm(bus.nc).open(VM_LEASE_BUCKET);
      await eventually(async () => ((await kv.get(uid))?.operation === 'PUT' ? undefined : true), 5000, 'lease released');
    } finally {
      await a.stop();
    }
  });

  it('lets a restarted agent (same id) take over its previous incarnation\'s leases at once, and nobody else', async () => {
    const uid = newUid();
    const crashed = await LeaseManager.open(bus.nc, { agentId: 'pod-7', log: silentLogger });
    await crashed.acquire(uid, 'before-the-crash'); // never released: the process "died"
    const stranger = await LeaseManager.open(bus.nc, { agentId: 'pod-8', log: silentLogger });
    await assert.rejects(stranger.acquire(uid, 'theirs'), LeaseBusyError);
    const restarted = await LeaseManager.open(bus.nc, { agentId: 'pod-7', log: silentLogger });
    const lease = await restarted.acquire(uid, 'after-the-restart');
    await lease.release();
    const again = await stranger.acquire(uid, 'theirs');
    await again.release();
  });

  it('removes a lease whose answer was lost (stored, but the agent saw an error) instead of blocking the VM for a TTL', async () => {
    const other = await LeaseManager.open(bus.nc, { agentId: 'other', log: silentLogger });
    const real = await new Kvm(bus.nc).open(VM_LEASE_BUCKET);
    let loseNext = true;
    const lossy = new Proxy(real, {
      get(target, prop) {
        if (prop === 'create') {
          return async (key: string, value: string) => {
            const revision = await target.create(key, value);
            if (loseNext) {
              loseNext = false;
              throw new Error('TIMEOUT'); // as when the server restarts before answering
            }
            return revision;
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const unlucky = LeaseManager.fromBucket(lossy, 60_000, { agentId: 'unlucky', log: silentLogger });
    const uid = newUid();
    await assert.rejects(unlucky.acquire(uid, 'c1'), /TIMEOUT/);
    assert.equal(JSON.parse((await real.get(uid))!.string()).holder, 'unlucky', 'the write did land');
    const started = Date.now();
    const lease = await other.acquire(uid, 'c2', { waitMs: 5000 });
    assert.ok(Date.now() - started < 5000, 'freed by the sweep, long before the 60 s TTL');
    await lease.release();
  });

  it('sends heartbeats with capabilities, in-flight count and reachability', async () => {
    const provider = freshProvider();
    const sub = bus.nc.subscribe(subjects.heartbeat(provider), { max: 2 });
    const a = await startMockAgent(bus, provider, { agent: { heartbeatIntervalMs: 200 } });
    try {
      const beats = [];
      for await (const m of sub) beats.push(fromBinary(HeartbeatSchema, m.data));
      assert.equal(beats.length, 2);
      assert.equal(beats[0]!.agentId, a.agent.agentId);
      assert.equal(beats[0]!.hypervisorReachable, true);
      assert.equal(beats[0]!.hypervisorVersion, 'mock-1');
      assert.ok(beats[0]!.capabilities.includes('memorySnapshots'));
      assert.equal(beats[0]!.inFlight, 0);
      assert.equal(beats[0]!.provider?.type, 'mock');
    } finally {
      sub.unsubscribe();
      await a.stop();
    }
  });

  it('serves Prometheus metrics: commands by op and outcome, durations, rejections, in-flight', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider, { agent: { metricsPort: 0, metricsHost: '127.0.0.1' } });
    try {
      const uid = newUid();
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      await bus.events.waitFor(uid, isReady);
      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'success' })) === 1 || undefined);
      const text = await (await fetch(`${a.agent.metricsUrl}/metrics`)).text();
      assert.match(text, /virtrigaud_agent_commands_total\{[^}]*op="reconcile",outcome="success"[^}]*\} 1/);
      assert.match(text, /virtrigaud_agent_command_duration_seconds_count\{[^}]*op="reconcile"[^}]*\} 1/);
      assert.match(text, /virtrigaud_agent_rejected_messages_total\{[^}]*reason="malformed"[^}]*\} 0/);
      assert.match(text, /virtrigaud_agent_in_flight\{[^}]*\} 0/);
      assert.equal((await fetch(`${a.agent.metricsUrl}/readyz`)).status, 200);
    } finally {
      await a.stop();
    }
  });

  it('carries the command\'s W3C trace context onto its status events', async () => {
    const provider = freshProvider();
    const a = await startMockAgent(bus, provider);
    try {
      const uid = newUid();
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }), { traceparent });
      const { headers } = await bus.events.waitFor(uid, isReady);
      assert.match(headers?.get('traceparent') ?? '', /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    } finally {
      await a.stop();
    }
  });

  it('on stop, finishes a command in flight and releases its lease; past the grace period hands it back to another replica', async () => {
    const provider = freshProvider();
    const slow = { mock: { delaysMs: { create: 1500 } } };
    const a = await startMockAgent(bus, provider, slow);
    const uid = newUid();
    await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
    await eventually(() => (a.agent.inFlight() === 1 ? true : undefined), 5000, 'command in flight');
    await a.stop(); // grace 5 s: the create finishes
    assert.ok(bus.events.events(uid).some((r) => isReady(r.event)));
    const kv = await new Kvm(bus.nc).open(VM_LEASE_BUCKET);
    assert.notEqual((await kv.get(uid))?.operation, 'PUT', 'lease released');

    const impatient = await startMockAgent(bus, provider, { mock: { delaysMs: { create: 3000 } }, agent: { shutdownGraceMs: 100 } });
    const uid2 = newUid();
    await publishCommand(bus.js, provider, aReconcile({ provider, uid: uid2 }));
    await eventually(() => (impatient.agent.inFlight() === 1 ? true : undefined), 5000, 'second command in flight');
    await impatient.stop();
    assert.equal(await metricValue(impatient.agent, 'virtrigaud_agent_commands_total', { outcome: 'handed_back' }), 1);
    const b = await startMockAgent(bus, provider);
    try {
      const { event } = await bus.events.waitFor(uid2, isReady);
      assert.equal(event.agentId, b.agent.agentId);
      assert.equal((await b.driver.vms()).filter((v) => v.uid === uid2).length, 1);
    } finally {
      await b.stop();
    }
  });
  it('publishes what the driver\'s watch reports (an observation named by uid, no command, no phase), and stops with the agent', async () => {
    const provider = freshProvider();
    const mock = await MockDriver.open({ natsServers: bus.nats.url, provider });
    let report: ((uid: string, vm: ObservedVM | undefined) => void) | undefined;
    // The mock hypervisor with a watch, as libvirt (lifecycle events) and vSphere (PropertyCollector) have.
    const driver: Driver = Object.assign(Object.create(mock) as MockDriver, {
      watch(onChange: (uid: string, vm: ObservedVM | undefined) => void) {
        report = onChange;
        return () => (report = undefined);
      },
    });
    const agent = await startAgent({ natsServers: bus.nats.url, provider, driver, agentId: `watch-${newUid().slice(0, 6)}`, heartbeatIntervalMs: 1000 });
    try {
      const uid = newUid();
      report!(uid, create(ObservedVMSchema, { id: 'vm-1', exists: true, powerState: PowerState.OFF, ips: [], appliedGeneration: 4n }));
      report!(newUid(), undefined); // a VM gone: not reported here (its delete says so, after cleanup)
      const { event, subject } = await bus.events.waitFor(uid, () => true);
      assert.equal(subject, subjects.event(provider, uid));
      assert.deepEqual(
        [event.commandId, event.phase, event.object?.uid, event.object?.name, event.vm?.powerState, event.observedGeneration, event.agentId],
        ['', Phase.UNSPECIFIED, uid, '', PowerState.OFF, 4n, agent.agentId],
      );
    } finally {
      await agent.stop();
      await mock.close();
    }
    assert.equal(report, undefined, 'the watch is stopped with the agent');
  });
});
