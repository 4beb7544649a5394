/**
 * The libvirt client over each remote transport against the real libvirtd: TLS (libvirtd's own
 * listener, client certificate required), TCP (libvirtd asking for SASL, which we refuse with a
 * clear reason), and SSH through an in-test SSH server that bridges to libvirtd's socket as
 * `nc -U` would. Bad credentials give a clear reason and never the secret, in errors or logs.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials } from '../../provider-agents/core/connection.ts';
import { TransientError } from '../../provider-agents/core/errors.ts';
import { createLogger } from '../../provider-agents/core/log.ts';
import type { LibvirtDriver } from '../../provider-agents/libvirt/driver.ts';
import { P } from '../../provider-agents/libvirt/rpc/protocol.ts';
import type { Libvirtd } from '../../scripts/stack/libvirtd.ts';
import { createPki, type Pki } from '../../scripts/stack/pki.ts';
import { driverConfig, openDriver, startTestLibvirtd } from '../support/libvirt.ts';
import { keyPair, startSshServer, type TestSshServer } from '../support/libvirt-ssh.ts';

const PASSWORD = 'Tr0ub4dor&3-not-in-logs';

describe('libvirt transports: TLS, TCP and SSH (real libvirtd)', function () {
  this.timeout(30_000);
  let libvirtd: Libvirtd;
  let dir: string;
  let pki: Pki;
  let otherPki: Pki;
  let ssh: TestSshServer;
  const clientKey = keyPair();
  const drivers: LibvirtDriver[] = [];
  const logLines: string[] = [];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vr-libvirt-tls-'));
    [pki, otherPki] = await Promise.all([createPki(mkdtempSync(join(dir, 'a-'))), createPki(mkdtempSync(join(dir, 'b-')))]);
    libvirtd = await startTestLibvirtd({ tcpAuth: 'sasl', tls: { caFile: pki.caCert, certFile: pki.servingCert, keyFile: pki.servingKey } });
    if (!libvirtd.tcpPort || !libvirtd.tlsPort) {
      // A libvirtd someone else started (without these listeners) is reused, never restarted.
      this.skip();
    }
    ssh = await startSshServer({ user: 'virt', password: PASSWORD, authorizedKey: clientKey.publicKey, socket: libvirtd.socket });
  });
  after(async () => {
    for (const d of drivers) await d.close();
    await ssh?.close();
    await libvirtd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = (endpoint: string, credentials: Record<string, string>, insecureSkipVerify = false) => {
    const d = openDriver(endpoint, {
      ...driverConfig(endpoint, { credentials: new Credentials(credentials), insecureSkipVerify }),
      log: createLogger({ level: 'debug', sink: (l) => logLines.push(l) }),
      connection: { callWaitMs: 3000, connectTimeoutMs: 3000, backoffInitialMs: 200, backoffMaxMs: 1000 },
    });
    drivers.push(d);
    return d;
  };
  const file = (p: string) => readFileSync(p, 'utf8');
  const rejectsWith = async (p: Promise<unknown>, reason: string, message: RegExp) => {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof TransientError, `expected a TransientError, got ${String(err)}`);
      assert.equal(err.reason, reason, err.message);
      assert.match(err.message, message);
      assert.ok(!err.message.includes(PASSWORD) && !err.message.includes(clientKey.privateKey.slice(40, 80)), 'no secret in the error');
      return true;
    });
  };

  it('TLS with the CA and a client certificate: full RPC over node:tls', async () => {
    const d = open(`test+tls://127.0.0.1:${libvirtd.tlsPort}/default`, { 'ca.crt': file(pki.caCert), 'tls.crt': file(pki.adminCert), 'tls.key': file(pki.adminKey) });
    assert.match((await d.validate()).version, /^test /);
    const domains = await d.conn.call(P.connectListAllDomains, { flags: 0 });
    assert.deepEqual(domains.map((x) => x.name), ['test']);
  });

  it('TLS refuses a server whose certificate another CA signed', async () => {
    const d = open(`test+tls://127.0.0.1:${libvirtd.tlsPort}/default`, { 'ca.crt': file(otherPki.caCert), 'tls.crt': file(pki.adminCert), 'tls.key': file(pki.adminKey) });
    await rejectsWith(d.validate(), 'TLSVerificationFailed', /TLS verification of libvirtd at 127\.0\.0\.1:\d+ failed.*ca\.crt/);
  });

  it('TLS with a client certificate libvirtd does not trust is refused with a reason', async () => {
    const d = open(`test+tls://127.0.0.1:${libvirtd.tlsPort}/default`, { 'ca.crt': file(pki.caCert), 'tls.crt': file(otherPki.adminCert), 'tls.key': file(otherPki.adminKey) });
    await rejectsWith(d.validate(), 'AuthenticationFailed', /refused|closed|reset/i);
  });

  it('TCP to a listener that wants SASL fails with AuthenticationRequired and says what to use instead', async () => {
    const d = open(`test+tcp://127.0.0.1:${libvirtd.tcpPort}/default`, {});
    await rejectsWith(d.validate(), 'AuthenticationRequired', /requires SASL authentication.*qemu\+ssh/);
  });

  it('SSH with a private key and a known host key: full RPC through the SSH channel', async () => {
    const d = open(`test+ssh://virt@127.0.0.1:${ssh.port}/default?socket=${libvirtd.socket}`, { 'ssh-privatekey': clientKey.privateKey, known_hosts: ssh.knownHosts });
    assert.match((await d.validate()).version, /^test /);
    assert.deepEqual((await d.conn.call(P.connectListAllDomains, { flags: 0 })).map((x) => x.name), ['test']);
    assert.ok(ssh.commands.at(-1)!.includes(`nc -U '${libvirtd.socket}'`), `remote command: ${ssh.commands.at(-1)}`);
  });

  it('SSH with a password works too', async () => {
    const d = open(`test+ssh://virt@127.0.0.1:${ssh.port}/default?socket=${libvirtd.socket}&proxy=native`, { password: PASSWORD, known_hosts: ssh.knownHosts });
    assert.match((await d.validate()).version, /^test /);
    assert.equal(ssh.commands.at(-1), `exec nc -U '${libvirtd.socket}'`);
  });

  it('SSH with a wrong password: AuthenticationFailed, and the password appears in no error or log line', async () => {
    const d = open(`test+ssh://virt@127.0.0.1:${ssh.port}/default?socket=${libvirtd.socket}`, { password: `${PASSWORD}-wrong`, known_hosts: ssh.knownHosts });
    await rejectsWith(d.validate(), 'AuthenticationFailed', /SSH login to virt@127\.0\.0\.1:\d+ \(SSH\) was refused: the password/);
    assert.ok(logLines.length > 0);
    assert.ok(logLines.every((l) => !l.includes(PASSWORD)), 'no log line carries the password');
  });

  it('SSH to a host whose key is not in known_hosts is refused (HostKeyMismatch); without known_hosts it will not try', async () => {
    const stranger = `[127.0.0.1]:${ssh.port} ssh-ed25519 ${Buffer.alloc(51, 7).toString('base64')}\n`;
    const d = open(`test+ssh://virt@127.0.0.1:${ssh.port}/default?socket=${libvirtd.socket}`, { 'ssh-privatekey': clientKey.privateKey, known_hosts: stranger });
    await rejectsWith(d.validate(), 'HostKeyMismatch', /host key of 127\.0\.0\.1:\d+ is not in credential key "known_hosts"/);
    const blind = open(`test+ssh://virt@127.0.0.1:${ssh.port}/default?socket=${libvirtd.socket}`, { 'ssh-privatekey': clientKey.privateKey });
    await rejectsWith(blind.validate(), 'CredentialsMissing', /host-key verification needs credential key "known_hosts"/);
    const trusting = open(`test+ssh://virt@127.0.0.1:${ssh.port}/default?socket=${libvirtd.socket}`, { 'ssh-privatekey': clientKey.privateKey }, true);
    assert.match((await trusting.validate()).version, /^test /, 'insecureSkipVerify skips the host-key check');
  });
});
