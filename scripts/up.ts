/**
 * `bash scripts/up.sh`: brings the local VirtRigaud system up and shows it working.
 * A real control plane (etcd, kube-apiserver, kube-controller-manager), our CRDs, the admission
 * webhook, nats-server with JetStream, the dispatcher and three mock agents; a demo VM applied and
 * waited for until Ready; the original VirtRigaud's examples applied and listed. State lives in .local/stack; the servers keep
 * running after this command returns; `bash scripts/down.sh` stops them.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startControlPlane } from './stack/control-plane.ts';
import { installCrds } from './stack/crds.ts';
import { kubectl, kubectlOk } from './stack/kubectl.ts';
import { STACK_DIR, readStackState, stackRunning, type StackState } from './stack/state.ts';
import { startLocalWebhook } from './stack/webhook.ts';
import { startSpine } from './stack/spine.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLES = join(ROOT, '../shared/compat/upstream-examples');

const say = (line: string) => console.log(`[virtrigaud up] ${line}`);

function exampleNamespaces(files: string[]): Set<string> {
  const namespaces = new Set<string>();
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
      const ns = (doc.toJS() as { metadata?: { namespace?: string } } | null)?.metadata?.namespace;
      if (ns) namespaces.add(ns);
    }
  }
  return namespaces;
}

async function main(): Promise<void> {
  const existing = readStackState();
  if (existing && stackRunning(existing)) {
    say(`already running (kube-apiserver at ${existing.server}); stop it with: bash scripts/down.sh`);
    return;
  }
  rmSync(STACK_DIR, { recursive: true, force: true });
  const cp = await startControlPlane({ dir: STACK_DIR, detached: true, log: (l) => say(l) });
  const state: StackState = { server: cp.server, kubeconfig: cp.kubeconfig, pids: cp.processes.map((p) => ({ name: p.name, pid: p.pid })) };
  writeFileSync(join(STACK_DIR, 'state.json'), JSON.stringify(state, null, 2));
  const run = (args: string[]) => kubectlOk(cp.binaries.kubectl, cp.kubeconfig, args);

  say('installing the ten CRDs (manifests/crds)');
  await installCrds(cp.binaries.kubectl, cp.kubeconfig);

  say('starting the admission webhook and registering it with the apiserver');
  const webhook = await startLocalWebhook({ cp, detached: true });
  if (webhook.process) state.pids.push({ name: 'webhook', pid: webhook.process.pid });
  writeFileSync(join(STACK_DIR, 'state.json'), JSON.stringify(state, null, 2));
  say(`webhook serving at ${webhook.url}`);

  say('starting nats-server (JetStream), the dispatcher and 3 mock agent replicas');
  const spine = await startSpine({ cp, detached: true, agents: 3, provider: { namespace: 'demo', name: 'mock-local', type: 'mock' } });
  state.pids.push(
    { name: 'nats-server', pid: spine.nats.process.pid },
    { name: 'dispatcher', pid: spine.dispatcher.pid },
    ...spine.agents.map((a) => ({ name: a.name, pid: a.pid })),
  );
  writeFileSync(join(STACK_DIR, 'state.json'), JSON.stringify(state, null, 2));
  say(`NATS at ${spine.nats.url}; logs in ${join(STACK_DIR, 'logs')}`);

  say('applying examples/mock-demo.yaml (Provider of type mock, VMClass, VMImage, VirtualMachine) and waiting for Ready');
  const started = Date.now();
  await run(['apply', '--server-side', '--field-manager=virtrigaud-up', '-f', join(ROOT, 'examples/mock-demo.yaml')]);
  await run(['wait', '--for=condition=Ready', '--timeout=120s', '-n', 'demo', 'vm/web-1']);
  say(`demo/web-1 is Ready after ${Date.now() - started} ms`);
  console.log(await run(['get', 'vm', '-n', 'demo', '-o', 'wide']));

  if (existsSync(EXAMPLES)) {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(EXAMPLES, f));
    for (const ns of exampleNamespaces(files)) await kubectl(cp.binaries.kubectl, cp.kubeconfig, ['create', 'namespace', ns]);
    say(`applying the original VirtRigaud's ${files.length} example files, unchanged (server-side)`);
    for (const f of files) await run(['apply', '--server-side', '--field-manager=virtrigaud-up', '-f', f]);
  } else {
    say(`no examples at ${EXAMPLES}; skipping them`);
  }

  const bad = ['apiVersion: infra.virtrigaud.io/v1beta1', 'kind: VMClass', 'metadata: {name: tpm-on-bios, namespace: default}',
    'spec: {cpu: 2, memory: 4Gi, firmware: BIOS, securityProfile: {tpmEnabled: true}}', ''].join('\n');
  const refused = await kubectl(cp.binaries.kubectl, cp.kubeconfig, ['apply', '--dry-run=server', '-f', '-'], { input: bad });
  say(`the webhook at work: a VMClass asking for a TPM on BIOS firmware is refused at apply time:\n  ${refused.stderr.trim()}`);

  console.log(await run(['get', 'crd', '-l', '!none', '-o', 'custom-columns=CRD:.metadata.name,KIND:.spec.names.kind,SHORT:.spec.names.shortNames']));
  console.log(await run(['get', 'virtrigaud', '-A']));
  console.log(await run(['get', 'vm', '-n', 'demo']));
  say('up. Use it with:');
  console.log(`  export KUBECONFIG=${cp.kubeconfig}`);
  console.log(`  alias kubectl=${cp.binaries.kubectl}   # the pinned kubectl, same version as the apiserver`);
  console.log('  kubectl get vm -A');
  console.log('Stop everything with: bash scripts/down.sh');
}

main().catch((err) => {
  console.error(`[virtrigaud up] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
