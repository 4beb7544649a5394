/**
 * The few apiserver calls the dispatcher makes, behind one narrow interface (tests fake it):
 * merge patches on VirtualMachines and their status subresource, Secret reads at dispatch time,
 * core/v1 Events, and the leader Lease — all over kept-alive connections (kube/rest.ts).
 */
import type { CoreV1Event, V1Lease, V1Secret } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import { KubeRest, type KubeAuth } from '../../kube/index.ts';
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
  /** The client informers list and watch with. */
  readonly client: KubeRest;
  /** The collection path an informer watches for one of our kinds. */
  customCollection(kind: WatchedKind, namespace?: string): string;
  secretCollection(namespace?: string): string;
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

export function createKubeApi(auth: KubeAuth): KubeApi {
  // Events have their own connections, so they never delay a status write; watches open their
  // own (kube/rest.ts).
  const rest = new KubeRest(auth, { maxSockets: MAX_SOCKETS });
  const eventRest = new KubeRest(auth, { maxSockets: MAX_EVENT_SOCKETS });
  const vmPath = (namespace: string, name: string) =>
    `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURALS.VirtualMachine}/${encodeURIComponent(name)}`;
  const leasePath = (namespace: string, name?: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  const notFoundAsUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    client: rest,
    customCollection(kind, namespace) {
      const plural = PLURALS[kind];
      return namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`;
    },
    secretCollection: (namespace) => (namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets'),
    getVM: (namespace, name) => notFoundAsUndefined(rest.request<VirtualMachine>('GET', vmPath(namespace, name))),
    patchVM: (namespace, name, body) => rest.request<VirtualMachine>('PATCH', vmPath(namespace, name), body, MERGE_PATCH),
    patchVMStatus: (namespace, name, body) => rest.request<VirtualMachine>('PATCH', `${vmPath(namespace, name)}/status`, body, MERGE_PATCH),
    getSecret: (namespace, name) =>
      notFoundAsUndefined(rest.request<V1Secret>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`)),
    createEvent: async (namespace, body) => {
      await eventRest.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { apiVersion: 'v1', kind: 'Event', ...body });
    },
    getLease: (namespace, name) => notFoundAsUndefined(rest.request<V1Lease>('GET', leasePath(namespace, name))),
    createLease: (namespace, body) => rest.request<V1Lease>('POST', leasePath(namespace), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body }),
    replaceLease: (namespace, name, body) =>
      rest.request<V1Lease>('PUT', leasePath(namespace, name), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body }),
    close: () => {
      rest.close();
      eventRest.close();
    },
  };
}
