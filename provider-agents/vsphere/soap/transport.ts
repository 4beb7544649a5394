/**
 * HTTPS to vCenter on undici: a keep-alive Pool per origin, TLS verified against the system CAs,
 * a custom CA (credential key `ca.crt`), or a pinned certificate fingerprint (key `thumbprint`:
 * SHA-256, or SHA-1 as vSphere shows host thumbprints). No verification only when the Provider
 * says `insecureSkipVerify`.
 */
import { Pool, type buildConnector, errors as undiciErrors } from 'undici';
import { hexFingerprint, trustConnector } from '../../core/pinned-tls.ts';
import { TransportError } from './faults.ts';

export interface TlsSettings {
  /** PEM bundle to trust instead of the system CAs. */
  ca?: string;
  /** Hex fingerprint (colons optional) of the server certificate: SHA-256 (64 hex) or SHA-1 (40 hex). */
  thumbprint?: string;
  insecureSkipVerify?: boolean;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface HttpRequest {
  path: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  headers?: Record<string, string>;
  body?: string | Uint8Array | NodeJS.ReadableStream;
  signal?: AbortSignal;
  /** Time to wait for the reply headers (long polls need more than the default). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export function normaliseThumbprint(value: string): string {
  const hex = hexFingerprint(value).toUpperCase();
  if (!/^([0-9A-F]{64}|[0-9A-F]{40})$/.test(hex)) {
    throw new TransportError(`credential key "thumbprint" must be a SHA-256 (64 hex digits) or SHA-1 (40 hex digits) certificate fingerprint, got ${hex.length} hex digits`, 'tls');
  }
  return hex;
}

/** A connector that verifies the chain (system or custom CA), or only the pinned fingerprint. */
function connectorFor(tls: TlsSettings): buildConnector.connector {
  const pinned = tls.thumbprint ? normaliseThumbprint(tls.thumbprint) : undefined;
  return trustConnector({ ca: tls.ca, pinned: pinned?.toLowerCase(), insecureSkipVerify: tls.insecureSkipVerify ?? false, timeoutMs: 10_000 }, (where, got) =>
    new TransportError(`the certificate of ${where} has fingerprint ${got.toUpperCase() || '(none)'}, expected the pinned ${pinned} (credential key "thumbprint")`, 'tls'));
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);

/** A network, TLS or timeout failure as a TransportError naming the endpoint. */
function describe(err: unknown, origin: string, what: string): Error {
  if (err instanceof TransportError) return err;
  if (err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR')) return err;
  const code = (err as { code?: string }).code ?? '';
  const cause = (err as { cause?: { code?: string } }).cause;
  const causeCode = cause?.code ?? '';
  if (cause instanceof TransportError) return cause;
  if (TLS_CODES.has(code) || TLS_CODES.has(causeCode)) {
    return new TransportError(`TLS verification of ${origin} failed (${code || causeCode}); set the CA (credential key "ca.crt") or the certificate fingerprint (key "thumbprint")`, 'tls', { cause: err });
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new TransportError(`${what} to ${origin} timed out (${code})`, 'network', { cause: err });
  }
  const detail = code || causeCode || (err instanceof Error ? err.message : String(err));
  return new TransportError(`${what} to ${origin} failed: ${detail}`, 'network', { cause: err });
}

export class HttpTransport {
  private readonly pools = new Map<string, Pool>();
  /** HTTP requests sent, for the benchmark and tests. */
  requests = 0;

  constructor(readonly baseUrl: URL, private readonly tls: TlsSettings) {}

  private pool(origin: string, tls: TlsSettings): Pool {
    const key = `${origin}|${tls.thumbprint ?? ''}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, { connect: connectorFor(tls), connections: 32, keepAliveTimeout: 60_000, pipelining: 1 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** A request to the vCenter endpoint's origin. */
  send(req: HttpRequest): Promise<HttpReply> {
    return this.sendTo(this.baseUrl.origin, this.tls, req);
  }

  /** A request to another origin (an ESXi host's NFC URL) with its own pin, or the endpoint's TLS settings. */
  async sendTo(origin: string, tls: TlsSettings, req: HttpRequest): Promise<HttpReply> {
    this.requests++;
    const timeout = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const res = await this.pool(origin, tls).request({
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body as string | Uint8Array | undefined,
        signal: req.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      // Our own abort (shutdown, a deadline) is not a transport failure.
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw describe(err, origin, `${req.method} ${req.path.split('?')[0]}`);
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => p.destroy())));
  }

  destroy(): void {
    for (const p of this.pools.values()) void p.destroy().catch(() => undefined);
    this.pools.clear();
  }
}
