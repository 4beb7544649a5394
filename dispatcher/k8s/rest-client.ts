/**
 * A small JSON client for the dispatcher's frequent apiserver calls (VM reads, merge patches,
 * Events), over keep-alive HTTPS connections it pools itself.
 *
 * Why not client-node for these: client-node 1.x gives every request a new `https.Agent`, so each
 * call paid a TCP and TLS handshake (client certificate included) — on the local control plane with
 * 2 cores, ~175 GETs/s against ~560 (one at a time) to ~900 (16 at a time) over kept-alive
 * connections, and the handshakes cost the apiserver CPU too. Giving client-node a keep-alive agent
 * is not enough: its node-fetch 2.7 then fails chunked responses (any VM with managed fields) with
 * "Premature close" once the socket is reused before the body is read. This client reads whole
 * bodies itself and skips client-node's model (de)serialization.
 *
 * Authentication comes from the KubeConfig (`applyToHTTPSOptions`: client certificates, tokens,
 * exec plugins), asked again every AUTH_REFRESH_MS rather than per request: client-node builds a
 * new https.Agent and decodes the certificates on each call, which under a burst cost CPU and kept
 * ~10 KB of buffers alive per waiting request. When the TLS options change (a rotated
 * certificate) a new pool replaces the old one, which is closed a minute later. A proxied cluster (proxyUrl) uses the
 * agent client-node makes for it.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { DispatcherError } from '../errors.ts';

/** How long a replaced pool keeps serving the requests it already has. */
const RETIRE_AFTER_MS = 60_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long one answer of the KubeConfig (token, certificates) is used; a rotated token is read within this. */
const AUTH_REFRESH_MS = 10_000;

/** A non-2xx answer; `statusCode` is what isNotFound/isConflict look at. */
export class KubeApiError extends DispatcherError {
  constructor(readonly statusCode: number, method: string, path: string, readonly body: string) {
    super('ERR_KUBE_API', `${method} ${path}: expected a 2xx answer, got ${statusCode}: ${apiMessage(body)}`);
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

const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function tlsKey(options: https.RequestOptions): string {
  return TLS_OPTIONS.map((k) => {
    const v = options[k] as unknown;
    if (v === undefined) return '';
    if (Buffer.isBuffer(v)) return v.toString('base64');
    if (Array.isArray(v)) return v.map((x) => (Buffer.isBuffer(x) ? x.toString('base64') : String(x))).join(',');
    return String(v);
  }).join('|');
}

export interface KubeRestOptions {
  /** Connections at most; more requests wait for one (a burst pays no new TLS handshakes). */
  maxSockets: number;
  timeoutMs?: number;
}

export class KubeRest {
  private agent: https.Agent | undefined;
  private key = '';
  private pooledFor: https.RequestOptions | undefined;
  private auth: { options: Promise<https.RequestOptions>; at: number } | undefined;
  private readonly base: URL;
  private readonly proxied: boolean;

  constructor(private readonly kc: KubeConfig, private readonly opts: KubeRestOptions) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.base = new URL(cluster.server);
    this.proxied = Boolean(cluster.proxyUrl);
  }

  /**
   * Sends `body` as JSON (or with `contentType`, e.g. a merge patch) and returns the parsed answer;
   * a non-2xx answer throws KubeApiError.
   */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const options = await this.authOptions();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number | string[]> = { ...(options.headers as Record<string, string | string[]> | undefined), accept: 'application/json' };
    if (payload) {
      headers['content-type'] = contentType;
      headers['content-length'] = payload.length;
    }
    const fullPath = `${this.base.pathname.replace(/\/$/, '')}${path}`;
    const agent = this.proxied ? options.agent : this.pooled(options);
    return new Promise<T>((resolve, reject) => {
      const req = https.request({
        protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, path: fullPath, method, headers, agent,
        ...(options.auth ? { auth: options.auth } : {}),
        ...(agent === undefined ? { ca: options.ca, cert: options.cert, key: options.key } : {}),
      }, (res) => {
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
      req.setTimeout(this.opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${fullPath}: no answer within ${this.opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The KubeConfig's answer for a request (shared by the requests of AUTH_REFRESH_MS; never modified). */
  private authOptions(): Promise<https.RequestOptions> {
    const now = performance.now();
    if (!this.auth || now - this.auth.at > AUTH_REFRESH_MS) {
      const options: https.RequestOptions = {};
      const applied = this.kc.applyToHTTPSOptions(options).then(() => {
        // client-node made an agent for this one request; only a proxied cluster needs it.
        if (!this.proxied) delete options.agent;
        return options;
      });
      // A failure (e.g. an exec plugin erroring) is not kept: the next request asks again.
      applied.catch(() => {
        if (this.auth?.options === applied) this.auth = undefined;
      });
      this.auth = { options: applied, at: now };
    }
    return this.auth.options;
  }

  /** Closes the pooled connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.key = '';
    this.pooledFor = undefined;
  }

  private pooled(options: https.RequestOptions): https.Agent {
    // The same answer of the KubeConfig as last time needs no comparison of certificates.
    if (this.agent && options === this.pooledFor) return this.agent;
    this.pooledFor = options;
    const key = tlsKey(options);
    if (this.agent && key === this.key) return this.agent;
    const old = this.agent;
    if (old) setTimeout(() => old.destroy(), RETIRE_AFTER_MS).unref();
    const tlsOptions = Object.fromEntries(TLS_OPTIONS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
    // One TLS context for every connection (Node would parse the key and certificates for each).
    const secureContext = tls.createSecureContext(tlsOptions);
    this.agent = new https.Agent({ ...tlsOptions, secureContext, keepAlive: true, maxSockets: this.opts.maxSockets });
    this.key = key;
    return this.agent;
  }
}
