/**
 * Dispatcher restarts and failover: a restarted dispatcher publishes nothing that was already
 * published (a republish after a lost status write is dropped by JetStream's duplicate window)
 * and converges; with two replicas (real processes) only the Lease holder publishes, and when it
 * is killed the other takes over within 15 s.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '../../dispatcher/config.ts';
import { startDispatcher, type Dispatcher, type StartDispatcherOptions } from '../../dispatcher/dispatcher.ts';
import { createLogger } from '../../dispatcher/log.ts';
import { COMMAND_STREAM } from '../../proto/bus/topology.ts';
import { PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';
import { startProcess, type ManagedProcess } from '../../scripts/stack/processes.ts';
import { freshNamespace, testCluster } from '../support/cluster.ts';
import { aNetwork, aProvider, aVM, aVMClass, aVMImage } from '../support/dispatcher-fixtures.ts';
import { condition, createObject, getVM, kube, metricValue, patchVM, sleep, waitFor, type Kube } from '../support/dispatcher-harness.ts';
import { startFakeAgent, type FakeAgent } from '../support/fake-agent.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

async function world(k: Kube, ns: string): Promise<void> {
  for (const obj of [aProvider(), aVMClass(), aVMImage(), aNetwork()]) await createObject(k, ns, obj);
}

const ready = (k: Kube, ns: string, name: string, reason = 'Running') => waitFor(`${name} Ready (${reason})`, async () => {
  const vm = await getVM(k, ns, name);
  return condition(vm, 'Ready')?.status === 'True' && condition(vm, 'Ready')?.reason === reason && vm;
}, 20_000);

describe('dispatcher restart and failover', function () {
  this.timeout(90_000);
  let k: Kube;
  let kc: KubeConfig;
  let kubeconfigPath: string;

  before(async () => {
    const cp = await testCluster();
    kubeconfigPath = cp.kubeconfig;
    k = await kube();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
  });

  describe('a restarted dispatcher', () => {
    let nats: NatsServer;
    let nc: NatsConnection;
    let agent: FakeAgent;
    let ns: string;
    const running: Dispatcher[] = [];

    before(async () => {
      nats = await startNats();
      nc = await connect({ servers: nats.url });
      ns = await freshNamespace('restart');
      await world(k, ns);
      agent = await startFakeAgent({ nc, provider: { namespace: ns, name: 'kvm' } });
    });
    after(async () => {
      for (const d of running) await d.stop().catch(() => {});
      await agent?.stop();
      await nc?.close();
      await nats?.stop();
    });

    const start = async (identity: string, hooks?: StartDispatcherOptions['hooks']) => {
      const config = loadConfig({ NATS_URL: nats.url, WATCH_NAMESPACE: ns, DISPATCHER_ID: identity, METRICS_PORT: '0' });
      const d = await startDispatcher({ config, kubeConfig: kc, log: createLogger({ level: 'error' }), hooks });
      running.push(d);
      await d.whenLeader();
      return d;
    };

    it('publishes no duplicate, drops a republish after a lost status write, and converges', async () => {
      // 1. Dispatcher A: its status writes for lost-write fail, as if it crashed right after publishing.
      const a = await start('restart-a', {
        beforeStatusWrite: async (key) => {
          if (key === `${ns}/lost-write`) throw new Error('simulated crash between publish and status write');
        },
      });
      for (const name of ['steady', 'changing', 'lost-write']) await createObject(k, ns, aVM({ metadata: { name } }));
      await ready(k, ns, 'steady');
      await ready(k, ns, 'changing');
      const lostUid = (await getVM(k, ns, 'lost-write'))!.metadata.uid!;
      await waitFor('lost-write command', () => agent.commandsFor(lostUid).length === 1);
      assert.equal((await getVM(k, ns, 'lost-write'))?.status?.lastCommand, undefined, 'A never recorded it');
      await a.stop();

      // 2. While no dispatcher runs, one VM changes.
      await patchVM(k, ns, 'changing', { spec: { powerState: 'Off' } });
      const js = await jetstreamManager(nc);
      const seqBefore = (await js.streams.info(COMMAND_STREAM)).state.last_seq;
      const countsBefore = agent.received.length;

      // 3. Dispatcher B: one command for the change, the lost one republished under the same id (dropped).
      const b = await start('restart-b');
      await ready(k, ns, 'changing', 'Stopped');
      await ready(k, ns, 'lost-write');
      await sleep(1_000);
      assert.equal(agent.received.length, countsBefore + 1, 'the agents got exactly one new command');
      const last = agent.received[agent.received.length - 1]!.command;
      assert.equal(last.meta?.object?.name, 'changing');
      assert.equal(last.op.case === 'reconcile' && last.op.value.powerState, PowerState.OFF);
      assert.equal((await js.streams.info(COMMAND_STREAM)).state.last_seq, seqBefore + 1, 'one message stored on VR_COMMANDS');
      assert.equal(await metricValue(b.metrics.registry, 'virtrigaud_dispatcher_commands_published_total', { duplicate: 'true' }), 1);
      assert.equal((await getVM(k, ns, 'lost-write'))?.status?.lastCommand?.id, agent.commandsFor(lostUid)[0]!.msgId);
    });
    it('converges after the nats-server restarts (streams and consumers on disk, nothing lost)', async () => {
      const uid = (await getVM(k, ns, 'steady'))!.metadata.uid!;
      const before = agent.commandsFor(uid).length;
      await nats.restart();
      await patchVM(k, ns, 'steady', { spec: { powerState: 'Off' } });
      await ready(k, ns, 'steady', 'Stopped');
      assert.equal(agent.commandsFor(uid).length, before + 1);
    });
  });

  describe('two replicas', () => {
    let nats: NatsServer;
    let nc: NatsConnection;
    let agent: FakeAgent;
    let ns: string;
    let dir: string;
    const replicas = new Map<string, ManagedProcess>();

    before(async () => {
      nats = await startNats();
      nc = await connect({ servers: nats.url });
      ns = await freshNamespace('ha');
      await world(k, ns);
      agent = await startFakeAgent({ nc, provider: { namespace: ns, name: 'kvm' } });
      dir = mkdtempSync(join(tmpdir(), 'dispatcher-ha-'));
    });
    after(async () => {
      for (const p of replicas.values()) await p.stop();
      await agent?.stop();
      await nc?.close();
      await nats?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const launch = (id: string) => replicas.set(id, startProcess({
      name: id,
      command: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'dispatcher/main.ts')],
      logFile: join(dir, `${id}.log`),
      env: {
        ...process.env, NATS_URL: nats.url, KUBECONFIG: kubeconfigPath, WATCH_NAMESPACE: ns,
        DISPATCHER_ID: id, METRICS_PORT: '0', LOG_LEVEL: 'info',
      },
    }));
    const published = (id: string) => readFileSync(join(dir, `${id}.log`), 'utf8').split('\n').filter((l) => l.includes('"msg":"command published"')).length;
    const holder = async () => {
      try {
        return (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'virtrigaud-dispatcher' })).spec?.holderIdentity;
      } catch {
        return undefined;
      }
    };

    it('only the leader publishes; killing it hands over within 15 s', async () => {
      launch('replica-1');
      launch('replica-2');
      const leader = await waitFor('a lease holder', async () => {
        const h = await holder();
        return h === 'replica-1' || h === 'replica-2' ? h : undefined;
      }, 30_000, 200);
      const follower = leader === 'replica-1' ? 'replica-2' : 'replica-1';
      await sleep(500);

      await createObject(k, ns, aVM({ metadata: { name: 'ha' } }));
      const uid = (await getVM(k, ns, 'ha'))!.metadata.uid!;
      await ready(k, ns, 'ha');
      assert.equal(agent.commandsFor(uid).length, 1);
      assert.deepEqual([published(leader), published(follower)], [1, 0], 'only the leader published');

      // Kill the leader hard (no lease release), then change the VM at once.
      const killedAt = Date.now();
      process.kill(replicas.get(leader)!.pid, 'SIGKILL');
      await patchVM(k, ns, 'ha', { spec: { powerState: 'Off' } });
      await waitFor('the new leader\'s command', () => agent.commandsFor(uid).length === 2, 20_000, 100);
      const handover = Date.now() - killedAt;
      assert.ok(handover < 15_000, `took ${handover} ms`);
      assert.equal(await holder(), follower);
      await ready(k, ns, 'ha', 'Stopped');
      await sleep(500);
      assert.equal(agent.commandsFor(uid).length, 2, 'no duplicate after the handover');
      assert.equal(published(follower), 1);
      console.log(`      handover after ${handover} ms`);
    });
  });
});
