/** `virtrigaud vm list` and `virtrigaud vm console <name>`. */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/crd.ts';
import type { VirtualMachine } from '../api/objects.ts';
import { kubeErrorMessage, withRetry } from './kube.ts';
import { table } from './table.ts';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PLURAL = 'virtualmachines';

export async function listVMs(kc: KubeConfig, namespace: string | undefined, io: Output): Promise<number> {
  const api = kc.makeApiClient(CustomObjectsApi);
  let items: VirtualMachine[];
  try {
    const list = (await withRetry(() => (namespace
      ? api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })
      : api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })))) as { items: VirtualMachine[] };
    items = list.items;
  } catch (err) {
    io.err(`cannot list VirtualMachines${namespace ? ` in ${namespace}` : ''}: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
  if (items.length === 0) {
    io.err(`no VirtualMachines${namespace ? ` in namespace ${namespace}` : ''}\n`);
    return 0;
  }
  const rows = items
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((vm) => {
      const ready = vm.status?.conditions?.find((c) => c.type === 'Ready');
      const providerNs = vm.spec.providerRef.namespace;
      return [
        ...(namespace ? [] : [vm.metadata.namespace ?? '']),
        vm.metadata.name ?? '',
        providerNs && providerNs !== vm.metadata.namespace ? `${providerNs}/${vm.spec.providerRef.name}` : vm.spec.providerRef.name,
        vm.status?.phase ?? '',
        ready ? (ready.status === 'True' ? 'True' : `${ready.status} (${ready.reason})`) : '',
        (vm.status?.ips ?? []).join(','),
      ];
    });
  io.out(table([...(namespace ? [] : ['NAMESPACE']), 'NAME', 'PROVIDER', 'PHASE', 'READY', 'IPS'], rows));
  return 0;
}

export async function vmConsole(kc: KubeConfig, namespace: string, name: string, io: Output): Promise<number> {
  const api = kc.makeApiClient(CustomObjectsApi);
  let vm: VirtualMachine;
  try {
    vm = (await withRetry(() => api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }))) as VirtualMachine;
  } catch (err) {
    io.err(`cannot read VirtualMachine ${namespace}/${name}: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
  const url = vm.status?.consoleURL;
  if (!url) {
    io.err(`VirtualMachine ${namespace}/${name} has no console URL yet (status.consoleURL is empty; phase ${vm.status?.phase ?? 'unknown'})\n`);
    return 1;
  }
  io.out(`${url}\n`);
  return 0;
}
