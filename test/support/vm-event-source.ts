/** A VirtualMachine informer shared as the dispatcher shares its own with the Provider controller. */
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import type { VMEventSource } from '../../dispatcher/providers/index.ts';
import { asKubeAuth, KubeRest, startInformer, type InformerHandlers } from '../../kube/index.ts';

export function sharedVMInformer(kc: KubeConfig, namespace: string): VMEventSource & { stop(): Promise<void> } {
  const client = new KubeRest(asKubeAuth(kc), { maxSockets: 4 });
  const listeners = new Set<InformerHandlers<VirtualMachine>>();
  const informer = startInformer<VirtualMachine>({
    kind: 'VirtualMachine', client, path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/virtualmachines`,
    handlers: {
      add: (vm) => listeners.forEach((l) => l.add?.(vm)),
      update: (vm) => listeners.forEach((l) => l.update?.(vm)),
      delete: (vm) => listeners.forEach((l) => l.delete?.(vm)),
    },
  });
  return {
    synced: informer.synced,
    list: () => informer.list(),
    subscribe: (h) => {
      listeners.add(h);
      return () => listeners.delete(h);
    },
    stop: async () => {
      await informer.stop();
      client.close();
    },
  };
}
