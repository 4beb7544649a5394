/** Credentials read without client-node: kubeconfig files, token files, in-cluster, and the hand-off for the rest. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterAuth } from '../../kube/auth.ts';
import { loadKubeAuth } from '../../kube/index.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('kube credentials (kube/auth.ts)', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-auth-'));
    delete process.env.KUBECONFIG;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env = { ...saved };
  });

  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const kubeconfig = (cluster: string, user: string) => write('config', `apiVersion: v1
kind: Config
current-context: work
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: work
  context: {cluster: c1, user: u1}
clusters:
- name: nowhere
  cluster: {server: "https://wrong.example:1"}
- name: c1
  cluster: ${cluster}
users:
- name: u1
  user: ${user}
`);

  it('reads the current context: server, CA and client certificate from inline data', async () => {
    const file = kubeconfig(`{server: "https://10.0.0.1:6443/prefix", certificate-authority-data: ${b64('CA PEM')}}`,
      `{client-certificate-data: ${b64('CERT PEM')}, client-key-data: ${b64('KEY PEM')}}`);
    const auth = await loadKubeAuth(file);
    assert.equal(auth.server.href, 'https://10.0.0.1:6443/prefix');
    const o = await auth.options();
    assert.equal(String(o.ca), 'CA PEM');
    assert.equal(String(o.cert), 'CERT PEM');
    assert.equal(String(o.key), 'KEY PEM');
    assert.equal(o.rejectUnauthorized, undefined);
  });

  it('reads certificate files relative to the kubeconfig, and a token file again at every call', async () => {
    mkdirSync(join(dir, 'pki'));
    write('pki/ca.crt', 'CA FROM FILE');
    write('token', 'first\n');
    const file = kubeconfig('{server: "https://k:443", certificate-authority: pki/ca.crt, insecure-skip-tls-verify: false}', '{tokenFile: token}');
    process.env.KUBECONFIG = file;
    const auth = await loadKubeAuth();
    assert.equal(String((await auth.options()).ca), 'CA FROM FILE');
    assert.deepEqual((await auth.options()).headers, { authorization: 'Bearer first' });
    write('token', 'rotated\n');
    assert.deepEqual((await auth.options()).headers, { authorization: 'Bearer rotated' });
  });

  it('honours insecure-skip-tls-verify, tls-server-name and basic credentials', async () => {
    const file = kubeconfig('{server: "https://k:443", insecure-skip-tls-verify: true, tls-server-name: api.internal}', '{username: admin, password: s3cret}');
    const o = await (await loadKubeAuth(file)).options();
    assert.equal(o.rejectUnauthorized, false);
    assert.equal(o.servername, 'api.internal');
    assert.equal(o.auth, 'admin:s3cret');
  });

  it('hands exec plugins to client-node (loaded only then), which runs the plugin', async () => {
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}\'\n', { mode: 0o755 });
    const file = kubeconfig('{server: "https://k:443", insecure-skip-tls-verify: true}', `{exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}}}`);
    const o = await (await loadKubeAuth(file)).options();
    assert.equal((o.headers as Record<string, string>).Authorization ?? (o.headers as Record<string, string>).authorization, 'Bearer from-plugin');
  });

  it('names the problem when the current context or its cluster is missing', async () => {
    const noContext = write('bad1', 'apiVersion: v1\nkind: Config\ncurrent-context: gone\ncontexts: []\nclusters: []\nusers: []\n');
    await assert.rejects(loadKubeAuth(noContext), /current-context "gone" is not among its contexts/);
    const noServer = write('bad2', 'apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: []\nusers: []\n');
    await assert.rejects(loadKubeAuth(noServer), /names cluster "c", which has no server/);
  });

  it('in a pod: the service host and port, the mounted CA, and the projected token read again each time', async () => {
    process.env.KUBERNETES_SERVICE_HOST = 'fd00::1';
    process.env.KUBERNETES_SERVICE_PORT = '6443';
    write('ca.crt', 'CLUSTER CA');
    write('token', 'sa-token-1');
    const auth = inClusterAuth(dir);
    assert.equal(auth.server.href, 'https://[fd00::1]:6443/');
    assert.equal(String((await auth.options()).ca), 'CLUSTER CA');
    write('token', 'sa-token-2');
    assert.deepEqual((await auth.options()).headers, { authorization: 'Bearer sa-token-2' });
  });

  it('without a kubeconfig or a pod, says where credentials are looked for', async () => {
    process.env.HOME = dir;
    delete process.env.KUBERNETES_SERVICE_HOST;
    await assert.rejects(loadKubeAuth(), /no kubeconfig/);
  });
});
