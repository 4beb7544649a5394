/**
 * The apiserver calls of the Provider controller, over a kept-alive client (kube/rest.ts): server-side apply of the agent's objects and of the Provider's status,
 * the finalizer, and the collections its informers list and watch.
 */
import { GROUP, VERSION } from '../../api/crd.ts';
import type { ProviderStatus } from '../../api/kinds/provider.ts';
import type { Provider } from '../../api/objects.ts';
import { KubeRest, type KubeAuth } from '../../kube/index.ts';

/** What an informer needs to list and watch one collection (`T`: the objects it holds). */
export interface Collection<T> {
  path: string;
  client: KubeRest;
  labelSelector?: string;
}

export interface Applied {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
}

/** REST paths of the kinds the controller applies. */
const RESOURCES: Record<string, string> = {
  'apps/v1/Deployment': 'deployments',
  'v1/Service': 'services',
  'v1/ServiceAccount': 'serviceaccounts',
  'v1/Secret': 'secrets',
  'keda.sh/v1alpha1/ScaledObject': 'scaledobjects',
};

function objectPath(apiVersion: string, kind: string, namespace: string, name?: string): string {
  const plural = RESOURCES[`${apiVersion}/${kind}`];
  if (!plural) throw new Error(`the Provider controller does not apply ${apiVersion} ${kind}`);
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';

export interface ProviderKube {
  providers(namespace?: string): Collection<Provider>;
  vms<T>(namespace?: string): Collection<T>;
  deployments<T>(namespace: string | undefined, labelSelector: string): Collection<T>;
  secrets<T>(namespace?: string): Collection<T>;
  /** Server-side apply (our field manager, forced: these objects are ours). */
  apply<T>(obj: Applied): Promise<T>;
  applyStatus(provider: Provider, status: ProviderStatus): Promise<Provider>;
  /** Sets the finalizers, failing with 409 when the Provider changed since `resourceVersion`. */
  setFinalizers(provider: Provider, finalizers: string[]): Promise<Provider>;
  close(): void;
}

export function createProviderKube(auth: KubeAuth, fieldManager: string): ProviderKube {
  const rest = new KubeRest(auth, { maxSockets: 8 });
  const custom = (plural: string, namespace?: string) =>
    namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`;
  const collection = <T>(path: string, labelSelector?: string): Collection<T> => ({ path, labelSelector, client: rest });
  const query = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
  const providerPath = (p: Provider) => `${custom('providers', p.metadata.namespace)}/${encodeURIComponent(p.metadata.name ?? '')}`;
  return {
    providers: (namespace) => collection<Provider>(custom('providers', namespace)),
    vms: (namespace) => collection(custom('virtualmachines', namespace)),
    deployments: (namespace, labelSelector) =>
      collection(namespace ? `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments` : '/apis/apps/v1/deployments', labelSelector),
    secrets: (namespace) => collection(namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets'),
    apply: (obj) => rest.request('PATCH', `${objectPath(obj.apiVersion, obj.kind, obj.metadata?.namespace ?? '', obj.metadata?.name)}${query}`, obj, APPLY),
    applyStatus: (p, status) => rest.request<Provider>('PATCH', `${providerPath(p)}/status${query}`, {
      apiVersion: `${GROUP}/${VERSION}`, kind: 'Provider', metadata: { name: p.metadata.name, namespace: p.metadata.namespace }, status,
    }, APPLY),
    setFinalizers: (p, finalizers) => rest.request<Provider>('PATCH', providerPath(p), {
      metadata: { finalizers, resourceVersion: p.metadata.resourceVersion },
    }, MERGE),
    close: () => rest.close(),
  };
}
