/**
 * The HTTPS admission server: the request listener of app.ts behind TLS from files, the
 * certificate swapped in (server.setSecureContext) when the files change, closed gracefully.
 *
 * HTTP/1.1 only: the apiserver calls webhooks over HTTP/1.1 (it sets NextProtos to http/1.1 for
 * every Service-referenced and non-loopback webhook, kubernetes/kubernetes#75791) and keeps its
 * connections alive, so a connection's TLS handshake is paid once, not per review.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { silentLogger } from '../log.ts';
import { createAdmissionListener, type AdmissionAppOptions } from './app.ts';
import { loadTlsPair, watchTlsFiles, type TlsFiles } from './tls.ts';

export interface WebhookServerOptions extends AdmissionAppOptions, TlsFiles {
  host: string;
  /** 0 picks a free port (see WebhookServer.port). */
  port: number;
  /** How often the certificate files are re-read besides on file events. */
  tlsPollMs?: number;
  /** How long close() lets requests in flight finish before cutting connections. */
  shutdownGraceMs?: number;
}

export interface WebhookServer {
  host: string;
  port: number;
  /** `https://host:port` */
  url: string;
  server: Server;
  /** Re-reads the certificate files now; true when a new pair was taken. */
  reloadTls(): boolean;
  close(): Promise<void>;
}

/** Longer than the apiserver's idle connection reuse, so its kept-alive connections are not cut under it. */
const KEEP_ALIVE_MS = 65_000;
const REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const log = opts.log ?? silentLogger;
  const pair = loadTlsPair(opts);
  const listener = createAdmissionListener(opts);
  // Requests in flight per connection, so close() can end every connection with none at once: node's
  // closeIdleConnections() skips a connection that never carried a request (the apiserver's
  // client opens spares), and close() would wait for the grace period to cut those.
  const inFlight = new Map<TLSSocket, number>();
  let closing = false;
  const track = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroySoon();
    });
    listener(req, res);
  };
  const server = createServer({ ...pair, minVersion: 'TLSv1.2' }, track);
  server.on('secureConnection', (socket: TLSSocket) => {
    // A handshake that completes while closing: no request has started on it yet.
    if (closing) {
      socket.destroy();
      return;
    }
    opts.metrics.observeConnection();
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // A client that fails the handshake or sends garbage costs its own connection, nothing more.
  server.on('tlsClientError', (err) => {
    if (log.enabled('debug')) log.debug('tls handshake failed', { error: err });
  });

  const watcher = watchTlsFiles(opts, pair, {
    pollMs: opts.tlsPollMs,
    onChange: (next) => {
      server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
      opts.metrics.observeTlsReload('ok');
      log.info('serving certificate reloaded', { certFile: opts.certFile });
    },
    onError: (err) => {
      opts.metrics.observeTlsReload('failed');
      log.warn('serving certificate not reloaded', { error: err });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err) => {
    watcher.close();
    throw err;
  });
  server.on('error', (err) => log.error('server error', { error: err }));
  const { port } = server.address() as AddressInfo;
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      watcher.close();
      const force = setTimeout(() => {
        for (const socket of inFlight.keys()) socket.destroy();
        server.closeAllConnections();
      }, opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
    });
    return closed;
  };
  return { host: opts.host, port, url: `https://${urlHost}:${port}`, server, reloadTls: watcher.check, close };
}
