/**
 * A small client of the Proxmox VE REST API (`<endpoint>/api2/json`) on undici: one keep-alive pool
 * per agent, API-token or ticket authentication, and PVE's answer format turned into data or a
 * PveApiError. It knows nothing of VMs; retries of locked VMs and task polling live above it.
 *
 * Authentication:
 *   - API token (`token_id` = `user@realm!name`, `token_secret`): header
 *     `Authorization: PVEAPIToken=<id>=<secret>`; no CSRF token needed.
 *   - Ticket (`username`, `password`): POST /access/ticket, then cookie `PVEAuthCookie` on every
 *     call and header `CSRFPreventionToken` on writes. Tickets live 2 h: renewed after 90 min, and
 *     once more whenever the API answers 401.
 */
import { Pool } from 'undici';
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { PveApiError, PveTransportError } from './errors.ts';
import { trustConnector, type TlsTrust } from './tls.ts';

export type PveAuth =
  | { kind: 'token'; tokenId: string; secret: string }
  | { kind: 'ticket'; username: string; password: string };

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type Params = Record<string, string | number | boolean | undefined>;

export interface PveClientOptions {
  /** The Provider's endpoint, e.g. https://pve.example:8006 (a path, if any, is ignored). */
  endpoint: string;
  auth: PveAuth;
  tls: TlsTrust;
  /** Sockets kept open to the API (default 16). */
  connections?: number;
  /** Per-request limit for headers and body (default 60 s: a synchronous PVE call may wait 10 s for a lock). */
  requestTimeoutMs?: number;
  log?: Logger;
}

const TICKET_RENEW_MS = 90 * 60_000;
const GET_RETRIES = [100, 400];

interface Ticket {
  cookie: string;
  csrf: string;
  at: number;
}

export class PveClient {
  /** Requests sent (each retry counts), for benchmarks and tests. */
  requests = 0;
  readonly origin: string;
  private readonly pool: Pool;
  private readonly log: Logger;
  private ticket: Ticket | undefined;
  private login: Promise<Ticket> | undefined;

  constructor(private readonly opts: PveClientOptions) {
    const url = new URL(opts.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`the Proxmox endpoint must be an https:// URL, got ${opts.endpoint}`);
    this.origin = url.origin;
    const timeout = opts.requestTimeoutMs ?? 60_000;
    this.pool = new Pool(this.origin, {
      connections: opts.connections ?? 16,
      connect: trustConnector(opts.tls, 10_000),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000,
    });
    this.log = opts.log ?? silentLogger;
  }

  get(path: string, params?: Params, signal?: AbortSignal): Promise<unknown> {
    return this.call('GET', path, params, signal);
  }
  post(path: string, params?: Params, signal?: AbortSignal): Promise<unknown> {
    return this.call('POST', path, params, signal);
  }
  put(path: string, params?: Params, signal?: AbortSignal): Promise<unknown> {
    return this.call('PUT', path, params, signal);
  }
  delete(path: string, params?: Params, signal?: AbortSignal): Promise<unknown> {
    return this.call('DELETE', path, params, signal);
  }

