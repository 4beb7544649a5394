/**
 * A small JSON client for the apiserver over keep-alive HTTPS connections it pools itself: plain
 * requests (reads, merge and apply patches, Events, Leases) and watches (one streaming request
 * each, newline-delimited JSON).
 *
 * Why not client-node: loading it costs ~85 MiB of RSS; its 1.x gives every request a new
 * `https.Agent` (a TCP and TLS handshake with a client certificate per call: ~175 GETs/s against
 * ~900 over kept-alive connections on 2 cores); and with a keep-alive agent its node-fetch fails
 * chunked bodies ("Premature close"). This client reads whole bodies itself and never builds
 * typed models.
 *
 * Credentials come from a KubeAuth (auth.ts), asked again every AUTH_REFRESH_MS rather than per
 * request. When the TLS material changes (a rotated certificate) a new pool replaces the old one,
 * which is closed a minute later. A proxied cluster uses the agent its KubeAuth supplies.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { AuthOptions, KubeAuth } from './auth.ts';

/** How long a replaced pool keeps serving the requests it already has. */
const RETIRE_AFTER_MS = 60_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long one answer of the KubeAuth (token, certificates) is used; a rotated token is read within this. */
const AUTH_REFRESH_MS = 10_000;

/** A non-2xx answer; `statusCode` is what isNotFound/isConflict look at. */
export class KubeApiError extends Error {
  readonly code = 'ERR_KUBE_API';
  constructor(readonly statusCode: number, method: string, path: string, readonly body: string) {
    super(`${method} ${path}: expected a 2xx answer, got ${statusCode}: ${apiMessage(body)}`);
    this.name = 'KubeApiError';
  }
}

function apiMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: string };
    if (status.message) return status.message;
  } catch {
    // not a Status object
  }
  return body.slice(0, 300);
}

const TLS_OPTIONS = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'] as const;

function tlsKey(options: AuthOptions): string {
  return TLS_OPTIONS.map((k) => {
    const v = options[k] as unknown;
    if (v === undefined) return '';
    if (Buffer.isBuffer(v)) return v.toString('base64');
    if (Array.isArray(v)) return v.map((x) => (Buffer.isBuffer(x) ? x.toString('base64') : String(x))).join(',');
    return String(v);
  }).join('|');
}

export interface KubeRestOptions {
  /** Connections at most for plain requests; more wait for one (a burst pays no new TLS handshakes). */
  maxSockets: number;
  timeoutMs?: number;
  /** How long one answer of the KubeAuth is reused (default AUTH_REFRESH_MS; 0 asks per request). */
  authRefreshMs?: number;
}

/** One watch event as the apiserver sends it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/** A running watch: `done` settles when the stream ends (resolves) or fails (rejects). */
export interface WatchStream {
  done: Promise<void>;
  stop(): void;
}

interface Pools {
  key: string;
  /** Kept-alive connections for plain requests. */
  requests: http.Agent;
  /** Watches hold a connection each for minutes: never queued behind requests, never reused. */
  watches: http.Agent;
}

export class KubeRest {
  private pools: Pools | undefined;
  private pooledFor: AuthOptions | undefined;
  private auth: { options: Promise<AuthOptions>; at: number } | undefined;
  private readonly base: URL;

  constructor(readonly kubeAuth: KubeAuth, private readonly opts: KubeRestOptions) {
    this.base = kubeAuth.server;
  }

