/**
 * What the admission webhooks cost a user's `kubectl apply`: N VirtualMachine creates through the
 * real apiserver without webhooks, with the real webhooks registered (validating + mutating, real
 * rules, informer-backed lookups), and without again (to cancel drift). Target: overhead ≤ 10 %.
 *
 *   npx tsx bench/webhook-apiserver-overhead.ts [--count 1000] [--concurrency 16]
 */
import { parseArgs } from 'node:util';
import { API_VERSION } from '../api/crd.ts';
import { startControlPlane } from '../scripts/stack/control-plane.ts';
import { installCrds } from '../scripts/stack/crds.ts';
import { startLocalWebhook } from '../scripts/stack/webhook.ts';
import { KubeHttp } from './lib/kube-http.ts';
import { formatPhase, runPhase, type PhaseResult } from './lib/stats.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '16' } } });
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);

async function seed(http: KubeHttp, ns: string): Promise<void> {
  await http.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const base = `/apis/${API_VERSION}/namespaces/${ns}`;
  await http.send('POST', `${base}/providers`, { apiVersion: API_VERSION, kind: 'Provider', metadata: { name: 'vc' },
    spec: { type: 'vsphere', endpoint: 'https://vcenter.example.com/sdk', credentialSecretRef: { name: 'vc' }, runtime: { mode: 'Remote', image: 'x:y' } } });
  await http.send('POST', `${base}/vmclasses`, { apiVersion: API_VERSION, kind: 'VMClass', metadata: { name: 'small' },
    spec: { cpu: 2, memory: '4Gi', firmware: 'UEFI', securityProfile: { secureBoot: true } } });
  await http.send('POST', `${base}/vmimages`, { apiVersion: API_VERSION, kind: 'VMImage', metadata: { name: 'img' },
    spec: { source: { vsphere: { templateName: 'ubuntu' } } } });
}

async function creates(http: KubeHttp, ns: string, label: string): Promise<PhaseResult> {
  await seed(http, ns);
  return runPhase(label, COUNT, CONCURRENCY, async (i) => {
    await http.send('POST', `/apis/${API_VERSION}/namespaces/${ns}/virtualmachines`, {
      apiVersion: API_VERSION, kind: 'VirtualMachine', metadata: { name: `vm-${i}` },
      spec: { providerRef: { name: 'vc' }, classRef: { name: 'small' }, imageRef: { name: 'img' },
        networks: [{ name: 'lan', ipAddress: `10.${Math.floor(i / 250)}.${i % 250}.10`, prefix: 16, gateway: `10.${Math.floor(i / 250)}.0.1` }] },
    });
  });
}

const cp = await startControlPlane({ controllerManager: false });
const http = new KubeHttp(cp.identity, CONCURRENCY);
try {
  await installCrds(cp.binaries.kubectl, cp.kubeconfig);
  console.log(`${COUNT} VirtualMachine creates (with a static IP each) at concurrency ${CONCURRENCY}, keep-alive HTTPS,`);
  console.log('real etcd + kube-apiserver; the webhook is webhook/main.ts as its own process with the real rules.');
  const before = await creates(http, 'plain-1', 'no webhook');
  const webhook = await startLocalWebhook({ cp });
  const hooked = await creates(http, 'hooked', 'webhooks');
  await webhook.stop();
  const after = await creates(http, 'plain-2', 'no webhook again');
  for (const r of [before, hooked, after]) console.log(formatPhase(r));
  const plain = (before.perSecond + after.perSecond) / 2;
  console.log(`overhead: ${((1 - hooked.perSecond / plain) * 100).toFixed(1)} % of throughput ` +
    `(p50 +${(hooked.p50Ms - (before.p50Ms + after.p50Ms) / 2).toFixed(1)} ms) (target ≤ 10 %)`);
} finally {
  http.close();
  await cp.stop();
}
