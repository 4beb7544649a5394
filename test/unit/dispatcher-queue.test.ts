/** The work queue, its rate limiter, the retry policy, the dependency index and loadConfig. */
import { strict as assert } from 'node:assert';
import { loadConfig, ConfigError } from '../../dispatcher/config.ts';
import { RequeueError, TerminalError, NotLeaderError } from '../../dispatcher/errors.ts';
import { RateLimiter } from '../../dispatcher/queue/rate-limiter.ts';
import { WorkQueue } from '../../dispatcher/queue/work-queue.ts';
import { DependencyIndex } from '../../dispatcher/reconcile/dependency-index.ts';
import { actionFor } from '../../dispatcher/reconcile/retry-policy.ts';

const limiter = () => new RateLimiter({ baseMs: 5, maxMs: 1000, qps: 1000, burst: 1000 });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('dispatcher work queue', () => {
  it('handles a key added many times while waiting once', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(async (k) => {
      seen.push(k);
      await gate;
    }, { concurrency: 1, rateLimiter: limiter() });
    q.start();
    q.add('blocker');
    for (let i = 0; i < 5; i++) q.add('a');
    assert.equal(q.depth(), 1);
    release();
    await tick(10);
    assert.deepEqual(seen, ['blocker', 'a']);
    await q.stop();
  });

  it('never runs one key twice at once; a key added while running runs again after', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const q = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      await tick(5);
      running--;
    }, { concurrency: 4, rateLimiter: limiter() });
    q.start();
    q.add('a');
    await tick(1);
    q.add('a');
    q.add('a');
    await tick(30);
    assert.equal(maxRunning, 1);
    assert.equal(runs, 2);
    await q.stop();
  });

  it('runs different keys concurrently up to the bound', async () => {
    let running = 0;
    let maxRunning = 0;
    const q = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick(10);
      running--;
    }, { concurrency: 3, rateLimiter: limiter() });
    q.start();
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await tick(60);
    assert.equal(maxRunning, 3);
    await q.stop();
  });

  it('ignores adds while stopped and drops waiting keys on stop', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { concurrency: 1, rateLimiter: limiter() });
    q.add('early');
    q.start();
    q.addAfter('later', 20);
    await q.stop();
    await tick(30);
    assert.deepEqual(seen, []);
  });

  it('keeps only the earliest delayed add per key', async () => {
    const seen: number[] = [];
    const t0 = Date.now();
    const q = new WorkQueue(async () => void seen.push(Date.now() - t0), { concurrency: 1, rateLimiter: limiter() });
    q.start();
    q.addAfter('a', 200);
    q.addAfter('a', 10);
    q.addAfter('a', 100);
    await tick(260);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]! < 100);
    await q.stop();
  });
});

describe('dispatcher rate limiter and retry policy', () => {
  it('backs off per key exponentially, capped, and forgets on success', () => {
    const r = new RateLimiter({ baseMs: 100, maxMs: 500, qps: 1e6, burst: 1e6 });
    assert.deepEqual([r.when('a'), r.when('a'), r.when('a'), r.when('a'), r.when('b')], [100, 200, 400, 500, 100]);
    r.forget('a');
    assert.equal(r.when('a'), 100);
  });

  it('the overall bucket delays retries beyond its burst', () => {
    let now = 0;
    const r = new RateLimiter({ baseMs: 1, maxMs: 1, qps: 10, burst: 2, now: () => now });
    assert.deepEqual([r.when('a'), r.when('b'), r.when('c'), r.when('d')], [1, 1, 100, 200]);
    now = 1000;
    assert.equal(r.when('e'), 1);
  });

  const table: Array<[string, Parameters<typeof actionFor>[0], ReturnType<typeof actionFor>]> = [
    ['success forgets', { ok: {} }, { type: 'forget' }],
    ['success asking for a requeue waits', { ok: { requeueAfterMs: 50 } }, { type: 'requeue-after', ms: 50, forget: true }],
    ['RequeueError waits its delay', { error: new RequeueError(1000, 'later') }, { type: 'requeue-after', ms: 1000, forget: true }],
    ['TerminalError waits for a change', { error: new TerminalError('bad') }, { type: 'forget' }],
    ['NotLeaderError drops the key', { error: new NotLeaderError('x') }, { type: 'forget' }],
    ['anything else backs off', { error: new Error('boom') }, { type: 'rate-limited' }],
  ];
  for (const [name, input, want] of table) it(name, () => assert.deepEqual(actionFor(input), want));
});

describe('dispatcher dependency index', () => {
  it('maps a dependency to the VMs that name it, and follows changes', () => {
    const idx = new DependencyIndex();
    idx.set('ns/a', ['VMClass/ns/small', 'Provider/ns/p']);
    idx.set('ns/b', ['VMClass/ns/small']);
    assert.deepEqual(idx.dependents('VMClass/ns/small').sort(), ['ns/a', 'ns/b']);
    idx.set('ns/a', ['VMClass/ns/large']);
    assert.deepEqual(idx.dependents('VMClass/ns/small'), ['ns/b']);
    assert.deepEqual(idx.dependents('Provider/ns/p'), []);
    idx.remove('ns/b');
    assert.deepEqual(idx.dependents('VMClass/ns/small'), []);
  });
});

describe('dispatcher loadConfig', () => {
  it('reads defaults with only NATS_URL set', () => {
    const c = loadConfig({ NATS_URL: 'nats://127.0.0.1:4222', HOSTNAME: 'x' });
    assert.deepEqual([c.lease.durationMs, c.lease.renewIntervalMs, c.lease.retryIntervalMs, c.queue.workers, c.metricsPort], [10_000, 3_000, 1_500, 16, 9090]);
    assert.equal(c.namespace, undefined);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ WORKERS: '-1', LOG_LEVEL: 'loud', LEASE_DURATION_SECONDS: '5', LEASE_RENEW_DEADLINE_SECONDS: '7' });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]), ['NATS_URL', 'LOG_LEVEL', 'LEASE_RENEW_DEADLINE_SECONDS (7) must be below LEASE_DURATION_SECONDS (5), so a leader steps down before another may take over', 'WORKERS']);
    }
  });

  it('scopes to WATCH_NAMESPACE and puts the lease there by default', () => {
    const c = loadConfig({ NATS_URL: 'nats://n:4222', WATCH_NAMESPACE: 'team-a' });
    assert.deepEqual([c.namespace, c.lease.namespace], ['team-a', 'team-a']);
  });
});
