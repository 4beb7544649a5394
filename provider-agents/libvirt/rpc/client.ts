/**
 * A client of libvirt's RPC protocol over one byte stream (unix socket, TCP, TLS or an SSH channel):
 * length-prefixed XDR messages, calls matched to replies by serial (any number in flight at once),
 * asynchronous event messages, write streams (volume upload) and the keepalive program.
 *
 * One RpcClient is one connection: when the stream ends or keepalive finds the peer silent, every
 * pending call fails with a ConnectionError and `closed` resolves. Reconnecting is the caller's job
 * (connection.ts).
 */
import type { Duplex } from 'node:stream';
import { ConnectionError, LibvirtError, ProtocolError } from './errors.ts';
import {
  HEADER_BYTES, KEEPALIVE_PROC_PING, KEEPALIVE_PROC_PONG, KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, LENGTH_BYTES, MESSAGE_MAX,
  MessageStatus, MessageType, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, STREAM_CHUNK, readHeader, readRemoteError, writeHeader,
  type Header, type Procedure,
} from './protocol.ts';
import { XdrError, XdrReader, XdrWriter } from './xdr.ts';

export interface RpcClientOptions {
  /** Send a keepalive ping after this long without traffic from the server (ms, default 5000; 0 = no keepalive). */
  keepaliveIntervalMs?: number;
  /** Declare the connection dead after this many unanswered intervals (default 5). */
  keepaliveCount?: number;
  /** Where the connection goes, for error messages (never carries a secret). */
  peer?: string;
}

export interface CallOptions {
  /** Give up waiting after this long (the call may still take effect on the server). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  proc: Procedure<unknown, unknown>;
  resolve: (body: XdrReader) => void;
  reject: (err: Error) => void;
}

/** An asynchronous message of the REMOTE program (a domain event). */
export type EventListener = (proc: number, body: XdrReader) => void;

export class RpcClient {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  /** Stream packets the server sends for a call, by serial (upload confirmations and errors). */
  private readonly streamWaiters = new Map<number, Pending>();
  private inbox: Buffer[] = [];
  private inboxBytes = 0;
  /** Length of the frame being received (0: not known yet). */
  private frameLength = 0;
  private lastHeard = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closedError: ConnectionError | undefined;
  private drainWait: Promise<void> | undefined;
  private readonly eventListeners = new Set<EventListener>();
  private readonly closeListeners = new Set<(err: ConnectionError) => void>();
  readonly peer: string;

  constructor(private readonly socket: Duplex, opts: RpcClientOptions = {}) {
    this.peer = opts.peer ?? 'libvirtd';
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(new ConnectionError(`connection to ${this.peer} failed: ${err.message}`, 'ConnectionReset', { cause: err })));
    socket.on('close', () => this.fail(new ConnectionError(`connection to ${this.peer} closed`, 'ConnectionClosed')));
    socket.on('end', () => this.fail(new ConnectionError(`${this.peer} closed the connection`, 'ConnectionClosed')));
    socket.resume(); // a transport may have paused the stream while it read a preamble (TLS verdict)
    const interval = opts.keepaliveIntervalMs ?? 5000;
    if (interval > 0) {
      const count = opts.keepaliveCount ?? 5;
      this.keepaliveTimer = setInterval(() => this.keepalive(interval, count), interval);
      this.keepaliveTimer.unref();
    }
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Calls `proc` of the REMOTE program and resolves with its decoded reply. */
  async call<A, R>(proc: Procedure<A, R>, args: A, opts: CallOptions = {}): Promise<R> {
    const serial = this.nextSerial();
    const body = await this.send(proc as Procedure<unknown, unknown>, args, serial, opts, this.pending);
    return this.decode(proc as Procedure<unknown, R>, body);
  }

