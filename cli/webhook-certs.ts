/**
 * `virtrigaud webhook-certs`: the self-signed fallback for the webhook's serving certificate
 * (kustomize/components/self-signed-certs runs it as a Job). openssl makes an EC P-256 CA and a
 * leaf for the Service's DNS names; the Secret is kubernetes.io/tls with ca.crt; every webhook of
 * both configurations gets the CA as caBundle. A certificate still valid for 30 days is kept.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { kubeErrorMessage } from './kube.ts';
import type { Output } from './vm.ts';

const run = promisify(execFile);
const KEEP_IF_VALID_MS = 30 * 24 * 3600 * 1000;

export interface WebhookCertsOptions {
  namespace: string;
  service: string;
  secret: string;
  webhookName: string;
  days: number;
  now?: () => number;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the openssl command is missing (the VirtRigaud image has it; elsewhere: apt-get install -y openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() ?? e.message}`);
  }
}

/** A CA and a serving certificate for `dnsNames`, as PEM text. */
export async function makeServingCertificate(dnsNames: string[], days: number): Promise<{ ca: string; cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vr-webhook-certs-'));
  try {
    const ec = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out'];
    await openssl([...ec, 'ca.key'], dir);
    await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=virtrigaud-webhook-ca', '-days', String(days), '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'], dir);
    await openssl([...ec, 'tls.key'], dir);
    await openssl(['req', '-new', '-key', 'tls.key', '-subj', `/CN=${dnsNames[0]}`, '-out', 'tls.csr'], dir);
    await writeFile(join(dir, 'ext'), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}\n`);
    await openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-sha256', '-extfile', 'ext', '-out', 'tls.crt'], dir);
    const [ca, cert, key] = await Promise.all(['ca.crt', 'tls.crt', 'tls.key'].map((f) => readFile(join(dir, f), 'utf8')));
    return { ca: ca!, cert: cert!, key: key! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const text = (secret: V1Secret | undefined, key: string) => (secret?.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined);

/** The stored certificate when it names every DNS name and stays valid long enough. */
function reusable(secret: V1Secret | undefined, dnsNames: string[], now: number): { ca: string } | undefined {
  const ca = text(secret, 'ca.crt');
  const cert = text(secret, 'tls.crt');
  if (!ca || !cert || !text(secret, 'tls.key')) return undefined;
  try {
    const x = new X509Certificate(cert);
    const names = (x.subjectAltName ?? '').split(',').map((s) => s.trim().replace(/^DNS:/, ''));
    if (!dnsNames.every((d) => names.includes(d))) return undefined;
    if (Date.parse(x.validTo) - now < KEEP_IF_VALID_MS) return undefined;
    if (!x.verify(new X509Certificate(ca).publicKey)) return undefined;
    return { ca };
  } catch {
    return undefined;
  }
}

export async function webhookCerts(kc: KubeConfig, opts: WebhookCertsOptions, io: Output): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const { namespace, secret: secretName } = opts;
  const dnsNames = [`${opts.service}.${namespace}.svc`, `${opts.service}.${namespace}.svc.cluster.local`];
  try {
    let existing: V1Secret | undefined;
    try {
      existing = await core.readNamespacedSecret({ namespace, name: secretName });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    let ca = reusable(existing, dnsNames, (opts.now ?? Date.now)())?.ca;
    if (ca) {
      io.out(`Secret ${namespace}/${secretName} holds a certificate valid for 30 more days; keeping it\n`);
    } else {
      const made = await makeServingCertificate(dnsNames, opts.days);
      ca = made.ca;
      const data = { 'tls.crt': b64(made.cert), 'tls.key': b64(made.key), 'ca.crt': b64(made.ca) };
      if (existing) {
        await core.patchNamespacedSecret({ namespace, name: secretName, body: { data } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      } else {
        await core.createNamespacedSecret({ namespace, body: { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: secretName, namespace, labels: { 'app.kubernetes.io/part-of': 'virtrigaud' } }, data } });
      }
      io.out(`wrote Secret ${namespace}/${secretName}: a new self-signed CA and a certificate for ${dnsNames.join(', ')}, valid ${opts.days} days\n`);
    }
    const caBundle = b64(ca);
    const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    const validating = await admission.readValidatingWebhookConfiguration({ name: opts.webhookName });
    const vPatch = (validating.webhooks ?? []).map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }));
    if (vPatch.length) await admission.patchValidatingWebhookConfiguration({ name: opts.webhookName, body: vPatch }, jsonPatch);
    const mutating = await admission.readMutatingWebhookConfiguration({ name: opts.webhookName });
    const mPatch = (mutating.webhooks ?? []).map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }));
    if (mPatch.length) await admission.patchMutatingWebhookConfiguration({ name: opts.webhookName, body: mPatch }, jsonPatch);
    io.out(`caBundle set on ${vPatch.length} validating and ${mPatch.length} mutating webhooks of ${opts.webhookName}\n`);
    return 0;
  } catch (err) {
    io.err(`webhook-certs for ${namespace}/${opts.service} failed: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
}
