/**
 * Test rules for the admission server (the real ones are tested on their own), AdmissionReview
 * builders, a throwaway CA, and an HTTPS client for the server tests.
 */
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { VirtualMachine, VMClass } from '../../api/objects.ts';
import type { FieldError, Mutator, Validator } from '../../webhook/framework/types.ts';
import { KIND_ROUTES, type RuleSet } from '../../webhook/server/index.ts';
import { serverExt, signLeaf } from '../../scripts/stack/pki.ts';

const run = promisify(execFile);

export const MAX_TEST_CPU = 64;

export const WARN_TEST_CPU = 32;

/** VMClass: cpu ≤ 64, a warning over 32; on DELETE, refused while a VM of the namespace uses it. */
export const testVmClassValidator: Validator<VMClass> = ({ operation, object, lookup }) => {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  const ns = object.metadata.namespace ?? '';
  if (operation === 'DELETE') {
    const users = lookup.virtualMachines(ns).filter((vm) => vm.spec.classRef?.name === object.metadata.name);
    if (users.length) {
      errors.push({
        field: 'metadata.name', type: 'FieldValueForbidden', rule: 'test-class-in-use',
        message: `VMClass is used by ${users.map((vm) => vm.metadata.name).slice(0, 5).join(', ')}`,
      });
    }
    return { errors, warnings };
  }
  if (object.spec.cpu > MAX_TEST_CPU) {
    errors.push({ field: 'spec.cpu', type: 'FieldValueInvalid', rule: 'test-cpu-max', message: `${object.spec.cpu}: must be at most ${MAX_TEST_CPU}` });
  }
  else if (object.spec.cpu > WARN_TEST_CPU) warnings.push(`spec.cpu ${object.spec.cpu} is over ${WARN_TEST_CPU}: few hosts fit this class`);
  return { errors, warnings };
};

/** VirtualMachine: unique disk names; a warning when the class is not (yet) in the cache. */
export const testVmValidator: Validator<VirtualMachine> = ({ object, lookup }) => {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  object.spec.disks?.forEach((disk, i) => {
    if (seen.has(disk.name)) {
      errors.push({ field: `spec.disks[${i}].name`, type: 'FieldValueDuplicate', rule: 'test-disk-names', message: JSON.stringify(disk.name) });
    }
    seen.add(disk.name);
  });
  const ns = object.spec.classRef.namespace ?? object.metadata.namespace ?? '';
  if (!lookup.vmClass(ns, object.spec.classRef.name)) {
    warnings.push(`VMClass "${object.spec.classRef.name}" not found in namespace "${ns}"; the VM waits for it`);
  }
  return { errors, warnings };
};

export const defaultPowerState: Mutator<VirtualMachine> = ({ object }) => {
  if (object.spec.powerState !== undefined) return false;
  object.spec.powerState = 'On';
  return true;
};

export const labelClass: Mutator<VirtualMachine> = ({ object }) => {
  const labels = (object.metadata.labels ??= {});
  if (labels['virtrigaud.io/class'] !== undefined) return false;
  labels['virtrigaud.io/class'] = object.spec.classRef.name;
  return true;
};

export const TEST_RULES: RuleSet = {
  validators: { VMClass: testVmClassValidator, VirtualMachine: testVmValidator },
  mutators: { VirtualMachine: [defaultPowerState, labelClass] },
};

export function aVmClass(name: string, spec: Partial<VMClass['spec']> = {}, namespace = 'ns'): VMClass {
  return { apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VMClass', metadata: { name, namespace }, spec: { cpu: 2, memory: '4Gi', firmware: 'UEFI', ...spec } };
}

export function aVirtualMachine(name: string, spec: Partial<VirtualMachine['spec']> = {}, namespace = 'ns'): VirtualMachine {
  return {
    apiVersion: 'infra.virtrigaud.io/v1beta1', kind: 'VirtualMachine', metadata: { name, namespace },
    spec: { classRef: { name: 'small' }, providerRef: { name: 'vsphere' }, imageRef: { name: 'ubuntu' }, ...spec },
  };
}

let uidCounter = 0;

/** An admission.k8s.io/v1 AdmissionReview for `object` (oldObject on UPDATE and DELETE). */
export function aReview<T extends { kind: string; metadata: { name?: string; namespace?: string } }>(object: T, opts: {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'; oldObject?: unknown; uid?: string;
} = {}): Record<string, unknown> {
  const operation = opts.operation ?? 'CREATE';
  const plural = KIND_ROUTES.find((r) => r.kind === object.kind)?.plural ?? `${object.kind.toLowerCase()}s`;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? `uid-${++uidCounter}`,
      kind: { group: 'infra.virtrigaud.io', version: 'v1beta1', kind: object.kind },
      resource: { group: 'infra.virtrigaud.io', version: 'v1beta1', resource: plural },
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      operation,
      userInfo: { username: 'test' },
      object: operation === 'DELETE' ? null : object,
      oldObject: operation === 'DELETE' ? object : (opts.oldObject ?? null),
      dryRun: false,
    },
  };
}

export interface TestTls {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

/** A throwaway CA and a serving certificate for 127.0.0.1 signed by it. */
export async function makeTestTls(): Promise<TestTls> {
  const dir = mkdtempSync(join(tmpdir(), 'virtrigaud-webhook-tls-'));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKey]);
  await run('openssl', ['req', '-x509', '-new', '-key', caKey, '-subj', '/CN=webhook-test-ca', '-days', '2', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caCert]);
  const leaf = await signServingCert(dir, 'serving', { cert: caCert, key: caKey });
  return { dir, caCert, caKey, cert: leaf.cert, key: leaf.key };
}

export function signServingCert(dir: string, name: string, ca: { cert: string; key: string }): Promise<{ cert: string; key: string }> {
  return signLeaf(dir, name, `/CN=${name}`, serverExt(['localhost'], ['127.0.0.1']), ca);
}

function peerFingerprint(socket: unknown): string | undefined {
  return (socket as TLSSocket | null)?.getPeerCertificate?.()?.fingerprint256;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented (post: only when asked). */
  fingerprint?: string;
}

/** POSTs `body` (a string is sent as is) over HTTPS; resolves whatever the server answers. */
export function post(url: string, body: unknown, opts: { ca: Buffer; agent?: Agent | false; chunked?: boolean; fingerprint?: boolean }): Promise<Reply> {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (!opts.chunked) headers['Content-Length'] = Buffer.byteLength(data);
    const req = request(url, { method: 'POST', ca: opts.ca, agent: opts.agent, headers }, (res) => {
      const fingerprint = opts.fingerprint ? peerFingerprint(res.socket) : undefined;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), fingerprint });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!opts.chunked) {
      req.end(data);
      return;
    }
    // Without Content-Length: 64 KiB chunks; the server may answer and close before the last.
    const buf = Buffer.from(data);
    for (let i = 0; i < buf.length; i += 65536) req.write(buf.subarray(i, i + 65536));
    req.end();
  });
}

export function get(url: string, ca: Buffer, agent?: Agent | false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent }, (res) => {
      const fingerprint = peerFingerprint(res.socket);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}
