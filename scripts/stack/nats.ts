/**
 * A real nats-server with JetStream (file storage) on loopback. Single server, so every write is
 * synced to disk before it is acknowledged (`sync_interval: always`): JetStream's default syncs
 * only every 2 minutes, and a crash would lose acknowledged commands.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinaries } from './binaries.ts';
import { freePort, startOnFreePorts, startProcess, waitReady, type ManagedProcess } from './processes.ts';

export interface NatsServer {
  url: string;
  port: number;
  monitorPort: number;
  dir: string;
  process: ManagedProcess;
  /** Stops the server (its store stays) and starts it again on the same port and store. */
  restart: () => Promise<void>;
  /** Kills the server hard (SIGKILL), as a crash would. */
  kill: () => Promise<void>;
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface NatsOptions {
  dir?: string;
  detached?: boolean;
  /** Appended to the server's configuration (e.g. the operator/JWT fragment of dispatcher/providers/nats-accounts.ts). */
  extraConfig?: string;
}

function healthy(monitorPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: monitorPort, path: '/healthz?js-enabled-only=true', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startNats(opts: NatsOptions = {}): Promise<NatsServer> {
  const bin = findBinaries().natsServer;
  const temporary = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'virtrigaud-nats-'));
  mkdirSync(join(dir, 'jetstream'), { recursive: true });
  const configFile = join(dir, 'nats.conf');
  let port = 0;
  let monitorPort = 0;
  let proc: ManagedProcess | undefined;

  /** Starts the server on `port`/`monitorPort` (a restart keeps them). */
  const spawn = () => {
    writeFileSync(configFile, [
      `listen: 127.0.0.1:${port}`,
      `http: 127.0.0.1:${monitorPort}`,
      'jetstream {',
      `  store_dir: "${join(dir, 'jetstream')}"`,
      '  sync_interval: always',
      '}',
      'max_payload: 4MB',
      opts.extraConfig ?? '',
      '',
    ].join('\n'));
    proc = startProcess({ name: 'nats-server', command: bin, args: ['-c', configFile], logFile: join(dir, 'nats.log'), detached: opts.detached });
    return proc;
  };
  const ready = (p: ManagedProcess) => waitReady(p, () => healthy(monitorPort), 30_000);
  const launch = () => ready(spawn());

  try {
    await startOnFreePorts(freePort, ([client, monitor]) => {
      port = client!;
      monitorPort = monitor!;
      return spawn();
    }, 2, ready);
  } catch (err) {
    if (temporary) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    dir,
    get process() {
      return proc!;
    },
    start: launch,
    restart: async () => {
      await proc?.stop();
      await launch();
    },
    kill: async () => {
      if (!proc || proc.exited() !== undefined) return;
      process.kill(proc.pid, 'SIGKILL');
      await proc.stop();
    },
    stop: async () => {
      await proc?.stop();
      if (temporary) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
