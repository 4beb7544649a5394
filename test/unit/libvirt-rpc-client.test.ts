/**
 * The RPC client against a scripted peer on a unix socket: replies matched by serial whatever
 * their order, errors, events, keepalive both ways, upload streams, and what a broken peer does to
 * pending calls (they fail with a reason; the process does not crash).
 */
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { RpcClient } from '../../provider-agents/libvirt/rpc/client.ts';
import { ConnectionError, LibvirtError, ProtocolError } from '../../provider-agents/libvirt/rpc/errors.ts';
import {
  KEEPALIVE_PROC_PING, KEEPALIVE_PROC_PONG, KEEPALIVE_PROGRAM, MessageStatus, MessageType, P, REMOTE_PROGRAM, writeHeader, type Header,
} from '../../provider-agents/libvirt/rpc/protocol.ts';
import { XdrWriter } from '../../provider-agents/libvirt/rpc/xdr.ts';
import { WireServer } from '../support/libvirt-wire.ts';

const headerBytes = (h: Header) => {
  const w = new XdrWriter();
  writeHeader(w, h);
  return w.bytes();
};
const reply = (call: Header, status = MessageStatus.Ok): Header => ({ ...call, type: MessageType.Reply, status });
const errorBody = (code: number, message: string) => new XdrWriter().int(code).int(10).optional(message, (w, s) => w.string(s)).int(2).bool(false)
  .bool(false).bool(false).bool(false).int(0).int(0).bool(false).bytes();

