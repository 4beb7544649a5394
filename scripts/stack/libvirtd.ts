/**
 * A private libvirtd for tests and the local stack: its own config file, socket directory, log and
 * pid files under one directory, plus virtlogd (which QEMU guests log through). Runs as root (the
 * QEMU driver's system mode); needs the packages of scripts/install-libvirt.sh.
 *
 * Idempotent: when a libvirtd of the same directory is already running and answers, it is reused
 * (and not stopped by whoever reused it). The QEMU driver's state (/run/libvirt/qemu) is
 * machine-wide, so only one such daemon runs at a time; that is what the fixed default directory
 * ensures.
 *
 *   npx tsx scripts/stack/libvirtd.ts start|stop|status [--dir DIR]
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, logTail, sleep, startProcess, stopPid, type ManagedProcess } from './processes.ts';

export const DEFAULT_LIBVIRTD_DIR = join(tmpdir(), 'virtrigaud-libvirtd');
const VIRTLOGD_SOCKET = '/run/libvirt/virtlogd-sock';

export interface LibvirtdOptions {
  dir?: string;
  /** Outlive this Node process (the `up` command). */
  detached?: boolean;
  /** Also listen on TCP (127.0.0.1) with this auth; off by default. */
  tcpAuth?: 'none' | 'sasl';
  /** Also listen with TLS (127.0.0.1); the files are the server's CA, certificate and key. */
  tls?: { caFile: string; certFile: string; keyFile: string };
}

export interface Libvirtd {
  dir: string;
  socket: string;
  /** TCP and TLS ports when asked for (0 otherwise). */
  tcpPort: number;
  tlsPort: number;
  /** Whether this handle started the daemon (only then does stop() end it). */
  owned: boolean;
  logFile: string;
  /** A URI for `driver` on this daemon's unix socket, e.g. uri('qemu', '/system'). */
  uri(driver: 'qemu' | 'test', path: string): string;
  /** Stops libvirtd (and virtlogd if this handle started it); domains of the QEMU driver keep running, as with any libvirtd restart. */
  stop(): Promise<void>;
  /** Stops and starts the daemon again with the same configuration and socket. */
  restart(): Promise<void>;
  /** Ends the daemon abruptly (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** The daemon's process id while it runs. */
  pid(): number | undefined;
  start(): Promise<void>;
}

