/**
 * Opens the byte stream a libvirt RPC connection runs over, for each transport of a LibvirtUri:
 * a unix socket, TCP, TLS (CA and client certificate from the credential keys `ca.crt`, `tls.crt`,
 * `tls.key`) or an SSH channel (key `ssh-privatekey` or `password`, host key checked against
 * `known_hosts`) running virt-ssh-helper or `nc -U` on the remote host.
 *
 * Errors say which endpoint failed and why; they never carry a credential value.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import ssh2, { type ClientChannel } from 'ssh2';
import type { Credentials } from '../../core/connection.ts';
import { ConnectionError } from './errors.ts';
import { hostKeyKnown, knownHostsName } from './known-hosts.ts';
import type { LibvirtUri } from './uri.ts';

// ssh2 is CommonJS: its classes come through the default export under Node's ESM loader.
const { Client: SshClient } = ssh2;

export interface TransportOptions {
  credentials: Credentials;
  /** The Provider's insecureSkipVerify: no TLS certificate or SSH host-key check. */
  insecureSkipVerify: boolean;
  connectTimeoutMs: number;
}

export interface OpenTransport {
  stream: Duplex;
  /** Releases what the stream runs on (the SSH session). */
  close(): void;
}

export async function openTransport(uri: LibvirtUri, opts: TransportOptions): Promise<OpenTransport> {
  switch (uri.transport) {
    case 'unix':
      return plain(netConnect({ path: uri.socket }), `unix socket ${uri.socket}`, opts.connectTimeoutMs);
    case 'tcp':
      return plain(netConnect({ host: uri.host, port: uri.port }), `${uri.host}:${uri.port}`, opts.connectTimeoutMs);
    case 'tls':
      return openTls(uri, opts);
    case 'ssh':
      return openSsh(uri, opts);
  }
}

function unreachable(where: string, err: Error): ConnectionError {
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code === 'ENOENT' ? ' (no such socket: is libvirtd running?)'
    : code === 'ECONNREFUSED' ? ' (nothing listens there: is libvirtd running with that listener?)'
      : code === 'EACCES' ? ' (permission denied: the agent needs read-write access to the socket)' : '';
  return new ConnectionError(`cannot connect to libvirtd at ${where}: ${err.message}${hint}`, 'ProviderUnreachable', { cause: err });
}

function plain(socket: Socket, where: string, timeoutMs: number, ready = 'connect'): Promise<OpenTransport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectionError(`cannot connect to libvirtd at ${where}: no answer within ${timeoutMs} ms`, 'ProviderUnreachable'));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay?.(true);
      resolve({ stream: socket, close: () => socket.destroy() });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(unreachable(where, err));
    });
  });
}

function openTls(uri: LibvirtUri, opts: TransportOptions): Promise<OpenTransport> {
  const c = opts.credentials;
  const verify = !(opts.insecureSkipVerify || uri.noVerify);
  if (verify && !c.has('ca.crt')) {
    return Promise.reject(new ConnectionError(`cannot connect to libvirtd at ${uri.display}: TLS verification needs the CA certificate in credential key "ca.crt" (or insecureSkipVerify)`, 'CredentialsMissing'));
  }
  const socket = tlsConnect({
    host: uri.host,
    port: uri.port,
    servername: /^[\d.:]+$/.test(uri.host) ? undefined : uri.host,
    ca: c.get('ca.crt'),
    cert: c.get('tls.crt'),
    key: c.get('tls.key'),
    rejectUnauthorized: verify,
  });
  return plain(socket, `${uri.host}:${uri.port} (TLS)`, opts.connectTimeoutMs, 'secureConnect').then((t) => certificateVerdict(t, uri, opts.connectTimeoutMs), (err: ConnectionError) => {
    const cause = err.cause as NodeJS.ErrnoException | undefined;
    const tlsCode = cause?.code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/.test(tlsCode)) {
      throw new ConnectionError(`TLS verification of libvirtd at ${uri.host}:${uri.port} failed: ${cause!.message}; check credential key "ca.crt"`, 'TLSVerificationFailed', { cause });
    }
    if (/alert|handshake/i.test(cause?.message ?? '')) {
      throw new ConnectionError(`libvirtd at ${uri.host}:${uri.port} refused the TLS handshake: ${cause!.message}; check the client certificate in "tls.crt"/"tls.key"`, 'AuthenticationFailed', { cause });
    }
    throw err;
  });
}

/**
 * After the TLS handshake libvirtd checks the client certificate (its CA, and the DN against
 * tls_allowed_dn_list) and sends one byte before any RPC: 1 accepted, 0 refused.
 */
