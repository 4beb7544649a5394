/**
 * Serves the provider.v1 Provider service (gRPC over HTTP/2, plaintext h2c) for one driver.
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Provider } from '../../proto/gen/provider/v1/provider_pb.ts';
import type { Driver } from '../core/driver.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { providerService } from './service.ts';

export interface GrpcServer {
  /** http://host:port, the base URL for a gRPC client. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface GrpcServerOptions {
  driver: Driver;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  log?: Logger;
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const log = opts.log ?? silentLogger;
  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    routes: (router) => {
      router.service(Provider, providerService(opts.driver, log));
    },
  });
  const server: Http2Server = createServer(handler);
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Clients keep HTTP/2 sessions open; end them so close() returns.
      for (const session of sessions) session.close();
    }),
  };
}
