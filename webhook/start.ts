/**
 * The webhook put together: informer caches → metrics → HTTPS server, with whatever rules the
 * caller gives (the real ones in main.ts, test rules in the local stack's tests).
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { InformerEvent } from '../kube/index.ts';
import { startWebhookCaches, type WebhookCaches } from './cache/index.ts';
import type { WebhookConfig } from './config.ts';
import type { Logger } from './log.ts';
import { createWebhookMetrics, startWebhookServer, type RuleSet, type WebhookMetrics, type WebhookServer } from './server/index.ts';

export interface StartWebhookOptions {
  config: WebhookConfig;
  rules: RuleSet;
  log: Logger;
  /** The cluster the caches watch; defaults to config.kubeconfig, else in-cluster / ~/.kube/config. */
  kubeConfig?: KubeConfig;
  /** Process metrics (CPU, memory, event loop) next to the webhook's own; on in the real process. */
  processMetrics?: boolean;
}

export interface RunningWebhook {
  server: WebhookServer;
  caches: WebhookCaches;
  metrics: WebhookMetrics;
  /** Stops serving (requests in flight finish) and watching. */
  stop(): Promise<void>;
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Logs what the caches report: errors at warn (they retry by themselves), the rest at info. */
export function logCacheEvent(log: Logger, event: InformerEvent): void {
  switch (event.type) {
    case 'error':
      log.warn('cache list/watch failed; restarting', { kind: event.kind, error: event.error, retryInMs: event.retryInMs });
      break;
    case 'listed':
      log.debug('cache listed', { kind: event.kind, count: event.count });
      break;
    case 'synced':
      log.info('cache synced', { kind: event.kind, count: event.count });
      break;
  }
}

export async function startWebhook(opts: StartWebhookOptions): Promise<RunningWebhook> {
  const { config, log } = opts;
  // 1. Caches first: the server answers /readyz 503 and denies admission until they have synced.
  const caches = startWebhookCaches({
    kubeConfig: opts.kubeConfig ?? loadKubeConfig(config.kubeconfig),
    onEvent: (event) => logCacheEvent(log, event),
  });
  // 2. The server.
  const metrics = createWebhookMetrics({ processMetrics: opts.processMetrics });
  let server: WebhookServer;
  try {
    server = await startWebhookServer({
      host: config.host,
      port: config.port,
      certFile: config.certFile,
      keyFile: config.keyFile,
      maxBodyBytes: config.maxBodyBytes,
      tlsPollMs: config.tlsPollMs,
      shutdownGraceMs: config.shutdownGraceMs,
      rules: opts.rules,
      lookup: caches.lookup,
      ready: caches.isSynced,
      metrics,
      log,
    });
  } catch (err) {
    await caches.stop();
    throw err;
  }
  log.info('webhook listening', { url: server.url, port: server.port });
  caches.synced().then(() => log.info('caches synced; webhook ready'), () => {});
  return {
    server,
    caches,
    metrics,
    stop: async () => {
      await server.close();
      await caches.stop();
    },
  };
}