function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function pidAlive(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

interface Layout {
  dir: string;
  runDir: string;
  socket: string;
  config: string;
  pidFile: string;
  virtlogdPidFile: string;
  logFile: string;
  stateFile: string;
}

function layout(dir: string): Layout {
  return {
    dir,
    runDir: join(dir, 'run'),
    socket: join(dir, 'run', 'libvirt-sock'),
    config: join(dir, 'libvirtd.conf'),
    pidFile: join(dir, 'libvirtd.pid'),
    virtlogdPidFile: join(dir, 'virtlogd.pid'),
    logFile: join(dir, 'libvirtd.log'),
    stateFile: join(dir, 'ports.json'),
  };
}

function writeConfig(l: Layout, opts: LibvirtdOptions, ports: { tcp: number; tls: number }): void {
  const lines = [
    `unix_sock_dir = "${l.runDir}"`,
    'unix_sock_rw_perms = "0700"',
    'unix_sock_ro_perms = "0700"',
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    `listen_tcp = ${opts.tcpAuth ? 1 : 0}`,
    `listen_tls = ${opts.tls ? 1 : 0}`,
    'listen_addr = "127.0.0.1"',
    `tcp_port = "${ports.tcp || 16509}"`,
    `tls_port = "${ports.tls || 16514}"`,
    `auth_tcp = "${opts.tcpAuth ?? 'none'}"`,
    'auth_tls = "none"',
    // Errors only: libvirtd logs a few harmless ones at start in a container (no D-Bus, no DMI).
    `log_outputs = "3:file:${l.logFile}"`,
    'keepalive_interval = 5',
    'keepalive_count = 5',
    'max_clients = 200',
    'max_workers = 20',
    'max_client_requests = 64',
  ];
  if (opts.tls) {
    lines.push(`ca_file = "${opts.tls.caFile}"`, `cert_file = "${opts.tls.certFile}"`, `key_file = "${opts.tls.keyFile}"`);
  }
  writeFileSync(l.config, `${lines.join('\n')}\n`);
}

async function ensureVirtlogd(l: Layout, detached: boolean): Promise<number | undefined> {
  if (await socketAnswers(VIRTLOGD_SOCKET)) return undefined;
  const proc = startProcess({ name: 'virtlogd', command: 'virtlogd', args: ['-p', l.virtlogdPidFile], logFile: join(l.dir, 'virtlogd.out'), detached });
  for (let i = 0; i < 100; i++) {
    if (await socketAnswers(VIRTLOGD_SOCKET)) return proc.pid;
    if (proc.exited() !== undefined) throw new Error(`virtlogd exited (${proc.exited()}): ${logTail(join(l.dir, 'virtlogd.out'))}`);
    await sleep(50);
  }
  throw new Error(`virtlogd did not create ${VIRTLOGD_SOCKET} within 5 s`);
}

export async function startLibvirtd(opts: LibvirtdOptions = {}): Promise<Libvirtd> {
  const l = layout(opts.dir ?? DEFAULT_LIBVIRTD_DIR);
  mkdirSync(l.runDir, { recursive: true });
  mkdirSync('/var/log/libvirt/qemu', { recursive: true });

  let owned = false;
  let proc: ManagedProcess | undefined;
  let virtlogdPid: number | undefined;
  let ports = { tcp: 0, tls: 0 };

  const running = pidAlive(l.pidFile);
  if (running && (await socketAnswers(l.socket))) {
    try {
      ports = JSON.parse(readFileSync(l.stateFile, 'utf8')) as typeof ports;
    } catch { /* started without listeners */ }
  } else {
    owned = true;
  }

  const launch = async () => {
    if (running && !owned) return;
    if (pidAlive(l.pidFile)) await stopPid(pidAlive(l.pidFile)!);
    rmSync(l.runDir, { recursive: true, force: true });
    mkdirSync(l.runDir, { recursive: true });
    if (!ports.tcp && opts.tcpAuth) ports.tcp = await freePort();
    if (!ports.tls && opts.tls) ports.tls = await freePort();
    writeConfig(l, opts, ports);
    writeFileSync(l.stateFile, JSON.stringify(ports));
    virtlogdPid ??= await ensureVirtlogd(l, opts.detached ?? false);
    const args = ['-f', l.config, '-p', l.pidFile];
    if (opts.tcpAuth || opts.tls) args.push('--listen');
    proc = startProcess({ name: 'libvirtd', command: 'libvirtd', args, logFile: join(l.dir, 'libvirtd.out'), detached: opts.detached });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (await socketAnswers(l.socket)) return;
      const exit = proc.exited();
      if (exit !== undefined) throw new Error(`libvirtd exited (${exit}) before it was ready:\n${logTail(join(l.dir, 'libvirtd.out'))}\n${logTail(l.logFile)}`);
      if (Date.now() > deadline) throw new Error(`libvirtd did not open ${l.socket} within 20 s:\n${logTail(l.logFile)}`);
      await sleep(50);
    }
  };

  const stopDaemon = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const pid = proc?.pid ?? pidAlive(l.pidFile);
    if (!pid) return;
    if (signal === 'SIGKILL') {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* already gone */ }
      await proc?.stop();
    } else if (proc) {
      await proc.stop();
    } else {
      await stopPid(pid, 10_000);
    }
    proc = undefined;
    rmSync(l.pidFile, { force: true });
  };

  if (owned) await launch();

  return {
    dir: l.dir,
    socket: l.socket,
    get tcpPort() {
      return ports.tcp;
    },
    get tlsPort() {
      return ports.tls;
    },
    owned,
    logFile: l.logFile,
    uri: (driver, path) => `${driver}+unix://${path}?socket=${l.socket}`,
    pid: () => (proc && proc.exited() === undefined ? proc.pid : pidAlive(l.pidFile)),
    start: async () => {
      owned = true;
      await launch();
    },
    stop: async () => {
      if (!owned) return;
      await stopDaemon('SIGTERM');
      if (virtlogdPid) await stopPid(virtlogdPid);
      virtlogdPid = undefined;
    },
    restart: async () => {
      owned = true;
      await stopDaemon('SIGTERM');
      await launch();
    },
    kill: async () => {
      owned = true;
      await stopDaemon('SIGKILL');
    },
  };
}

async function cli(argv: string[]): Promise<void> {
  const [command = 'status'] = argv;
  const dirAt = argv.indexOf('--dir');
  const dir = dirAt >= 0 ? argv[dirAt + 1] : undefined;
  const l = layout(dir ?? DEFAULT_LIBVIRTD_DIR);
  if (command === 'start') {
    const d = await startLibvirtd({ dir, detached: true });
    process.stdout.write(`libvirtd ${d.owned ? 'started' : 'already running'}: ${d.uri('qemu', '/system')}\n`);
  } else if (command === 'stop') {
    const pid = pidAlive(l.pidFile);
    if (pid) await stopPid(pid, 10_000);
    const vl = pidAlive(l.virtlogdPidFile);
    if (vl) await stopPid(vl);
    process.stdout.write(pid ? 'libvirtd stopped\n' : 'libvirtd was not running\n');
  } else if (command === 'status') {
    const up = pidAlive(l.pidFile) !== undefined && existsSync(l.socket) && (await socketAnswers(l.socket));
    process.stdout.write(up ? `libvirtd running: qemu+unix:///system?socket=${l.socket}\n` : 'libvirtd not running\n');
    process.exitCode = up ? 0 : 1;
  } else {
    process.stderr.write('usage: libvirtd.ts start|stop|status [--dir DIR]\n');
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