describe('libvirt RPC client (scripted peer)', () => {
  let server: WireServer;
  let client: RpcClient;

  const open = async (opts: ConstructorParameters<typeof RpcClient>[1] = { keepaliveIntervalMs: 0 }) => {
    const socket = connect({ path: server.path });
    await new Promise((r) => socket.once('connect', r));
    client = new RpcClient(socket, { peer: 'fake libvirtd', ...opts });
  };

  beforeEach(async () => {
    server = await WireServer.start();
  });
  afterEach(async () => {
    client?.destroy();
    await server.close();
  });

  it('matches replies to calls by serial, whatever order they come in', async () => {
    await open();
    const a = client.call(P.connectGetHostname, undefined);
    const b = client.call(P.connectGetHostname, undefined);
    const [fa, fb] = await server.received(2);
    assert.notEqual(fa!.header.serial, fb!.header.serial);
    assert.equal(fa!.header.prog, REMOTE_PROGRAM);
    assert.equal(fa!.header.proc, 59);
    server.send(reply(fb!.header), new XdrWriter().string('second').bytes());
    server.send(reply(fa!.header), new XdrWriter().string('first').bytes());
    assert.deepEqual(await Promise.all([a, b]), ['first', 'second']);
  });

  it('reassembles a large reply arriving in small pieces, and splits replies arriving in one piece', async () => {
    await open();
    const big = client.call(P.connectGetCapabilities, undefined);
    const [f] = await server.received(1);
    const text = 'x'.repeat(3 * 1024 * 1024);
    const body = new XdrWriter().string(text).bytes();
    const frame = Buffer.concat([new XdrWriter().uint(28 + body.length).bytes(), headerBytes(reply(f!.header)), body]);
    for (let off = 0; off < frame.length; off += 60_000) server.raw(frame.subarray(off, off + 60_000));
    assert.equal((await big).length, text.length);
    const a = client.call(P.connectGetHostname, undefined);
    const b = client.call(P.connectGetHostname, undefined);
    const frames = await server.received(3);
    const one = (h: Header, s: string) => {
      const bb = new XdrWriter().string(s).bytes();
      return Buffer.concat([new XdrWriter().uint(28 + bb.length).bytes(), headerBytes(reply(h)), bb]);
    };
    server.raw(Buffer.concat([one(frames[1]!.header, 'a'), one(frames[2]!.header, 'b')]));
    assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
  });

  it('turns an error reply into a LibvirtError carrying libvirt\'s code and message', async () => {
    await open();
    const call = client.call(P.domainLookupByName, { name: 'nope' });
    const [f] = await server.received(1);
    server.send(reply(f!.header, MessageStatus.Error), errorBody(42, 'Domain not found: no domain with matching name \'nope\''));
    await assert.rejects(call, (e: unknown) => e instanceof LibvirtError && e.code === 42 && /DomainLookupByName failed: Domain not found/.test(e.message));
  });

  it('rejects a reply that does not match the procedure\'s layout as a ProtocolError, and keeps working', async () => {
    await open();
    const call = client.call(P.connectGetVersion, undefined);
    const [f] = await server.received(1);
    server.send(reply(f!.header), Buffer.from([0, 0, 0, 1])); // 4 bytes where 8 are due
    await assert.rejects(call, (e: unknown) => e instanceof ProtocolError && /ConnectGetVersion/.test(e.message));
    const next = client.call(P.connectGetVersion, undefined);
    const frames = await server.received(2);
    server.send(reply(frames[1]!.header), new XdrWriter().uhyper(9000000n).bytes());
    assert.equal(await next, 9000000n);
  });

  it('delivers asynchronous messages to event listeners', async () => {
    await open();
    const seen: number[] = [];
    client.onEvent((proc, body) => seen.push(proc, body.int()));
    server.send({ prog: REMOTE_PROGRAM, vers: 1, proc: 318, type: MessageType.Message, serial: 0, status: MessageStatus.Ok }, new XdrWriter().int(7).bytes());
    const deadline = Date.now() + 2000;
    while (!seen.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, [318, 7]);
  });

  it('answers keepalive pings, pings a silent peer, and drops it after the allowed silence', async () => {
    await open({ keepaliveIntervalMs: 100, keepaliveCount: 3 });
    server.send({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: KEEPALIVE_PROC_PING, type: MessageType.Message, serial: 0, status: MessageStatus.Ok });
    const pending = client.call(P.connectGetHostname, undefined);
    const closed = new Promise<ConnectionError>((r) => client.onClose(r));
    const err = await closed;
    assert.equal(err.reason, 'KeepaliveTimeout');
    await assert.rejects(pending, (e: unknown) => e === err, 'the pending call fails with the reason');
    const procs = server.frames.filter((f) => f.header.prog === KEEPALIVE_PROGRAM).map((f) => f.header.proc);
    assert.ok(procs.includes(KEEPALIVE_PROC_PONG), 'answered the ping');
    assert.ok(procs.includes(KEEPALIVE_PROC_PING), 'pinged the silent peer');
  });

  it('drops the connection on a frame length outside the protocol, failing pending calls with the reason', async () => {
    await open();
    const pending = client.call(P.connectGetHostname, undefined);
    await server.received(1);
    server.raw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    await assert.rejects(pending, (e: unknown) => e instanceof ConnectionError && e.reason === 'ProtocolError' && /outside the protocol's limits/.test(e.message));
    assert.equal(client.closed, true);
    await assert.rejects(client.call(P.connectGetHostname, undefined), ConnectionError);
  });

  it('fails pending calls when the peer closes, and honours call timeouts and aborts', async () => {
    await open();
    await assert.rejects(client.call(P.connectGetHostname, undefined, { timeoutMs: 50 }), (e: unknown) => e instanceof ConnectionError && e.reason === 'CallTimeout');
    const ac = new AbortController();
    const aborted = client.call(P.connectGetHostname, undefined, { signal: ac.signal });
    ac.abort(new Error('shutting down'));
    await assert.rejects(aborted, /shutting down/);
    const pending = client.call(P.connectGetHostname, undefined);
    await server.received(3);
    server.socket!.end();
    await assert.rejects(pending, (e: unknown) => e instanceof ConnectionError && /closed/.test(e.message));
  });

  it('uploads as stream packets on the call\'s serial, ending with an OK packet, and waits for the confirmation', async () => {
    await open();
    const data = Buffer.alloc(600 * 1024, 7);
    const vol = { pool: 'p', name: 'v', key: 'k' };
    const done = client.upload(P.storageVolUpload, { vol, offset: 0n, length: BigInt(data.length), flags: 0 }, (async function* () {
      yield data.subarray(0, 100);
      yield data.subarray(100);
    })());
    const [call] = await server.received(1);
    assert.equal(call!.header.proc, 208);
    server.send(reply(call!.header));
    // 100 bytes, then 600 KiB - 100 in 256 KiB packets, then the end packet.
    const frames = await server.received(1 + 1 + 3 + 1);
    const stream = frames.slice(1);
    assert.ok(stream.every((f) => f.header.type === MessageType.Stream && f.header.serial === call!.header.serial));
    assert.deepEqual(stream.map((f) => f.header.status), [MessageStatus.Continue, MessageStatus.Continue, MessageStatus.Continue, MessageStatus.Continue, MessageStatus.Ok]);
    assert.equal(stream.reduce((n, f) => n + f.body.length, 0), data.length);
    server.send({ ...call!.header, type: MessageType.Stream, status: MessageStatus.Ok });
    await done;
  });

  it('reports a stream the server aborts with its error', async () => {
    await open();
    const done = client.upload(P.storageVolUpload, { vol: { pool: 'p', name: 'v', key: 'k' }, offset: 0n, length: 4n, flags: 0 }, (async function* () {
      yield Buffer.from('data');
    })());
    const [call] = await server.received(1);
    server.send(reply(call!.header));
    await server.received(3);
    server.send({ ...call!.header, type: MessageType.Stream, status: MessageStatus.Error }, errorBody(38, 'No space left on device'));
    await assert.rejects(done, (e: unknown) => e instanceof LibvirtError && /No space left/.test(e.message));
  });
});
