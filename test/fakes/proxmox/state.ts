/**
 * The fake cluster's state: nodes, storages with their volumes, VMs (config, pending changes,
 * snapshots, power), tasks and login tickets. Plain JSON, so it can be written to a file after each
 * change and read back by a restarted fake (a pveproxy restart: tasks keep running meanwhile).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface FakeNode {
  name: string;
  maxmem: number;
  maxcpu: number;
  online: boolean;
  /** Memory the host itself uses (bytes). */
  baseMem: number;
}

export interface FakeStorage {
  id: string;
  /** lvmthin (images), dir (iso, import, snippets, images as qcow2), nfs (shared). */
  type: 'lvmthin' | 'dir' | 'nfs';
  content: string[];
  shared: boolean;
  /** The nodes that have it (every node for a shared one). */
  nodes: string[];
  total: number;
  /** Path of dir storages (for PVE-like messages). */
  path: string;
}

export interface FakeVolume {
  volid: string;
  storage: string;
  /** The node it lives on (local storage), '' for shared storage. */
  node: string;
  size: number;
  format: string;
  content: 'images' | 'iso' | 'import';
  vmid?: number;
  ctime: number;
}

export interface FakeSnapshot {
  name: string;
  description: string;
  snaptime: number;
  vmstate: boolean;
  parent?: string;
  config: Record<string, string>;
}

export interface FakeVm {
  vmid: number;
  node: string;
  config: Record<string, string>;
  pending: Record<string, string>;
  pendingDelete: string[];
  running: boolean;
  startedAt: number;
  snapshots: Record<string, FakeSnapshot>;
  /** The guest answers ACPI shutdown requests (false: a hung guest). */
  acpi: boolean;
}

export interface LockClaim {
  vmid: number;
  shared: boolean;
}

export interface FakeTask {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  pid: number;
  pstart: number;
  starttime: number;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  /** When the work began (after its locks were taken); 0 while waiting for them. */
  startedMs: number;
  durationMs: number;
  /** Prints "transferred … (n%)" lines while it runs. */
  progress: boolean;
  log: string[];
  effect: Effect;
  locks: LockClaim[];
  /** The lock file is held only while the task starts (it then works under a config lock, like snapshots). */
  shortLock?: boolean;
}

export type Effect =
  | { kind: 'create'; vmid: number; params: Record<string, string> }
  | { kind: 'clone'; src: number; newid: number; node: string; params: Record<string, string> }
  | { kind: 'start'; vmid: number }
  | { kind: 'stop'; vmid: number }
  | { kind: 'shutdown'; vmid: number; forceStop: boolean; timeoutS: number }
  | { kind: 'reboot'; vmid: number }
  | { kind: 'config'; vmid: number; set: Record<string, string>; delete: string[] }
  | { kind: 'resize'; vmid: number; disk: string; size: string }
  | { kind: 'snapshot'; vmid: number; name: string; description: string; vmstate: boolean }
  | { kind: 'rollback'; vmid: number; name: string; start: boolean }
  | { kind: 'delsnapshot'; vmid: number; name: string }
  | { kind: 'destroy'; vmid: number }
  | { kind: 'template'; vmid: number }
  | { kind: 'download'; node: string; storage: string; content: 'iso' | 'import'; filename: string; url: string; checksum?: string; algorithm?: string }
  | { kind: 'upload'; node: string; storage: string; content: 'iso' | 'import'; filename: string; size: number }
  | { kind: 'vncproxy'; vmid: number };

export interface FakeTicket {
  user: string;
  csrf: string;
  expiresAt: number;
}

export interface ClusterState {
  version: string;
  nodes: FakeNode[];
  storages: FakeStorage[];
  volumes: Record<string, FakeVolume>;
  vms: Record<string, FakeVm>;
  tasks: Record<string, FakeTask>;
  tickets: Record<string, FakeTicket>;
  nextPid: number;
}

export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;

/** A cluster of `nodes` nodes, each with `local` (dir) and `local-lvm` (lvmthin), plus a shared `nfs-shared`. */
export function initialState(nodes: string[], opts: { memGiB?: Record<string, number>; shared?: boolean } = {}): ClusterState {
  const state: ClusterState = { version: '9.1.2', nodes: [], storages: [], volumes: {}, vms: {}, tasks: {}, tickets: {}, nextPid: 4000 };
  for (const name of nodes) {
    state.nodes.push({ name, maxmem: (opts.memGiB?.[name] ?? 64) * GIB, maxcpu: 32, online: true, baseMem: 2 * GIB });
  }
  state.storages.push({ id: 'local', type: 'dir', content: ['iso', 'vztmpl', 'import', 'snippets', 'backup'], shared: false, nodes: [...nodes], total: 100 * GIB, path: '/var/lib/vz' });
  state.storages.push({ id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], shared: false, nodes: [...nodes], total: 1000 * GIB, path: '' });
  if (opts.shared !== false) {
    state.storages.push({ id: 'nfs-shared', type: 'nfs', content: ['images', 'iso', 'import'], shared: true, nodes: [...nodes], total: 4000 * GIB, path: '/mnt/pve/nfs-shared' });
  }
  return state;
}

/** PVE's config digest: SHA-1 of the config file; here of its sorted options. */
export function digestOf(config: Record<string, string>): string {
  const text = Object.keys(config).sort().map((k) => `${k}: ${config[k]}`).join('\n');
  return createHash('sha1').update(text).digest('hex');
}

export function saveState(path: string, state: ClusterState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}

export function loadState(path: string): ClusterState {
  return JSON.parse(readFileSync(path, 'utf8')) as ClusterState;
}
