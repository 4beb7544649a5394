/**
 * Helpers for dispatcher integration tests: a client for the test cluster, object creation,
 * polling with a deadline, and reading Events and metrics.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { GROUP, VERSION } from '../../api/crd.ts';
import type { VirtualMachine } from '../../api/objects.ts';
import { testCluster } from './cluster.ts';

export interface Kube {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

export async function kube(): Promise<Kube> {
  const cp = await testCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  return { kc, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
}

const PLURAL: Record<string, string> = {
  VirtualMachine: 'virtualmachines', VMClass: 'vmclasses', VMImage: 'vmimages', VMNetworkAttachment: 'vmnetworkattachments', Provider: 'providers',
};

/** Creates one of our objects in `namespace` (its metadata.namespace is set to it). */
export async function createObject<T extends { kind: string; metadata: { namespace?: string } }>(k: Kube, namespace: string, obj: T): Promise<T> {
  const { uid: _u, resourceVersion: _r, generation: _g, ...metadata } = obj.metadata as Record<string, unknown>;
  const body = { ...obj, metadata: { ...metadata, namespace } };
  return (await k.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL[obj.kind]!, body })) as T;
}

export async function getVM(k: Kube, namespace: string, name: string): Promise<VirtualMachine | undefined> {
  try {
    return (await k.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'virtualmachines', name })) as VirtualMachine;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export async function patchVM(k: Kube, namespace: string, name: string, body: Record<string, unknown>): Promise<VirtualMachine> {
  return (await k.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural: 'virtualmachines', name, body },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as VirtualMachine;
}

export async function deleteVM(k: Kube, namespace: string, name: string): Promise<void> {
  await k.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'virtualmachines', name });
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const condition = (vm: VirtualMachine | undefined, type: string) => vm?.status?.conditions?.find((c) => c.type === type);

export async function eventsOf(k: Kube, namespace: string, name: string): Promise<Array<{ reason: string; type: string; message: string }>> {
  const list = await k.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
}

/** The value of a counter (summed over label sets matching `labels`). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val))
    .reduce((sum, v) => sum + v.value, 0);
}
