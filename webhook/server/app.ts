/**
 * The admission HTTP server's request handling: one POST path per kind and mode (routes.ts),
 * /healthz, /readyz and /metrics. Everything on the request path is in memory: the body, the
 * rules, the lookup, the metrics. Per-request logs are at debug level only.
 *
 * Admission requests go straight from node's request event to `handleAdmission`; express serves
 * everything else (health, readiness, metrics, 404s, and any admission request whose URL needs
 * express's parsing, which it hands to the same `handleAdmission`). Express's per-request setup
 * (prototype swap, router walk, URL parsing) adds nothing to a POST whose path is a fixed string,
 * and going around it took the server's CPU per review down by about 30 % (256 → 183 µs at
 * 2,000 reviews/s in bench/webhook-latency.ts; 1.0 → 0.7 CPU s per 1,000 apiserver creates in
 * bench/webhook-apiserver-overhead.ts).
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Lookup } from '../framework/types.ts';
import { silentLogger, type Logger } from '../log.ts';
import { admit } from './admit.ts';
import { BadReviewError } from './errors.ts';
import type { RequestOutcome, WebhookMetrics } from './metrics.ts';
import { deny, reviewBody, statusBody } from './response.ts';
import { decodeReview } from './review.ts';
import { admissionPath, KIND_ROUTES, routeForPath, type KindRoute } from './routes.ts';
import type { RuleSet } from './rules.ts';

/** The apiserver's own request limit; a review of a larger object cannot exist. */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface AdmissionAppOptions {
  rules: RuleSet;
  lookup: Lookup;
  /** True once the lookup's caches have synced: /readyz says 200 and admission requests are judged. */
  ready: () => boolean;
  metrics: WebhookMetrics;
  log?: Logger;
  maxBodyBytes?: number;
}

const OTHER_PATH = 'other';

function send(res: ServerResponse, status: number, body: string, close = false): void {
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads the whole body, refusing (413) one over `limit` bytes without buffering the excess. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    return Promise.reject(new BadReviewError('body-too-large', `request body of ${declared} bytes is over the limit of ${limit} bytes`, undefined, 413));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BadReviewError('body-too-large', `request body is over the limit of ${limit} bytes`, undefined, 413));
        return;
      }
      chunks.push(chunk);
    };
    let ended = false;
    req.on('data', onData);
    req.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    });
    req.once('error', reject);
    // A client that goes away mid-body: settle, so nothing waits for an 'end' that never comes.
    req.once('close', () => {
      if (!ended) reject(new BadReviewError('body-unreadable', 'the client closed the connection before the body ended'));
    });
  });
}

/** Answers one admission request on `route`; never rejects for a bad review (that is an answer too). */
type AdmissionHandler = (route: KindRoute, req: IncomingMessage, res: ServerResponse) => Promise<void>;

interface Handlers {
  handleAdmission: AdmissionHandler;
  /** The 500 reply for a request whose handling threw (logged). */
  internalError: (req: IncomingMessage, res: ServerResponse, err: unknown) => void;
  /** The express app: health, readiness, metrics, 404s, and admission paths in URLs it must parse. */
  app: Express;
}

