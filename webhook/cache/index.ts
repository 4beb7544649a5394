/** Informer caches behind the rules' Lookup, and memory-backed lookups for tests and benchmarks. */
export { startWebhookCaches, type WebhookCaches, type WebhookCachesOptions } from './informer-caches.ts';
export { lookupFromStores, memoryLookup, type LookupStores, type MemoryLookup, type MemoryLookupSeed, type MemoryStores } from './lookup.ts';
