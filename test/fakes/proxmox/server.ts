/**
 * The fake PVE API over HTTPS: `/api2/json/...`, API-token and ticket authentication (cookie
 * `PVEAuthCookie`, header `CSRFPreventionToken` on writes), PVE's answer format, fault injection,
 * and a restart that keeps the cluster's state and running tasks (state.ts, cluster.ts).
 *
 * Answer format (pve-http-server): `200 {"data": …}`; an error is the status line's reason phrase
 * (`500 VM 100 is locked (clone)`) with `{"data":null}` — plus `"errors"` for a 400, and
 * `"message"` when `bodyMessage` (newer releases) — and the connection is closed after it.
 */
import { X509Certificate, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki } from '../../../scripts/stack/pki.ts';
import { DEFAULT_FAKE_OPTIONS, FakeCluster, type FakeOptions, type TaskFault } from './cluster.ts';
import { PveError } from './errors.ts';
import { ParamError, SCHEMAS, verify, type Schema } from './schema.ts';
import { initialState, loadState, saveState, type ClusterState, type FakeVm } from './state.ts';

export interface HttpFault {
  method?: string;
  /** Matched against the path below /api2/json. */
  path: RegExp;
  times: number;
  status: number;
  message: string;
  errors?: Record<string, string>;
}

/** Replaces the body of matching successful answers (malformed replies). */
export interface CorruptFault {
  method?: string;
  path: RegExp;
  times: number;
  body: string;
  contentType?: string;
}

export interface FakePveOptions extends Partial<Omit<FakeOptions, 'pace'>> {
  nodes?: string[];
  memGiB?: Record<string, number>;
  pace?: Partial<FakeOptions['pace']>;
  tokens?: Array<{ id: string; secret: string }>;
  users?: Array<{ username: string; password: string }>;
  /** Ticket lifetime (PVE: 2 h). */
  ticketTtlMs?: number;
  /** PVE delays every 401 by 3 s; tests use less. */
  unauthorizedDelayMs?: number;
  /** Newer PVE also puts the error message in the body. */
  bodyMessage?: boolean;
  /** Persist the state here after every change (restart survives a crash). */
  stateFile?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}

