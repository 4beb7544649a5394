/** libvirt URIs, the agent's libvirt settings, SSH known_hosts matching and error mapping. */
import { strict as assert } from 'node:assert';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../provider-agents/core/config.ts';
import { NotSupportedError, PermanentError, TransientError } from '../../provider-agents/core/errors.ts';
import { loadLibvirtConfig } from '../../provider-agents/libvirt/config.ts';
import { asAgentError } from '../../provider-agents/libvirt/errors.ts';
import { ConnectionError, LibvirtError } from '../../provider-agents/libvirt/rpc/errors.ts';
import { hostKeyKnown } from '../../provider-agents/libvirt/rpc/known-hosts.ts';
import { parseLibvirtUri } from '../../provider-agents/libvirt/rpc/uri.ts';
import { sshRemoteCommand } from '../../provider-agents/libvirt/rpc/transport.ts';

const remoteError = (code: number, message: string) => new LibvirtError('DomainDefineXML', { code, domain: 10, message, level: 2, str1: undefined, str2: undefined, str3: undefined, int1: 0, int2: 0 });

describe('libvirt URIs', () => {
  it('maps each form to a transport, endpoint and the name sent to libvirtd', () => {
    const cases: [string, object][] = [
      ['qemu:///system', { transport: 'unix', socket: '/var/run/libvirt/libvirt-sock', remoteName: 'qemu:///system' }],
      ['test+unix:///default?socket=/tmp/s', { transport: 'unix', socket: '/tmp/s', remoteName: 'test:///default' }],
      ['test+unix:///tmp/node.xml?socket=/tmp/s', { transport: 'unix', remoteName: 'test:///tmp/node.xml' }],
      ['qemu+tcp://kvm1/system', { transport: 'tcp', host: 'kvm1', port: 16509, remoteName: 'qemu:///system' }],
      ['qemu+tls://kvm1:1234/system?no_verify=1', { transport: 'tls', host: 'kvm1', port: 1234, noVerify: true }],
      ['qemu://kvm1/system', { transport: 'tls', port: 16514 }],
      ['qemu+ssh://ops@kvm1/system', { transport: 'ssh', host: 'kvm1', port: 22, user: 'ops', remoteName: 'qemu:///system', sshProxy: 'auto' }],
      ['qemu+ssh://[::1]:2222/system?proxy=native', { transport: 'ssh', host: '::1', port: 2222, sshProxy: 'native' }],
    ];
    for (const [uri, want] of cases) {
      const got = parseLibvirtUri(uri) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${uri}: ${k}`);
    }
  });

  it('refuses what it cannot serve, saying why', () => {
    assert.throws(() => parseLibvirtUri('not a uri'), /not a libvirt URI/);
    assert.throws(() => parseLibvirtUri('qemu+libssh2://h/system'), /transport "libssh2" is not supported/);
    assert.throws(() => parseLibvirtUri('qemu+ssh:///system'), /needs a host/);
    assert.throws(() => parseLibvirtUri('qemu:///session'), /session.*not supported/);
  });

  it('never shows a password given in the URI', () => {
    const uri = parseLibvirtUri('qemu+ssh://ops:hunter2@kvm1/system');
    assert.ok(!uri.display.includes('hunter2'), uri.display);
  });

  it('quotes the socket path and URI in the remote bridge command', () => {
    const cmd = sshRemoteCommand(parseLibvirtUri("qemu+ssh://kvm1/system?socket=/run/it's here"));
    assert.equal(cmd, `if command -v virt-ssh-helper >/dev/null 2>&1; then exec virt-ssh-helper 'qemu:///system'; else exec nc -U '/run/it'\\''s here'; fi`);
  });
});

describe('libvirt agent settings', () => {
  it('reads the endpoint, credentials and defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vr-creds-'));
    writeFileSync(join(dir, 'ssh-privatekey'), 'KEY');
    const c = loadLibvirtConfig({ AGENT_PROVIDER_ENDPOINT: 'qemu+ssh://ops@kvm1/system', AGENT_CREDENTIALS_DIR: dir });
    rmSync(dir, { recursive: true });
    assert.equal(c.uri.transport, 'ssh');
    assert.equal(c.credentials.get('ssh-privatekey'), 'KEY');
    assert.equal(c.storagePool, 'default');
    assert.equal(c.domainType, 'kvm');
    assert.equal(c.consoleHost, 'kvm1');
    assert.equal(c.imageClone, 'linked');
    assert.equal(String(c.credentials), '[credentials: ssh-privatekey]');
  });

  it('lists every problem at once', () => {
    assert.throws(() => loadLibvirtConfig({ AGENT_PROVIDER_ENDPOINT: 'qemu+bogus://x/system', LIBVIRT_DOMAIN_TYPE: 'xen', LIBVIRT_KEEPALIVE_COUNT: '0' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 3, e.message);
      return true;
    });
    assert.throws(() => loadLibvirtConfig({}), /AGENT_PROVIDER_ENDPOINT is required/);
  });
});

