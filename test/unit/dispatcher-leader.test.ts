/** Lease leader election against an in-memory Lease store with resourceVersion semantics. */
import { strict as assert } from 'node:assert';
import type { V1Lease } from '@kubernetes/client-node';
import { silentLogger } from '../../dispatcher/log.ts';
import { microTime, startLeaderElection, type LeaderElection } from '../../dispatcher/runtime/leader-election.ts';

class Conflict extends Error {
  code = 409;
}

/** One Lease, versioned like the apiserver's (replace with a stale resourceVersion → 409). */
function leaseStore() {
  let lease: V1Lease | undefined;
  let version = 0;
  let down = false;
  const copy = (l: V1Lease) => structuredClone(l);
  return {
    get current() {
      return lease;
    },
    setDown(v: boolean) {
      down = v;
    },
    api: {
      async getLease() {
        if (down) throw new Error('apiserver unreachable');
        return lease && copy(lease);
      },
      async createLease(_ns: string, body: V1Lease) {
        if (down) throw new Error('apiserver unreachable');
        if (lease) throw new Conflict('exists');
        lease = { ...copy(body), metadata: { ...body.metadata, resourceVersion: String(++version) } };
        return copy(lease);
      },
      async replaceLease(_ns: string, _name: string, body: V1Lease) {
        if (down) throw new Error('apiserver unreachable');
        if (!lease || body.metadata?.resourceVersion !== lease.metadata?.resourceVersion) throw new Conflict('conflict');
        lease = { ...copy(body), metadata: { ...body.metadata, resourceVersion: String(++version) } };
        return copy(lease);
      },
    },
  };
}

const timing = { durationMs: 1000, renewIntervalMs: 100, renewDeadlineMs: 400, retryIntervalMs: 50 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dispatcher leader election', () => {
  const running: LeaderElection[] = [];
  afterEach(async () => {
    for (const e of running.splice(0)) await e.stop();
  });

  function elect(store: ReturnType<typeof leaseStore>, identity: string, log: string[] = []) {
    const e = startLeaderElection({
      api: store.api, namespace: 'ns', name: 'lease', identity, ...timing, log: silentLogger,
      onStartedLeading: (signal) => {
        log.push(`${identity} started`);
        signal.addEventListener('abort', () => log.push(`${identity} aborted`));
      },
      onStoppedLeading: () => log.push(`${identity} stopped`),
    });
    running.push(e);
    return e;
  }

  it('formats MicroTime with six fractional digits', () => {
    assert.equal(microTime(Date.parse('2026-11-25T10:00:00.123Z')), '2026-11-25T10:00:00.123000Z');
  });

  it('one of two replicas leads; the other follows while the lease is renewed', async () => {
    const store = leaseStore();
    const a = elect(store, 'a');
    await sleep(30);
    const b = elect(store, 'b');
    await sleep(1500);
    assert.deepEqual([a.isLeader(), b.isLeader()], [true, false]);
    assert.equal(store.current?.spec?.holderIdentity, 'a');
  });

  it('a follower takes over about one lease duration after the leader stops renewing', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elect(store, 'a', log);
    await sleep(30);
    const b = elect(store, 'b', log);
    await sleep(200);
    await a.stop({ release: false });
    const stoppedAt = Date.now();
    while (!b.isLeader() && Date.now() - stoppedAt < 3000) await sleep(10);
    const took = Date.now() - stoppedAt;
    assert.ok(b.isLeader());
    assert.ok(took >= 700 && took < 1300, `took ${took} ms`);
    assert.equal(store.current?.spec?.leaseTransitions, 1);
    assert.deepEqual(log, ['a started', 'a aborted', 'a stopped', 'b started']);
  });

  it('a released lease is taken over at the next check', async () => {
    const store = leaseStore();
    const a = elect(store, 'a');
    await sleep(30);
    const b = elect(store, 'b');
    await sleep(100);
    await a.stop({ release: true });
    const stoppedAt = Date.now();
    while (!b.isLeader() && Date.now() - stoppedAt < 2000) await sleep(5);
    assert.ok(Date.now() - stoppedAt < 200, `took ${Date.now() - stoppedAt} ms`);
  });

  it('the leader steps down (aborting its term) when it cannot renew for the renew deadline', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elect(store, 'a', log);
    await sleep(50);
    assert.ok(a.isLeader());
    store.setDown(true);
    await sleep(700);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(log, ['a started', 'a aborted', 'a stopped']);
  });

  it('the leader steps down at once when another replica holds the lease', async () => {
    const store = leaseStore();
    const a = elect(store, 'a');
    await sleep(50);
    const l = store.current!;
    await store.api.replaceLease('ns', 'lease', { ...l, spec: { ...l.spec, holderIdentity: 'intruder' } });
    await sleep(200);
    assert.equal(a.isLeader(), false);
  });
});
