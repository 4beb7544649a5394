/**
 * The libvirt agent's settings, from its environment (every problem reported at once):
 *
 *   AGENT_PROVIDER_ENDPOINT     the libvirt URI (qemu:///system, qemu+ssh://user@host/system, qemu+tls://…)
 *   AGENT_CREDENTIALS_DIR       the Provider's credential Secret (core/connection.ts)
 *   LIBVIRT_STORAGE_POOL        pool for VM disks, cloud-init seeds and images without one (default "default")
 *   LIBVIRT_DOMAIN_TYPE         kvm | qemu (TCG, no hardware virtualisation) (default kvm; the test driver uses "test")
 *   LIBVIRT_GRAPHICS            vnc | spice | none (default vnc)
 *   LIBVIRT_GRAPHICS_LISTEN     address the console listens on (default 127.0.0.1)
 *   LIBVIRT_CONSOLE_HOST        host name put in console URLs (default: the URI's host, or localhost)
 *   LIBVIRT_IMAGE_CLONE         linked | full: how a VM's boot disk is made from its image (default linked)
 *   LIBVIRT_DOWNLOAD_DIR        scratch space for image downloads (default the OS temp dir)
 *   LIBVIRT_KEEPALIVE_INTERVAL_S, LIBVIRT_KEEPALIVE_COUNT   (default 5 and 5: a silent libvirtd is dropped after 25 s)
 */
import { tmpdir } from 'node:os';
import { ConfigError } from '../core/config.ts';
import { loadConnection, type Credentials } from '../core/connection.ts';
import { parseLibvirtUri, UriError, type LibvirtUri } from './rpc/uri.ts';

export interface LibvirtConfig {
  uri: LibvirtUri;
  credentials: Credentials;
  insecureSkipVerify: boolean;
  storagePool: string;
  domainType: string;
  graphics: 'vnc' | 'spice' | 'none';
  graphicsListen: string;
  consoleHost: string;
  imageClone: 'linked' | 'full';
  downloadDir: string;
  keepaliveIntervalMs: number;
  keepaliveCount: number;
}

type Env = Record<string, string | undefined>;

export function loadLibvirtConfig(env: Env): LibvirtConfig {
  const conn = loadConnection(env, { endpointRequired: true });
  const problems: string[] = [];
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = env[name]?.trim();
    if (!v) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v as T;
  };
  const positive = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) {
      problems.push(`${name} must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return Number(raw);
  };
  let uri: LibvirtUri | undefined;
  try {
    uri = parseLibvirtUri(conn.endpoint);
  } catch (err) {
    problems.push(`AGENT_PROVIDER_ENDPOINT: ${err instanceof UriError ? err.message : String(err)}`);
  }
  const domainType = oneOf('LIBVIRT_DOMAIN_TYPE', ['kvm', 'qemu'], 'kvm');
  const config = {
    credentials: conn.credentials,
    insecureSkipVerify: conn.insecureSkipVerify,
    storagePool: env.LIBVIRT_STORAGE_POOL?.trim() || 'default',
    domainType: uri?.driver === 'test' ? 'test' : domainType,
    graphics: oneOf('LIBVIRT_GRAPHICS', ['vnc', 'spice', 'none'], 'vnc'),
    graphicsListen: env.LIBVIRT_GRAPHICS_LISTEN?.trim() || '127.0.0.1',
    consoleHost: env.LIBVIRT_CONSOLE_HOST?.trim() || uri?.host || 'localhost',
    imageClone: oneOf('LIBVIRT_IMAGE_CLONE', ['linked', 'full'], 'linked'),
    downloadDir: env.LIBVIRT_DOWNLOAD_DIR?.trim() || tmpdir(),
    keepaliveIntervalMs: positive('LIBVIRT_KEEPALIVE_INTERVAL_S', 5) * 1000,
    keepaliveCount: positive('LIBVIRT_KEEPALIVE_COUNT', 5),
  };
  if (problems.length) throw new ConfigError(problems);
  return { uri: uri!, ...config };
}
