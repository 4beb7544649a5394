/**
 * Checks of the API answers the agent reads. PVE's JSON is loosely typed (booleans as 0/1, numbers
 * sometimes as strings); anything that is not what the API documents is a MalformedReply — a
 * retryable error naming the call and the field — never a crash and never "no such VM".
 */
import { TransientError } from '../core/errors.ts';

export class MalformedReplyError extends TransientError {
  constructor(call: string, what: string, got: unknown) {
    super(`${call}: the Proxmox API answered something unexpected: ${what}, got ${preview(got)}`, { reason: 'MalformedReply' });
  }
}

function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, call: string, what: string): Obj {
  if (!isObj(v)) throw new MalformedReplyError(call, `expected ${what} to be an object`, v);
  return v;
}

function arr(v: unknown, call: string, what: string): unknown[] {
  if (!Array.isArray(v)) throw new MalformedReplyError(call, `expected ${what} to be a list`, v);
  return v;
}

/** An integer (PVE sometimes sends numeric strings); undefined when absent. */
function optInt(o: Obj, key: string, call: string, what: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new MalformedReplyError(call, `expected ${what}.${key} to be a number`, v);
  return n;
}

function int(o: Obj, key: string, call: string, what: string): number {
  const n = optInt(o, key, call, what);
  if (n === undefined) throw new MalformedReplyError(call, `expected ${what}.${key}`, o);
  return n;
}

function optStr(o: Obj, key: string, call: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new MalformedReplyError(call, `expected ${what}.${key} to be a string`, v);
  return v;
}

function str(o: Obj, key: string, call: string, what: string): string {
  const s = optStr(o, key, call, what);
  if (s === undefined) throw new MalformedReplyError(call, `expected ${what}.${key}`, o);
  return s;
}

/** PVE booleans: 1/0, "1"/"0", true/false. */
function bool(o: Obj, key: string, call: string, what: string): boolean {
  const v = o[key];
  if (v === undefined || v === null || v === '' || v === 0 || v === '0' || v === false) return false;
  if (v === 1 || v === '1' || v === true) return true;
  throw new MalformedReplyError(call, `expected ${what}.${key} to be a boolean`, v);
}

export interface VmResource {
  vmid: number;
  node: string;
  name: string;
  status: string;
  template: boolean;
  tags: string[];
  lock: string | undefined;
  maxcpu: number;
  maxmem: number;
}

export interface NodeResource {
  node: string;
  online: boolean;
  maxmem: number;
  mem: number;
}

export interface StorageResource {
  node: string;
  storage: string;
  content: string[];
  shared: boolean;
  active: boolean;
  avail: number;
}

export interface Resources {
  vms: VmResource[];
  nodes: NodeResource[];
  storages: StorageResource[];
}

export function splitTags(tags: string | undefined): string[] {
  return (tags ?? '').split(/[;,\s]+/).filter(Boolean);
}

/** GET /cluster/resources: qemu guests, nodes and storages; other types (lxc, sdn, pool) are skipped. */
export function parseResources(data: unknown, call = 'GET /cluster/resources'): Resources {
  const out: Resources = { vms: [], nodes: [], storages: [] };
  arr(data, call, 'the resource list').forEach((raw, i) => {
    const what = `resource[${i}]`;
    const r = obj(raw, call, what);
    const type = str(r, 'type', call, what);
    if (type === 'qemu') {
      const vmid = int(r, 'vmid', call, what);
      if (!Number.isInteger(vmid) || vmid < 1) throw new MalformedReplyError(call, `expected ${what}.vmid to be a VMID`, r.vmid);
      out.vms.push({
        vmid,
        node: str(r, 'node', call, what),
        name: optStr(r, 'name', call, what) ?? '',
        status: optStr(r, 'status', call, what) ?? 'unknown',
        template: bool(r, 'template', call, what),
        tags: splitTags(optStr(r, 'tags', call, what)),
        lock: optStr(r, 'lock', call, what) || undefined,
        maxcpu: optInt(r, 'maxcpu', call, what) ?? 0,
        maxmem: optInt(r, 'maxmem', call, what) ?? 0,
      });
    } else if (type === 'node') {
      out.nodes.push({
        node: str(r, 'node', call, what),
        online: optStr(r, 'status', call, what) === 'online',
        maxmem: optInt(r, 'maxmem', call, what) ?? 0,
        mem: optInt(r, 'mem', call, what) ?? 0,
      });
    } else if (type === 'storage') {
      const maxdisk = optInt(r, 'maxdisk', call, what) ?? 0;
      const disk = optInt(r, 'disk', call, what) ?? 0;
      out.storages.push({
        node: str(r, 'node', call, what),
        storage: str(r, 'storage', call, what),
        content: (optStr(r, 'content', call, what) ?? '').split(',').map((s) => s.trim()).filter(Boolean),
        shared: bool(r, 'shared', call, what),
        active: (optStr(r, 'status', call, what) ?? 'available') === 'available',
        avail: Math.max(0, maxdisk - disk),
      });
    }
  });
  return out;
}