  /**
   * Sends `body` as JSON (or with `contentType`, e.g. a merge patch) and returns the parsed answer;
   * a non-2xx answer throws KubeApiError.
   */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const { req, fullPath } = await this.open(method, path, 'requests', payload ? { 'content-type': contentType, 'content-length': payload.length } : {});
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new KubeApiError(status, method, fullPath, text));
            return;
          }
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${fullPath}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Watches `path` (a collection with its query: `?watch=true&resourceVersion=…`), handing each
   * event to `onEvent` in order. A non-2xx answer fails `done` with KubeApiError; a line that is
   * not JSON fails it too (the stream cannot be trusted after that).
   */
  async watch(path: string, onEvent: (event: WatchEvent) => void): Promise<WatchStream> {
    const { req, fullPath } = await this.open('GET', path, 'watches', {});
    let stopped = false;
    const done = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(new KubeApiError(status, 'GET', fullPath, Buffer.concat(chunks).toString('utf8'))));
          res.on('error', reject);
          return;
        }
        // Events split across chunks: keep the unfinished tail until its newline arrives.
        let pending: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          let start = 0;
          let nl = chunk.indexOf(10);
          while (nl !== -1) {
            const part = chunk.subarray(start, nl);
            const line = pending.length ? Buffer.concat([...pending, part]) : part;
            pending = [];
            if (line.length > 0) {
              let event: WatchEvent;
              try {
                event = JSON.parse(line.toString('utf8')) as WatchEvent;
              } catch (err) {
                req.destroy(new Error(`watch ${fullPath}: a line that is not JSON (${(err as Error).message})`));
                return;
              }
              if (!stopped) onEvent(event);
            }
            start = nl + 1;
            nl = chunk.indexOf(10, start);
          }
          if (start < chunk.length) pending.push(chunk.subarray(start));
        });
        res.on('end', () => resolve());
        res.on('error', (err) => (stopped ? resolve() : reject(err)));
        res.on('aborted', () => (stopped ? resolve() : reject(new Error(`watch ${fullPath}: the connection was cut`))));
      });
      req.on('error', (err) => (stopped ? resolve() : reject(err)));
      req.end();
    });
    return {
      done,
      stop: () => {
        stopped = true;
        req.destroy();
      },
    };
  }

  /** Closes the pooled connections (and any watch still open). */
  close(): void {
    this.pools?.requests.destroy();
    this.pools?.watches.destroy();
    this.pools = undefined;
    this.pooledFor = undefined;
  }

  private async open(method: string, path: string, pool: 'requests' | 'watches', extra: Record<string, string | number>) {
    const options = await this.authOptions();
    const headers: Record<string, string | number | string[]> = {
      ...(options.headers as Record<string, string | string[]> | undefined), accept: 'application/json', ...extra,
    };
    const fullPath = `${this.base.pathname.replace(/\/$/, '')}${path}`;
    const agent = this.kubeAuth.proxied ? options.agent : this.agents(options)[pool];
    // Plain http only for a local stand-in (tests); a cluster's apiserver speaks https.
    const request = this.base.protocol === 'http:' ? http.request : https.request;
    const req = request({
      protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, path: fullPath, method, headers,
      agent: agent as http.Agent | undefined,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(agent === undefined ? { ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized } : {}),
    });
    return { req, fullPath };
  }

  /** The KubeAuth's answer (shared by the requests of AUTH_REFRESH_MS; never modified). */
  private authOptions(): Promise<AuthOptions> {
    const now = performance.now();
    if (!this.auth || now - this.auth.at >= (this.opts.authRefreshMs ?? AUTH_REFRESH_MS)) {
      const asked = this.kubeAuth.options();
      // A failure (e.g. an exec plugin erroring) is not kept: the next request asks again.
      asked.catch(() => {
        if (this.auth?.options === asked) this.auth = undefined;
      });
      this.auth = { options: asked, at: now };
    }
    return this.auth.options;
  }

  private agents(options: AuthOptions): Pools {
    // The same answer as last time needs no comparison of certificates.
    if (this.pools && options === this.pooledFor) return this.pools;
    this.pooledFor = options;
    const key = tlsKey(options);
    if (this.pools && key === this.pools.key) return this.pools;
    const old = this.pools;
    if (old) {
      setTimeout(() => old.requests.destroy(), RETIRE_AFTER_MS).unref();
      // Open watches keep their connection; the informer reconnects them through the new pool.
      setTimeout(() => old.watches.destroy(), RETIRE_AFTER_MS).unref();
    }
    if (this.base.protocol === 'http:') {
      this.pools = { key, requests: new http.Agent({ keepAlive: true, maxSockets: this.opts.maxSockets }), watches: new http.Agent({ keepAlive: false }) };
      return this.pools;
    }
    const tlsOptions = Object.fromEntries(TLS_OPTIONS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
    // One TLS context for every connection (Node would parse the key and certificates for each).
    const secureContext = tls.createSecureContext(tlsOptions);
    this.pools = {
      key,
      requests: new https.Agent({ ...tlsOptions, secureContext, keepAlive: true, maxSockets: this.opts.maxSockets }),
      watches: new https.Agent({ ...tlsOptions, secureContext, keepAlive: false }),
    };
    return this.pools;
  }
}