function certificateVerdict(t: OpenTransport, uri: LibvirtUri, timeoutMs: number): Promise<OpenTransport> {
  const socket = t.stream;
  return new Promise((resolve, reject) => {
    const done = (err?: ConnectionError) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (err) {
        t.close();
        reject(err);
      } else {
        resolve(t);
      }
    };
    const refused = () => new ConnectionError(`libvirtd at ${uri.host}:${uri.port} refused the client certificate from credential keys "tls.crt"/"tls.key" (not signed by its CA, or not in its allowed DN list)`, 'AuthenticationFailed');
    const onData = (chunk: Buffer) => {
      socket.pause();
      if (chunk.length > 1) socket.unshift(chunk.subarray(1));
      done(chunk[0] === 1 ? undefined : refused());
    };
    const onClose = () => done(refused());
    const timer = setTimeout(() => done(new ConnectionError(`libvirtd at ${uri.host}:${uri.port} sent no certificate verdict within ${timeoutMs} ms after the TLS handshake`, 'ProviderUnreachable')), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}

/** The remote command (run by the login shell) that bridges the SSH channel to libvirtd's socket. */
export function sshRemoteCommand(uri: LibvirtUri): string {
  const nc = `exec nc -U ${shellQuote(uri.socket)}`;
  if (uri.sshProxy === 'native') return nc;
  return `if command -v virt-ssh-helper >/dev/null 2>&1; then exec virt-ssh-helper ${shellQuote(uri.remoteName)}; else ${nc}; fi`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function openSsh(uri: LibvirtUri, opts: TransportOptions): Promise<OpenTransport> {
  const c = opts.credentials;
  const where = `${uri.user ?? c.get('username') ?? 'root'}@${uri.host}:${uri.port} (SSH)`;
  const verify = !(opts.insecureSkipVerify || uri.noVerify);
  const knownHosts = c.get('known_hosts');
  if (verify && !knownHosts) {
    return Promise.reject(new ConnectionError(`cannot connect to libvirtd at ${where}: host-key verification needs credential key "known_hosts" (or insecureSkipVerify)`, 'CredentialsMissing'));
  }
  const privateKey = c.get('ssh-privatekey');
  const password = c.get('password');
  if (!privateKey && !password) {
    return Promise.reject(new ConnectionError(`cannot connect to libvirtd at ${where}: the credentials have neither "ssh-privatekey" nor "password"`, 'CredentialsMissing'));
  }
  return new Promise((resolve, reject) => {
    const ssh = new SshClient();
    let hostKeyRejected = false;
    let settled = false;
    const fail = (err: ConnectionError) => {
      if (settled) return;
      settled = true;
      ssh.end();
      reject(err);
    };
    ssh.on('error', (err: Error & { level?: string }) => {
      if (hostKeyRejected) {
        fail(new ConnectionError(`SSH host key of ${uri.host}:${uri.port} is not in credential key "known_hosts" (as ${knownHostsName(uri.host, uri.port)}); refusing to connect`, 'HostKeyMismatch', { cause: err }));
      } else if (err.level === 'client-authentication') {
        fail(new ConnectionError(`SSH login to ${where} was refused: the ${privateKey ? 'private key' : 'password'} from the credentials is not accepted`, 'AuthenticationFailed', { cause: err }));
      } else if (err.level === 'client-timeout') {
        fail(new ConnectionError(`cannot connect to libvirtd at ${where}: no SSH handshake within ${opts.connectTimeoutMs} ms`, 'ProviderUnreachable', { cause: err }));
      } else {
        fail(unreachable(where, err));
      }
    });
    ssh.on('ready', () => {
      ssh.exec(sshRemoteCommand(uri), (err: Error | undefined, channel: ClientChannel) => {
        if (err) return fail(new ConnectionError(`SSH to ${where} works but running the libvirt bridge failed: ${err.message}`, 'ProviderUnreachable', { cause: err }));
        // What the remote command prints on stderr (nc missing, socket absent) explains an early close.
        let stderr = '';
        channel.stderr.on('data', (d: Buffer) => {
          if (stderr.length < 2000) stderr += d.toString('utf8');
        });
        channel.once('close', () => {
          if (stderr.trim()) channel.emit('error', new Error(`the remote bridge to libvirtd exited: ${stderr.trim().slice(0, 500)}`));
          ssh.end();
        });
        settled = true;
        resolve({ stream: channel, close: () => ssh.end() });
      });
    });
    ssh.connect({
      host: uri.host,
      port: uri.port,
      username: uri.user ?? c.get('username') ?? 'root',
      privateKey,
      passphrase: privateKey ? c.get('ssh-passphrase') : undefined,
      password: privateKey ? undefined : password,
      readyTimeout: opts.connectTimeoutMs,
      keepaliveInterval: 0,
      hostVerifier: (key: Buffer) => {
        if (!verify) return true;
        const ok = hostKeyKnown(knownHosts!, uri.host, uri.port, key);
        if (!ok) hostKeyRejected = true;
        return ok;
      },
    });
  });
}
