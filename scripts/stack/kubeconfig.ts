/** Kubeconfig files and authenticated HTTPS probes for the local control plane. */
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { stringify } from 'yaml';

export interface ClientIdentity {
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
}

const b64 = (path: string) => readFileSync(path).toString('base64');

/** Writes a self-contained kubeconfig (certificates embedded, so it can be copied anywhere). */
export function writeKubeconfig(path: string, id: ClientIdentity, user = 'admin'): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'virtrigaud-local', cluster: { server: id.server, 'certificate-authority-data': b64(id.caCert) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(id.clientCert), 'client-key-data': b64(id.clientKey) } }],
    contexts: [{ name: 'virtrigaud-local', context: { cluster: 'virtrigaud-local', user, namespace: 'default' } }],
    'current-context': 'virtrigaud-local',
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

/** GET `path` on the server with the client identity; resolves the status code and body. */
export function httpsGet(id: ClientIdentity, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, id.server);
    const req = request(
      url,
      { ca: readFileSync(id.caCert), cert: readFileSync(id.clientCert), key: readFileSync(id.clientKey), timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
