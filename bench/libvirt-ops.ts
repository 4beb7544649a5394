/**
 * libvirt operation latency: our RPC client on one long-lived connection against the original's
 * way, one `virsh` process per call, in the same run, with 500 domains on the test driver.
 *
 *   npx tsx bench/libvirt-ops.ts [--domains 500] [--samples 200] [--virsh-samples 40]
 *
 * Setup: the private libvirtd (scripts/stack/libvirtd.ts) hosts the test driver with a node file of
 * N running domains, each carrying our metadata (uid, generation) and a NIC. The test driver keeps
 * its state per connection, so every connection (ours, and each virsh process) starts from the
 * same N domains.
 *
 * Operations, each timed per call and run one after another (as the original's agent does):
 *   describe  ours: driver.find(uid) — state, live XML, snapshots and guest IPs, as the agent reports them.
 *             virsh: `virsh dominfo <name>` — a single call (the original runs several per describe,
 *             so this favours virsh).
 *   power     ours: setPower ON/OFF, alternating on one domain. virsh: `virsh destroy <name>` (each
 *             process sees the domain running again: its own fresh connection).
 *   list      ours: driver.list() — every managed domain observed in full; and the uid index
 *             rebuild (ConnectListAllDomains + one GetMetadata per domain). virsh: `virsh list --all`
 *             (names and states only).
 *
 * Fairness: a virsh process against the N-domain node file pays for the daemon loading that file
 * on connect, which the original would not pay against a real libvirtd. So virsh is also timed
 * against the daemon's built-in test:///default (one domain): process start, connect, one call —
 * the floor of any one-process-per-call design. The ratio is reported against both.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { PowerState } from '../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { Credentials } from '../provider-agents/core/connection.ts';
import { createLogger } from '../provider-agents/core/log.ts';
import { LibvirtDriver } from '../provider-agents/libvirt/driver.ts';
import { parseLibvirtUri } from '../provider-agents/libvirt/rpc/uri.ts';
import { startLibvirtd } from '../scripts/stack/libvirtd.ts';
import { percentile } from './lib/stats.ts';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    domains: { type: 'string', default: '500' },
    samples: { type: 'string', default: '200' },
    'virsh-samples': { type: 'string', default: '40' },
  },
});
const N = Number(args.domains);
const SAMPLES = Number(args.samples);
const VIRSH_SAMPLES = Number(args['virsh-samples']);

function nodeXml(uids: string[]): string {
  const domains = uids.map((uid, i) => `  <domain type='test'>
    <name>vr-${uid}</name>
    <uuid>${uid}</uuid>
    <metadata><vr:virtrigaud xmlns:vr="https://virtrigaud.io/xmlns/1" uid="${uid}" generation="1" adopted="false"/></metadata>
    <memory unit='MiB'>512</memory>
    <vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <interface type='network'><mac address='52:54:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}'/><source network='default'/></interface>
    </devices>
  </domain>`).join('\n');
  return `<node>
${domains}
  <network>
    <name>default</name>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
  </network>
  <pool type='dir'><name>default</name><target><path>/vr-bench-pool</path></target></pool>
</node>
`;
}

interface Stat {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}

async function timeEach(n: number, f: (i: number) => Promise<unknown>): Promise<Stat> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length, n };
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const row = (name: string, s: Stat) => `  ${name.padEnd(46)} p50 ${fmt(s.p50).padStart(7)} ms   p99 ${fmt(s.p99).padStart(7)} ms   (n=${s.n})`;

async function main(): Promise<void> {
  const libvirtd = await startLibvirtd();
  const dir = mkdtempSync(join(tmpdir(), 'vr-bench-libvirt-'));
  const uids = Array.from({ length: N }, () => randomUUID());
  const node = join(dir, 'node.xml');
  writeFileSync(node, nodeXml(uids));
  const endpoint = `test+unix://${node}?socket=${libvirtd.socket}`;
  const driver = LibvirtDriver.open({
    uri: parseLibvirtUri(endpoint), credentials: new Credentials({}), insecureSkipVerify: false, storagePool: 'default', domainType: 'test',
    graphics: 'none', graphicsListen: '127.0.0.1', consoleHost: 'localhost', imageClone: 'linked', downloadDir: dir,
    keepaliveIntervalMs: 5000, keepaliveCount: 5, log: createLogger({ level: 'error' }),
  });
  const ctx = { signal: new AbortController().signal, progress: () => undefined };
  try {
    const tConnect = performance.now();
    await driver.conn.ready(30_000);
    const connectMs = performance.now() - tConnect;
    const virsh = (uri: string, ...a: string[]) => run('virsh', ['-q', '-c', uri, ...a]);
    const virshNode = (...a: string[]) => virsh(endpoint, ...a);
    const virshFloor = (...a: string[]) => virsh(`test+unix:///default?socket=${libvirtd.socket}`, ...a);

    // Warm-up: the index, the JIT, the daemon's caches, one virsh of each kind.
    const tIndex = performance.now();
    await driver.index.rebuild();
    const firstIndexMs = performance.now() - tIndex;
    for (let i = 0; i < 20; i++) await driver.find(uids[i]!);
    await virshNode('dominfo', `vr-${uids[0]}`);
    await virshFloor('dominfo', 'test');

    const ours = {
      describe: await timeEach(SAMPLES, (i) => driver.find(uids[i % N]!)),
      power: await (async () => {
        let vm = (await driver.find(uids[1]!))!;
        return timeEach(SAMPLES, async (i) => {
          vm = await driver.setPower(vm, i % 2 === 0 ? PowerState.OFF : PowerState.ON, 0, ctx);
        });
      })(),
      listFull: await timeEach(10, async () => {
        const all = await driver.list();
        if (all.length !== N) throw new Error(`listed ${all.length} VMs, expected ${N}`);
      }),
      listIndex: await timeEach(10, () => driver.index.rebuild()),
    };
    const theirs = {
      describe: await timeEach(VIRSH_SAMPLES, (i) => virshNode('dominfo', `vr-${uids[i % N]}`)),
      power: await timeEach(VIRSH_SAMPLES, () => virshNode('destroy', `vr-${uids[2]}`)),
      list: await timeEach(Math.min(VIRSH_SAMPLES, 10), async () => {
        const { stdout } = await virshNode('list', '--all', '--name');
        const n = stdout.split('\n').filter(Boolean).length;
        if (n !== N) throw new Error(`virsh listed ${n} domains, expected ${N}`);
      }),
      describeFloor: await timeEach(VIRSH_SAMPLES, () => virshFloor('dominfo', 'test')),
      powerFloor: await timeEach(VIRSH_SAMPLES, () => virshFloor('destroy', 'test')),
    };

    const ratio = (a: Stat, b: Stat) => `${(b.p50 / a.p50).toFixed(0)}×`;
    const lines = [
      `libvirt operations, ${N} domains on the test driver (libvirtd ${driver.conn.hypervisorVersion ? 'up' : '?'}, socket ${libvirtd.socket})`,
      `  first connect ${fmt(connectMs)} ms, first uid index build ${fmt(firstIndexMs)} ms`,
      '',
      'ours: one long-lived connection (RPC over the unix socket)',
      row('describe (find: state+XML+snapshots+IPs)', ours.describe),
      row('power (setPower ON/OFF)', ours.power),
      row(`list ${N} VMs, each fully observed`, ours.listFull),
      row(`list ${N} domains' identities (index rebuild)`, ours.listIndex),
      '',
      `original's way: one virsh process per call, against the same ${N}-domain node`,
      row('describe (virsh dominfo)', theirs.describe),
      row('power (virsh destroy)', theirs.power),
      row(`list (virsh list --all --name)`, theirs.list),
      '',
      'virsh floor: one process per call against test:///default (1 domain, nothing to load)',
      row('describe (virsh dominfo)', theirs.describeFloor),
      row('power (virsh destroy)', theirs.powerFloor),
      '',
      'p50 ratios (virsh / ours): target ≥ 10×',
      `  describe: ${ratio(ours.describe, theirs.describe)} vs same node, ${ratio(ours.describe, theirs.describeFloor)} vs floor`,
      `  power:    ${ratio(ours.power, theirs.power)} vs same node, ${ratio(ours.power, theirs.powerFloor)} vs floor`,
      `listing ${N} domains fully observed: p50 ${fmt(ours.listFull.p50)} ms, p99 ${fmt(ours.listFull.p99)} ms (target < 1000 ms) — ${ours.listFull.p99 < 1000 ? 'met' : 'NOT met'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await driver.close();
    await libvirtd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
