/**
 * govmomi's vcsim on loopback for the vSphere agent's tests: one per suite, on a free port, with
 * its own model flags. It prints `export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk …` once
 * it serves; the URL and the default credentials (vcsim takes any unless -username/-password).
 * VCSIM_KEEP_LOGS=1 keeps its log (with -trace: every SOAP request and reply) after the suite.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  ClassSpecSchema, DesiredVMSchema, ImageSpecSchema, PowerState, type DesiredVM,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { OperationContext } from '../../provider-agents/core/driver.ts';
import { VSphereDriver } from '../../provider-agents/vsphere/driver.ts';
import { decodeMoRef, ref, type MoRef } from '../../provider-agents/vsphere/soap/client.ts';
import { findVcsim } from '../../scripts/stack/binaries.ts';
import { freePort, startOnFreePorts, startProcess, waitReady, type ManagedProcess } from '../../scripts/stack/processes.ts';

export interface Vcsim {
  /** https://127.0.0.1:PORT/sdk (no credentials in it). */
  url: URL;
  username: string;
  password: string;
  dir: string;
  logFile: string;
  /** Stops it (SIGTERM); `start()` brings a fresh one (empty model) back on the same port. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
}

export interface VcsimOptions {
  /** Extra model flags, e.g. ['-pod', '1', '-ds', '2']. */
  args?: string[];
  username?: string;
  password?: string;
  /** Log every SOAP request and reply to the log file (-trace). */
  trace?: boolean;
}

export async function startVcsim(opts: VcsimOptions = {}): Promise<Vcsim> {
  const bin = findVcsim();
  const dir = mkdtempSync(join(tmpdir(), 'virtrigaud-vcsim-'));
  const username = opts.username ?? 'vr-user';
  const password = opts.password ?? 'vr-pass';
  let port = 0;
  let proc: ManagedProcess | undefined;
  let logFile = '';
  let url: URL | undefined;

  /** Starts vcsim on `port` (a restart keeps it). */
  const spawn = () => {
    logFile = join(dir, `vcsim-${Date.now()}.log`);
    const args = ['-l', `127.0.0.1:${port}`, '-username', username, '-password', password, ...(opts.trace ? ['-trace'] : []), ...(opts.args ?? [])];
    proc = startProcess({ name: 'vcsim', command: bin, args, logFile });
    return proc;
  };
  const ready = (p: ManagedProcess) => waitReady(p, async () => {
    const m = /GOVC_URL=(\S+)/.exec(readFileSync(logFile, 'utf8'));
    if (!m) return false;
    const u = new URL(m[1]!);
    u.username = '';
    u.password = '';
    url = u;
    return true;
  }, 30_000);
  const launch = () => ready(spawn());

  try {
    await startOnFreePorts(freePort, ([p]) => {
      port = p!;
      return spawn();
    }, 1, ready);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    get url() {
      return url!;
    },
    username,
    password,
    dir,
    get logFile() {
      return logFile;
    },
    stop: async () => {
      await proc?.stop();
    },
    kill: async () => {
      if (!proc || proc.exited() !== undefined) return;
      process.kill(proc.pid, 'SIGKILL');
      await proc.stop();
    },
    start: launch,
    close: async () => {
      await proc?.stop();
      if (!process.env.VCSIM_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- fixtures for driver tests ---


/** The driver on a vcsim (its self-signed certificate accepted: insecureSkipVerify). */
export function openDriver(sim: Vcsim, extra: { keepaliveMs?: number } = {}): Promise<VSphereDriver> {
  return VSphereDriver.open({ url: sim.url, username: sim.username, password: sim.password, tls: { insecureSkipVerify: true }, ...extra });
}

/** An operation context that records progress. */
export function opContext(generation = 1n): OperationContext & { reports: [number, string][]; abort: AbortController } {
  const abort = new AbortController();
  const reports: [number, string][] = [];
  return { signal: abort.signal, progress: (p, d) => reports.push([p, d]), generation, reports, abort };
}

/** A template made from vcsim's DC0_H0_VM0 (a clone, powered off, marked as template). */
export async function makeTemplate(driver: VSphereDriver, name: string, source = 'DC0_H0_VM0'): Promise<MoRef> {
  const src = driver.inventory.byName(source)[0];
  if (!src) throw new Error(`vcsim has no VM ${source}`);
  const out = await driver.tasks.run('CloneVM_Task', {
    _this: ref(src.ref), folder: ref(src.folder!), name,
    spec: { location: { pool: ref(src.resourcePool!) }, template: false, powerOn: false },
  }, `making template ${name}`, opContext());
  const tmpl = decodeMoRef(out.result, 'clone');
  await driver.client.call('MarkAsTemplate', { _this: ref(tmpl) });
  await driver.inventory.observe(tmpl);
  return tmpl;
}

/** A desired VM cloned from `template`, plus overrides. */
export function desiredFrom(template: string, overrides: MessageInitShape<typeof DesiredVMSchema> = {}): DesiredVM {
  return create(DesiredVMSchema, {
    class: create(ClassSpecSchema, { name: 'small', cpus: 2, memoryMib: 1024n }),
    image: create(ImageSpecSchema, { name: template, source: { case: 'vsphereTemplate', value: { templateName: template, contentLibrary: '', contentLibraryItem: '' } } }),
    powerState: PowerState.OFF,
    ...overrides,
  });
}
