/**
 * The Proxmox agent end to end: the shared agent runtime on a real nats-server, the driver opened
 * as the agent process opens it (driver table, Provider endpoint and mounted credential files),
 * against the fake PVE API. A reconcile command becomes a running VM and a Ready event; a delete
 * leaves no VM and reports PHASE_DELETED.
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkSpecSchema, Phase, PowerState, type Command, type StatusEvent } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startAgent, type Agent } from '../../provider-agents/core/agent.ts';
import type { Driver } from '../../provider-agents/core/driver.ts';
import { openDriver } from '../../provider-agents/drivers.ts';
import { aDelete, aReconcile, eventually, freshProvider, newUid, publishCommand, startBus, type Bus } from '../support/agent-bus.ts';
import { metricValue } from '../support/agent-fixtures.ts';
import { FakePve } from '../fakes/proxmox/server.ts';

const isReady = (e: StatusEvent) => e.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

describe('proxmox agent (runtime + driver + fake PVE)', function () {
  this.timeout(30_000);
  let bus: Bus;
  let fake: FakePve;
  let credsDir: string;

  before(async () => {
    [bus, fake] = await Promise.all([startBus(), FakePve.start({ pace: { default: 20 } })]);
    credsDir = await mkdtemp(join(tmpdir(), 'pve-creds-'));
    // The credential Secret as the Provider controller mounts it: one file per key.
    await writeFile(join(credsDir, 'token_id'), `${fake.token.id}\n`);
    await writeFile(join(credsDir, 'token_secret'), fake.token.secret);
    await writeFile(join(credsDir, 'ca.crt'), fake.caPem);
  });
  after(async () => {
    await bus?.close();
    await fake?.stop();
    if (credsDir) await rm(credsDir, { recursive: true, force: true });
  });

  async function startProxmoxAgent(provider: { namespace: string; name: string }): Promise<{ agent: Agent; driver: Driver; stop(): Promise<void> }> {
    const env = { AGENT_PROVIDER_ENDPOINT: fake.url, AGENT_CREDENTIALS_DIR: credsDir, PROXMOX_TASK_POLL_MS: '10' };
    const driver = await openDriver({
      natsServers: [bus.nats.url], provider: { ...provider, type: 'proxmox' }, agentId: `pve-agent-${process.pid}`, concurrency: 4,
      metricsPort: undefined, metricsHost: '127.0.0.1', grpcPort: undefined, leaseTtlS: 60, heartbeatIntervalS: 1, shutdownGraceS: 5, logLevel: 'error',
    }, env);
    const agent = await startAgent({ natsServers: bus.nats.url, provider, driver, agentId: `pve-agent-${process.pid}-${provider.name}`, heartbeatIntervalMs: 1000, shutdownGraceMs: 5000 });
    return { agent, driver, stop: async () => { await agent.stop(); await driver.close(); } };
  }

  it('reconcile → a running VM with its uid, guest IPs and a Ready event; delete → the VM is gone and PHASE_DELETED', async () => {
    const provider = freshProvider();
    const a = await startProxmoxAgent(provider);
    try {
      assert.equal(a.driver.type, 'proxmox');
      const uid = newUid();
      const cmd: Command = aReconcile({ provider, uid, generation: 2n, cpus: 2, memoryMib: 2048n, power: PowerState.ON });
      if (cmd.op.case === 'reconcile') cmd.op.value.networks = [create(NetworkSpecSchema, { network: 'vmbr0', vlan: 30, ipAddress: '10.30.0.7', prefix: 24, gateway: '10.30.0.1' })];
      await publishCommand(bus.js, provider, cmd);
      const { event } = await bus.events.waitFor(uid, isReady, 20_000);
      assert.equal(event.phase, Phase.RUNNING);
      assert.equal(event.observedGeneration, 2n);
      assert.equal(event.vm?.powerState, PowerState.ON);
      assert.equal(event.vm?.cpus, 2);
      assert.equal(event.vm?.memoryMib, 2048n);
      assert.equal(event.vm?.appliedGeneration, 2n);
      assert.deepEqual(event.vm?.ips, ['10.30.0.7']);
      assert.match(event.vm!.consoleUrl, /novnc=1/);
      const vms = fake.vmsTagged(`vr-uid-${uid}`);
      assert.equal(vms.length, 1);
      assert.equal(String(vms[0]!.vmid), event.vm?.id);
      assert.equal(vms[0]!.running, true);
      assert.match(vms[0]!.config.net0!, /tag=30/);

      // The same command again (a redelivery): still one VM.
      // (Its event has the same Nats-Msg-Id, so the stream drops it: count the agent's successes instead.)
      await publishCommand(bus.js, provider, cmd, { msgId: `${cmd.meta!.commandId}-again` });
      await eventually(async () => (await metricValue(a.agent, 'virtrigaud_agent_commands_total', { outcome: 'success' })) >= 2 || undefined, 20_000, 'the redelivery handled');
      assert.equal(fake.vmsTagged(`vr-uid-${uid}`).length, 1);

      await publishCommand(bus.js, provider, aDelete({ provider, uid, generation: 3n }));
      await bus.events.waitFor(uid, (e) => e.phase === Phase.DELETED, 20_000);
      assert.equal(fake.vmsTagged(`vr-uid-${uid}`).length, 0);
      assert.equal(fake.state.vms[event.vm!.id], undefined);
      assert.ok(fake.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/qemu/${event.vm!.id}`)));
    } finally {
      await a.stop();
    }
  });

  it('a malformed Proxmox answer becomes a retryable MalformedReply condition, then Ready once PVE answers properly', async () => {
    const provider = freshProvider();
    const a = await startProxmoxAgent(provider);
    try {
      const uid = newUid();
      fake.faults.corrupt.push({ method: 'GET', path: /^\/cluster\/resources$/, times: 1, body: '{"data":[{"type":"qemu","vmid":"one hundred","node":"pve1"}]}' });
      await publishCommand(bus.js, provider, aReconcile({ provider, uid }));
      const { event: failed } = await bus.events.waitFor(uid, (e) => e.error !== undefined, 20_000);
      assert.equal(failed.error!.reason, 'MalformedReply');
      assert.equal(failed.error!.retryable, true);
      assert.match(failed.error!.message, /cluster\/resources/);
      assert.deepEqual(failed.conditions.map((c) => [c.type, c.status, c.reason]), [['Ready', 'Unknown', 'MalformedReply']]);
      assert.notEqual(failed.phase, Phase.DELETED);
      await bus.events.waitFor(uid, isReady, 20_000);
      assert.equal(fake.vmsTagged(`vr-uid-${uid}`).length, 1);
    } finally {
      fake.faults.corrupt.length = 0;
      await a.stop();
    }
  });
});
