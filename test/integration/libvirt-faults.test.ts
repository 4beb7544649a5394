/**
 * Faults between the agent and libvirtd, against the real daemon: libvirtd killed in the middle of
 * a create (the client reconnects by itself; the retried create leaves exactly one domain), a
 * libvirtd that stops answering (keepalive drops the connection, it comes back when the daemon
 * does), and a host nobody listens on (a retryable error naming the endpoint, retries backing off).
 */
import { create } from '@bufbuild/protobuf';
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { ClassSpecSchema, DesiredVMSchema, PowerState } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { TransientError } from '../../provider-agents/core/errors.ts';
import { createLogger } from '../../provider-agents/core/log.ts';
import { domainNameFor, type LibvirtDriver, type LibvirtDriverOptions } from '../../provider-agents/libvirt/driver.ts';
import { P } from '../../provider-agents/libvirt/rpc/protocol.ts';
import type { Libvirtd } from '../../scripts/stack/libvirtd.ts';
import { freePort } from '../../scripts/stack/processes.ts';
import { driverConfig, openDriver, opCtx, startTestLibvirtd, writeTestNode } from '../support/libvirt.ts';

const tiny = () => create(DesiredVMSchema, { class: create(ClassSpecSchema, { name: 'tiny', cpus: 1, memoryMib: 128n }), powerState: PowerState.OFF });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('libvirt faults (real libvirtd)', function () {
  this.timeout(60_000);
  let libvirtd: Libvirtd;
  const drivers: LibvirtDriver[] = [];
  const logs: string[] = [];

  before(async function () {
    libvirtd = await startTestLibvirtd();
    if (!libvirtd.owned) {
      // These tests kill and stop the daemon: never one someone else started.
      this.skip();
    }
  });
  after(async () => {
    for (const d of drivers) await d.close();
    await libvirtd?.stop();
  });

  const open = (endpoint: string, connection: LibvirtDriverOptions['connection'] = {}, keepalive?: { intervalMs: number; count: number }) => {
    const d = openDriver(endpoint, {
      ...driverConfig(endpoint, keepalive ? { keepaliveIntervalMs: keepalive.intervalMs, keepaliveCount: keepalive.count } : {}),
      log: createLogger({ level: 'debug', sink: (l) => logs.push(l) }),
      connection: { callWaitMs: 5000, backoffInitialMs: 100, backoffMaxMs: 1000, ...connection },
    });
    drivers.push(d);
    return d;
  };

  it('libvirtd killed in the middle of a create: the call fails as retryable, the client reconnects, the retry leaves one domain', async () => {
    const driver = open(`qemu+unix:///system?socket=${libvirtd.socket}`);
    await driver.conn.ready(30_000);
    const generation = driver.conn.generation;
    const uid = randomUUID();
    const ctx = opCtx();
    const killing = {
      ...ctx,
      progress: (_p: number, what: string) => {
        // Right as the define goes out: the daemon dies before (or just after) it acts on it.
        if (what === 'defining the domain') setImmediate(() => process.kill(libvirtd.pid()!, 'SIGKILL'));
      },
    };
    await assert.rejects(driver.create(uid, tiny(), killing), (e: unknown) => e instanceof TransientError && e.reason === 'ProviderUnreachable');
    await libvirtd.kill(); // reap it
    await assert.rejects(driver.find(uid), (e: unknown) => e instanceof TransientError, 'while libvirtd is down a read fails; it never says "gone"');

    await libvirtd.start();
    const vm = await driver.create(uid, tiny(), ctx);
    assert.ok(driver.conn.generation > generation, 'the same driver reconnected by itself');
    assert.equal(vm.id, uid);
    const named = (await driver.conn.call(P.connectListAllDomains, { flags: 0 })).filter((d) => d.name === domainNameFor(uid));
    assert.equal(named.length, 1, 'exactly one domain for the uid');
    await driver.destroy(vm, opCtx());
    assert.equal(await driver.find(uid), undefined);
  });

  it('a libvirtd that stops answering is dropped by keepalive, and the connection comes back with it', async () => {
    const driver = open(`test+unix://${writeTestNode()}?socket=${libvirtd.socket}`, { callWaitMs: 1000 }, { intervalMs: 200, count: 3 });
    await driver.validate();
    const generation = driver.conn.generation;
    const pid = libvirtd.pid()!;
    process.kill(pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      while (driver.conn.connected && Date.now() - t0 < 5000) await sleep(50);
      assert.equal(driver.conn.connected, false, 'keepalive noticed the silent daemon');
      assert.ok(Date.now() - t0 < 2500, `dropped after ${Date.now() - t0} ms (3 × 200 ms keepalive)`);
      assert.ok(logs.some((l) => l.includes('"reason":"KeepaliveTimeout"')), 'the log says why');
      await assert.rejects(driver.validate(), (e: unknown) => e instanceof TransientError);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const t1 = Date.now();
    for (;;) {
      try {
        await driver.validate();
        break;
      } catch (err) {
        if (Date.now() - t1 > 10_000) throw err;
        await sleep(100);
      }
    }
    assert.ok(driver.conn.generation > generation, 'reconnected');
  });

  it('an unreachable host: a retryable error naming the endpoint and the reason, retries backing off', async () => {
    const port = await freePort();
    const driver = open(`qemu+tcp://127.0.0.1:${port}/system`, { callWaitMs: 300, backoffInitialMs: 100, backoffMaxMs: 2000 });
    const attempt = async () => {
      try {
        await driver.validate();
      } catch (err) {
        assert.ok(err instanceof TransientError);
        assert.equal(err.reason, 'ProviderUnreachable');
        assert.match(err.message, new RegExp(`libvirtd at qemu\\+tcp://127\\.0\\.0\\.1:${port}/system is not reachable \\(attempt \\d+\\): cannot connect to libvirtd at 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
        return Number(/attempt (\d+)/.exec(err.message)![1]);
      }
      assert.fail('validate succeeded against a closed port');
    };
    const first = await attempt();
    await sleep(2000);
    const later = await attempt();
    // Without backoff a 100 ms retry would have tried ~20 times by now; doubling delays try a handful.
    assert.ok(later > first && later <= 8, `attempts after 2 s: ${later}`);
  });
});
