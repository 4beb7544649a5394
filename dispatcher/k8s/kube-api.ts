/**
 * The few apiserver calls the dispatcher makes, behind one narrow interface (tests fake it):
 * merge patches on VirtualMachines and their status subresource, Secret reads at dispatch time,
 * core/v1 Events, and the leader Lease. The frequent ones go over kept-alive connections (rest-client.ts).
 */
import {
  CoordinationV1Api, CoreV1Api, CustomObjectsApi,
  type CoreV1Event, type KubeConfig, type V1Lease, type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import type { ObjectList } from '../../kube/index.ts';
import { isNotFound } from '../errors.ts';
import { KubeRest } from './rest-client.ts';

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
  /** Closes the kept-alive connections. */
  close(): void;
}

/** Connections for VM reads and patches (reconciles and status writes share them). */
const MAX_SOCKETS = 32;
/** Connections for core/v1 Events. */
const MAX_EVENT_SOCKETS = 4;

const MERGE_PATCH = 'application/merge-patch+json';

export function createKubeApi(kc: KubeConfig): KubeApi {
  // The frequent calls (VM reads and patches, Events) go over pooled keep-alive connections
  // (rest-client.ts); Events have their own, so they never delay a status write. Lists, Secret
  // reads and the Lease stay with client-node (rare, and typed as it types them).
  const rest = new KubeRest(kc, { maxSockets: MAX_SOCKETS });
  const eventRest = new KubeRest(kc, { maxSockets: MAX_EVENT_SOCKETS });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const vmPath = (namespace: string, name: string) =>
    `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURALS.VirtualMachine}/${encodeURIComponent(name)}`;
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
    getVM: (namespace, name) => notFoundAsUndefined(rest.request<VirtualMachine>('GET', vmPath(namespace, name))),
    patchVM: (namespace, name, body) => rest.request<VirtualMachine>('PATCH', vmPath(namespace, name), body, MERGE_PATCH),
    patchVMStatus: (namespace, name, body) => rest.request<VirtualMachine>('PATCH', `${vmPath(namespace, name)}/status`, body, MERGE_PATCH),
    getSecret: (namespace, name) => notFoundAsUndefined(core.readNamespacedSecret({ namespace, name })),
    createEvent: async (namespace, body) => {
      await eventRest.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { apiVersion: 'v1', kind: 'Event', ...body });
    },
    getLease: (namespace, name) => notFoundAsUndefined(coordination.readNamespacedLease({ namespace, name })),
    createLease: (namespace, body) => coordination.createNamespacedLease({ namespace, body }),
    replaceLease: (namespace, name, body) => coordination.replaceNamespacedLease({ namespace, name, body }),
    close: () => {
      rest.close();
      eventRest.close();
    },
  };
}
