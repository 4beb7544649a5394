/**
 * An SSH server for the libvirt SSH transport tests (ssh2's Server, on loopback): it accepts one
 * user by public key or password and bridges an exec channel to libvirtd's unix socket, as
 * `nc -U <socket>` on a real hypervisor host would.
 */
import ssh2 from 'ssh2';
import { connect, type Server as NetServer } from 'node:net';
import { timingSafeEqual } from 'node:crypto';

const { Server, utils } = ssh2;

export interface TestSshServer {
  port: number;
  /** known_hosts line for this server's host key. */
  knownHosts: string;
  /** Commands the clients asked to run. */
  commands: string[];
  close(): Promise<void>;
}

export function keyPair(): { privateKey: string; publicKey: string } {
  const k = utils.generateKeyPairSync('ed25519');
  return { privateKey: k.private, publicKey: k.public };
}

export async function startSshServer(opts: { user: string; password: string; authorizedKey: string; socket: string }): Promise<TestSshServer> {
  const host = keyPair();
  const allowed = utils.parseKey(opts.authorizedKey);
  if (allowed instanceof Error) throw allowed;
  const commands: string[] = [];
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  const server = new Server({ hostKeys: [host.privateKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.username === opts.user && ctx.method === 'password' && same(Buffer.from(ctx.password), Buffer.from(opts.password))) return ctx.accept();
      if (ctx.username === opts.user && ctx.method === 'publickey' && ctx.key.algo === allowed.type && same(ctx.key.data, allowed.getPublicSSH())) {
        if (!ctx.signature) return ctx.accept(); // the client asks whether this key would do
        if (allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      }
      return ctx.reject(['publickey', 'password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          commands.push(info.command);
          const channel = acceptExec();
          const sock = connect({ path: opts.socket });
          channel.pipe(sock).pipe(channel);
          sock.on('error', () => channel.close());
          channel.on('close', () => sock.destroy());
        });
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = ((server as unknown as NetServer).address() as { port: number }).port;
  const parsed = utils.parseKey(host.publicKey);
  if (parsed instanceof Error) throw parsed;
  return {
    port,
    knownHosts: `[127.0.0.1]:${port} ${parsed.type} ${parsed.getPublicSSH().toString('base64')}\n`,
    commands,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
