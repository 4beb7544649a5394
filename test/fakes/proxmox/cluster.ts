/**
 * What the fake PVE cluster does: the qemu, storage, task and cluster calls, with PVE's rules where
 * they hurt (from qemu-server's PVE/API2/Qemu.pm and pve-common/pve-guest-common):
 * - a create or clone reserves its VMID at once (config `lock: create` / `lock: clone`) and writes
 *   the real config (with tags) only when its task ends; a failed create or clone removes the VM;
 * - long calls are tasks (UPID) whose work starts once the task holds the VM's lock file; a lock
 *   held too long fails the task with "can't lock file '/var/lock/qemu-server/lock-<id>.conf' - got timeout";
 * - a VM with a config lock refuses calls: "VM <id> is locked (<lock>)";
 * - on a running VM only hot-pluggable options change at once; the rest waits (pending) for a cold start.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PveError, fail } from './errors.ts';
import { isTrue, props } from './schema.ts';
import {
  digestOf, GIB, MIB, type ClusterState, type Effect, type FakeSnapshot, type FakeStorage, type FakeTask, type FakeVm, type FakeVolume, type LockClaim,
} from './state.ts';

export interface FakeOptions {
  /** Task durations (ms) by task type (qmcreate, qmclone, qmstart, …); `default` for the rest. */
  pace: Record<string, number> & { default: number };
  /** How long a task waits for a VM's lock file before failing (PVE: 10 s; short in tests). */
  lockTimeoutMs: number;
  /** A disk allocation on an LVM/NFS storage holds the storage's lock this long (0: no contention). */
  storageLockHoldMs: number;
  /** After a start, the guest agent answers after this long. */
  agentBootMs: number;
  /** Downloadable URLs and their sizes; any other URL answers 404 unless `anyUrlSize` is set. */
  remoteFiles: Record<string, { size: number; sha256?: string }>;
  anyUrlSize: number | undefined;
  /** PCI mapping ids (Datacenter → Resource Mappings) GPUs can name. */
  pciMappings: string[];
}

export const DEFAULT_FAKE_OPTIONS: FakeOptions = {
  pace: { default: 20 }, lockTimeoutMs: 1000, storageLockHoldMs: 0, agentBootMs: 0, remoteFiles: {}, anyUrlSize: 2 * GIB, pciMappings: [],
};

/** A failure planned for the next task(s) of a type. */
export interface TaskFault {
  type: string;
  times: number;
  exitstatus: string;
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
const now = () => Date.now();
const nowS = () => Math.floor(Date.now() / 1000);
const DISK_RE = /^(scsi|virtio|sata|ide)\d+$/;
const FAST_OPTIONS = /^(name|description|tags|onboot|protection|startup|ipconfig\d+|ciuser|cipassword|sshkeys|nameserver|searchdomain|cicustom|ciupgrade|citype|lock)$/;

function hotplugSet(v: string | undefined): Set<string> {
  if (v === undefined || v === '1') return new Set(['network', 'disk', 'usb']);
  if (v === '0') return new Set();
  return new Set(v.split(','));
}

function sizeBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(s);
  if (!m) return 0;
  return Math.round(Number(m[1]) * ({ '': 1, K: 1024, M: MIB, G: GIB, T: 1024 * GIB } as Record<string, number>)[m[2]!.toUpperCase()]!);
}

function sizeText(bytes: number): string {
  if (bytes % GIB === 0) return `${bytes / GIB}G`;
  if (bytes % MIB === 0) return `${bytes / MIB}M`;
  return `${Math.ceil(bytes / 1024)}K`;
}

export class FakeCluster {
  readonly taskFaults: TaskFault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Lock files: vmid → exclusive holder / shared holders. */
  private readonly held = new Map<number, { ex: string | undefined; sh: Set<string> }>();
  private readonly storageHeldUntil = new Map<string, number>();
  private readonly waitingSince = new Map<string, number>();
  private stopped = false;

  constructor(readonly state: ClusterState, readonly opts: FakeOptions, private readonly persist: () => void) {
    // A restarted fake: tasks that ran go on (their workers never stopped).
    for (const t of Object.values(state.tasks)) {
      if (t.status !== 'running') continue;
      if (t.startedMs) this.claim(t.locks, t.upid);
      this.schedule(t.upid, 0);
    }
  }

  /** Stops every timer (the fake goes away or restarts). */
  shutdown(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // --- lookups ---

  nodeOf(name: string): void {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n) throw fail(`no such cluster node '${name}'`);
    if (!n.online) throw new PveError(595, `Connection refused (node ${name} is offline)`);
  }