describe('SSH known_hosts', () => {
  const key = randomBytes(51);
  const b64 = key.toString('base64');
  it('matches plain, port and wildcard entries, and not other hosts or keys', () => {
    assert.ok(hostKeyKnown(`kvm1,10.0.0.5 ssh-ed25519 ${b64}`, 'kvm1', 22, key));
    assert.ok(hostKeyKnown(`[kvm1]:2222 ssh-ed25519 ${b64}`, 'kvm1', 2222, key));
    assert.ok(!hostKeyKnown(`kvm1 ssh-ed25519 ${b64}`, 'kvm1', 2222, key), 'port 22 entry does not vouch for 2222');
    assert.ok(hostKeyKnown(`*.lab.example ssh-ed25519 ${b64}`, 'kvm1.lab.example', 22, key));
    assert.ok(!hostKeyKnown(`*.lab.example,!kvm1.lab.example ssh-ed25519 ${b64}`, 'kvm1.lab.example', 22, key), 'negated');
    assert.ok(!hostKeyKnown(`kvm1 ssh-ed25519 ${randomBytes(51).toString('base64')}`, 'kvm1', 22, key), 'other key');
    assert.ok(!hostKeyKnown(`@cert-authority kvm1 ssh-ed25519 ${b64}`, 'kvm1', 22, key), 'markers are not trusted');
    assert.ok(!hostKeyKnown(`k.m1 ssh-ed25519 ${b64}`, 'kxm1', 22, key), 'a dot is a dot');
  });

  it('matches hashed entries (ssh-keygen -H)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[kvm1]:2222').digest('base64');
    const line = `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${b64}`;
    assert.ok(hostKeyKnown(line, 'kvm1', 2222, key));
    assert.ok(!hostKeyKnown(line, 'kvm2', 2222, key));
  });
});

describe('libvirt errors as agent errors', () => {
  it('retries connection and hypervisor trouble, fails bad specs, names unsupported calls', () => {
    const t = asAgentError(new ConnectionError('connection to x closed', 'ConnectionClosed'), 'create VM u');
    assert.ok(t instanceof TransientError && t.reason === 'ProviderUnreachable' && t.message === 'create VM u: connection to x closed');
    const p = asAgentError(remoteError(27, 'XML error: bad'), 'create VM u');
    assert.ok(p instanceof PermanentError && p.reason === 'InvalidSpec');
    const n = asAgentError(remoteError(3, 'this function is not supported by the connection driver: virDomainBlockResize'), 'grow disk');
    assert.ok(n instanceof NotSupportedError && n.reason === 'NotSupported' && /grow disk/.test(n.message));
    const g = asAgentError(remoteError(42, 'Domain not found'), 'power on');
    assert.ok(g instanceof TransientError && g.reason === 'VMVanished', 'a vanished domain is retried, never taken as done');
    const h = asAgentError(remoteError(1, 'internal error: monitor'), 'snapshot');
    assert.ok(h instanceof TransientError && h.reason === 'HypervisorError');
  });
});
