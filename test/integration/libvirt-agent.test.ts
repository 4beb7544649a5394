/**
 * End to end through the agent runtime: a real nats-server, commands published as the dispatcher
 * would, the libvirt driver opened the way the agent process opens it (drivers.ts, from the
 * environment) on a real libvirtd's test driver, and the status events consumed as the dispatcher
 * would.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { subjects } from '../../proto/bus/subjects.ts';
import { HeartbeatSchema, Phase, PowerState, type StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startAgent, type Agent } from '../../provider-agents/core/agent.ts';
import { loadConfig } from '../../provider-agents/core/config.ts';
import { openDriver as openConfiguredDriver } from '../../provider-agents/drivers.ts';
import type { LibvirtDriver } from '../../provider-agents/libvirt/driver.ts';
import type { Libvirtd } from '../../scripts/stack/libvirtd.ts';
import { aDelete, aReconcile, freshProvider, newUid, publishCommand, startBus, type Bus } from '../support/agent-bus.ts';
import { startTestLibvirtd, writeTestNode } from '../support/libvirt.ts';
import { freePort } from '../../scripts/stack/processes.ts';

const isReady = (e: StatusEvent) => e.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
const conditions = (e: StatusEvent) => Object.fromEntries(e.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('libvirt agent end to end (nats-server + agent runtime + libvirtd test driver)', function () {
  this.timeout(30_000);
  let bus: Bus;
  let libvirtd: Libvirtd;
  let agent: Agent;
  let driver: LibvirtDriver;
  const provider = freshProvider();

  before(async () => {
    bus = await startBus();
    libvirtd = await startTestLibvirtd();
    const env = {
      NATS_URL: bus.nats.url,
      AGENT_PROVIDER_NAMESPACE: provider.namespace,
      AGENT_PROVIDER_NAME: provider.name,
      AGENT_PROVIDER_TYPE: 'libvirt',
      AGENT_PROVIDER_ENDPOINT: `test+unix://${writeTestNode()}?socket=${libvirtd.socket}`,
      AGENT_CREDENTIALS_DIR: '/nonexistent',
      AGENT_LOG_LEVEL: 'error',
      AGENT_METRICS_PORT: 'off',
    };
    const config = loadConfig(env);
    driver = (await openConfiguredDriver(config, env)) as LibvirtDriver;
    agent = await startAgent({ natsServers: bus.nats.url, provider, driver, agentId: `libvirt-e2e-${process.pid}`, heartbeatIntervalMs: 500, shutdownGraceMs: 5000 });
  });
  after(async () => {
    await agent?.stop();
    await driver?.close();
    await libvirtd?.stop();
    await bus?.close();
  });

  it('heartbeats say the hypervisor is reachable, with its version and capabilities', async () => {
    const sub = bus.nc.subscribe(subjects.heartbeat(provider), { max: 5, timeout: 10_000 });
    for await (const m of sub) {
      const hb = fromBinary(HeartbeatSchema, m.data);
      if (!hb.hypervisorReachable) continue;
      assert.match(hb.hypervisorVersion, /^test /);
      assert.ok(hb.capabilities.includes('memorySnapshots') && hb.capabilities.includes('linkedClones'));
      return;
    }
    assert.fail('no heartbeat reported the hypervisor reachable');
  });

  it('a reconcile command makes a running domain and reports Ready; a delete removes it and reports Deleted', async () => {
    const uid = newUid();
    const cmd = aReconcile({ provider, uid, generation: 2n, cpus: 2, memoryMib: 512n, power: PowerState.ON });
    await publishCommand(bus.js, provider, cmd);
    const { event } = await bus.events.waitFor(uid, isReady, 15_000);
    assert.equal(event.phase, Phase.RUNNING);
    assert.deepEqual(conditions(event), { Ready: 'True/Running', Provisioning: 'False/Created', Reconfiguring: 'False/Reconfigured' });
    assert.equal(event.vm?.id, uid);
    assert.equal(event.vm?.powerState, PowerState.ON);
    assert.equal(event.vm?.cpus, 2);
    assert.equal(event.vm?.appliedGeneration, 2n);
    assert.equal((await driver.find(uid))?.powerState, PowerState.ON);

    // A change the running domain cannot take live is reported as restart-required.
    const bigger = aReconcile({ provider, uid, generation: 3n, cpus: 6, memoryMib: 512n, power: PowerState.ON });
    await publishCommand(bus.js, provider, bigger);
    const { event: reconf } = await bus.events.waitFor(uid, (e) => isReady(e) && e.observedGeneration === 3n, 15_000);
    assert.equal(conditions(reconf).Reconfiguring, 'True/RestartRequired');

    await publishCommand(bus.js, provider, aDelete({ provider, uid, generation: 4n }));
    const { event: gone } = await bus.events.waitFor(uid, (e) => e.phase === Phase.DELETED, 15_000);
    assert.deepEqual(conditions(gone), { Ready: 'False/Deleted' });
    assert.equal(await driver.find(uid), undefined);
  });

  it('against an unreachable host: the command gets a retryable ProviderUnreachable condition naming the endpoint, heartbeats say unreachable', async () => {
    const provider2 = freshProvider();
    const port = await freePort();
    const env = {
      NATS_URL: bus.nats.url, AGENT_PROVIDER_NAMESPACE: provider2.namespace, AGENT_PROVIDER_NAME: provider2.name, AGENT_PROVIDER_TYPE: 'libvirt',
      AGENT_PROVIDER_ENDPOINT: `qemu+tcp://127.0.0.1:${port}/system`, AGENT_CREDENTIALS_DIR: '/nonexistent', AGENT_LOG_LEVEL: 'error', AGENT_METRICS_PORT: 'off',
    };
    const down = (await openConfiguredDriver(loadConfig(env), env)) as LibvirtDriver;
    const agent2 = await startAgent({ natsServers: bus.nats.url, provider: provider2, driver: down, agentId: `libvirt-e2e-down-${process.pid}`, heartbeatIntervalMs: 500, shutdownGraceMs: 2000 });
    try {
      const uid = newUid();
      await publishCommand(bus.js, provider2, aReconcile({ provider: provider2, uid }));
      const { event } = await bus.events.waitFor(uid, (e) => !!e.error, 15_000);
      assert.equal(event.error?.reason, 'ProviderUnreachable', event.error?.message);
      assert.equal(event.error?.retryable, true);
      assert.match(event.error!.message, new RegExp(`qemu\\+tcp://127\\.0\\.0\\.1:${port}/system is not reachable .*ECONNREFUSED`));
      assert.equal(conditions(event).Ready, 'Unknown/ProviderUnreachable');
      const sub = bus.nc.subscribe(subjects.heartbeat(provider2), { max: 1, timeout: 5000 });
      for await (const m of sub) assert.equal(fromBinary(HeartbeatSchema, m.data).hypervisorReachable, false);
    } finally {
      await agent2.stop();
      await down.close();
    }
  });
});
