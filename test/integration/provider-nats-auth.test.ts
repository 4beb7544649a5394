/**
 * Per-provider NATS credentials against a real nats-server in operator (JWT) mode: a mock agent
 * running on minted credentials does its whole job (consumer, leases, its hypervisor bucket,
 * events, heartbeats), and the same credentials are refused everything of another provider.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { bootstrapNatsAuth, inspectCreds, mintAgentCreds, type NatsAuthBootstrap } from '../../dispatcher/providers/nats-accounts.ts';
import { agentInboxPrefix, mockHypervisorBucket } from '../../dispatcher/providers/nats-permissions.ts';
import { subjects, type ProviderKey } from '../../proto/bus/subjects.ts';
import { COMMAND_STREAM, EVENT_STREAM, agentConsumerConfig, ensureStreams } from '../../proto/bus/topology.ts';
import { HeartbeatSchema, Phase } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startAgent } from '../../provider-agents/core/agent.ts';
import { MockDriver, mockBucketName } from '../../provider-agents/mock/index.ts';
import { startNats, type NatsServer } from '../../scripts/stack/nats.ts';
import { EventCollector, aReconcile, newUid, publishCommand } from '../support/agent-bus.ts';

const HOUR = 3_600_000;

describe('per-provider NATS credentials (operator/JWT mode, real nats-server)', function () {
  this.timeout(60_000);
  let auth: NatsAuthBootstrap;
  let nats: NatsServer;
  let dispatcherNc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let events: EventCollector;
  let dir: string;
  const mine: ProviderKey = { namespace: 'team-a', name: 'kvm-1' };
  const theirs: ProviderKey = { namespace: 'team-b', name: 'kvm-2' };
  const conns: NatsConnection[] = [];

  const connectAs = async (creds: string, inboxPrefix?: string) => {
    const nc = await connect({ servers: nats.url, authenticator: credsAuthenticator(new TextEncoder().encode(creds)), ...(inboxPrefix ? { inboxPrefix } : {}) });
    conns.push(nc);
    return nc;
  };

  before(async () => {
    auth = await bootstrapNatsAuth();
    nats = await startNats({ extraConfig: auth.serverConfig });
    dispatcherNc = await connectAs(auth.dispatcherCreds);
    jsm = await jetstreamManager(dispatcherNc);
    js = jetstream(dispatcherNc);
    await ensureStreams(jsm);
    events = await EventCollector.start(js, jsm);
    dir = mkdtempSync(join(tmpdir(), 'vr-creds-'));
  });

  after(async () => {
    events?.stop();
    for (const nc of conns) await nc.close().catch(() => undefined);
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a connection without credentials', async () => {
    await assert.rejects(connect({ servers: nats.url, maxReconnectAttempts: 0 }), /Authorization Violation/i);
  });

  it('names the same mock hypervisor bucket as the mock agent does', () => {
    assert.equal(mockHypervisorBucket(mine), mockBucketName(mine));
  });

  it('signs only the provider\'s own subjects into the user JWT, with an expiry', async () => {
    const minted = await mintAgentCreds(auth, { ...mine, type: 'libvirt' }, HOUR);
    const info = inspectCreds(minted.creds)!;
    assert.equal(info.issuerAccount, auth.accountPublicKey);
    assert.ok(info.expiresAt! > Date.now() + HOUR - 60_000 && info.expiresAt! <= Date.now() + HOUR + 1000);
    assert.deepEqual(info.sub, ['_INBOX_team-a_kvm-1.>']);
    assert.ok(info.pub.includes('vr.evt.team-a.kvm-1.*'));
    assert.ok(info.pub.every((s) => !s.includes('team-b') && s !== '>' && !s.startsWith('vr.cmd')), info.pub.join(' '));
    assert.ok(!info.pub.some((s) => s.includes('VR_MOCK_HV')), 'a libvirt agent gets no mock bucket');
  });

  it('lets an agent on its minted credentials take a command, work its hypervisor bucket and report it Running, and send heartbeats', async () => {
    const minted = await mintAgentCreds(auth, { ...mine, type: 'mock' }, HOUR);
    const credsFile = join(dir, 'mine.creds');
    writeFileSync(credsFile, minted.creds);
    const natsAuth = { credsFile, inboxPrefix: agentInboxPrefix(mine) };
    const beats: string[] = [];
    const hbSub = dispatcherNc.subscribe(subjects.heartbeat(mine), { callback: (_e, m) => { beats.push(fromBinary(HeartbeatSchema, m.data).agentId); } });
    const driver = await MockDriver.open({ natsServers: nats.url, natsAuth, provider: mine, actor: 'a1' });
    const agent = await startAgent({ natsServers: nats.url, natsAuth, provider: mine, driver, agentId: 'a1', heartbeatIntervalMs: 300, shutdownGraceMs: 2000 });
    try {
      const uid = newUid();
      await publishCommand(js, mine, aReconcile({ provider: mine, uid }));
      const ready = await events.waitFor(uid, (e) => e.phase === Phase.RUNNING, 15_000);
      assert.equal(ready.subject, subjects.event(mine, uid));
      assert.ok((await driver.store.listVms()).length >= 1);
      const deadline = Date.now() + 5000;
      while (!beats.includes('a1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(beats.includes('a1'), 'a heartbeat from a1 arrived');
    } finally {
      hbSub.unsubscribe();
      await agent.stop();
      await driver.close();
    }
  });

  describe('the same credentials, on another provider\'s subjects', () => {
    let nc: NatsConnection;
    let errors: string[];
    before(async () => {
      const minted = await mintAgentCreds(auth, { ...mine, type: 'mock' }, HOUR);
      nc = await connectAs(minted.creds, agentInboxPrefix(mine));
      errors = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'error') errors.push(String((s as { error?: unknown }).error));
      })();
    });

    /** The server itself refuses: a permissions violation naming the subject, not a timeout. */
    const refused = async (p: Promise<unknown>) => {
      await assert.rejects(p, /Permissions Violation for Publish to/);
    };

    it('cannot create or read the other provider\'s consumer', async () => {
      const theirJsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
      await refused(theirJsm.consumers.add(COMMAND_STREAM, agentConsumerConfig(theirs)));
      await refused(theirJsm.consumers.info(COMMAND_STREAM, agentConsumerConfig(theirs).durable_name!));
      // Nor a consumer of its own name that filters another provider's commands.
      await refused(theirJsm.consumers.add(COMMAND_STREAM, { ...agentConsumerConfig(mine), filter_subject: subjects.commandsOf(theirs) }));
      // Nor the filter-less form, whose body could name any filter.
      await refused(nc.request(`$JS.API.CONSUMER.CREATE.${COMMAND_STREAM}.agents_${mine.namespace}_${mine.name}`, JSON.stringify({ stream_name: COMMAND_STREAM, config: agentConsumerConfig(theirs) }), { timeout: 1000 }));
    });

    it('cannot change or delete the shared streams', async () => {
      const theirJsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
      await refused(theirJsm.streams.update(EVENT_STREAM, { max_msgs: 1 }));
      await refused(theirJsm.streams.delete(EVENT_STREAM));
    });

    it('cannot publish another provider\'s events, heartbeats or dead letters, nor commands', async () => {
      const theirJs = jetstream(nc, { timeout: 1000 });
      await refused(theirJs.publish(subjects.event(theirs, newUid()), new Uint8Array([1])));
      await refused(theirJs.publish(subjects.command(mine, newUid()), new Uint8Array([1])));
      await refused(theirJs.publish(subjects.deadLetter(theirs), new Uint8Array([1])));
      errors.length = 0;
      nc.publish(subjects.heartbeat(theirs), new Uint8Array([1]));
      await nc.flush();
      const deadline = Date.now() + 2000;
      while (!errors.some((e) => e.includes(subjects.heartbeat(theirs))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(errors.some((e) => /permissions violation/i.test(e) && e.includes(subjects.heartbeat(theirs))), errors.join('\n'));
    });

    it('cannot subscribe to anything but its own inbox (not to _INBOX.>, nor to events or heartbeats)', async () => {
      for (const subject of ['_INBOX.>', subjects.allEvents, subjects.allHeartbeats, subjects.commandsOf(theirs), `${agentInboxPrefix(theirs)}.>`]) {
        errors.length = 0;
        const sub = nc.subscribe(subject);
        await nc.flush();
        const deadline = Date.now() + 2000;
        while (!errors.some((e) => e.includes(subject)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.ok(errors.some((e) => /permissions violation/i.test(e)), `subscribing ${subject}: ${errors.join('\n')}`);
        sub.unsubscribe();
      }
    });

    it('cannot open the other provider\'s hypervisor bucket', async () => {
      await refused(new Kvm(nc).create(mockHypervisorBucket(theirs), { timeout: 1000 } as never));
    });
  });
});