  /**
   * Calls a write-stream procedure (volume upload), then sends `data` as stream packets and waits
   * for the server to confirm the stream finished. Aborting sends an error packet so the server
   * discards the partial upload.
   */
  async upload<A>(proc: Procedure<A, void>, args: A, data: AsyncIterable<Uint8Array>, opts: CallOptions = {}): Promise<void> {
    if (!proc.writeStream) throw new Error(`${proc.name} is not a write-stream procedure`);
    const serial = this.nextSerial();
    // Register the stream waiter first: the server may reject the stream at any point.
    const streamDone = new Promise<XdrReader>((resolve, reject) => {
      this.streamWaiters.set(serial, { proc: proc as Procedure<unknown, unknown>, resolve, reject });
    });
    streamDone.catch(() => undefined);
    try {
      await this.send(proc as Procedure<unknown, unknown>, args, serial, opts, this.pending);
      for await (const chunk of data) {
        opts.signal?.throwIfAborted();
        if (this.closedError) throw this.closedError;
        for (let off = 0; off < chunk.length; off += STREAM_CHUNK) {
          await this.writeMessage({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc: proc.id, type: MessageType.Stream, serial, status: MessageStatus.Continue },
            Buffer.from(chunk.subarray(off, Math.min(off + STREAM_CHUNK, chunk.length))));
        }
      }
      await this.writeMessage({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc: proc.id, type: MessageType.Stream, serial, status: MessageStatus.Ok }, Buffer.alloc(0));
      await withAbort(streamDone, opts, `${proc.name} stream to ${this.peer}`);
    } catch (err) {
      if (!this.closedError && this.streamWaiters.has(serial)) {
        // Abort the server side of the stream (an error packet without a body is what libvirt's client sends).
        void this.writeMessage({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc: proc.id, type: MessageType.Stream, serial, status: MessageStatus.Error }, Buffer.alloc(0)).catch(() => undefined);
      }
      throw err;
    } finally {
      this.streamWaiters.delete(serial);
    }
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClose(listener: (err: ConnectionError) => void): () => void {
    if (this.closedError) {
      listener(this.closedError);
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Drops the connection; pending calls fail. */
  destroy(reason = 'the client closed the connection'): void {
    this.fail(new ConnectionError(`connection to ${this.peer} closed: ${reason}`, 'ConnectionClosed'));
  }

  // --- sending ---

  private nextSerial(): number {
    this.serial = (this.serial + 1) >>> 0 || 1;
    return this.serial;
  }

  private async send(proc: Procedure<unknown, unknown>, args: unknown, serial: number, opts: CallOptions, table: Map<number, Pending>): Promise<XdrReader> {
    if (this.closedError) throw this.closedError;
    opts.signal?.throwIfAborted();
    const w = new XdrWriter(128);
    proc.args(w, args);
    const reply = new Promise<XdrReader>((resolve, reject) => table.set(serial, { proc, resolve, reject }));
    reply.catch(() => undefined); // observed below; this only keeps an early connection loss from being "unhandled"
    try {
      await this.writeMessage({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc: proc.id, type: MessageType.Call, serial, status: MessageStatus.Ok }, w.bytes());
      return await withAbort(reply, opts, `${proc.name} on ${this.peer}`);
    } finally {
      table.delete(serial);
    }
  }

  private decode<R>(proc: Procedure<unknown, R>, body: XdrReader): R {
    try {
      const value = proc.ret(body);
      body.end();
      return value;
    } catch (err) {
      if (err instanceof XdrError) throw new ProtocolError(`libvirtd's reply to ${proc.name} is not what the protocol says: ${err.message}`);
      throw err;
    }
  }

  private async writeMessage(header: Header, payload: Buffer): Promise<void> {
    const total = LENGTH_BYTES + HEADER_BYTES + payload.length;
    if (total > MESSAGE_MAX) throw new ProtocolError(`a ${total}-byte message exceeds libvirt's limit of ${MESSAGE_MAX} bytes`);
    const w = new XdrWriter(LENGTH_BYTES + HEADER_BYTES);
    w.uint(total);
    writeHeader(w, header);
    // Backpressure: wait while the stream's buffer is full (a large upload), one shared wait for all writers.
    while (this.socket.writableNeedDrain && !this.closedError) await this.drained();
    if (this.closedError) throw this.closedError;
    // A write error also arrives as the stream's 'error' event, which fails the connection.
    this.socket.write(payload.length ? Buffer.concat([w.bytes(), payload]) : w.bytes());
  }

  private drained(): Promise<void> {
    this.drainWait ??= new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        this.drainWait = undefined;
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
    return this.drainWait;
  }

  // --- receiving ---

  private receive(chunk: Buffer): void {
    this.lastHeard = Date.now();
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    for (;;) {
      if (this.frameLength === 0) {
        if (this.inboxBytes < LENGTH_BYTES) return;
        const head = this.inbox[0]!.length >= LENGTH_BYTES ? this.inbox[0]! : Buffer.concat(this.inbox, this.inboxBytes);
        const length = head.readUInt32BE(0);
        if (length < LENGTH_BYTES + HEADER_BYTES || length > MESSAGE_MAX + LENGTH_BYTES) {
          this.fail(new ConnectionError(`${this.peer} sent a message of ${length} bytes, outside the protocol's limits; dropping the connection`, 'ProtocolError'));
          return;
        }
        this.frameLength = length;
      }
      // Joined only once the whole frame is there: a large reply arriving in many chunks is copied once.
      if (this.inboxBytes < this.frameLength) return;
      const all = this.inbox.length === 1 ? this.inbox[0]! : Buffer.concat(this.inbox, this.inboxBytes);
      const message = all.subarray(LENGTH_BYTES, this.frameLength);
      const rest = all.subarray(this.frameLength);
      this.inbox = rest.length ? [rest] : [];
      this.inboxBytes = rest.length;
      this.frameLength = 0;
      try {
        this.dispatch(message);
      } catch (err) {
        this.fail(new ConnectionError(`${this.peer} sent a message this client cannot read (${(err as Error).message}); dropping the connection`, 'ProtocolError', { cause: err }));
        return;
      }
    }
  }

  private dispatch(message: Buffer): void {
    const r = new XdrReader(message, 'libvirt message');
    const h = readHeader(r);
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === KEEPALIVE_PROC_PING) {
        void this.writeMessage({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_PROTOCOL_VERSION, proc: KEEPALIVE_PROC_PONG, type: MessageType.Message, serial: 0, status: MessageStatus.Ok }, Buffer.alloc(0)).catch(() => undefined);
      }
      return; // a PONG only proves the peer is alive, which receive() already noted
    }
    if (h.prog !== REMOTE_PROGRAM) throw new ProtocolError(`unknown program 0x${h.prog.toString(16)}`);
    switch (h.type) {
      case MessageType.Reply:
      case MessageType.ReplyWithFds: {
        const p = this.pending.get(h.serial);
        if (!p) return; // a reply to a call we stopped waiting for (timeout, abort)
        this.pending.delete(h.serial);
        if (h.type === MessageType.ReplyWithFds) r.uint(); // fd count: we never ask for fds
        this.settle(p, h, r);
        return;
      }
      case MessageType.Stream: {
        const p = this.streamWaiters.get(h.serial);
        if (!p) return;
        if (h.status === MessageStatus.Continue) return; // data on a read stream: we open none
        this.streamWaiters.delete(h.serial);
        this.settle(p, h, r);
        return;
      }
      case MessageType.Message:
        for (const listener of this.eventListeners) listener(h.proc, new XdrReader(Buffer.from(r.rest()), `event ${h.proc}`));
        return;
      default:
        throw new ProtocolError(`unexpected message type ${h.type}`);
    }
  }

  private settle(p: Pending, h: Header, r: XdrReader): void {
    if (h.status === MessageStatus.Error) {
      try {
        p.reject(new LibvirtError(p.proc.name, readRemoteError(r)));
      } catch (err) {
        p.reject(new ProtocolError(`libvirtd's error reply to ${p.proc.name} is malformed: ${(err as Error).message}`));
      }
      return;
    }
    p.resolve(r);
  }

  private keepalive(intervalMs: number, count: number): void {
    if (this.closedError) return;
    const silentMs = Date.now() - this.lastHeard;
    if (silentMs >= intervalMs * count) {
      this.fail(new ConnectionError(`${this.peer} did not answer keepalive for ${Math.round(silentMs / 1000)} s; dropping the connection`, 'KeepaliveTimeout'));
      this.socket.destroy();
      return;
    }
    if (silentMs >= intervalMs) {
      void this.writeMessage({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_PROTOCOL_VERSION, proc: KEEPALIVE_PROC_PING, type: MessageType.Message, serial: 0, status: MessageStatus.Ok }, Buffer.alloc(0)).catch(() => undefined);
    }
  }

  private fail(err: ConnectionError): void {
    if (this.closedError) return;
    this.closedError = err;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    for (const p of [...this.pending.values(), ...this.streamWaiters.values()]) p.reject(err);
    this.pending.clear();
    this.streamWaiters.clear();
    this.socket.destroy();
    for (const listener of this.closeListeners) listener(err);
    this.closeListeners.clear();
  }
}

/** `promise`, or a rejection when the timeout passes or the signal aborts first. */
function withAbort<T>(promise: Promise<T>, opts: CallOptions, what: string): Promise<T> {
  if (!opts.timeoutMs && !opts.signal) return promise;
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason ?? new Error(`${what} aborted`));
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      cleanup();
      reject(opts.signal!.reason ?? new Error(`${what} aborted`));
    };
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        cleanup();
        reject(new ConnectionError(`${what} got no reply within ${opts.timeoutMs} ms`, 'CallTimeout'));
      }, opts.timeoutMs);
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    promise.then((v) => {
      cleanup();
      resolve(v);
    }, (err) => {
      cleanup();
      reject(err);
    });
  });
}
