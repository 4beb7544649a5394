/**
 * The dispatcher against a real kube-apiserver and a real nats-server, with a fake agent on the
 * bus: create → command → event → Ready; update; no change → no command; missing dependencies;
 * delete with and without force; status conflicts; malformed events; delivery exhaustion.
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ANNOTATION_FORCE_DELETE, FINALIZER_VM, type VirtualMachine } from '../../api/objects.ts';
import { loadConfig } from '../../dispatcher/config.ts';
import { startDispatcher, type Dispatcher } from '../../dispatcher/dispatcher.ts';
import { createLogger } from '../../dispatcher/log.ts';
import { startMetricsServer } from '../../dispatcher/runtime/metrics-server.ts';
import { subjects } from '../../proto/bus/subjects.ts';
import { COMMAND_STREAM, DEAD_LETTER_STREAM } from '../../proto/bus/topology.ts';
import { Firmware, ObjectRefSchema, ObservedVMSchema, Phase, PowerState, type Command } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';
import { freshNamespace, testCluster } from '../support/cluster.ts';
import { aNetwork, aProvider, aVM, aVMClass, aVMImage, type Overrides } from '../support/dispatcher-fixtures.ts';
import {
  condition, createObject, deleteVM, eventsOf, getVM, kube, metricValue, patchVM, sleep, waitFor, type Kube,
} from '../support/dispatcher-harness.ts';
import { defaultReply, startFakeAgent, type FakeAgent, type Reply } from '../support/fake-agent.ts';

describe('dispatcher lifecycle (real apiserver, real nats-server, fake agent)', function () {
  this.timeout(60_000);
  let k: Kube;
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let ns: string;
  let dispatcher: Dispatcher;
  let agent: FakeAgent;
  /** Per-VM-name answers for the fake agent (default: a working agent). */
  const replies = new Map<string, (cmd: Command) => Reply>();
  /** Status-write hooks per VM key (tests provoke conflicts with them). */
  const writeHooks = new Map<string, (attempt: number) => Promise<void>>();

  const vmReady = (name: string, reason = 'Running') => waitFor(`${name} Ready=True (${reason})`, async () => {
    const vm = await getVM(k, ns, name);
    const ready = condition(vm, 'Ready');
    return ready?.status === 'True' && ready.reason === reason && vm;
  });
  const createVM = async (name: string, overrides: Overrides<VirtualMachine> = {}) =>
    createObject(k, ns, aVM({ ...overrides, metadata: { ...overrides.metadata, name } }));
  const uidOf = async (name: string) => (await getVM(k, ns, name))!.metadata.uid!;

  before(async () => {
    const cp = await testCluster();
    k = await kube();
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    ns = await freshNamespace('disp');
    for (const obj of [aProvider(), aProvider({ metadata: { name: 'ghost' } }), aProvider({ metadata: { name: 'flaky' } }), aVMClass(), aVMImage(), aNetwork()]) {
      await createObject(k, ns, obj);
    }
    await k.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'web-userdata' }, stringData: { userdata: '#cloud-config\nhostname: web\n' } } });
    agent = await startFakeAgent({
      nc, provider: { namespace: ns, name: 'kvm' },
      respond: (cmd) => (replies.get(cmd.meta?.object?.name ?? '') ?? defaultReply)(cmd),
    });
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const config = loadConfig({
      NATS_URL: nats.url, WATCH_NAMESPACE: ns, DISPATCHER_ID: 'dispatcher-a', METRICS_PORT: '0', LOG_LEVEL: 'warn',
      REDISPATCH_AFTER_EXHAUSTED_SECONDS: '3600',
    });
    dispatcher = await startDispatcher({
      config, kubeConfig: kc, log: createLogger({ level: 'error' }),
      hooks: { beforeStatusWrite: async (key, attempt) => writeHooks.get(key)?.(attempt) },
    });
    await dispatcher.whenLeader();
  });

  after(async () => {
    await dispatcher?.stop();
    await agent?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('publishes the resolved desired state, and the agent\'s answer makes the VM Ready with Events', async () => {
    await createVM('web', {
      spec: {
        networks: [{ name: 'eth0', networkRef: { name: 'lan' } }],
        userData: { cloudInit: { secretRef: { name: 'web-userdata' } } },
        disks: [{ name: 'data', sizeGiB: 20 }],
        tags: ['env:test'],
      },
    });
    const uid = await uidOf('web');
    const [cmd] = await waitFor('a command for web', () => agent.commandsFor(uid).length === 1 && agent.commandsFor(uid));
    const c = cmd!.command;
    assert.equal(c.op.case, 'reconcile');
    const desired = c.op.case === 'reconcile' ? c.op.value : undefined;
    assert.deepEqual(
      { cpus: desired?.class?.cpus, mem: desired?.class?.memoryMib, fw: desired?.class?.firmware, net: desired?.networks.map((n) => n.network), disks: desired?.disks.map((d) => d.sizeGib), power: desired?.powerState, tags: desired?.tags },
      { cpus: 2, mem: 4096n, fw: Firmware.BIOS, net: ['default'], disks: [20], power: PowerState.ON, tags: ['env:test'] },
    );
    assert.equal(new TextDecoder().decode(desired?.cloudInit?.userData), '#cloud-config\nhostname: web\n');
    assert.deepEqual([c.meta?.object?.namespace, c.meta?.object?.name, c.meta?.object?.generation, c.meta?.provider?.type], [ns, 'web', 1n, 'libvirt']);
    assert.equal(cmd!.msgId, c.meta?.commandId, 'Nats-Msg-Id is the command id');
    assert.match(cmd!.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.equal(cmd!.traceparent, c.meta?.traceparent);

    const vm = await vmReady('web');
    assert.deepEqual(
      { phase: vm.status?.phase, og: vm.status?.observedGeneration, id: vm.status?.id, ips: vm.status?.ips, console: vm.status?.consoleURL, power: vm.status?.powerState, last: vm.status?.lastCommand?.id },
      { phase: 'Running', og: 1, id: `dom-${uid.slice(0, 8)}`, ips: ['10.0.0.5'], console: `vnc://agent.example:5900/${uid.slice(0, 8)}`, power: 'On', last: c.meta?.commandId },
    );
    assert.deepEqual(vm.metadata.finalizers, [FINALIZER_VM]);
    assert.equal(vm.status?.conditions?.[0]?.type, 'Ready', 'Ready is the first condition');
    const events = await waitFor('Events for web', async () => {
      const list = await eventsOf(k, ns, 'web');
      return list.some((e) => e.reason === 'Running') && list;
    });
    // One Event per change: the publish (Provisioning) and the agent's answer (Running), each
    // naming every transition it made.
    assert.ok(events.some((e) => e.reason === 'CommandPublished' && /phase \(none\) → Provisioning/.test(e.message ?? '')), JSON.stringify(events));
    assert.ok(events.some((e) => e.reason === 'Running' && /phase Provisioning → Running/.test(e.message ?? '')), JSON.stringify(events));
  });

  it('publishes exactly one new command for an update (power Off) and reaches Stopped', async () => {
    const uid = await uidOf('web');
    await patchVM(k, ns, 'web', { spec: { powerState: 'Off' } });
    await waitFor('a second command for web', () => agent.commandsFor(uid).length === 2);
    const second = agent.commandsFor(uid)[1]!.command;
    assert.equal(second.op.case === 'reconcile' && second.op.value.powerState, PowerState.OFF);
    assert.equal(second.meta?.object?.generation, 2n);
    const vm = await vmReady('web', 'Stopped');
    assert.deepEqual([vm.status?.phase, vm.status?.powerState, vm.status?.observedGeneration], ['Stopped', 'Off', 2]);
    await sleep(500);
    assert.equal(agent.commandsFor(uid).length, 2);
  });

  it('applies an agent\'s own observation (watch, named by uid alone): power and IPs change, Ready and the phase stay', async () => {
    const uid = await uidOf('web');
    const cmd = agent.commandsFor(uid)[1]!.command;
    const before = (await getVM(k, ns, 'web'))!;
    await agent.emit(cmd, {
      object: create(ObjectRefSchema, { uid }), commandId: '', phase: Phase.UNSPECIFIED, observedGeneration: 2n,
      vm: create(ObservedVMSchema, { id: before.status!.id!, exists: true, powerState: PowerState.ON, ips: ['10.0.0.99'] }),
    });
    const vm = await waitFor('the observed power and IPs', async () => {
      const v = await getVM(k, ns, 'web');
      return v?.status?.powerState === 'On' && v.status.ips?.includes('10.0.0.99') && v;
    });
    assert.deepEqual([vm.status?.phase, vm.status?.observedGeneration, vm.status?.conditions?.[0]?.status], [before.status?.phase, 2, 'True']);
    // An observation older than what status reflects is dropped.
    await agent.emit(cmd, {
      object: create(ObjectRefSchema, { uid }), commandId: '', phase: Phase.UNSPECIFIED, observedGeneration: 1n,
      vm: create(ObservedVMSchema, { id: before.status!.id!, exists: true, powerState: PowerState.OFF, ips: [] }),
    });
    await sleep(700);
    assert.equal((await getVM(k, ns, 'web'))?.status?.powerState, 'On');
  });

  it('publishes nothing while nothing changes (status writes, unrelated annotations, dependency status)', async () => {
    const before = (await jsm.streams.info(COMMAND_STREAM)).state.last_seq;
    const published = await metricValue(dispatcher.metrics.registry, 'virtrigaud_dispatcher_commands_published_total');
    await patchVM(k, ns, 'web', { metadata: { annotations: { 'example.com/owner': 'team-a' } } });
    await k.custom.patchNamespacedCustomObjectStatus(
      { group: 'infra.virtrigaud.io', version: 'v1beta1', namespace: ns, plural: 'vmclasses', name: 'small', body: { status: { usedByVMs: 1 } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await sleep(3_000);
    assert.equal((await jsm.streams.info(COMMAND_STREAM)).state.last_seq, before, 'no message reached VR_COMMANDS');
    assert.equal(await metricValue(dispatcher.metrics.registry, 'virtrigaud_dispatcher_commands_published_total'), published);
  });

  it('waits for a missing class (WaitingForDependencies naming it), then dispatches when it appears', async () => {
    await createVM('late', { spec: { classRef: { name: 'large' } } });
    const waiting = await waitFor('WaitingForDependencies on late', async () => {
      const vm = await getVM(k, ns, 'late');
      return condition(vm, 'WaitingForDependencies')?.status === 'True' && vm;
    });
    assert.equal(condition(waiting, 'WaitingForDependencies')?.message, `waiting for VMClass ${ns}/large`);
    assert.equal(waiting.status?.phase, 'Pending');
    assert.equal(waiting.metadata.finalizers, undefined, 'no finalizer before anything can be created');
    const uid = waiting.metadata.uid!;
    assert.equal(agent.commandsFor(uid).length, 0);

    await createObject(k, ns, aVMClass({ metadata: { name: 'large' }, spec: { cpu: 8, memory: '16Gi', firmware: 'UEFI' } }));
    const [cmd] = await waitFor('a command for late', () => agent.commandsFor(uid).length === 1 && agent.commandsFor(uid));
    const desired = cmd!.command.op.case === 'reconcile' ? cmd!.command.op.value : undefined;
    assert.deepEqual([desired?.class?.cpus, desired?.class?.memoryMib, desired?.class?.firmware], [8, 16384n, Firmware.UEFI]);
    const vm = await vmReady('late');
    assert.equal(condition(vm, 'WaitingForDependencies')?.status, 'False');
  });

  it('picks up a cloud-init Secret created after the VM, reading its content at dispatch time', async () => {
    await createVM('secretive', { spec: { userData: { cloudInit: { secretRef: { name: 'later-data' } } } } });
    await waitFor('WaitingForDependencies on secretive', async () => condition(await getVM(k, ns, 'secretive'), 'WaitingForDependencies')?.message === `waiting for Secret ${ns}/later-data`);
    await k.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'later-data' }, stringData: { 'user-data': '#cloud-config\nruncmd: [true]\n' } } });
    const uid = await uidOf('secretive');
    const [cmd] = await waitFor('a command for secretive', () => agent.commandsFor(uid).length === 1 && agent.commandsFor(uid));
    const desired = cmd!.command.op.case === 'reconcile' ? cmd!.command.op.value : undefined;
    assert.equal(new TextDecoder().decode(desired?.cloudInit?.userData), '#cloud-config\nruncmd: [true]\n');
    await vmReady('secretive');
  });

  it('keeps the finalizer after delete until the agent reports PHASE_DELETED', async () => {
    let held: Command | undefined;
    replies.set('doomed', (cmd) => {
      if (cmd.op.case === 'delete') {
        held = cmd;
        return 'silent';
      }
      return defaultReply(cmd);
    });
    await createVM('doomed');
    await vmReady('doomed');
    await deleteVM(k, ns, 'doomed');
    await waitFor('the DeleteVM command', () => held);
    assert.equal(held!.op.case === 'delete' && held!.op.value.id, `dom-${(await uidOf('doomed')).slice(0, 8)}`);
    await sleep(1_000);
    const deleting = await getVM(k, ns, 'doomed');
    assert.ok(deleting?.metadata.deletionTimestamp, 'still there, being deleted');
    assert.deepEqual(deleting?.metadata.finalizers, [FINALIZER_VM]);
    assert.deepEqual([deleting?.status?.phase, condition(deleting, 'Deleting')?.status], ['Deleting', 'True']);

    await agent.emit(held!, { phase: Phase.DELETED });
    await waitFor('doomed to be gone', async () => (await getVM(k, ns, 'doomed')) === undefined);
  });

  it('never drops the finalizer for an unreachable provider; virtrigaud.io/force-delete: "true" removes it at once', async () => {
    await createVM('stranded', { spec: { providerRef: { name: 'ghost' } } });
    await waitFor('the finalizer on stranded', async () => (await getVM(k, ns, 'stranded'))?.metadata.finalizers?.includes(FINALIZER_VM));
    await deleteVM(k, ns, 'stranded');
    await waitFor('stranded Deleting', async () => condition(await getVM(k, ns, 'stranded'), 'Deleting')?.status === 'True');
    await sleep(1_000);
    assert.ok(await getVM(k, ns, 'stranded'), 'no agent answered: the object stays');
    await patchVM(k, ns, 'stranded', { metadata: { annotations: { [ANNOTATION_FORCE_DELETE]: 'true' } } });
    await waitFor('stranded to be gone', async () => (await getVM(k, ns, 'stranded')) === undefined, 5_000);
  });

  it('retries a status write that hits a 409 conflict (re-reads and re-applies)', async () => {
    const conflictsBefore = await metricValue(dispatcher.metrics.registry, 'virtrigaud_dispatcher_status_writes_total', { result: 'conflict' });
    let provoked = 0;
    writeHooks.set(`${ns}/contested`, async (attempt) => {
      if (attempt === 1 && provoked < 2) {
        provoked++;
        // Someone else changes the object between our read and our write.
        await patchVM(k, ns, 'contested', { metadata: { labels: { touched: String(provoked) } } });
      }
    });
    await createVM('contested');
    await vmReady('contested');
    assert.ok(provoked >= 1);
    assert.ok(await metricValue(dispatcher.metrics.registry, 'virtrigaud_dispatcher_status_writes_total', { result: 'conflict' }) >= conflictsBefore + 1);
    writeHooks.delete(`${ns}/contested`);
  });

  it('terminates, counts and dead-letters a malformed status event, and keeps working', async () => {
    const uid = await uidOf('web');
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    const dlqBefore = (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages;
    await js.publish(subjects.event({ namespace: ns, name: 'kvm' }, uid), new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]));
    await js.publish(subjects.event({ namespace: ns, name: 'kvm' }, uid), new TextEncoder().encode('{"not":"protobuf"}'));
    await waitFor('two malformed events counted', async () => (await metricValue(dispatcher.metrics.registry, 'virtrigaud_dispatcher_malformed_events_total')) >= 2);
    await waitFor('dead letters recorded', async () => (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages >= dlqBefore + 2);
    await createVM('after-garbage');
    await vmReady('after-garbage');
  });

  it('turns a command the bus gave up delivering into Ready=False CommandDeliveryExhausted', async () => {
    const flaky = await startFakeAgent({
      nc, provider: { namespace: ns, name: 'flaky' }, respond: () => 'nak',
      consumer: { max_deliver: 2, ack_wait: 1_000_000_000 },
    });
    try {
      await createVM('unlucky', { spec: { providerRef: { name: 'flaky' } } });
      const vm = await waitFor('CommandDeliveryExhausted on unlucky', async () => {
        const v = await getVM(k, ns, 'unlucky');
        return condition(v, 'Ready')?.reason === 'CommandDeliveryExhausted' && v;
      }, 15_000);
      assert.ok(vm.status?.lastCommand?.deliveryExhaustedAt);
      assert.match(condition(vm, 'Ready')!.message, /after 2 deliveries/);
      const events = await waitFor('a Warning event', async () => (await eventsOf(k, ns, 'unlucky')).find((e) => e.reason === 'CommandDeliveryExhausted'));
      assert.equal(events.type, 'Warning');
    } finally {
      await flaky.stop();
    }
  });

  it('serves Prometheus metrics: leader, queue depth, commands, status writes, reconciles', async () => {
    const server = await startMetricsServer(dispatcher.metrics.registry, 0, () => true);
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /^virtrigaud_dispatcher_leader 1$/m);
      assert.match(text, /^virtrigaud_dispatcher_queue_depth \d+$/m);
      assert.match(text, /^virtrigaud_dispatcher_commands_published_total\{operation="Reconcile",duplicate="false"\} \d+$/m);
      assert.match(text, /^virtrigaud_dispatcher_status_writes_total\{result="written"\} \d+$/m);
      assert.match(text, /^virtrigaud_dispatcher_reconciles_total\{result="unchanged"\} \d+$/m);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
