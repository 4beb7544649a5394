/**
 * End to end through the agent runtime: commands published on a real nats-server as the dispatcher
 * would, the vSphere driver on a real vcsim, status events consumed as the dispatcher would.
 */
import { create, fromBinary } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { subjects } from '../../proto/bus/subjects.ts';
import {
  ClassSpecSchema, CommandSchema, DeleteVMSchema, HeartbeatSchema, ImageSpecSchema, ObjectRefSchema, Phase, PowerState, ProviderRefSchema,
  type Command, type DesiredVM, type StatusEvent,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { startAgent, type Agent } from '../../provider-agents/core/agent.ts';
import { loadConfig } from '../../provider-agents/core/config.ts';
import { openDriver as openDriverFor } from '../../provider-agents/drivers.ts';
import { silentLogger } from '../../provider-agents/core/log.ts';
import type { VSphereDriver } from '../../provider-agents/vsphere/driver.ts';
import { eventually, freshProvider, newUid, publishCommand, startBus, type Bus } from '../support/agent-bus.ts';
import { metricValue } from '../support/agent-fixtures.ts';
import { desiredFrom, makeTemplate, openDriver, startVcsim, type Vcsim } from '../support/vcsim.ts';

const isReady = (e: StatusEvent) => e.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

function command(provider: { namespace: string; name: string }, uid: string, generation: bigint, op: Command['op']): Command {
  const object = create(ObjectRefSchema, { namespace: 'default', name: `web-${uid.slice(0, 6)}`, uid, generation });
  return create(CommandSchema, {
    meta: {
      commandId: `${uid}-${generation}-${op.case}`,
      object,
      vm: object,
      provider: create(ProviderRefSchema, { ...provider, type: 'vsphere' }),
      issuedAtUnixMs: BigInt(Date.now()),
    },
    op,
  });
}

const reconcile = (p: { namespace: string; name: string }, uid: string, generation: bigint, desired: DesiredVM) =>
  command(p, uid, generation, { case: 'reconcile', value: desired });

describe('vSphere agent end to end (nats-server + vcsim)', function () {
  this.timeout(60_000);
  let bus: Bus;
  let sim: Vcsim;
  let driver: VSphereDriver;
  let agent: Agent;
  const provider = freshProvider();

  before(async () => {
    [bus, sim] = await Promise.all([startBus(), startVcsim()]);
    driver = await openDriver(sim);
    await makeTemplate(driver, 'ubuntu-22.04');
    agent = await startAgent({
      natsServers: bus.nats.url, provider: { ...provider, type: 'vsphere' }, driver, agentId: `vsphere-e2e-${process.pid}`,
      heartbeatIntervalMs: 500, shutdownGraceMs: 5000, log: silentLogger,
    });
  });
  after(async () => {
    await agent?.stop();
    await driver?.close();
    await Promise.all([bus?.close(), sim?.close()]);
  });

  it('creates a VM for a reconcile command and reports it Ready; a delete removes it and reports it deleted', async () => {
    const uid = newUid();
    const desired = desiredFrom('ubuntu-22.04', {
      class: create(ClassSpecSchema, { name: 'medium', cpus: 2, memoryMib: 2048n }),
      image: create(ImageSpecSchema, { source: { case: 'vsphereTemplate', value: { templateName: 'ubuntu-22.04', contentLibrary: '', contentLibraryItem: '' } } }),
      powerState: PowerState.ON,
    });
    await publishCommand(bus.js, provider, reconcile(provider, uid, 2n, desired));
    const { event } = await bus.events.waitFor(uid, isReady, 30_000);
    assert.equal(event.phase, Phase.RUNNING);
    assert.equal(event.observedGeneration, 2n);
    assert.equal(event.vm?.powerState, PowerState.ON);
    assert.equal(event.vm?.cpus, 2);
    assert.equal(event.vm?.memoryMib, 2048n);
    assert.equal(event.vm?.appliedGeneration, 2n);
    const vmId = event.vm!.id;
    assert.equal(driver.inventory.get({ type: 'VirtualMachine', value: vmId })?.extraConfig.get('virtrigaud.uid'), uid);

    // A redelivered reconcile (new message id) converges to the same VM.
    const clones = driver.client.stats.byMethod.get('CloneVM_Task');
    await publishCommand(bus.js, provider, reconcile(provider, uid, 2n, desired), { msgId: `${uid}-again` });
    // (Its event has the same command id, so the bus drops it as a duplicate: count the command.)
    await eventually(async () => (await metricValue(agent, 'virtrigaud_agent_commands_total', { op: 'reconcile', outcome: 'success' })) >= 2 || undefined, 30_000, 'the second reconcile');
    assert.equal(driver.client.stats.byMethod.get('CloneVM_Task'), clones);

    await publishCommand(bus.js, provider, command(provider, uid, 3n, { case: 'delete', value: create(DeleteVMSchema, {}) }));
    const deleted = await bus.events.waitFor(uid, (e) => e.phase === Phase.DELETED, 30_000);
    assert.equal(deleted.event.error, undefined);
    assert.equal(await driver.find(uid), undefined);
    assert.equal(driver.inventory.get({ type: 'VirtualMachine', value: vmId }), undefined);
    assert.equal(driver.client.stats.sessionsOpened, 1);
  });

  it('opens through the driver table from the agent\'s environment and the mounted credential Secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-secret-'));
    try {
      writeFileSync(join(dir, 'username'), `${sim.username}\n`);
      writeFileSync(join(dir, 'password'), `${sim.password}\n`);
      writeFileSync(join(dir, 'thumbprint'), await new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: Number(sim.url.port), rejectUnauthorized: false }, () => { resolve(s.getPeerCertificate().fingerprint256); s.end(); });
        s.on('error', reject);
      }));
      const env = { AGENT_PROVIDER_ENDPOINT: `https://${sim.url.host}`, AGENT_CREDENTIALS_DIR: dir };
      const config = loadConfig({ ...env, AGENT_PROVIDER_NAMESPACE: 'infra', AGENT_PROVIDER_NAME: 'vc-1', AGENT_PROVIDER_TYPE: 'vsphere' });
      const opened = await openDriverFor(config, env);
      try {
        assert.equal(opened.type, 'vsphere');
        assert.match((await opened.validate()).version, /govmomi simulator/);
      } finally {
        await opened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('heartbeats with the vSphere capabilities and vCenter reachable', async () => {
    const sub = bus.nc.subscribe(subjects.heartbeat(provider), { max: 1 });
    for await (const m of sub) {
      const hb = fromBinary(HeartbeatSchema, m.data);
      assert.equal(hb.hypervisorReachable, true);
      assert.match(hb.hypervisorVersion, /govmomi simulator/);
      assert.ok(hb.capabilities.includes('memorySnapshots') && hb.capabilities.includes('cpuHotAdd'));
    }
  });
});
