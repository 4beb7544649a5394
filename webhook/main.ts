/**
 * The webhook process: configuration → caches → HTTPS server, with the real rules of
 * webhook/kinds (the one place they are wired). Logs are JSON lines on stdout.
 *
 *   WEBHOOK_TLS_CERT_FILE=… WEBHOOK_TLS_KEY_FILE=… KUBECONFIG=… node --import tsx webhook/main.ts
 */
import { ConfigError, loadConfig } from './config.ts';
import { mutators, validators } from './kinds/index.ts';
import { createLogger } from './log.ts';
import { startWebhook } from './start.ts';

async function main(): Promise<void> {
  // 1. Configuration: every problem at once, then exit 2.
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger({ level: 'error' }).error('invalid configuration', { problems: err.problems });
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel, base: { component: 'webhook' } });

  // 2. Caches and server.
  const webhook = await startWebhook({ config, rules: { validators, mutators }, log, processMetrics: true });

  // 3. Graceful stop: requests in flight finish; a second signal stops at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('stopping', { signal });
    webhook.stop().then(() => process.exit(0), (err) => {
      log.error('stop failed', { error: err });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  createLogger({ level: 'error', base: { component: 'webhook' } }).error('webhook failed to start', { error: err });
  process.exit(1);
});