  /** One API call: the `data` of PVE's answer, or a PveApiError / PveTransportError. */
  async call(method: Method, path: string, params: Params = {}, signal?: AbortSignal): Promise<unknown> {
    let reauthed = false;
    for (let attempt = 0; ; attempt++) {
      let used: Ticket | undefined;
      try {
        return await this.once(method, path, params, signal, (t) => {
          used = t;
        });
      } catch (err) {
        if (err instanceof PveApiError && err.status === 401 && this.opts.auth.kind === 'ticket' && !reauthed) {
          // An expired or revoked ticket: log in again, once. Calls refused together share one login.
          reauthed = true;
          if (this.ticket === used) this.ticket = undefined;
          this.log.info('proxmox ticket refused; logging in again', { call: `${method} ${path}` });
          continue;
        }
        if (err instanceof PveTransportError && method === 'GET' && attempt < GET_RETRIES.length && !signal?.aborted) {
          await new Promise((r) => setTimeout(r, GET_RETRIES[attempt]));
          continue;
        }
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }

  private async headersFor(method: Method, signal: AbortSignal | undefined, onTicket: (t: Ticket) => void): Promise<Record<string, string>> {
    const auth = this.opts.auth;
    if (auth.kind === 'token') return { authorization: `PVEAPIToken=${auth.tokenId}=${auth.secret}` };
    const t = await this.currentTicket(signal);
    onTicket(t);
    return method === 'GET' ? { cookie: t.cookie } : { cookie: t.cookie, csrfpreventiontoken: t.csrf };
  }

  private async currentTicket(signal?: AbortSignal): Promise<Ticket> {
    if (this.ticket && Date.now() - this.ticket.at < TICKET_RENEW_MS) return this.ticket;
    if (!this.login) {
      this.login = this.fetchTicket(signal).finally(() => {
        this.login = undefined;
      });
    }
    this.ticket = await this.login;
    return this.ticket;
  }

  private async fetchTicket(signal?: AbortSignal): Promise<Ticket> {
    const auth = this.opts.auth as Extract<PveAuth, { kind: 'ticket' }>;
    const data = await this.send('POST', '/access/ticket', { username: auth.username, password: auth.password }, {}, signal, 'POST /access/ticket');
    const d = data as { ticket?: unknown; CSRFPreventionToken?: unknown } | null;
    if (!d || typeof d.ticket !== 'string' || typeof d.CSRFPreventionToken !== 'string') {
      throw new PveTransportError('the login answer has no ticket and CSRFPreventionToken', 'POST /access/ticket');
    }
    return { cookie: `PVEAuthCookie=${encodeURIComponent(d.ticket)}`, csrf: d.CSRFPreventionToken, at: Date.now() };
  }

  private async once(method: Method, path: string, params: Params, signal: AbortSignal | undefined, onTicket: (t: Ticket) => void): Promise<unknown> {
    const headers = await this.headersFor(method, signal, onTicket);
    return this.send(method, path, params, headers, signal, `${method} ${path}`);
  }

  private async send(method: Method, path: string, params: Params, headers: Record<string, string>, signal: AbortSignal | undefined, call: string): Promise<unknown> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      form.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const encoded = form.toString();
    const inBody = method === 'POST' || method === 'PUT';
    const fullPath = `/api2/json${path}${!inBody && encoded ? `?${encoded}` : ''}`;
    this.requests++;
    const started = Date.now();
    let res;
    try {
      res = await this.pool.request({
        method,
        path: fullPath,
        headers: inBody ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
        ...(inBody ? { body: encoded } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw new PveTransportError(`cannot reach the Proxmox API at ${this.origin}: ${(err as Error).message}`, call, { cause: err });
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw new PveTransportError(`the answer from ${this.origin} broke off: ${(err as Error).message}`, call, { cause: err });
    }
    this.log.debug('proxmox call', { call, status: res.statusCode, ms: Date.now() - started });
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
      if (res.statusCode < 400) {
        throw new PveTransportError(`expected JSON from the Proxmox API, got ${res.headers['content-type'] ?? 'no content type'}: ${JSON.stringify(text.slice(0, 120))}`, call);
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (!body || typeof body !== 'object' || !('data' in body)) {
        throw new PveTransportError(`expected {"data": …} from the Proxmox API, got ${JSON.stringify(text.slice(0, 120))}`, call);
      }
      return (body as { data: unknown }).data;
    }
    const b = (body && typeof body === 'object' ? body : {}) as { message?: unknown; errors?: unknown };
    const message = (typeof b.message === 'string' && b.message.trim()) || res.statusText?.trim() || `HTTP ${res.statusCode}`;
    const errors: Record<string, string> = {};
    if (b.errors && typeof b.errors === 'object') {
      for (const [k, v] of Object.entries(b.errors as Record<string, unknown>)) errors[k] = String(v).trim();
    }
    throw new PveApiError(res.statusCode, message.replace(/\s+$/, ''), call, errors);
  }
}
