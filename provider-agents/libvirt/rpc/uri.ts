/**
 * libvirt connection URIs (https://libvirt.org/uri.html) as this client understands them:
 *
 *   qemu:///system                          unix socket /var/run/libvirt/libvirt-sock
 *   qemu+unix:///system?socket=/path        unix socket at /path
 *   test+unix:///default?socket=/path       the daemon-hosted test driver
 *   qemu+tcp://host[:16509]/system          plain TCP (the daemon decides the auth: none or SASL)
 *   qemu+tls://host[:16514]/system          TLS with the CA / client certificate from the credentials
 *   qemu+ssh://user@host[:22]/system        SSH; the remote end runs virt-ssh-helper (or nc -U)
 *
 * The name sent to libvirtd in ConnectOpen is the URI without transport, user, host and the
 * client-side query parameters (socket, no_verify, …): `qemu:///system`, `test:///default`.
 */

export type Transport = 'unix' | 'tcp' | 'tls' | 'ssh';

export interface LibvirtUri {
  /** The URI as given (with any password removed), for messages. */
  display: string;
  /** Hypervisor driver: qemu, test, … */
  driver: string;
  transport: Transport;
  host: string;
  port: number;
  user: string | undefined;
  /** Unix socket path: local for `unix`, on the remote host for `ssh`. */
  socket: string;
  /** What ConnectOpen asks the daemon for. */
  remoteName: string;
  /** `no_verify=1`: skip TLS certificate or SSH host-key verification. */
  noVerify: boolean;
  /** SSH: `proxy=native` runs `nc -U <socket>`; `auto` (default) prefers virt-ssh-helper. */
  sshProxy: 'auto' | 'native';
}

const SYSTEM_SOCKET = '/var/run/libvirt/libvirt-sock';
const SESSION_SOCKET_NOTE = 'per-user (session) daemons are not supported; use /system';
const CLIENT_PARAMS = new Set(['socket', 'no_verify', 'no_tty', 'proxy', 'keyfile', 'known_hosts', 'known_hosts_verify', 'sshauth', 'pkipath', 'command', 'netcat', 'mode', 'name']);

export class UriError extends Error {
  override readonly name = 'UriError';
}

export function parseLibvirtUri(text: string): LibvirtUri {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UriError(`${JSON.stringify(text)} is not a libvirt URI (expected e.g. qemu:///system or qemu+ssh://user@host/system)`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const [driver, rawTransport] = scheme.split('+', 2) as [string, string | undefined];
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const transport: Transport = rawTransport === undefined
    ? (host ? 'tls' : 'unix') // libvirt's default: a host means TLS
    : rawTransport === 'unix' || rawTransport === 'tcp' || rawTransport === 'tls' || rawTransport === 'ssh'
      ? rawTransport
      : (() => { throw new UriError(`libvirt URI ${redact(url)}: transport "${rawTransport}" is not supported (unix, tcp, tls, ssh)`); })();
  if (!driver) throw new UriError(`libvirt URI ${redact(url)} names no hypervisor driver`);
  if (transport !== 'unix' && !host) throw new UriError(`libvirt URI ${redact(url)}: the ${transport} transport needs a host`);
  if (transport === 'unix' && host) throw new UriError(`libvirt URI ${redact(url)}: the unix transport takes no host`);
  if (driver === 'qemu' && url.pathname === '/session') throw new UriError(`libvirt URI ${redact(url)}: ${SESSION_SOCKET_NOTE}`);

  const params = url.searchParams;
  const defaultPort = transport === 'tls' ? 16514 : transport === 'tcp' ? 16509 : transport === 'ssh' ? 22 : 0;
  const port = url.port ? Number(url.port) : defaultPort;
  const forward = new URLSearchParams();
  for (const [k, v] of params) if (!CLIENT_PARAMS.has(k)) forward.append(k, v);
  const query = forward.toString();
  const remoteName = params.get('name') ?? `${driver}://${url.pathname}${query ? `?${query}` : ''}`;
  const proxy = params.get('proxy') ?? 'auto';
  if (proxy !== 'auto' && proxy !== 'native') throw new UriError(`libvirt URI ${redact(url)}: proxy must be auto or native, got ${proxy}`);

  return {
    display: redact(url),
    driver,
    transport,
    host,
    port,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    socket: params.get('socket') ?? SYSTEM_SOCKET,
    remoteName,
    noVerify: params.get('no_verify') === '1',
    sshProxy: proxy,
  };
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  copy.password = '';
  return copy.toString();
}
