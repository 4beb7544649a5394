/**
 * The floor of a webhook's cost: a node:https server that reads each AdmissionReview, parses it
 * and allows it (no rules, no lookups, no patch, no metrics library). Run as a child process so its
 * CPU is its own; prints `{"port":…}` once listening. GET /stats answers the connections (TLS
 * handshakes) and the reviews it has seen on /validate-… and /mutate-… paths.
 *
 *   node --import tsx bench/lib/allow-all-webhook.ts <cert> <key>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) {
  console.error('usage: allow-all-webhook.ts <cert> <key>');
  process.exit(2);
}
let connections = 0;
const reviews = { validate: 0, mutate: 0, other: 0 };
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
  if (req.method !== 'POST') {
    const body = JSON.stringify({ connections, ...reviews });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    reviews[req.url?.startsWith('/validate-') ? 'validate' : req.url?.startsWith('/mutate-') ? 'mutate' : 'other']++;
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: string } };
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid ?? '', allowed: true } });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.on('secureConnection', () => connections++);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.on('SIGTERM', () => process.exit(0));
