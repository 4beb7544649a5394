/**
 * The apiserver's own limit for our objects: create N VirtualMachines, then write a status for
 * each, on a real local control plane. Later benchmarks report their throughput as a ratio to
 * this figure measured in the same run (import measureApiserverBaseline).
 *
 *   npx tsx bench/apiserver-baseline.ts [--count 1000] [--concurrency 32]
 */
import { parseArgs } from 'node:util';
import { API_VERSION } from '../api/crd.ts';
import { startControlPlane, type ControlPlane } from '../scripts/stack/control-plane.ts';
import { installCrds } from '../scripts/stack/crds.ts';
import { KubeHttp } from './lib/kube-http.ts';
import { formatPhase, runPhase, type PhaseResult } from './lib/stats.ts';

export interface BaselineResult {
  creates: PhaseResult;
  statusWrites: PhaseResult;
}

export async function measureApiserverBaseline(
  cp: ControlPlane,
  opts: { count: number; concurrency: number; namespace: string },
): Promise<BaselineResult> {
  const http = new KubeHttp(cp.identity, opts.concurrency);
  const base = `/apis/${API_VERSION}/namespaces/${opts.namespace}/virtualmachines`;
  try {
    await http.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: opts.namespace } });
    // Warm-up, not measured: right after the CRDs are installed the apiserver spends seconds on
    // them (OpenAPI, discovery), which stalled the first creates by ~2 s and understated the baseline.
    await runPhase('warm-up', 100, opts.concurrency, async (i) => {
      await http.send('POST', base, {
        apiVersion: API_VERSION, kind: 'VirtualMachine', metadata: { name: `warm-up-${i}` },
        spec: { providerRef: { name: 'p' }, classRef: { name: 'small' }, imageRef: { name: 'img' }, powerState: 'On' },
      });
    });
    const creates = await runPhase('create', opts.count, opts.concurrency, async (i) => {
      await http.send('POST', base, {
        apiVersion: API_VERSION,
        kind: 'VirtualMachine',
        metadata: { name: `vm-${i}` },
        spec: { providerRef: { name: 'p' }, classRef: { name: 'small' }, imageRef: { name: 'img' }, powerState: 'On' },
      });
    });
    const statusWrites = await runPhase('status write', opts.count, opts.concurrency, async (i) => {
      await http.send('PATCH', `${base}/vm-${i}/status`, {
        status: {
          phase: 'Running',
          observedGeneration: 1,
          id: `vm-${i}-id`,
          conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'VM is running',
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
        },
      }, 'application/merge-patch+json');
    });
    return { creates, statusWrites };
  } finally {
    http.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '32' } } });
  const count = Number(values.count);
  const concurrency = Number(values.concurrency);
  const cp = await startControlPlane({ controllerManager: false });
  try {
    await installCrds(cp.binaries.kubectl, cp.kubeconfig);
    console.log(`apiserver baseline: ${count} VirtualMachines, concurrency ${concurrency}, keep-alive HTTPS with a client`);
    console.log('certificate from this process, against a fresh local etcd + kube-apiserver (no webhooks, no controllers).');
    const r = await measureApiserverBaseline(cp, { count, concurrency, namespace: 'bench' });
    console.log(formatPhase(r.creates));
    console.log(formatPhase(r.statusWrites));
  } finally {
    await cp.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
