/**
 * The server side of libvirt's wire format, scripted by a test: a unix socket that splits incoming
 * frames into header and body and lets the test answer (in any order), push events, or send
 * garbage. For the RPC client's unit tests; nothing here knows any procedure's meaning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHeader, writeHeader, type Header } from '../../provider-agents/libvirt/rpc/protocol.ts';
import { XdrReader, XdrWriter } from '../../provider-agents/libvirt/rpc/xdr.ts';

export interface Frame {
  header: Header;
  body: Buffer;
}

export class WireServer {
  readonly frames: Frame[] = [];
  socket: Socket | undefined;
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly path: string, private readonly dir: string) {}

  static async start(): Promise<WireServer> {
    const dir = mkdtempSync(join(tmpdir(), 'vr-wire-'));
    const path = join(dir, 'sock');
    let ws!: WireServer;
    const server = createServer((s) => {
      ws.socket = s;
      let buf = Buffer.alloc(0);
      s.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
          const len = buf.readUInt32BE(0);
          const r = new XdrReader(buf.subarray(4, len));
          const header = readHeader(r);
          ws.frames.push({ header, body: Buffer.from(buf.subarray(28, len)) });
          buf = buf.subarray(len);
          const w = ws.waiters;
          ws.waiters = [];
          w.forEach((f) => f());
        }
      });
      s.on('error', () => undefined);
    });
    ws = new WireServer(server, path, dir);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return ws;
  }

  /** Waits until `n` frames arrived. */
  async received(n: number, timeoutMs = 2000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} frames, got ${this.frames.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.slice(0, n);
  }

  send(header: Header, body: Buffer = Buffer.alloc(0)): void {
    const w = new XdrWriter();
    w.uint(28 + body.length);
    writeHeader(w, header);
    this.socket!.write(Buffer.concat([w.bytes(), body]));
  }

  raw(bytes: Buffer): void {
    this.socket!.write(bytes);
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
