/**
 * What agent heartbeats cost the Provider controller: N Providers with M agents each, every agent
 * beating every `--interval-ms` (5000 in production), against a real local control plane and
 * nats-server. Reports status writes while nothing changes (the aim: 0), heartbeats handled per
 * CPU-second of this process, and how long an agent going silent takes to show as healthy=false.
 *
 *   npx tsx bench/provider-heartbeats.ts [--providers 50] [--agents 3] [--interval-ms 500] [--seconds 20]
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { connect } from '@nats-io/transport-node';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { API_VERSION } from '../api/crd.ts';
import { createLogger } from '../dispatcher/log.ts';
import { loadProviderControllerConfig } from '../dispatcher/providers/config.ts';
import { startProviderController } from '../dispatcher/providers/controller.ts';
import { subjects } from '../proto/bus/subjects.ts';
import { HeartbeatSchema } from '../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { startControlPlane } from '../scripts/stack/control-plane.ts';
import { installCrds } from '../scripts/stack/crds.ts';
import { kubectlOk } from '../scripts/stack/kubectl.ts';
import { startNats } from '../scripts/stack/nats.ts';
import { cpuSnapshot } from './lib/cpu.ts';

const { values } = parseArgs({
  options: {
    providers: { type: 'string', default: '50' },
    agents: { type: 'string', default: '3' },
    'interval-ms': { type: 'string', default: '500' },
    seconds: { type: 'string', default: '20' },
  },
});
const N = Number(values.providers);
const M = Number(values.agents);
const INTERVAL = Number(values['interval-ms']);
const SECONDS = Number(values.seconds);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cp = await startControlPlane();
const nats = await startNats();
const dir = mkdtempSync(join(tmpdir(), 'vr-bench-hb-'));
try {
  await installCrds(cp.binaries.kubectl, cp.kubeconfig);
  const ns = 'bench';
  const objects: object[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }];
  for (let i = 0; i < N; i++) {
    objects.push({
      apiVersion: API_VERSION, kind: 'Provider', metadata: { name: `p${i}`, namespace: ns },
      spec: { type: 'mock', endpoint: 'mock://local', credentialSecretRef: { name: 'c' }, runtime: { image: 'x/y:1' } },
    });
  }
  const file = join(dir, 'objects.yaml');
  writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
  await kubectlOk(cp.binaries.kubectl, cp.kubeconfig, ['apply', '--server-side', '-f', file]);

  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const nc = await connect({ servers: nats.url });
  // Agents outside the cluster: status comes from heartbeats alone (no Deployment to wait for).
  const controller = await startProviderController({
    kubeConfig: kc, nc, log: createLogger({ level: 'silent' }),
    config: loadProviderControllerConfig({ NATS_URL: nats.url, WATCH_NAMESPACE: ns, PROVIDER_MANAGE_AGENTS: 'false', PROVIDER_HEARTBEAT_TIMEOUT_S: String(Math.max(2, Math.ceil((INTERVAL * 4) / 1000))) }),
  });

  // Count Provider writes as the apiserver reports them.
  let writes = 0;
  const healthy = new Map<string, boolean>();
  const abort = await new Watch(kc).watch(`/apis/${API_VERSION}/namespaces/${ns}/providers`, {}, (phase, obj) => {
    const p = obj as { metadata: { name: string }; status?: { healthy?: boolean } };
    if (phase === 'MODIFIED') writes++;
    healthy.set(p.metadata.name, Boolean(p.status?.healthy));
  }, () => undefined);

  let beats = 0;
  let silent = -1;
  const beat = () => {
    for (let i = 0; i < N; i++) {
      const provider = { namespace: ns, name: `p${i}` };
      for (let a = 0; a < M; a++) {
        if (i === silent) continue;
        const hb = create(HeartbeatSchema, { agentId: `p${i}-a${a}`, version: '0.1.0', hypervisorReachable: true, hypervisorVersion: 'mock-1', capabilities: ['tpm'], sentAtUnixMs: BigInt(Date.now()) });
        nc.publish(subjects.heartbeat(provider), toBinary(HeartbeatSchema, hb));
        beats++;
      }
    }
  };
  beat();
  const timer = setInterval(beat, INTERVAL);
  // Warm-up: every Provider healthy.
  const warmStart = Date.now();
  while ([...Array(N).keys()].some((i) => !healthy.get(`p${i}`))) {
    if (Date.now() - warmStart > 60_000) throw new Error('providers did not all turn healthy within 60 s');
    await sleep(100);
  }
  const warmMs = Date.now() - warmStart;

  // Steady phase: heartbeats, no change.
  await sleep(1000);
  const writesBefore = writes;
  const beatsBefore = beats;
  const cpuBefore = cpuSnapshot({});
  await sleep(SECONDS * 1000);
  const cpuAfter = cpuSnapshot({});
  const steadyWrites = writes - writesBefore;
  const steadyBeats = beats - beatsBefore;
  const cpu = cpuAfter.bench! - cpuBefore.bench!;

  // One provider's agents go silent: time until its status says so.
  silent = 0;
  const silentAt = Date.now();
  while (healthy.get('p0')) {
    if (Date.now() - silentAt > 60_000) throw new Error('p0 did not turn unhealthy within 60 s');
    await sleep(20);
  }
  const silentMs = Date.now() - silentAt;

  clearInterval(timer);
  abort.abort();
  await controller.stop();
  await nc.close();

  console.log(`providers ${N}, agents each ${M}, heartbeat interval ${INTERVAL} ms (production: 5000 ms)`);
  console.log(`all healthy after             ${warmMs} ms (from the first heartbeat)`);
  console.log(`steady ${SECONDS} s: heartbeats     ${steadyBeats} (${(steadyBeats / SECONDS).toFixed(0)}/s)`);
  console.log(`steady ${SECONDS} s: status writes  ${steadyWrites} (counted by a watch on the Providers)`);
  console.log(`bench process CPU (controller + publisher + watch): ${cpu.toFixed(2)} s = ${(steadyBeats / Math.max(cpu, 0.001)).toFixed(0)} heartbeats per CPU-second`);
  console.log(`agents silent → healthy=false ${silentMs} ms (timeout ${Math.max(2, Math.ceil((INTERVAL * 4) / 1000))} s, sweep every timeout/4)`);
} finally {
  await nats.stop();
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
