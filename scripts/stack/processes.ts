/** Child processes of the local stack: start with a log file, wait for readiness, stop for good. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Set once the process has exited (code or signal). */
  exited: () => string | undefined;
  stop: () => Promise<void>;
}

const running = new Set<ChildProcess>();
// A test run or `up` that dies must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** Outlive this Node process (the `up` command); the caller records the pid. */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

export function startProcess(opts: StartOptions): ManagedProcess {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    stdio: ['ignore', fd, fd],
    detached: opts.detached ?? false,
    env: opts.env ?? process.env,
  });
  closeSync(fd);
  let exit: string | undefined;
  const done = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exit = err.message;
      running.delete(child);
      resolve();
    });
  });
  if (opts.detached) child.unref();
  else running.add(child);
  return {
    name: opts.name,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    exited: () => exit,
    stop: async () => {
      if (exit !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process recorded by pid (a detached one from an earlier `up`). */
export async function stopPid(pid: number, timeoutMs = 5000): Promise<void> {
  const alive = () => isAlive(pid);
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) await sleep(50);
  if (alive()) process.kill(pid, 'SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port nobody listens on right now (the caller retries if it is taken before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** True when the process's log says its port was taken (then the caller picks other ports). */
export function failedOnBusyPort(proc: ManagedProcess): boolean {
  return /address already in use/i.test(logTail(proc.logFile, 40));
}

/** Attempts at a fresh port set before a busy port counts as a failure. */
const PORT_ATTEMPTS = 3;

/**
 * Starts a process on `count` fresh ports and waits for it, retrying on another port set when
 * one was taken between picking and binding (the process's log says so); any other failure is
 * thrown after the process is stopped.
 */
export async function startOnFreePorts(
  pickPort: () => Promise<number>,
  start: (ports: number[]) => ManagedProcess,
  count: number,
  ready: (proc: ManagedProcess, ports: number[]) => Promise<void>,
): Promise<{ proc: ManagedProcess; ports: number[] }> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await pickPort());
    const proc = start(ports);
    try {
      await ready(proc, ports);
      return { proc, ports };
    } catch (err) {
      await proc.stop();
      if (attempt < PORT_ATTEMPTS && failedOnBusyPort(proc)) continue;
      throw err;
    }
  }
}

/**
 * Polls `ready` until it resolves true. Fails at once if the process exits, and after `timeoutMs`
 * with the end of its log, so the reason is on screen.
 */
export async function waitReady(proc: ManagedProcess, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = proc.exited();
    if (exit !== undefined) {
      throw new Error(`${proc.name} exited (${exit}) before it was ready; end of ${proc.logFile}:\n${logTail(proc.logFile)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} not ready after ${timeoutMs} ms; end of ${proc.logFile}:\n${logTail(proc.logFile)}`);
    }
    await sleep(100);
  }
}
