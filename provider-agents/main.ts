/**
 * Agent process entry: `tsx provider-agents/main.ts agent <type>`. Reads the configuration from the
 * environment (core/config.ts), opens the hypervisor driver, runs the agent runtime (and the
 * provider.v1 gRPC service when AGENT_GRPC_PORT is set), and shuts down gracefully on SIGTERM/SIGINT.
 */
import { loadConfig, ConfigError, type AgentConfig } from './core/config.ts';
import type { Driver } from './core/driver.ts';
import { startAgent } from './core/agent.ts';
import { createLogger, type Logger } from './core/log.ts';
import { loadNatsAuth, type NatsAuth } from './core/nats-auth.ts';
import { startGrpcServer } from './grpc/server.ts';
import { openDriver } from './drivers.ts';

const USAGE = 'usage: main.ts agent <vsphere|libvirt|proxmox|mock>';

async function main(argv: string[]): Promise<number> {
  const [command, type] = argv;
  if (command !== 'agent' || !type) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (process.env.AGENT_PROVIDER_TYPE && process.env.AGENT_PROVIDER_TYPE !== type) {
    process.stderr.write(`AGENT_PROVIDER_TYPE=${process.env.AGENT_PROVIDER_TYPE} contradicts the argument ${type}\n`);
    return 2;
  }
  let config: AgentConfig;
  let natsAuth: NatsAuth;
  try {
    config = loadConfig({ ...process.env, AGENT_PROVIDER_TYPE: type });
    natsAuth = loadNatsAuth(process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const log: Logger = createLogger({ level: config.logLevel, base: { component: 'agent' } });
  let driver: Driver;
  try {
    driver = await openDriver(config, process.env);
  } catch (err) {
    log.error('driver not opened', { err });
    return err instanceof ConfigError ? 2 : 1;
  }
  const agent = await startAgent({
    natsServers: config.natsServers,
    natsAuth,
    provider: config.provider,
    driver,
    agentId: config.agentId,
    concurrency: config.concurrency,
    leaseTtlS: config.leaseTtlS,
    heartbeatIntervalMs: config.heartbeatIntervalS * 1000,
    shutdownGraceMs: config.shutdownGraceS * 1000,
    metricsPort: config.metricsPort,
    metricsHost: config.metricsHost,
    processMetrics: true,
    log,
  });
  const grpc = config.grpcPort !== undefined ? await startGrpcServer({ driver, port: config.grpcPort, host: config.metricsHost, log }) : undefined;
  log.info('agent process ready', { metrics: agent.metricsUrl, grpc: grpc?.url });

  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  await grpc?.close();
  await agent.stop();
  await driver.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agent failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
