/** Informer caches behind the rules' Lookup, and memory-backed lookups for tests and benchmarks. */
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export { startInformer, type CacheEvent, type Informer, type InformerOptions } from './informer.ts';
export { startWebhookCaches, type WebhookCaches, type WebhookCachesOptions } from './informer-caches.ts';
export { lookupFromStores, memoryLookup, type LookupStores, type MemoryLookup, type MemoryLookupSeed, type MemoryStores } from './lookup.ts';
export { MemoryStore, type Store } from './store.ts';
