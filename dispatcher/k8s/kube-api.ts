/**
 * The few apiserver calls the dispatcher makes, behind one narrow interface (tests fake it):
 * merge patches on VirtualMachines and their status subresource, Secret reads at dispatch time,
 * core/v1 Events, and the leader Lease.
 */
import {
  CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
  type CoreV1Event, type KubeConfig, type V1Lease, type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import type { ObjectList } from '../../kube/index.ts';
import { isNotFound } from '../errors.ts';

export const PLURALS = {
  VirtualMachine: 'virtualmachines',
  VMClass: 'vmclasses',
  VMImage: 'vmimages',
  VMNetworkAttachment: 'vmnetworkattachments',
  Provider: 'providers',
} as const;
export type WatchedKind = keyof typeof PLURALS;

/** A JSON merge patch (RFC 7386) body; `null` removes a field. */
export type MergePatch = Record<string, unknown>;

export interface KubeApi {
  /** The collection path and list call an informer needs for one of our kinds. */
  customCollection<T>(kind: WatchedKind, namespace?: string): { path: string; list: () => Promise<ObjectList<T>> };
  secretCollection(namespace?: string): { path: string; list: () => Promise<ObjectList<V1Secret>> };
  /** GET a VirtualMachine; undefined when it does not exist. */
  getVM(namespace: string, name: string): Promise<VirtualMachine | undefined>;
  /** Merge-patches the main resource (metadata: finalizers). */
  patchVM(namespace: string, name: string, patch: MergePatch): Promise<VirtualMachine>;
  /** Merge-patches the status subresource. */
  patchVMStatus(namespace: string, name: string, patch: MergePatch): Promise<VirtualMachine>;
  /** GET a Secret; undefined when it does not exist. */
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
  getLease(namespace: string, name: string): Promise<V1Lease | undefined>;
  createLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  replaceLease(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function createKubeApi(kc: KubeConfig): KubeApi {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const notFoundAsUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    customCollection<T>(kind: WatchedKind, namespace?: string) {
      const plural = PLURALS[kind];
      const path = namespace
        ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`
        : `/apis/${GROUP}/${VERSION}/${plural}`;
      const list = () => (namespace
        ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })
        : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as Promise<ObjectList<T>>;
      return { path, list };
    },
    secretCollection(namespace?: string) {
      const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
      const list = () => (namespace ? core.listNamespacedSecret({ namespace }) : core.listSecretForAllNamespaces());
      return { path, list };
    },
    getVM: (namespace, name) =>
      notFoundAsUndefined(custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS.VirtualMachine, name }) as Promise<VirtualMachine>),
    patchVM: (namespace, name, body) =>
      custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS.VirtualMachine, name, body }, mergePatch) as Promise<VirtualMachine>,
    patchVMStatus: (namespace, name, body) =>
      custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: PLURALS.VirtualMachine, name, body }, mergePatch) as Promise<VirtualMachine>,
    getSecret: (namespace, name) => notFoundAsUndefined(core.readNamespacedSecret({ namespace, name })),
    createEvent: async (namespace, body) => {
      await core.createNamespacedEvent({ namespace, body });
    },
    getLease: (namespace, name) => notFoundAsUndefined(coordination.readNamespacedLease({ namespace, name })),
    createLease: (namespace, body) => coordination.createNamespacedLease({ namespace, body }),
    replaceLease: (namespace, name, body) => coordination.replaceNamespacedLease({ namespace, name, body }),
  };
}