interface Route {
  method: string;
  re: RegExp;
  schema: Schema;
  vmOptions?: boolean;
  run: (p: Record<string, string>, user: string, req: IncomingMessage, raw: Buffer) => unknown | Promise<unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakePve {
  readonly caPem: string;
  readonly fingerprint: string;
  readonly faults: { http: HttpFault[]; corrupt: CorruptFault[]; tasks: TaskFault[] } = { http: [], corrupt: [], tasks: [] };
  /** Every request answered, in order. */
  readonly requests: RequestRecord[] = [];
  readonly token: { id: string; secret: string };
  readonly user: { username: string; password: string };
  cluster: FakeCluster;
  private server: Server | undefined;
  private port = 0;
  private readonly routes: Route[];
  private persistPending = false;
  private readonly fakeOpts: FakeOptions;

  private constructor(
    private readonly opts: FakePveOptions,
    private readonly tls: { cert: string; key: string; ca: string },
    state: ClusterState,
    private readonly dir: string,
  ) {
    this.caPem = tls.ca;
    this.fingerprint = new X509Certificate(tls.cert).fingerprint256;
    this.token = opts.tokens?.[0] ?? { id: 'root@pam!virtrigaud', secret: randomUUID() };
    this.user = opts.users?.[0] ?? { username: 'root@pam', password: `pw-${randomBytes(6).toString('hex')}` };
    this.fakeOpts = {
      ...DEFAULT_FAKE_OPTIONS,
      ...Object.fromEntries(Object.entries(opts).filter(([k, v]) => k in DEFAULT_FAKE_OPTIONS && v !== undefined)),
      pace: { ...DEFAULT_FAKE_OPTIONS.pace, ...opts.pace } as FakeOptions['pace'],
    } as FakeOptions;
    this.cluster = this.newCluster(state);
    this.routes = this.buildRoutes();
  }

  static async start(opts: FakePveOptions = {}): Promise<FakePve> {
    const dir = await mkdtemp(join(tmpdir(), 'fake-pve-'));
    const pki = await createPki(dir);
    const tls = { cert: readFileSync(pki.servingCert, 'utf8'), key: readFileSync(pki.servingKey, 'utf8'), ca: readFileSync(pki.caCert, 'utf8') };
    const state = initialState(opts.nodes ?? ['pve1', 'pve2', 'pve3'], { memGiB: opts.memGiB });
    const fake = new FakePve(opts, tls, state, dir);
    await fake.listen();
    return fake;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get state(): ClusterState {
    return this.cluster.state;
  }

  private newCluster(state: ClusterState): FakeCluster {
    const cluster = new FakeCluster(state, this.fakeOpts, () => this.persist());
    // Task faults are shared across restarts.
    cluster.taskFaults.push(...this.faults.tasks);
    this.faults.tasks = cluster.taskFaults;
    return cluster;
  }

  private persist(): void {
    if (!this.opts.stateFile || this.persistPending) return;
    this.persistPending = true;
    setImmediate(() => {
      this.persistPending = false;
      if (this.opts.stateFile) saveState(this.opts.stateFile, this.cluster.state);
    });
  }

  private async listen(): Promise<void> {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key, keepAliveTimeout: 10_000 }, (req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * The API daemon restarts: connections drop, nothing answers for `downMs`, then a new daemon
   * reads the state back (from the state file if any). Tasks keep running meanwhile, as PVE's
   * workers do.
   */
  async restart(downMs = 0): Promise<void> {
    await this.close();
    const snapshot = JSON.stringify(this.cluster.state);
    if (this.opts.stateFile) saveState(this.opts.stateFile, this.cluster.state);
    this.cluster.shutdown();
    await sleep(downMs);
    const state = this.opts.stateFile ? loadState(this.opts.stateFile) : (JSON.parse(snapshot) as ClusterState);
    this.cluster = this.newCluster(state);
    await this.listen();
  }

  async stop(): Promise<void> {
    await this.close();
    this.cluster.shutdown();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Every login ticket stops being valid (as after its 2 h lifetime). */
  expireTickets(): void {
    for (const t of Object.values(this.state.tickets)) t.expiresAt = 0;
  }

  // --- seeding and inspection, for tests ---

  /** A template VM with a 10 GiB boot disk on `storage`, a cloud-init drive and one NIC. */
  addTemplate(o: { vmid: number; node: string; name: string; storage?: string; cores?: number; memoryMib?: number }): FakeVm {
    const storage = o.storage ?? 'local-lvm';
    const s = this.state.storages.find((x) => x.id === storage)!;
    const disk = s.type === 'lvmthin' ? `${storage}:base-${o.vmid}-disk-0` : `${storage}:${o.vmid}/base-${o.vmid}-disk-0.qcow2`;
    const ci = s.type === 'lvmthin' ? `${storage}:vm-${o.vmid}-cloudinit` : `${storage}:${o.vmid}/vm-${o.vmid}-cloudinit.qcow2`;
    for (const [volid, size] of [[disk, 10 * 1024 ** 3], [ci, 4 * 1024 ** 2]] as const) {
      this.state.volumes[volid] = { volid, storage, node: s.shared ? '' : o.node, size, format: 'raw', content: 'images', vmid: o.vmid, ctime: 0 };
    }
    const vm: FakeVm = {
      vmid: o.vmid, node: o.node, running: false, startedAt: 0, snapshots: {}, acpi: true, pending: {}, pendingDelete: [],
      config: {
        name: o.name, template: '1', cores: String(o.cores ?? 1), sockets: '1', memory: String(o.memoryMib ?? 1024), scsihw: 'virtio-scsi-single',
        scsi0: `${disk},size=10G`, ide2: `${ci},media=cdrom`, net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0', boot: 'order=scsi0', agent: '1', ostype: 'l26',
      },
    };
    this.state.vms[o.vmid] = vm;
    this.persist();
    return vm;
  }

  vms(): FakeVm[] {
    return Object.values(this.state.vms);
  }

  /** VMs carrying a tag (e.g. our uid tag). */
  vmsTagged(tag: string): FakeVm[] {
    return this.vms().filter((v) => (v.config.tags ?? '').split(/[;, ]+/).includes(tag));
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  // --- HTTP ---

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    let path = url.pathname;
    let status = 200;
    try {
      if (!path.startsWith('/api2/json/')) throw new PveError(501, 'no such uri');
      path = path.slice('/api2/json'.length);
      const fault = this.faults.http.find((f) => f.times > 0 && (!f.method || f.method === method) && f.path.test(path));
      if (fault) {
        fault.times--;
        throw new PveError(fault.status, fault.message, fault.errors);
      }
      const params = this.paramsOf(method, url, req, raw);
      const user = path === '/access/ticket' && method === 'POST' ? '' : await this.authenticate(method, req);
      const { route, match } = this.route(method, path);
      const all = { ...params, ...decodeGroups(match) };
      verify(all, route.schema, route.vmOptions);
      const data = await route.run(all, user, req, raw);
      const corrupt = this.faults.corrupt.find((f) => f.times > 0 && (!f.method || f.method === method) && f.path.test(path));
      if (corrupt) {
        corrupt.times--;
        res.writeHead(200, { 'content-type': corrupt.contentType ?? 'application/json;charset=UTF-8' });
        res.end(corrupt.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8', server: 'pve-api-daemon/3.0' });
      res.end(JSON.stringify({ data: data ?? null }));
    } catch (err) {
      const e = err instanceof ParamError ? new PveError(400, err.message, err.errors)
        : err instanceof PveError ? err
          : new PveError(500, err instanceof Error ? err.message : String(err));
      status = e.status;
      if (e.status === 401 && this.opts.unauthorizedDelayMs) await sleep(this.opts.unauthorizedDelayMs);
      const message = e.message.split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?').trim();
      const body: Record<string, unknown> = { data: null };
      if (e.errors) body.errors = e.errors;
      if (this.opts.bodyMessage) body.message = `${e.message}\n`;
      res.statusMessage = message;
      res.writeHead(e.status, { 'content-type': 'application/json;charset=UTF-8', connection: 'close', server: 'pve-api-daemon/3.0' });
      res.end(JSON.stringify(body));
    } finally {
      this.requests.push({ method, path, status });
    }
  }

  private paramsOf(method: string, url: URL, req: IncomingMessage, raw: Buffer): Record<string, string> {
    const out: Record<string, string> = {};
    if (method === 'GET' || method === 'DELETE') {
      for (const [k, v] of url.searchParams) out[k] = v;
      return out;
    }
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('application/json')) {
      const o = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    } else if (type.startsWith('multipart/form-data')) {
      // The file part's name is the upload's `filename` parameter, as PVE's REST handler sets it.
      for (const part of multipart(raw, type)) out[part.name] = part.filename ?? part.data.toString('utf8');
    } else {
      for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) out[k] = v;
    }
    return out;
  }

  private async authenticate(method: string, req: IncomingMessage): Promise<string> {
    const auth = req.headers.authorization ?? '';
    const cookie = /(?:^|;\s*)PVEAuthCookie=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
    if (cookie) {
      const ticket = this.state.tickets[decodeURIComponent(cookie)];
      if (!ticket || ticket.expiresAt < Date.now()) throw new PveError(401, 'invalid PVE ticket');
      if (method !== 'GET' && req.headers.csrfpreventiontoken !== ticket.csrf) throw new PveError(401, 'Permission denied - invalid csrf token');
      return ticket.user;
    }
    const m = /^PVEAPIToken=([^!]+![^=]+)=(.+)$/.exec(auth);
    if (m) {
      const tokens = this.opts.tokens ?? [this.token];
      const t = tokens.find((x) => x.id === m[1]);
      if (!t || t.secret !== m[2]) throw new PveError(401, 'invalid token value!');
      return m[1]!.split('!')[0]!;
    }
    throw new PveError(401, 'No ticket');
  }

  private route(method: string, path: string): { route: Route; match: RegExpExecArray } {
    let pathKnown = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (r.method === method) return { route: r, match: m };
    }
    throw new PveError(501, pathKnown ? `Method '${method} ${path}' not implemented` : `Method '${method} ${path}' not implemented`);
  }

  private login(p: Record<string, string>): unknown {
    const users = this.opts.users ?? [this.user];
    const username = p.realm && !p.username!.includes('@') ? `${p.username}@${p.realm}` : p.username!;
    const u = users.find((x) => x.username === username);
    if (!u || u.password !== p.password) throw new PveError(401, 'authentication failure');
    const stamp = Math.floor(Date.now() / 1000).toString(16).toUpperCase().padStart(8, '0');
    const ticket = `PVE:${username}:${stamp}::${randomBytes(48).toString('base64')}`;
    const csrf = `${stamp}:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
    this.state.tickets[ticket] = { user: username, csrf, expiresAt: Date.now() + (this.opts.ticketTtlMs ?? 2 * 3600_000) };
    this.persist();
    return { username, ticket, CSRFPreventionToken: csrf, clustername: 'fake' };
  }

  private buildRoutes(): Route[] {
    const c = () => this.cluster;
    const vmid = (p: Record<string, string>) => Number(p.vmid);
    const N = '(?<node>[^/]+)';
    const V = '(?<vmid>[^/]+)';
    const r = (method: string, path: string, schema: Schema, run: Route['run'], vmOptions = false): Route => ({ method, re: new RegExp(`^${path}$`), schema, run, vmOptions });
    return [
      r('GET', '/version', SCHEMAS.none, () => ({ version: this.state.version, release: this.state.version.split('.').slice(0, 2).join('.'), repoid: 'fa4e4d7a' })),
      r('POST', '/access/ticket', SCHEMAS.ticket, (p) => this.login(p)),
      r('GET', '/nodes', SCHEMAS.none, () => this.state.nodes.map((n) => ({ node: n.name, status: n.online ? 'online' : 'offline', maxmem: n.maxmem, maxcpu: n.maxcpu, level: '' }))),
      r('GET', '/cluster/resources', SCHEMAS.resources, (p) => c().resources(p.type)),
      r('GET', '/cluster/nextid', SCHEMAS.nextid, (p) => c().nextid(p.vmid ? Number(p.vmid) : undefined)),
      r('GET', `/nodes/${N}/qemu`, SCHEMAS.node, (p) => c().resources('vm').filter((x) => x.node === p.node).map(({ id: _id, type: _type, node: _node, ...rest }) => rest)),
      r('POST', `/nodes/${N}/qemu`, SCHEMAS.createVm, (p, u) => c().createVm(p.node!, u, p), true),
      r('GET', `/nodes/${N}/qemu/${V}/config`, SCHEMAS.getConfig, (p) => c().configGet(p.node!, vmid(p), p.current === '1', p.snapshot)),
      r('PUT', `/nodes/${N}/qemu/${V}/config`, SCHEMAS.setConfig, (p) => c().configPut(p.node!, vmid(p), p), true),
      r('POST', `/nodes/${N}/qemu/${V}/config`, SCHEMAS.setConfig, (p, u) => c().configPost(p.node!, vmid(p), u, p), true),
      r('GET', `/nodes/${N}/qemu/${V}/pending`, SCHEMAS.vm, (p) => c().pending(p.node!, vmid(p))),
      r('GET', `/nodes/${N}/qemu/${V}/status/current`, SCHEMAS.vm, (p) => c().status(p.node!, vmid(p))),
      r('POST', `/nodes/${N}/qemu/${V}/status/start`, SCHEMAS.start, (p, u) => c().power(p.node!, vmid(p), u, 'start', p)),
      r('POST', `/nodes/${N}/qemu/${V}/status/stop`, SCHEMAS.stop, (p, u) => c().power(p.node!, vmid(p), u, 'stop', p)),
      r('POST', `/nodes/${N}/qemu/${V}/status/shutdown`, SCHEMAS.shutdown, (p, u) => c().power(p.node!, vmid(p), u, 'shutdown', p)),
      r('POST', `/nodes/${N}/qemu/${V}/status/reboot`, SCHEMAS.reboot, (p, u) => c().power(p.node!, vmid(p), u, 'reboot', p)),
      r('PUT', `/nodes/${N}/qemu/${V}/resize`, SCHEMAS.resize, (p, u) => c().resize(p.node!, vmid(p), u, p)),
      r('GET', `/nodes/${N}/qemu/${V}/snapshot`, SCHEMAS.vm, (p) => c().snapshots(p.node!, vmid(p))),
      r('POST', `/nodes/${N}/qemu/${V}/snapshot`, SCHEMAS.snapshotCreate, (p, u) => c().snapshotCreate(p.node!, vmid(p), u, p)),
      r('POST', `/nodes/${N}/qemu/${V}/snapshot/(?<snapname>[^/]+)/rollback`, SCHEMAS.snapshotOne, (p, u) => c().snapshotRollback(p.node!, vmid(p), u, p.snapname!, p)),
      r('DELETE', `/nodes/${N}/qemu/${V}/snapshot/(?<snapname>[^/]+)`, SCHEMAS.snapshotOne, (p, u) => c().snapshotDelete(p.node!, vmid(p), u, p.snapname!)),
      r('POST', `/nodes/${N}/qemu/${V}/clone`, SCHEMAS.clone, (p, u) => c().cloneVm(p.node!, u, p)),
      r('POST', `/nodes/${N}/qemu/${V}/template`, SCHEMAS.vm, (p, u) => c().template(p.node!, vmid(p), u)),
      r('DELETE', `/nodes/${N}/qemu/${V}`, SCHEMAS.destroy, (p, u) => c().destroy(p.node!, vmid(p), u, p)),
      r('GET', `/nodes/${N}/qemu/${V}/agent/network-get-interfaces`, SCHEMAS.vm, (p) => c().agentInterfaces(p.node!, vmid(p))),
      r('POST', `/nodes/${N}/qemu/${V}/vncproxy`, SCHEMAS.vncproxy, (p, u) => c().vncproxy(p.node!, vmid(p), u)),
      r('GET', `/nodes/${N}/storage`, SCHEMAS.nodeStorage, (p) => c().nodeStorages(p.node!, p.content)),
      r('GET', `/nodes/${N}/storage/(?<storage>[^/]+)/content`, SCHEMAS.storageContent, (p) => c().storageContent(p.node!, p.storage!, p.content, p.vmid ? Number(p.vmid) : undefined)),
      r('POST', `/nodes/${N}/storage/(?<storage>[^/]+)/download-url`, SCHEMAS.downloadUrl, (p, u) => c().downloadUrl(p.node!, u, p)),
      r('POST', `/nodes/${N}/storage/(?<storage>[^/]+)/upload`, SCHEMAS.upload, (p, u, req, raw) => {
        const file = multipart(raw, req.headers['content-type'] ?? '').find((x) => x.filename !== undefined);
        if (!file) throw new PveError(400, 'Parameter verification failed.', { filename: 'property is missing and it is not optional' });
        return c().upload(p.node!, u, { ...p, filename: p.filename ?? file.filename! }, file.data.length);
      }),
      r('GET', `/nodes/${N}/tasks`, SCHEMAS.taskList, (p) => c().tasks(p.node!, { source: p.source, vmid: p.vmid ? Number(p.vmid) : undefined, typefilter: p.typefilter, limit: p.limit ? Number(p.limit) : undefined })),
      r('GET', `/nodes/${N}/tasks/(?<upid>[^/]+)/status`, SCHEMAS.taskOne, (p) => c().taskInfo(c().task(p.node!, p.upid!))),
      r('GET', `/nodes/${N}/tasks/(?<upid>[^/]+)/log`, SCHEMAS.taskLog, (p) => {
        const lines = c().taskLog(c().task(p.node!, p.upid!));
        const start = Number(p.start ?? 0);
        const limit = Number(p.limit ?? 50);
        return lines.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
      }),
    ];
  }
}

function decodeGroups(m: RegExpExecArray): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) out[k] = decodeURIComponent(v);
  return out;
}

interface Part {
  name: string;
  filename: string | undefined;
  data: Buffer;
}

/** A minimal multipart/form-data reader (the upload call's form). */
function multipart(raw: Buffer, contentType: string): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return [];
  const delim = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Part[] = [];
  let pos = raw.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(delim, start);
    if (next < 0) break;
    const chunk = raw.subarray(start + 2, next - 2);
    const headerEnd = chunk.indexOf('\r\n\r\n');
    const headers = chunk.subarray(0, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    parts.push({ name, filename, data: chunk.subarray(headerEnd + 4) });
    pos = next;
  }
  return parts;
}
