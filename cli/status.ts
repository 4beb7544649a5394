/** `virtrigaud status`: the local stack's processes, then the cluster's Providers and VMs. */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/crd.ts';
import type { Provider, VirtualMachine } from '../api/objects.ts';
import { readStackState } from '../scripts/stack/state.ts';
import { isAlive } from '../scripts/stack/processes.ts';
import { kubeErrorMessage, withRetry } from './kube.ts';
import { table } from './table.ts';
import type { Output } from './vm.ts';

export async function status(kc: KubeConfig, io: Output): Promise<number> {
  const stack = readStackState();
  if (!stack) {
    io.out('local stack: not running (start it with: virtrigaud up)\n');
  } else {
    const procs = stack.pids.map((p) => ({ ...p, up: isAlive(p.pid) }));
    const up = procs.filter((p) => p.up).length;
    io.out(`local stack: ${up} of ${procs.length} processes running; kube-apiserver ${stack.server}; KUBECONFIG=${stack.kubeconfig}\n`);
    io.out(table(['PROCESS', 'PID', 'STATE'], procs.map((p) => [p.name, String(p.pid), p.up ? 'running' : 'stopped'])));
  }
  io.out(`\ncluster: ${kc.getCurrentCluster()?.server ?? '(none)'}\n`);
  const api = kc.makeApiClient(CustomObjectsApi);
  let providers: Provider[];
  let vms: VirtualMachine[];
  try {
    providers = ((await withRetry(() => api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'providers' }))) as { items: Provider[] }).items;
    vms = ((await withRetry(() => api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'virtualmachines' }))) as { items: VirtualMachine[] }).items;
  } catch (err) {
    io.err(`cannot read the cluster: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
  if (providers.length === 0) io.out('no Providers\n');
  else {
    io.out(table(['NAMESPACE', 'PROVIDER', 'TYPE', 'READY', 'HEALTHY', 'AGENTS', 'VMS', 'VERSION'], providers.map((p) => {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
      return [
        p.metadata.namespace ?? '', p.metadata.name ?? '', p.spec.type,
        ready ? (ready.status === 'True' ? 'True' : `${ready.status} (${ready.reason})`) : '',
        p.status?.healthy === undefined ? '' : String(p.status.healthy),
        `${p.status?.runtime?.availableReplicas ?? 0}/${p.spec.runtime.replicas ?? 1}`,
        String(p.status?.connectedVMs ?? 0),
        p.status?.version ?? '',
      ];
    })));
  }
  const byPhase = new Map<string, number>();
  for (const vm of vms) byPhase.set(vm.status?.phase ?? 'Pending', (byPhase.get(vm.status?.phase ?? 'Pending') ?? 0) + 1);
  io.out(`\n${vms.length} VirtualMachine${vms.length === 1 ? '' : 's'}${vms.length ? `: ${[...byPhase].sort().map(([ph, n]) => `${n} ${ph}`).join(', ')}` : ''}\n`);
  return 0;
}
