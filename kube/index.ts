/**
 * Kubernetes plumbing shared by the processes that talk to the apiserver (webhook, dispatcher):
 * credentials without client-node, a pooled JSON client with watches, informers with a restart
 * loop, their stores, and the backoff they retry with.
 */
export { asKubeAuth, kubeAuthFromConfig, loadKubeAuth, type AuthOptions, type KubeAuth } from './auth.ts';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export { startInformer, type Informer, type InformerEvent, type InformerHandlers, type InformerOptions } from './informer.ts';
export type { AnyObject, ObjectList } from './objects.ts';
export { dropBookkeeping } from './objects.ts';
export { KubeApiError, KubeRest, type KubeRestOptions, type WatchEvent, type WatchStream } from './rest.ts';
export { MemoryStore, type Store } from './store.ts';
