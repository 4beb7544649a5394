/** A minimal keep-alive HTTPS client for the apiserver, so a benchmark measures the server, not a client library. */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { ClientIdentity } from '../../scripts/stack/kubeconfig.ts';

export class KubeHttp {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(id: ClientIdentity, maxSockets: number) {
    this.base = new URL(id.server);
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      ca: readFileSync(id.caCert),
      cert: readFileSync(id.clientCert),
      key: readFileSync(id.clientKey),
    });
  }

  /** GETs a text resource (e.g. /metrics). */
  getText(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: this.base.hostname, port: this.base.port, path, method: 'GET', agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => ((res.statusCode ?? 0) >= 300 ? reject(new Error(`GET ${path}: ${res.statusCode}`)) : resolve(text)));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Sends a JSON request; rejects with the apiserver's message on a non-2xx status. */
  send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.base.hostname, port: this.base.port, path, method, agent: this.agent,
          headers: payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
            else resolve(text ? JSON.parse(text) : undefined);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Follows a watch (GET …?watch=1) and calls `onEvent` for each event until `stop()` is called.
   * Resolves once the stream is open.
   */
  watch(path: string, onEvent: (type: string, object: Record<string, unknown>) => void, onEnd?: () => void): Promise<{ stop: () => void }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.base.hostname, port: this.base.port, path, method: 'GET', agent: false,
          ca: this.agent.options.ca, cert: this.agent.options.cert, key: this.agent.options.key },
        (res) => {
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`watch ${path}: ${res.statusCode}`));
            return;
          }
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (line.trim()) {
                const ev = JSON.parse(line) as { type: string; object: Record<string, unknown> };
                onEvent(ev.type, ev.object);
              }
            }
          });
          // The apiserver closes a watcher that falls behind: tell the caller, who may re-list.
          res.on('end', () => onEnd?.());
          resolve({ stop: () => req.destroy() });
        },
      );
      req.on('error', (err) => {
        if (!req.destroyed) reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
