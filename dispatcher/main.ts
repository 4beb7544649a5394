/**
 * The dispatcher process: configuration from the environment (dispatcher/config.ts), JSON logs
 * on stdout, graceful stop on SIGTERM/SIGINT (the Lease is released so another replica takes
 * over at once).
 *
 *   NATS_URL=nats://127.0.0.1:4222 KUBECONFIG=... npx tsx dispatcher/main.ts
 */
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig } from './config.ts';
import { startDispatcher } from './dispatcher.ts';
import { createLogger } from './log.ts';
import { loadProviderControllerConfig, ProviderConfigError, type ProviderControllerConfig } from './providers/index.ts';

/**
 * Old-generation growth between full GCs, as a percentage of what survived the last one (V8
 * otherwise picks a factor of up to 4×). The dispatcher's live memory is its caches; after a burst
 * of status events V8 let garbage pile up to several times that. Read at every GC, so setting it
 * here works (NODE_OPTIONS does not accept it).
 */
const HEAP_GROWING_PERCENT = 25;

async function main(): Promise<void> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let config;
  let providers: ProviderControllerConfig;
  try {
    config = loadConfig(process.env);
    providers = loadProviderControllerConfig({ ...process.env, NATS_URL: config.natsUrl });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ProviderConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const dispatcher = await startDispatcher({ config, log, providers });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    dispatcher.stop({ releaseLease: true }).then(() => process.exit(0), (err: unknown) => {
      log.error('stop failed', { err });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  createLogger().error('dispatcher failed to start', { err });
  process.exit(1);
});
