/**
 * A throwaway PKI for a local control plane: a CA, the apiserver's serving certificate, an admin
 * client certificate (group system:masters) and the service-account signing key. Made with the
 * openssl CLI (EC P-256 keys: fast).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl is missing; install it with: apt-get install -y openssl');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

async function ecKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

/** Signs a leaf certificate for `subject` with the CA; `ext` is an x509v3 extension section. */
export async function signLeaf(
  dir: string,
  name: string,
  subject: string,
  ext: string,
  ca: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  await ecKey(key);
  await writeFile(extFile, ext);
  await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial',
    '-days', '365', '-sha256', '-extfile', extFile, '-out', cert]);
  return { cert, key };
}

export function serverExt(dnsNames: string[], ips: string[]): string {
  const san = [...dnsNames.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
  return `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`;
}

const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

export async function createPki(dir: string): Promise<Pki> {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await ecKey(caKey);
  await openssl(['req', '-x509', '-new', '-key', caKey, '-subj', '/CN=virtrigaud-local-ca', '-days', '365',
    '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', caCert]);
  const ca = { cert: caCert, key: caKey };
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPub = join(dir, 'sa.pub');
  const [serving, admin] = await Promise.all([
    signLeaf(dir, 'apiserver', '/CN=kube-apiserver',
      serverExt(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'], ['127.0.0.1', '10.0.0.1']), ca),
    signLeaf(dir, 'admin', '/O=system:masters/CN=virtrigaud-admin', CLIENT_EXT, ca),
    ecKey(serviceAccountKey),
  ]);
  await openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]);
  return {
    caCert, caKey,
    servingCert: serving.cert, servingKey: serving.key,
    adminCert: admin.cert, adminKey: admin.key,
    serviceAccountKey, serviceAccountPub,
  };
}
