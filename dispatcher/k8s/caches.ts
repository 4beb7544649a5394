/**
 * The six informers the dispatcher runs on every replica (warm caches for a fast failover):
 * VirtualMachine, VMClass, VMImage, VMNetworkAttachment, Provider, and Secret — the last one
 * metadata only (data is dropped on arrival; cloud-init content is read at dispatch time).
 * Handlers only report keys; the dispatcher turns them into work-queue adds.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Provider, VirtualMachine, VMClass, VMImage, VMNetworkAttachment } from '../../api/objects.ts';
import { dropBookkeeping, startInformer, type AnyObject, type Informer, type InformerEvent, type InformerHandlers } from '../../kube/index.ts';
import type { DependencyKind } from '../resolve/dependencies.ts';
import type { Lookup } from '../resolve/types.ts';
import type { KubeApi, WatchedKind } from './kube-api.ts';

export interface CacheHandlers {
  vm: InformerHandlers<VirtualMachine>;
  /** A dependency appeared, changed or went away. */
  dependency(kind: DependencyKind, namespace: string, name: string): void;
}

export interface Caches {
  vms: Informer<VirtualMachine>;
  lookup: Lookup;
  /** Resolves once every informer has its first list. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface CachesOptions {
  api: KubeApi;
  namespace?: string;
  handlers: CacheHandlers;
  onEvent?: (event: InformerEvent) => void;
}

/** Drops a Secret's content so the cache holds its metadata only. */
export function stripSecret(secret: V1Secret): void {
  delete secret.data;
  delete secret.stringData;
}

export function startCaches(opts: CachesOptions): Caches {
  const { api, namespace, handlers, onEvent } = opts;

  const custom = <T extends AnyObject>(kind: WatchedKind, h: InformerHandlers<T>) =>
    startInformer<T>({ kind, client: api.client, path: api.customCollection(kind, namespace), transform: dropBookkeeping, handlers: h, onEvent });

  // A dependency's status-only update (same generation) cannot change a VM's desired state.
  const generations = new Map<string, number | undefined>();
  const dependencyHandlers = <T extends AnyObject>(kind: DependencyKind): InformerHandlers<T> => {
    const report = (obj: T, removed: boolean) => {
      const ns = obj.metadata?.namespace ?? '';
      const name = obj.metadata?.name ?? '';
      const id = `${kind}/${ns}/${name}`;
      const generation = (obj.metadata as { generation?: number } | undefined)?.generation;
      if (removed) generations.delete(id);
      else if (kind !== 'Secret') {
        if (generations.has(id) && generations.get(id) === generation) return;
        generations.set(id, generation);
      }
      handlers.dependency(kind, ns, name);
    };
    return { add: (o) => report(o, false), update: (o) => report(o, false), delete: (o) => report(o, true) };
  };

  const vms = custom<VirtualMachine>('VirtualMachine', handlers.vm);
  const classes = custom<VMClass>('VMClass', dependencyHandlers('VMClass'));
  const images = custom<VMImage>('VMImage', dependencyHandlers('VMImage'));
  const networks = custom<VMNetworkAttachment>('VMNetworkAttachment', dependencyHandlers('VMNetworkAttachment'));
  const providers = custom<Provider>('Provider', dependencyHandlers('Provider'));
  const secrets = startInformer<V1Secret>({
    kind: 'Secret', client: api.client, path: api.secretCollection(namespace), transform: stripSecret, handlers: dependencyHandlers('Secret'), onEvent,
  });
  const all: Informer<unknown>[] = [vms, classes, images, networks, providers, secrets];

  return {
    vms,
    lookup: {
      provider: (ns, name) => providers.get(ns, name),
      vmClass: (ns, name) => classes.get(ns, name),
      vmImage: (ns, name) => images.get(ns, name),
      network: (ns, name) => networks.get(ns, name),
    },
    synced: Promise.all(all.map((i) => i.synced)).then(() => undefined),
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