  vm(node: string, vmid: number): FakeVm {
    this.nodeOf(node);
    const vm = this.state.vms[vmid];
    if (!vm || vm.node !== node) throw fail(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
    return vm;
  }

  private storage(node: string, id: string): FakeStorage {
    const s = this.state.storages.find((x) => x.id === id);
    if (!s || !s.nodes.includes(node)) throw fail(`storage '${id}' does not exist`);
    return s;
  }

  private volume(node: string, volid: string): FakeVolume {
    const v = this.state.volumes[volid];
    if (!v || (v.node && v.node !== node)) throw fail(`volume '${volid}' does not exist`);
    return v;
  }

  private checkLock(vm: FakeVm): void {
    if (vm.config.lock) throw fail(`VM ${vm.vmid} is locked (${vm.config.lock})`);
  }

  /** The config with pending changes applied (what GET …/config shows by default). */
  effectiveConfig(vm: FakeVm): Record<string, string> {
    const c = { ...vm.config, ...vm.pending };
    for (const k of vm.pendingDelete) delete c[k];
    return c;
  }

  // --- lock files ---

  private lockFile(vmid: number): string {
    return `/var/lock/qemu-server/lock-${vmid}.conf`;
  }

  private canClaim(locks: LockClaim[], holder: string): boolean {
    return locks.every((l) => {
      const h = this.held.get(l.vmid);
      if (!h) return true;
      if (l.shared) return !h.ex || h.ex === holder;
      return (!h.ex || h.ex === holder) && [...h.sh].every((s) => s === holder);
    });
  }

  private claim(locks: LockClaim[], holder: string): void {
    for (const l of locks) {
      const h = this.held.get(l.vmid) ?? { ex: undefined, sh: new Set<string>() };
      if (l.shared) h.sh.add(holder);
      else h.ex = holder;
      this.held.set(l.vmid, h);
    }
  }

  private release(locks: LockClaim[], holder: string): void {
    for (const l of locks) {
      const h = this.held.get(l.vmid);
      if (!h) continue;
      h.sh.delete(holder);
      if (h.ex === holder) h.ex = undefined;
      if (!h.ex && h.sh.size === 0) this.held.delete(l.vmid);
    }
  }

  /** A synchronous call under the VM's lock file: waits for it like PVE's lock_config (here up to lockTimeoutMs). */
  async underLock<T>(vmid: number, fn: () => T): Promise<T> {
    const holder = `sync:${randomBytes(4).toString('hex')}`;
    const locks = [{ vmid, shared: false }];
    const started = now();
    while (!this.canClaim(locks, holder)) {
      if (now() - started > this.opts.lockTimeoutMs) throw fail(`can't lock file '${this.lockFile(vmid)}' - got timeout`);
      await new Promise((r) => setTimeout(r, 10));
    }
    this.claim(locks, holder);
    try {
      return fn();
    } finally {
      this.release(locks, holder);
    }
  }

  // --- tasks ---

  startTask(node: string, type: string, id: string, user: string, effect: Effect, o: { locks: LockClaim[]; durationMs?: number; progress?: boolean; log?: string[]; shortLock?: boolean }): string {
    const pid = this.state.nextPid++;
    const starttime = nowS();
    const upid = `UPID:${node}:${hex8(pid)}:${hex8(pid * 7)}:${hex8(starttime)}:${type}:${id}:${user}:`;
    const task: FakeTask = {
      upid, node, type, id, user, pid, pstart: pid * 7, starttime, status: 'running', startedMs: 0,
      durationMs: o.durationMs ?? this.opts.pace[type] ?? this.opts.pace.default, progress: o.progress ?? false, log: o.log ?? [], effect, locks: o.locks,
      ...(o.shortLock ? { shortLock: true } : {}),
    };
    this.state.tasks[upid] = task;
    this.persist();
    this.schedule(upid, 0);
    return upid;
  }

  private schedule(upid: string, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.drive(upid);
    }, ms);
    this.timers.add(t);
  }

  private drive(upid: string): void {
    const task = this.state.tasks[upid];
    if (!task || task.status !== 'running') return;
    if (!task.startedMs) {
      const since = this.waitingSince.get(upid) ?? now();
      this.waitingSince.set(upid, since);
      const storageBusy = this.storageBusyFor(task);
      if (!this.canClaim(task.locks, upid) || storageBusy) {
        if (now() - since > this.opts.lockTimeoutMs) {
          const what = storageBusy ? `/var/lock/pve-manager/pve-storage-${storageBusy}` : this.lockFile(task.locks.find((l) => !this.canClaim([l], upid))!.vmid);
          this.finish(task, `can't lock file '${what}' - got timeout`);
          return;
        }
        this.schedule(upid, 10);
        return;
      }
      this.waitingSince.delete(upid);
      this.claim(task.locks, upid);
      this.holdStorages(task);
      try {
        this.begin(task);
      } catch (err) {
        this.finish(task, (err as Error).message);
        return;
      }
      if (task.shortLock) {
        this.release(task.locks, upid);
        task.locks = [];
      }
      task.startedMs = now();
      this.persist();
    }
    const left = task.startedMs + task.durationMs - now();
    if (left > 0) {
      this.schedule(upid, left);
      return;
    }
    this.complete(task);
  }

  /** Storages a task allocates on (LVM/NFS hold a storage lock during allocation). */
  private allocStorages(task: FakeTask): string[] {
    if (this.opts.storageLockHoldMs <= 0) return [];
    const e = task.effect;
    if (e.kind === 'clone') {
      const src = this.state.vms[e.src];
      const target = e.params.storage;
      return Object.entries(src?.config ?? {}).filter(([k]) => DISK_RE.test(k)).map(([, v]) => target ?? (props(v, 'file').get('file') ?? '').split(':')[0]!).filter(Boolean);
    }
    if (e.kind === 'create') return Object.entries(e.params).filter(([k]) => DISK_RE.test(k)).map(([, v]) => (props(v, 'file').get('file') ?? '').split(':')[0]!).filter(Boolean);
    return [];
  }

  private storageBusyFor(task: FakeTask): string | undefined {
    return this.allocStorages(task).find((s) => (this.storageHeldUntil.get(s) ?? 0) > now());
  }

  private holdStorages(task: FakeTask): void {
    for (const s of this.allocStorages(task)) this.storageHeldUntil.set(s, now() + this.opts.storageLockHoldMs);
  }

  /** Work a task does when it starts (after its locks). */
  private begin(task: FakeTask): void {
    const e = task.effect;
    const vmOf = (vmid: number) => {
      const vm = this.state.vms[vmid];
      if (!vm) throw new Error(`Configuration file 'nodes/${task.node}/qemu-server/${vmid}.conf' does not exist`);
      return vm;
    };
    switch (e.kind) {
      case 'start': {
        const vm = vmOf(e.vmid);
        if (vm.config.lock) throw new Error(`VM ${vm.vmid} is locked (${vm.config.lock})`);
        break;
      }
      case 'snapshot':
      case 'rollback':
      case 'delsnapshot': {
        const vm = vmOf(e.vmid);
        if (vm.config.lock) throw new Error(`VM ${vm.vmid} is locked (${vm.config.lock})`);
        vm.config.lock = e.kind === 'snapshot' ? 'snapshot' : e.kind === 'rollback' ? 'rollback' : 'snapshot-delete';
        break;
      }
      case 'shutdown': {
        const vm = vmOf(e.vmid);
        // A guest that ignores ACPI keeps the task waiting for the whole timeout.
        if (vm.running && !vm.acpi) task.durationMs = e.timeoutS * 1000;
        break;
      }
      default:
        break;
    }
  }

  private complete(task: FakeTask): void {
    const fault = this.taskFaults.find((f) => f.type === task.type && f.times > 0);
    if (fault) {
      fault.times--;
      this.finish(task, fault.exitstatus);
      return;
    }
    try {
      this.apply(task.effect, task);
      this.finish(task, 'OK');
    } catch (err) {
      this.finish(task, err instanceof Error ? err.message : String(err));
    }
  }

  private finish(task: FakeTask, exitstatus: string): void {
    task.status = 'stopped';
    task.exitstatus = exitstatus;
    task.endtime = nowS();
    task.log.push(exitstatus === 'OK' ? 'TASK OK' : `TASK ERROR: ${exitstatus}`);
    this.release(task.locks, task.upid);
    this.waitingSince.delete(task.upid);
    if (exitstatus !== 'OK') this.undo(task.effect);
    this.persist();
  }

  /** What a failed task leaves behind (as PVE cleans up). */
  private undo(e: Effect): void {
    if (e.kind === 'create' || e.kind === 'clone') {
      const id = e.kind === 'create' ? e.vmid : e.newid;
      const vm = this.state.vms[id];
      if (vm && (vm.config.lock === 'create' || vm.config.lock === 'clone')) {
        this.freeVolumesOf(id);
        delete this.state.vms[id];
      }
    } else if (e.kind === 'snapshot' || e.kind === 'rollback' || e.kind === 'delsnapshot') {
      const vm = this.state.vms[e.vmid];
      if (vm && ['snapshot', 'rollback', 'snapshot-delete'].includes(vm.config.lock ?? '')) delete vm.config.lock;
    }
  }

  taskLog(task: FakeTask): string[] {
    const lines = [...task.log];
    if (task.progress && task.startedMs) {
      const done = task.status === 'stopped' ? 1 : Math.min(1, (now() - task.startedMs) / Math.max(1, task.durationMs));
      const steps = Math.floor(done * 4);
      const total = 4 * GIB;
      const progress: string[] = [];
      for (let i = 1; i <= steps; i++) progress.push(`transferred ${(i * total / 4 / GIB).toFixed(1)} GiB of ${(total / GIB).toFixed(1)} GiB (${(i * 25).toFixed(2)}%)`);
      // Progress lines go before the final TASK line.
      if (task.status === 'stopped') lines.splice(lines.length - 1, 0, ...progress);
      else lines.push(...progress);
    }
    return lines;
  }

  // --- volumes ---

  private newVolume(node: string, storageId: string, vmid: number, size: number, kind: 'disk' | 'cloudinit' = 'disk', base = false): FakeVolume {
    const s = this.storage(node, storageId);
    if (!s.content.includes('images')) throw fail(`storage '${storageId}' does not support content-type 'images'`);
    let name: string;
    if (kind === 'cloudinit') name = `vm-${vmid}-cloudinit${s.type === 'lvmthin' ? '' : '.qcow2'}`;
    else {
      let n = 0;
      const prefix = `${base ? 'base' : 'vm'}-${vmid}-disk-`;
      const taken = new Set(Object.values(this.state.volumes).filter((v) => v.storage === storageId).map((v) => v.volid));
      const make = (i: number) => (s.type === 'lvmthin' ? `${storageId}:${prefix}${i}` : `${storageId}:${vmid}/${prefix}${i}.qcow2`);
      while (taken.has(make(n))) n++;
      name = make(n).slice(storageId.length + 1);
    }
    const vol: FakeVolume = { volid: `${storageId}:${name}`, storage: storageId, node: s.shared ? '' : node, size, format: s.type === 'lvmthin' ? 'raw' : 'qcow2', content: 'images', vmid, ctime: nowS() };
    this.state.volumes[vol.volid] = vol;
    return vol;
  }

  private freeVolumesOf(vmid: number): void {
    for (const v of Object.values(this.state.volumes)) if (v.vmid === vmid && v.content === 'images') delete this.state.volumes[v.volid];
  }

  /** A drive option as PVE stores it, allocating what `storage:size`, `storage:0,import-from=…` or `storage:cloudinit` asks for. */
  private allocateDrive(vm: { vmid: number; node: string }, key: string, value: string): string {
    const p = props(value, 'file');
    const file = p.get('file') ?? p.get('volume') ?? '';
    p.delete('volume');
    if (file === 'none' || file === 'cdrom' || p.get('media') === 'cdrom' && !/:cloudinit$/.test(file)) {
      if (file !== 'none' && file !== 'cdrom') this.volume(vm.node, file);
      return value;
    }
    const alloc = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(file);
    const ci = /^([a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit$/i.exec(file);
    if (ci) {
      const vol = this.newVolume(vm.node, ci[1]!, vm.vmid, 4 * MIB, 'cloudinit');
      return `${vol.volid},media=cdrom`;
    }
    if (!alloc) {
      const vol = this.volume(vm.node, file);
      if (!p.has('size')) p.set('size', sizeText(vol.size));
      return [...p].map(([k, v], i) => (i === 0 && k === 'file' ? v : `${k}=${v}`)).join(',');
    }
    let size = Number(alloc[2]) * GIB;
    const from = p.get('import-from');
    if (from) {
      const src = this.state.volumes[from];
      if (!src || (src.node && src.node !== vm.node)) throw new Error(`volume '${from}' does not exist`);
      if (src.content === 'iso') throw new Error(`'${from}' has content type 'iso', cannot import a disk from it`);
      size = Math.max(size, src.size);
      p.delete('import-from');
    }
    if (key === 'efidisk0' || key === 'tpmstate0') size = 4 * MIB;
    if (size <= 0) throw new Error(`invalid size for ${key}`);
    const vol = this.newVolume(vm.node, alloc[1]!, vm.vmid, size);
    p.delete('file');
    p.set('size', sizeText(size));
    return [vol.volid, ...[...p].map(([k, v]) => `${k}=${v}`)].join(',');
  }

  private isDrive(key: string): boolean {
    return DISK_RE.test(key) || key === 'efidisk0' || key === 'tpmstate0';
  }

  // --- effects ---

  private apply(e: Effect, task: FakeTask): void {
    switch (e.kind) {
      case 'create': return this.applyCreate(e.vmid, e.params);
      case 'clone': return this.applyClone(e.src, e.newid, e.node, e.params);
      case 'start': {
        const vm = this.state.vms[e.vmid]!;
        if (!vm) throw new Error(`Configuration file 'nodes/${task.node}/qemu-server/${e.vmid}.conf' does not exist`);
        if (vm.running) throw new Error(`VM ${e.vmid} already running`);
        if (vm.config.template === '1') throw new Error('you can\'t start a vm if it\'s a template');
        this.applyPending(vm);
        vm.running = true;
        vm.startedAt = now();
        return;
      }
      case 'stop': {
        const vm = this.state.vms[e.vmid];
        if (vm) vm.running = false;
        return;
      }
      case 'shutdown': {
        const vm = this.state.vms[e.vmid];
        if (!vm || !vm.running) return;
        if (vm.acpi || e.forceStop) {
          vm.running = false;
          return;
        }
        throw new Error('VM quit/powerdown failed - got timeout');
      }
      case 'reboot': {
        const vm = this.state.vms[e.vmid];
        if (!vm?.running) throw new Error(`VM ${e.vmid} not running`);
        this.applyPending(vm);
        vm.startedAt = now();
        return;
      }
      case 'config': {
        const vm = this.state.vms[e.vmid];
        if (!vm) throw new Error(`Configuration file 'nodes/${task.node}/qemu-server/${e.vmid}.conf' does not exist`);
        this.applyConfig(vm, e.set, e.delete);
        return;
      }
      case 'resize': return this.applyResize(e.vmid, e.disk, e.size);
      case 'snapshot': {
        const vm = this.state.vms[e.vmid]!;
        const parent = Object.values(vm.snapshots).sort((a, b) => b.snaptime - a.snaptime)[0]?.name;
        const { lock: _lock, ...config } = vm.config;
        vm.snapshots[e.name] = { name: e.name, description: e.description, snaptime: nowS(), vmstate: e.vmstate && vm.running, config, ...(parent ? { parent } : {}) };
        delete vm.config.lock;
        return;
      }
      case 'rollback': {
        const vm = this.state.vms[e.vmid]!;
        const snap = vm.snapshots[e.name];
        if (!snap) throw new Error(`snapshot '${e.name}' does not exist`);
        vm.config = { ...snap.config };
        vm.pending = {};
        vm.pendingDelete = [];
        vm.running = snap.vmstate || e.start;
        if (vm.running) vm.startedAt = now();
        return;
      }
      case 'delsnapshot': {
        const vm = this.state.vms[e.vmid]!;
        delete vm.snapshots[e.name];
        delete vm.config.lock;
        return;
      }
      case 'destroy': {
        const vm = this.state.vms[e.vmid];
        if (!vm) return;
        if (vm.running) throw new Error(`VM ${e.vmid} is running - destroy failed`);
        this.freeVolumesOf(e.vmid);
        delete this.state.vms[e.vmid];
        return;
      }
      case 'template': {
        const vm = this.state.vms[e.vmid]!;
        vm.config.template = '1';
        for (const [k, v] of Object.entries(vm.config)) {
          if (!DISK_RE.test(k)) continue;
          const file = props(v, 'file').get('file') ?? '';
          const vol = this.state.volumes[file];
          if (!vol) continue;
          const baseId = vol.volid.replace(/vm-(\d+)-disk/, 'base-$1-disk');
          delete this.state.volumes[vol.volid];
          this.state.volumes[baseId] = { ...vol, volid: baseId };
          vm.config[k] = v.replace(file, baseId);
        }
        return;
      }
      case 'download': {
        const remote = this.opts.remoteFiles[e.url] ?? (this.opts.anyUrlSize !== undefined ? { size: this.opts.anyUrlSize } : undefined);
        if (!remote) throw new Error(`download failed: 404 Not Found`);
        if (e.checksum && remote.sha256 && e.algorithm === 'sha256' && e.checksum.toLowerCase() !== remote.sha256) {
          throw new Error(`checksum mismatch: got '${remote.sha256}' expected '${e.checksum.toLowerCase()}'`);
        }
        this.addFile(e.node, e.storage, e.content, e.filename, remote.size);
        return;
      }
      case 'upload':
        this.addFile(e.node, e.storage, e.content, e.filename, e.size);
        return;
      case 'vncproxy':
        return;
    }
  }

  private addFile(node: string, storageId: string, content: 'iso' | 'import', filename: string, size: number): void {
    const s = this.storage(node, storageId);
    const volid = `${storageId}:${content}/${filename}`;
    this.state.volumes[volid] = { volid, storage: storageId, node: s.shared ? '' : node, size, format: filename.split('.').pop() ?? 'raw', content, ctime: nowS() };
  }

  private applyCreate(vmid: number, params: Record<string, string>): void {
    const vm = this.state.vms[vmid];
    if (!vm) throw new Error(`unable to create VM ${vmid} - config file vanished`);
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (['vmid', 'node', 'start', 'pool', 'storage', 'force', 'unique'].includes(k)) continue;
      config[k] = this.isDrive(k) ? this.allocateDrive(vm, k, v) : v;
    }
    if (config.tags) config.tags = [...new Set(config.tags.split(/[;, ]+/).filter(Boolean))].join(';');
    config.smbios1 = `uuid=${randomUUID()}`;
    config.vmgenid = randomUUID();
    config.meta = `creation-qemu=9.0.2,ctime=${nowS()}`;
    for (const [k, v] of Object.entries(config)) {
      if (/^net\d+$/.test(k)) config[k] = this.withMac(v);
    }
    vm.config = config;
  }

  /** A NIC without a MAC gets a random one (PVE: BC:24:11 prefix). */
  private withMac(v: string): string {
    const p = props(v, 'model');
    const model = p.get('model');
    if (!model) return v;
    const mac = `BC:24:11:${randomBytes(3).toString('hex').toUpperCase().match(/../g)!.join(':')}`;
    const rest = [...p].filter(([k]) => k !== 'model').map(([k, val]) => `${k}=${val}`);
    return [`${model}=${mac}`, ...rest].join(',');
  }

  private applyClone(srcId: number, newid: number, node: string, params: Record<string, string>): void {
    const src = this.state.vms[srcId];
    const vm = this.state.vms[newid];
    if (!src) throw new Error(`clone failed: Configuration file 'qemu-server/${srcId}.conf' does not exist`);
    if (!vm) throw new Error(`clone failed: config file of VM ${newid} vanished`);
    const full = params.full !== undefined ? isTrue(params.full) : src.config.template !== '1';
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(src.config)) {
      if (['template', 'lock', 'snapshots', 'parent', 'vmstate'].includes(k) || /^unused\d+$/.test(k)) continue;
      if (/^net\d+$/.test(k)) {
        config[k] = this.withMac(v.replace(/^([a-z0-9-]+)=[0-9A-Fa-f:]{17}/, '$1'));
      } else if (this.isDrive(k) && !/media=cdrom/.test(v)) {
        const p = props(v, 'file');
        const file = p.get('file') ?? '';
        const srcVol = this.state.volumes[file];
        if (!srcVol) {
          config[k] = v;
          continue;
        }
        const storageId = full ? (params.storage ?? srcVol.storage) : srcVol.storage;
        const vol = this.newVolume(node, storageId, newid, srcVol.size);
        if (!full) {
          delete this.state.volumes[vol.volid];
          vol.volid = vol.volid.replace(`${storageId}:`, `${storageId}:${file.slice(storageId.length + 1)}/`);
          this.state.volumes[vol.volid] = vol;
        }
        p.set('file', vol.volid);
        config[k] = [...p].map(([kk, vv], i) => (i === 0 && kk === 'file' ? vv : `${kk}=${vv}`)).join(',');
      } else if (this.isDrive(k) && /cloudinit/.test(v)) {
        const storageId = (props(v, 'file').get('file') ?? '').split(':')[0]!;
        const vol = this.newVolume(node, full ? (params.storage ?? storageId) : storageId, newid, 4 * MIB, 'cloudinit');
        config[k] = `${vol.volid},media=cdrom`;
      } else {
        config[k] = v;
      }
    }
    config.name = params.name ?? `Copy-of-VM-${src.config.name ?? srcId}`;
    if (params.description) config.description = params.description;
    vm.config = config;
    vm.node = node;
  }

  private applyResize(vmid: number, disk: string, size: string): void {
    const vm = this.state.vms[vmid]!;
    const value = vm.config[disk];
    if (!value) throw new Error(`disk '${disk}' does not exist`);
    const p = props(value, 'file');
    const vol = this.state.volumes[p.get('file') ?? ''];
    const cur = vol?.size ?? sizeBytes(p.get('size') ?? '0');
    const next = size.startsWith('+') ? cur + sizeBytes(size.slice(1)) : sizeBytes(size);
    if (next < cur) throw new Error('shrinking disks is not supported');
    if (vol) vol.size = next;
    p.set('size', sizeText(next));
    vm.config[disk] = [...p].map(([k, v], i) => (i === 0 && k === 'file' ? v : `${k}=${v}`)).join(',');
  }

  private hotpluggable(vm: FakeVm, key: string, value: string | undefined): boolean {
    if (!vm.running || FAST_OPTIONS.test(key)) return true;
    const hp = hotplugSet(vm.config.hotplug);
    if (/^net\d+$/.test(key)) return hp.has('network');
    if (DISK_RE.test(key)) return /media=cdrom/.test(value ?? vm.config[key] ?? '') || hp.has('disk');
    if (key === 'vcpus') return hp.has('cpu');
    if (key === 'memory') return hp.has('memory') && vm.config.numa === '1';
    return false;
  }

  /** Options set/deleted on a VM: at once when stopped or hot-pluggable, else pending. */
  applyConfig(vm: FakeVm, set: Record<string, string>, del: string[]): void {
    for (const key of del) {
      if (this.hotpluggable(vm, key, undefined)) {
        const old = vm.config[key];
        delete vm.config[key];
        delete vm.pending[key];
        if (old && DISK_RE.test(key) && !/media=cdrom/.test(old)) {
          let n = 0;
          while (vm.config[`unused${n}`]) n++;
          vm.config[`unused${n}`] = props(old, 'file').get('file') ?? old;
        }
      } else if (!vm.pendingDelete.includes(key)) vm.pendingDelete.push(key);
    }
    for (const [key, raw] of Object.entries(set)) {
      if (key === 'hostpci0' || /^hostpci\d+$/.test(key)) {
        const mapping = props(raw, 'host').get('mapping');
        if (mapping && !this.opts.pciMappings.includes(mapping)) throw fail(`PCI mapping '${mapping}' does not exist`);
      }
      const value = this.isDrive(key) && raw !== vm.config[key] ? this.allocateDrive(vm, key, raw) : key === 'tags' ? [...new Set(raw.split(/[;, ]+/).filter(Boolean))].join(';') : /^net\d+$/.test(key) && !/=[0-9A-Fa-f:]{17}/.test(raw) ? this.withMac(raw) : raw;
      if (this.hotpluggable(vm, key, value)) {
        vm.config[key] = value;
        delete vm.pending[key];
      } else {
        vm.pending[key] = value;
      }
      vm.pendingDelete = vm.pendingDelete.filter((k) => k !== key);
    }
  }

  private applyPending(vm: FakeVm): void {
    vm.config = this.effectiveConfig(vm);
    vm.pending = {};
    vm.pendingDelete = [];
  }

  // --- API calls (parameters already verified against the schema) ---

  createVm(node: string, user: string, params: Record<string, string>): string {
    this.nodeOf(node);
    const vmid = Number(params.vmid);
    const existing = this.state.vms[vmid];
    if (existing) throw fail(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${existing.node}'`);
    for (const [k, v] of Object.entries(params)) {
      if (!this.isDrive(k)) continue;
      const file = props(v, 'file').get('file') ?? '';
      const sid = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(\.\d+)?|cloudinit)$/i.exec(file)?.[1];
      if (sid) this.storage(node, sid);
    }
    for (const [k, v] of Object.entries(params)) {
      if (!/^hostpci\d+$/.test(k)) continue;
      const mapping = props(v, 'host').get('mapping');
      if (mapping && !this.opts.pciMappings.includes(mapping)) throw fail(`PCI mapping '${mapping}' does not exist`);
    }
    this.state.vms[vmid] = { vmid, node, config: { lock: 'create' }, pending: {}, pendingDelete: [], running: false, startedAt: 0, snapshots: {}, acpi: true };
    return this.startTask(node, 'qmcreate', String(vmid), user, { kind: 'create', vmid, params }, { locks: [{ vmid, shared: false }] });
  }

  cloneVm(node: string, user: string, params: Record<string, string>): string {
    const src = this.vm(node, Number(params.vmid));
    this.checkLock(src);
    const newid = Number(params.newid);
    if (this.state.vms[newid]) throw fail(`unable to create VM ${newid}: config file already exists`);
    const isTemplate = src.config.template === '1';
    const full = params.full !== undefined ? isTrue(params.full) : !isTemplate;
    if (!full && params.storage) throw fail('parameter \'storage\' not allowed for linked clones');
    if (!full && params.format) throw fail('parameter \'format\' not allowed for linked clones');
    const disks = Object.entries(src.config).filter(([k, v]) => DISK_RE.test(k) && !/media=cdrom/.test(v));
    if (!full && !isTemplate && disks.length) {
      const [k, v] = disks[0]!;
      throw fail(`Linked clone feature is not supported for '${props(v, 'file').get('file')}' (${k})`);
    }
    if (params.storage) {
      const s = this.storage(node, params.storage);
      if (!s.content.includes('images')) throw new PveError(400, 'Parameter verification failed.', { storage: `storage '${params.storage}' does not support vm images` });
    }
    const target = params.target && params.target !== node ? params.target : node;
    if (target !== node) {
      this.nodeOf(target);
      const local = disks.some(([, v]) => {
        const vol = this.state.volumes[props(v, 'file').get('file') ?? ''];
        return vol ? !this.state.storages.find((s) => s.id === vol.storage)?.shared : false;
      });
      if (local || (params.storage && !this.state.storages.find((s) => s.id === params.storage)?.shared)) {
        throw fail(`can't clone VM to node '${target}' (VM uses local storage)`);
      }
    }
    this.state.vms[newid] = { vmid: newid, node: target, config: { lock: 'clone' }, pending: {}, pendingDelete: [], running: false, startedAt: 0, snapshots: {}, acpi: true };
    return this.startTask(node, 'qmclone', String(src.vmid), user, { kind: 'clone', src: src.vmid, newid, node: target, params },
      { locks: [{ vmid: src.vmid, shared: !src.running }, { vmid: newid, shared: false }], progress: true, log: [`create ${full ? 'full' : 'linked'} clone of drive(s)`] });
  }

  configGet(node: string, vmid: number, current: boolean, snapshot?: string): Record<string, string | number> {
    const vm = this.vm(node, vmid);
    if (snapshot) {
      const s = vm.snapshots[snapshot];
      if (!s) throw fail(`snapshot '${snapshot}' does not exist`);
      return { ...s.config, digest: digestOf(vm.config) };
    }
    const c = current ? vm.config : this.effectiveConfig(vm);
    return { ...c, digest: digestOf(vm.config) };
  }

  private configChanges(vm: FakeVm, params: Record<string, string>): { set: Record<string, string>; del: string[] } {
    if (params.digest && params.digest !== digestOf(vm.config)) throw fail('detected modified configuration - file changed by other user? Try again.');
    const set: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (['node', 'vmid', 'delete', 'digest', 'revert', 'skiplock', 'force', 'background_delay'].includes(k)) continue;
      set[k] = v;
    }
    const del = (params.delete ?? '').split(/[,;\s]+/).filter(Boolean);
    for (const k of del) if (k in set) throw new PveError(400, 'Parameter verification failed.', { [k]: 'cannot set and delete the same option' });
    return { set, del };
  }

  /** PUT …/config: synchronous, under the VM's lock file. */
  async configPut(node: string, vmid: number, params: Record<string, string>): Promise<null> {
    const vm = this.vm(node, vmid);
    return this.underLock(vmid, () => {
      if (!isTrue(params.skiplock)) this.checkLock(vm);
      const { set, del } = this.configChanges(vm, params);
      try {
        this.applyConfig(vm, set, del);
      } catch (err) {
        if (err instanceof PveError) throw err;
        throw fail((err as Error).message);
      }
      this.persist();
      return null;
    });
  }

  /** POST …/config: a task (qmconfig). */
  configPost(node: string, vmid: number, user: string, params: Record<string, string>): string {
    const vm = this.vm(node, vmid);
    if (!isTrue(params.skiplock)) this.checkLock(vm);
    const { set, del } = this.configChanges(vm, params);
    return this.startTask(node, 'qmconfig', String(vmid), user, { kind: 'config', vmid, set, delete: del }, { locks: [{ vmid, shared: false }] });
  }

  pending(node: string, vmid: number): Array<Record<string, string | number>> {
    const vm = this.vm(node, vmid);
    const keys = new Set([...Object.keys(vm.config), ...Object.keys(vm.pending), ...vm.pendingDelete]);
    return [...keys].filter((k) => k !== 'lock').sort().map((key) => ({
      key,
      ...(vm.config[key] !== undefined ? { value: vm.config[key]! } : {}),
      ...(vm.pending[key] !== undefined ? { pending: vm.pending[key]! } : {}),
      ...(vm.pendingDelete.includes(key) ? { delete: 1 } : {}),
    }));
  }

  status(node: string, vmid: number): Record<string, unknown> {
    const vm = this.vm(node, vmid);
    const c = vm.config;
    return {
      vmid, status: vm.running ? 'running' : 'stopped', qmpstatus: vm.running ? 'running' : 'stopped', name: c.name ?? `VM ${vmid}`,
      cpus: this.cpusOf(c), maxmem: this.memOf(c), maxdisk: this.bootDiskSize(c), uptime: vm.running ? Math.floor((now() - vm.startedAt) / 1000) : 0,
      agent: /^1|enabled=1/.test(c.agent ?? '') ? 1 : 0, ha: { managed: 0 },
      ...(c.tags ? { tags: c.tags } : {}), ...(c.lock ? { lock: c.lock } : {}), ...(c.template === '1' ? { template: 1 } : {}),
      ...(vm.running ? { pid: 10000 + vmid % 50000, 'running-qemu': '9.0.2' } : {}),
    };
  }

  private cpusOf(c: Record<string, string>): number {
    return Number(c.vcpus ?? 0) || Number(c.cores ?? 1) * Number(c.sockets ?? 1);
  }

  private memOf(c: Record<string, string>): number {
    return Number(props(c.memory ?? '512', 'current').get('current') ?? 512) * MIB;
  }

  private bootDiskSize(c: Record<string, string>): number {
    const v = c.scsi0 ?? c.virtio0 ?? c.sata0 ?? '';
    return sizeBytes(props(v, 'file').get('size') ?? '0');
  }

  power(node: string, vmid: number, user: string, op: 'start' | 'stop' | 'shutdown' | 'reboot', params: Record<string, string>): string {
    const vm = this.vm(node, vmid);
    const type = `qm${op}`;
    if (op === 'start') return this.startTask(node, type, String(vmid), user, { kind: 'start', vmid }, { locks: [{ vmid, shared: false }] });
    if (op === 'stop') return this.startTask(node, type, String(vmid), user, { kind: 'stop', vmid }, { locks: [{ vmid, shared: false }] });
    if (op === 'reboot') {
      if (!isTrue(params.skiplock)) this.checkLock(vm);
      return this.startTask(node, type, String(vmid), user, { kind: 'reboot', vmid }, { locks: [{ vmid, shared: false }] });
    }
    return this.startTask(node, type, String(vmid), user, { kind: 'shutdown', vmid, forceStop: isTrue(params.forceStop), timeoutS: Number(params.timeout ?? '180') },
      { locks: [{ vmid, shared: false }] });
  }

  resize(node: string, vmid: number, user: string, params: Record<string, string>): string {
    const vm = this.vm(node, vmid);
    if (!isTrue(params.skiplock)) this.checkLock(vm);
    if (params.digest && params.digest !== digestOf(vm.config)) throw fail('detected modified configuration - file changed by other user? Try again.');
    if (!vm.config[params.disk!]) throw fail(`disk '${params.disk}' does not exist`);
    const cur = sizeBytes(props(vm.config[params.disk!]!, 'file').get('size') ?? '0');
    const next = params.size!.startsWith('+') ? cur + sizeBytes(params.size!.slice(1)) : sizeBytes(params.size!);
    if (next < cur) throw fail('shrinking disks is not supported');
    return this.startTask(node, 'resize', String(vmid), user, { kind: 'resize', vmid, disk: params.disk!, size: params.size! }, { locks: [{ vmid, shared: false }] });
  }

  snapshots(node: string, vmid: number): Array<Record<string, unknown>> {
    const vm = this.vm(node, vmid);
    const list: Array<Record<string, unknown>> = Object.values(vm.snapshots).map((s: FakeSnapshot) => ({
      name: s.name, description: s.description, snaptime: s.snaptime, ...(s.vmstate ? { vmstate: 1 } : {}), ...(s.parent ? { parent: s.parent } : {}),
    }));
    const newest = Object.values(vm.snapshots).sort((a, b) => b.snaptime - a.snaptime)[0];
    list.push({ name: 'current', description: 'You are here!', running: vm.running ? 1 : 0, ...(newest ? { parent: newest.name } : {}) });
    return list;
  }

  snapshotCreate(node: string, vmid: number, user: string, params: Record<string, string>): string {
    const vm = this.vm(node, vmid);
    this.checkLock(vm);
    const name = params.snapname!;
    if (name === 'current') throw new PveError(400, 'Parameter verification failed.', { snapname: 'invalid snapshot name \'current\'' });
    if (vm.snapshots[name]) throw fail(`snapshot name '${name}' already used`);
    return this.startTask(node, 'qmsnapshot', String(vmid), user,
      { kind: 'snapshot', vmid, name, description: params.description ?? '', vmstate: isTrue(params.vmstate) }, { locks: [{ vmid, shared: false }], shortLock: true });
  }

  snapshotRollback(node: string, vmid: number, user: string, name: string, params: Record<string, string>): string {
    const vm = this.vm(node, vmid);
    this.checkLock(vm);
    if (!vm.snapshots[name]) throw fail(`snapshot '${name}' does not exist`);
    return this.startTask(node, 'qmrollback', String(vmid), user, { kind: 'rollback', vmid, name, start: isTrue(params.start) }, { locks: [{ vmid, shared: false }], shortLock: true });
  }

  snapshotDelete(node: string, vmid: number, user: string, name: string): string {
    const vm = this.vm(node, vmid);
    this.checkLock(vm);
    if (!vm.snapshots[name]) throw fail(`snapshot '${name}' does not exist`);
    return this.startTask(node, 'qmdelsnapshot', String(vmid), user, { kind: 'delsnapshot', vmid, name }, { locks: [{ vmid, shared: false }], shortLock: true });
  }

  destroy(node: string, vmid: number, user: string, params: Record<string, string>): string {
    const vm = this.vm(node, vmid);
    if (!isTrue(params.skiplock)) this.checkLock(vm);
    if (vm.running) throw fail(`VM ${vmid} is running - destroy failed`);
    return this.startTask(node, 'qmdestroy', String(vmid), user, { kind: 'destroy', vmid }, { locks: [{ vmid, shared: false }] });
  }

  template(node: string, vmid: number, user: string): string {
    const vm = this.vm(node, vmid);
    this.checkLock(vm);
    if (vm.running) throw fail('you can\'t convert a running VM to a template');
    if (vm.config.template === '1') throw fail('you can\'t convert a template to a template');
    return this.startTask(node, 'qmtemplate', String(vmid), user, { kind: 'template', vmid }, { locks: [{ vmid, shared: false }] });
  }

  agentInterfaces(node: string, vmid: number): { result: unknown[] } {
    const vm = this.vm(node, vmid);
    if (!vm.running) throw fail(`VM ${vmid} is not running`);
    if (!/^1|enabled=1/.test(vm.config.agent ?? '')) throw fail('No QEMU guest agent configured');
    if (now() - vm.startedAt < this.opts.agentBootMs) throw fail('QEMU guest agent is not running');
    const result: unknown[] = [{ name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 }, { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 }] }];
    Object.keys(vm.config).filter((k) => /^net\d+$/.test(k)).sort().forEach((k, i) => {
      const n = k.slice(3);
      const p = props(vm.config[k]!, 'model');
      const mac = [...p.values()].find((v) => /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/i.test(v)) ?? '00:00:00:00:00:00';
      const ip = props(vm.config[`ipconfig${n}`] ?? 'ip=dhcp', 'ip').get('ip') ?? 'dhcp';
      const h = createHash('sha256').update(mac).digest();
      const addr = ip !== 'dhcp' ? ip.split('/')[0]! : `10.${h[0]! % 250}.${h[1]! % 250}.${(h[2]! % 250) + 2}`;
      result.push({
        name: `eth${i}`, 'hardware-address': mac.toLowerCase(),
        'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': addr, prefix: 24 }, { 'ip-address-type': 'ipv6', 'ip-address': `fe80::${h[3]!.toString(16)}`, prefix: 64 }],
      });
    });
    return { result };
  }

  vncproxy(node: string, vmid: number, user: string): Record<string, unknown> {
    this.vm(node, vmid);
    const upid = this.startTask(node, 'vncproxy', String(vmid), user, { kind: 'vncproxy', vmid }, { locks: [] });
    return { port: 5900 + (vmid % 100), ticket: `PVEVNC:${randomBytes(6).toString('hex').toUpperCase()}::${randomBytes(24).toString('base64')}`, cert: '-----BEGIN CERTIFICATE-----\n…', upid, user };
  }

  // --- storage ---

  nodeStorages(node: string, content?: string): Array<Record<string, unknown>> {
    this.nodeOf(node);
    return this.state.storages.filter((s) => s.nodes.includes(node) && (!content || s.content.includes(content))).map((s) => {
      const used = this.usedOn(s, node);
      return { storage: s.id, type: s.type, content: s.content.join(','), shared: s.shared ? 1 : 0, active: 1, enabled: 1, total: s.total, used, avail: s.total - used, used_fraction: used / s.total };
    });
  }

  private usedOn(s: FakeStorage, node: string): number {
    return Object.values(this.state.volumes).filter((v) => v.storage === s.id && (s.shared || v.node === node)).reduce((n, v) => n + v.size, 0);
  }

  storageContent(node: string, storageId: string, content?: string, vmid?: number): Array<Record<string, unknown>> {
    const s = this.storage(node, storageId);
    return Object.values(this.state.volumes)
      .filter((v) => v.storage === s.id && (s.shared || v.node === node) && (!content || v.content === content) && (vmid === undefined || v.vmid === vmid))
      .map((v) => ({ volid: v.volid, content: v.content, format: v.format, size: v.size, ctime: v.ctime, ...(v.vmid ? { vmid: v.vmid } : {}) }));
  }

  private fileTarget(node: string, storageId: string, content: string, filename: string): { s: FakeStorage; path: string; volid: string; normalized: string } {
    const s = this.storage(node, storageId);
    if (!s.content.includes(content)) throw fail(`storage '${storageId}' does not support content-type '${content}'`);
    // PVE normalizes file names: anything but [-\w.] becomes '_'.
    const normalized = filename.replace(/[^-\w.]/g, '_');
    if (content === 'iso' && !/\.(iso|img)$/i.test(normalized)) throw new PveError(400, 'Parameter verification failed.', { filename: 'wrong file extension' });
    if (content === 'import' && !/\.(qcow2|raw|vmdk|ova|img)$/i.test(normalized)) throw new PveError(400, 'Parameter verification failed.', { filename: 'wrong file extension' });
    const volid = `${storageId}:${content}/${normalized}`;
    const dir = content === 'iso' ? 'template/iso' : 'import';
    return { s, path: `${s.path || `/mnt/pve/${s.id}`}/${dir}/${normalized}`, volid, normalized };
  }

  downloadUrl(node: string, user: string, params: Record<string, string>): string {
    const content = params.content as 'iso' | 'import';
    const t = this.fileTarget(node, params.storage!, content, params.filename!);
    if (this.state.volumes[t.volid]) throw fail(`refusing to override existing file '${t.path}'`);
    return this.startTask(node, 'download', params.storage!, user,
      { kind: 'download', node, storage: params.storage!, content, filename: t.normalized, url: params.url!, ...(params.checksum ? { checksum: params.checksum, algorithm: params['checksum-algorithm'] ?? 'sha256' } : {}) },
      { locks: [], progress: true, log: [`downloading ${params.url} to ${t.path}`] });
  }

  upload(node: string, user: string, params: Record<string, string>, size: number): string {
    const content = params.content as 'iso' | 'import';
    const t = this.fileTarget(node, params.storage!, content, params.filename!);
    return this.startTask(node, 'imgcopy', '', user, { kind: 'upload', node, storage: params.storage!, content, filename: t.normalized, size }, { locks: [] });
  }

  // --- cluster ---

  resources(type?: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    if (!type || type === 'vm') {
      for (const vm of Object.values(this.state.vms)) {
        const c = vm.config;
        out.push({
          id: `qemu/${vm.vmid}`, type: 'qemu', vmid: vm.vmid, node: vm.node, status: vm.running ? 'running' : 'stopped',
          maxcpu: this.cpusOf(c), maxmem: this.memOf(c), maxdisk: this.bootDiskSize(c), mem: vm.running ? this.memOf(c) / 2 : 0, cpu: vm.running ? 0.02 : 0,
          disk: 0, diskread: 0, diskwrite: 0, netin: 0, netout: 0, uptime: vm.running ? Math.floor((now() - vm.startedAt) / 1000) : 0, template: c.template === '1' ? 1 : 0,
          ...(c.name ? { name: c.name } : {}), ...(c.tags ? { tags: c.tags } : {}), ...(c.lock ? { lock: c.lock } : {}),
        });
      }
    }
    if (!type || type === 'node') {
      for (const n of this.state.nodes) {
        const used = Object.values(this.state.vms).filter((v) => v.node === n.name && v.running).reduce((s, v) => s + this.memOf(v.config), n.baseMem);
        out.push({ id: `node/${n.name}`, type: 'node', node: n.name, status: n.online ? 'online' : 'offline', maxmem: n.maxmem, mem: used, maxcpu: n.maxcpu, cpu: 0.05, uptime: 86400, level: '', cgroup_mode: 2 });
      }
    }
    if (!type || type === 'storage') {
      for (const s of this.state.storages) {
        for (const node of s.nodes) {
          out.push({ id: `storage/${node}/${s.id}`, type: 'storage', storage: s.id, node, status: 'available', content: s.content.join(','), plugintype: s.type, shared: s.shared ? 1 : 0, maxdisk: s.total, disk: this.usedOn(s, node) });
        }
      }
    }
    return out;
  }

  nextid(vmid?: number): number {
    if (vmid !== undefined) {
      if (this.state.vms[vmid]) throw new PveError(400, 'Parameter verification failed.', { vmid: `VM ${vmid} already exists` });
      return vmid;
    }
    let id = 100;
    while (this.state.vms[id]) id++;
    return id;
  }

  tasks(node: string, q: { source?: string; vmid?: number; typefilter?: string; limit?: number }): Array<Record<string, unknown>> {
    this.nodeOf(node);
    const source = q.source ?? 'archive';
    return Object.values(this.state.tasks)
      .filter((t) => t.node === node && (source === 'all' || (source === 'active') === (t.status === 'running'))
        && (q.vmid === undefined || t.id === String(q.vmid)) && (!q.typefilter || t.type === q.typefilter))
      .sort((a, b) => b.starttime - a.starttime)
      .slice(0, q.limit ?? 50)
      .map((t) => this.taskInfo(t));
  }

  taskInfo(t: FakeTask): Record<string, unknown> {
    return {
      upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user, status: t.status,
      ...(t.status === 'stopped' ? { exitstatus: t.exitstatus, endtime: t.endtime } : {}),
    };
  }

  task(node: string, upid: string): FakeTask {
    const t = this.state.tasks[upid];
    if (!t || t.node !== node) throw fail(`unable to parse worker upid '${upid}'`);
    return t;
  }
}