/** GET …/config: option → value (values as strings, as the config file has them), plus `digest`. */
export function parseConfig(data: unknown, call: string): Record<string, string> {
  const o = obj(data, call, 'the VM configuration');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    else if (v !== null && v !== undefined) throw new MalformedReplyError(call, `expected configuration option ${k} to be a string or number`, v);
  }
  return out;
}

export interface PendingItem {
  key: string;
  value: string | undefined;
  pending: string | undefined;
  delete: boolean;
}

/** GET …/pending: options whose new value waits for the next power cycle. */
export function parsePending(data: unknown, call: string): PendingItem[] {
  return arr(data, call, 'the pending list').map((raw, i) => {
    const what = `pending[${i}]`;
    const r = obj(raw, call, what);
    return {
      key: str(r, 'key', call, what),
      value: optStr(r, 'value', call, what),
      pending: optStr(r, 'pending', call, what),
      delete: (optInt(r, 'delete', call, what) ?? 0) > 0,
    };
  });
}

export interface VmStatus {
  status: 'running' | 'stopped';
  tags: string[];
  lock: string | undefined;
  name: string;
  cpus: number;
  maxmem: number;
}

/** GET …/status/current. */
export function parseVmStatus(data: unknown, call: string): VmStatus {
  const o = obj(data, call, 'the VM status');
  const status = str(o, 'status', call, 'status');
  if (status !== 'running' && status !== 'stopped') throw new MalformedReplyError(call, 'expected status.status to be running or stopped', status);
  return {
    status,
    tags: splitTags(optStr(o, 'tags', call, 'status')),
    lock: optStr(o, 'lock', call, 'status') || undefined,
    name: optStr(o, 'name', call, 'status') ?? '',
    cpus: optInt(o, 'cpus', call, 'status') ?? 0,
    maxmem: optInt(o, 'maxmem', call, 'status') ?? 0,
  };
}

export interface PveSnapshot {
  name: string;
  description: string;
  snaptime: number | undefined;
  vmstate: boolean;
  parent: string | undefined;
}

/** GET …/snapshot: the VM's snapshots, without the pseudo-entry `current`. */
export function parseSnapshots(data: unknown, call: string): PveSnapshot[] {
  const out: PveSnapshot[] = [];
  arr(data, call, 'the snapshot list').forEach((raw, i) => {
    const what = `snapshot[${i}]`;
    const r = obj(raw, call, what);
    const name = str(r, 'name', call, what);
    if (name === 'current') return;
    out.push({
      name,
      description: optStr(r, 'description', call, what) ?? '',
      snaptime: optInt(r, 'snaptime', call, what),
      vmstate: bool(r, 'vmstate', call, what),
      parent: optStr(r, 'parent', call, what),
    });
  });
  return out;
}

export interface TaskStatus {
  running: boolean;
  /** "OK", "WARNINGS: n" or the error, once stopped. */
  exitstatus: string | undefined;
  type: string | undefined;
}

