/**
 * Test fixtures for the libvirt agent: the private libvirtd (scripts/stack/libvirtd.ts), a custom
 * test-driver node description with a storage pool and networks, and drivers opened on either the
 * daemon-hosted test driver or qemu:///system.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials } from '../../provider-agents/core/connection.ts';
import { createLogger, type Logger } from '../../provider-agents/core/log.ts';
import type { LibvirtConfig } from '../../provider-agents/libvirt/config.ts';
import { LibvirtDriver, type LibvirtDriverOptions } from '../../provider-agents/libvirt/driver.ts';
import { parseLibvirtUri } from '../../provider-agents/libvirt/rpc/uri.ts';
import { startLibvirtd, type Libvirtd, type LibvirtdOptions } from '../../scripts/stack/libvirtd.ts';

/** Fails with the install command when the Debian packages are missing. */
export function requireLibvirt(): void {
  try {
    execFileSync('libvirtd', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('libvirtd is not installed; run: bash scripts/install-libvirt.sh');
  }
}

export async function startTestLibvirtd(opts: LibvirtdOptions = {}): Promise<Libvirtd> {
  requireLibvirt();
  return startLibvirtd(opts);
}

/**
 * A test-driver node with pool `default` (a directory) and networks `default` (NAT, DHCP) and
 * `lab`. The daemon reads it per connection; each connection gets its own copy of this state.
 */
let nodeDir: string | undefined;

export function writeTestNode(): string {
  if (!nodeDir) {
    const dir = mkdtempSync(join(tmpdir(), 'vr-test-node-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    nodeDir = dir;
  }
  const file = join(nodeDir, 'node.xml');
  writeFileSync(file, `<node>
  <network>
    <name>default</name>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
    </ip>
  </network>
  <network>
    <name>lab</name>
    <bridge name='virbr1'/>
    <ip address='10.10.0.1' netmask='255.255.255.0'/>
  </network>
  <pool type='dir'>
    <name>default</name>
    <target><path>/vr-test-pool</path></target>
  </pool>
</node>
`);
  return file;
}

export const quietLogger = (): Logger => createLogger({ level: (process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'error', sink: (l) => process.stderr.write(`${l}\n`) });

export function driverConfig(endpoint: string, overrides: Partial<LibvirtConfig> = {}): LibvirtConfig {
  const uri = parseLibvirtUri(endpoint);
  return {
    uri,
    credentials: new Credentials({}),
    insecureSkipVerify: false,
    storagePool: 'default',
    domainType: uri.driver === 'test' ? 'test' : 'qemu',
    graphics: 'vnc',
    graphicsListen: '127.0.0.1',
    consoleHost: 'localhost',
    imageClone: 'linked',
    downloadDir: tmpdir(),
    keepaliveIntervalMs: 5000,
    keepaliveCount: 5,
    ...overrides,
  };
}

export function openDriver(endpoint: string, overrides: Partial<LibvirtDriverOptions> = {}): LibvirtDriver {
  return LibvirtDriver.open({ ...driverConfig(endpoint), log: quietLogger(), ...overrides });
}

/** An OperationContext for direct driver calls. */
export function opCtx(generation = 1n, signal = new AbortController().signal) {
  const progress: string[] = [];
  return { signal, generation, progress: (_p: number, what: string) => void progress.push(what), seen: progress };
}