/** The path of an origin-form request target (`/path?query`), as express's `req.path` has it. */
function pathOf(url: string | undefined): string | undefined {
  if (!url || url.charCodeAt(0) !== 47 /* / */) return undefined;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

function createHandlers(opts: AdmissionAppOptions): Handlers {
  const log = opts.log ?? silentLogger;
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { metrics } = opts;
  const ctx = { rules: opts.rules, lookup: opts.lookup };

  const finish = (res: ServerResponse, path: string, outcome: RequestOutcome, started: number, status: number, body: string, close = false) => {
    send(res, status, body, close);
    metrics.observeRequest(path, outcome, (performance.now() - started) / 1000);
  };

  async function handleAdmission(route: KindRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let body: string;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      const e = err instanceof BadReviewError ? err : new BadReviewError('body-unreadable', `cannot read the request body: ${(err as Error).message}`);
      finish(res, route.path, 'bad_request', started, e.httpStatus, statusBody(e.httpStatus, e.httpStatus === 413 ? 'RequestEntityTooLarge' : 'BadRequest', e.message), true);
      return;
    }
    let request;
    try {
      request = decodeReview(body, route);
    } catch (err) {
      const e = err instanceof BadReviewError ? err : new BadReviewError('malformed-json', String(err));
      if (log.enabled('debug')) log.debug('admission request refused', { path: route.path, code: e.code, uid: e.uid });
      if (e.uid) finish(res, route.path, 'bad_request', started, 200, reviewBody(deny(e.uid, 400, 'BadRequest', e.message)));
      else finish(res, route.path, 'bad_request', started, e.httpStatus, statusBody(e.httpStatus, 'BadRequest', e.message));
      return;
    }
    if (!opts.ready()) {
      const response = deny(request.uid, 503, 'ServiceUnavailable', 'the VirtRigaud webhook is starting: its caches have not synced yet; retry shortly');
      finish(res, route.path, 'unavailable', started, 200, reviewBody(response));
      return;
    }
    const result = admit(route, request, ctx);
    for (const rule of result.deniedBy) metrics.observeDenial(route.kind, rule);
    if (result.crash) log.error('admission rule failed', { kind: route.kind, mode: route.mode, uid: request.uid, error: result.crash });
    finish(res, route.path, result.outcome, started, 200, reviewBody(result.response));
    if (log.enabled('debug')) {
      log.debug('admission answered', {
        path: route.path, uid: request.uid, operation: request.operation, namespace: request.namespace, name: request.name,
        outcome: result.outcome, ms: +(performance.now() - started).toFixed(3),
      });
    }
  }

  const internalError = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    log.error('request failed', { method: req.method, path: pathOf(req.url) ?? req.url, error: err });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    finish(res, OTHER_PATH, 'error', performance.now(), 500, statusBody(500, 'InternalError', `internal error: ${(err as Error)?.message ?? String(err)}`));
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Exact paths only (express routes would also take other cases and a trailing slash).
  app.use((req, res, next) => {
    const route = req.method === 'POST' ? routeForPath(req.path) : undefined;
    if (!route) {
      next();
      return;
    }
    handleAdmission(route, req, res).catch(next);
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    if (opts.ready()) res.type('text/plain').send('ok');
    else res.status(503).type('text/plain').send('caches not synced');
  });
  app.get('/metrics', (_req, res, next) => {
    metrics.registry.metrics().then((text) => res.type(metrics.registry.contentType).send(text), next);
  });
  app.use((req: Request, res: Response) => {
    const message = req.method === 'POST'
      ? `no admission endpoint at ${req.path}; expected ${admissionPath('validate', '<kind>')} or ${admissionPath('mutate', '<kind>')}, <kind> one of: ${KIND_ROUTES.filter((r) => r.mode === 'validate').map((r) => r.lower).join(', ')}`
      : `no ${req.method} endpoint at ${req.path}`;
    finish(res, OTHER_PATH, 'not_found', performance.now(), 404, statusBody(404, 'NotFound', message));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => internalError(req, res, err));
  return { handleAdmission, internalError, app };
}

/** The express app alone (every path, admission included, through express). */
export function createAdmissionApp(opts: AdmissionAppOptions): Express {
  return createHandlers(opts).app;
}

/**
 * The server's request listener: a POST to an admission path (the apiserver's `/validate-…?timeout=5s`)
 * goes straight to the admission handler, anything else to the express app.
 */
export function createAdmissionListener(opts: AdmissionAppOptions): RequestListener {
  const { handleAdmission, internalError, app } = createHandlers(opts);
  return (req, res) => {
    const route = req.method === 'POST' ? routeForPath(pathOf(req.url) ?? '') : undefined;
    if (route) handleAdmission(route, req, res).catch((err: unknown) => internalError(req, res, err));
    else app(req, res);
  };
}