/** GET /nodes/{node}/tasks/{upid}/status. */
export function parseTaskStatus(data: unknown, call: string): TaskStatus {
  const o = obj(data, call, 'the task status');
  const status = str(o, 'status', call, 'task');
  if (status !== 'running' && status !== 'stopped') throw new MalformedReplyError(call, 'expected task.status to be running or stopped', status);
  return { running: status === 'running', exitstatus: optStr(o, 'exitstatus', call, 'task'), type: optStr(o, 'type', call, 'task') };
}

export interface TaskLine {
  n: number;
  t: string;
}

/** GET /nodes/{node}/tasks/{upid}/log. */
export function parseTaskLog(data: unknown, call: string): TaskLine[] {
  return arr(data, call, 'the task log').map((raw, i) => {
    const r = obj(raw, call, `line[${i}]`);
    return { n: int(r, 'n', call, `line[${i}]`), t: optStr(r, 't', call, `line[${i}]`) ?? '' };
  });
}

export interface TaskListItem {
  upid: string;
  type: string;
  status: string | undefined;
}

/** GET /nodes/{node}/tasks. */
export function parseTaskList(data: unknown, call: string): TaskListItem[] {
  return arr(data, call, 'the task list').map((raw, i) => {
    const r = obj(raw, call, `task[${i}]`);
    return { upid: str(r, 'upid', call, `task[${i}]`), type: str(r, 'type', call, `task[${i}]`), status: optStr(r, 'status', call, `task[${i}]`) };
  });
}

const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:\s/]+:[^:\s/]*:[^:\s/]+:$/;

/** A long call's answer: the task's UPID (or null when the call finished synchronously). */
export function parseUpid(data: unknown, call: string): string | undefined {
  if (data === null || data === undefined) return undefined;
  if (typeof data !== 'string' || !UPID_RE.test(data)) throw new MalformedReplyError(call, 'expected a task id (UPID:node:…)', data);
  return data;
}

/** The node a UPID runs on. */
export function upidNode(upid: string): string {
  return upid.split(':')[1]!;
}

/** GET /version. */
export function parseVersion(data: unknown, call = 'GET /version'): { version: string; release: string } {
  const o = obj(data, call, 'the version');
  return { version: str(o, 'version', call, 'version'), release: optStr(o, 'release', call, 'version') ?? '' };
}

/** GET …/agent/network-get-interfaces: the guest's addresses, without loopback and link-local ones. */
export function parseAgentAddresses(data: unknown, call: string): string[] {
  const o = obj(data, call, 'the guest agent answer');
  const ips: string[] = [];
  arr(o.result, call, 'result').forEach((raw, i) => {
    const nic = obj(raw, call, `result[${i}]`);
    const name = optStr(nic, 'name', call, `result[${i}]`) ?? '';
    if (name === 'lo') return;
    const addrs = nic['ip-addresses'] === undefined ? [] : arr(nic['ip-addresses'], call, `result[${i}].ip-addresses`);
    addrs.forEach((a, j) => {
      const addr = obj(a, call, `result[${i}].ip-addresses[${j}]`);
      const ip = str(addr, 'ip-address', call, `result[${i}].ip-addresses[${j}]`);
      if (/^127\.|^::1$|^fe80:/i.test(ip)) return;
      ips.push(ip);
    });
  });
  return ips;
}

export interface StorageVolume {
  volid: string;
  size: number;
}

/** GET /nodes/{node}/storage/{storage}/content. */
export function parseStorageContent(data: unknown, call: string): StorageVolume[] {
  return arr(data, call, 'the storage content').map((raw, i) => {
    const r = obj(raw, call, `volume[${i}]`);
    return { volid: str(r, 'volid', call, `volume[${i}]`), size: optInt(r, 'size', call, `volume[${i}]`) ?? 0 };
  });
}

export interface VncProxy {
  port: number;
  ticket: string;
  upid: string | undefined;
}

/** POST …/vncproxy. */
export function parseVncProxy(data: unknown, call: string): VncProxy {
  const o = obj(data, call, 'the VNC proxy');
  return { port: int(o, 'port', call, 'vncproxy'), ticket: str(o, 'ticket', call, 'vncproxy'), upid: optStr(o, 'upid', call, 'vncproxy') };
}
