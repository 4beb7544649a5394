/** XDR codec and the protocol's typed procedures: round trips, and malformed input as clear errors. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { P, readRemoteError, uuidBytes, uuidString, type DomainRef } from '../../provider-agents/libvirt/rpc/protocol.ts';
import { XdrError, XdrReader, XdrWriter } from '../../provider-agents/libvirt/rpc/xdr.ts';

const dom: DomainRef = { name: 'vr-é"<x>', uuid: uuidBytes('0f9c2b1e-1111-4222-8333-444455556666'), id: -1 };

describe('libvirt XDR codec', () => {
  it('round-trips every primitive, with 4-byte padding', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.string(), fc.uint8Array({ maxLength: 40 }), fc.boolean(),
      (i, u, s, bytes, b) => {
        const w = new XdrWriter(4).int(i).uhyper(u).string(s).opaque(bytes).bool(b).hyper(-5n).uint(0xffffffff);
        assert.equal(w.length % 4, 0);
        const r = new XdrReader(w.bytes());
        assert.equal(r.int(), i);
        assert.equal(r.uhyper(), u);
        assert.equal(r.string(1 << 20), s);
        assert.deepEqual(new Uint8Array(r.opaque(100)), bytes);
        assert.equal(r.bool(), b);
        assert.equal(r.hyper(), -5n);
        assert.equal(r.uint(), 0xffffffff);
        r.end();
      }));
  });

  it('encodes a string as length, bytes and zero padding', () => {
    assert.deepEqual([...new XdrWriter().string('abcde').bytes()], [0, 0, 0, 5, 97, 98, 99, 100, 101, 0, 0, 0]);
  });

  it('refuses truncated data, oversized lengths, impossible array counts, bad booleans and leftovers', () => {
    const bad = (bytes: number[], read: (r: XdrReader) => unknown, message: RegExp) =>
      assert.throws(() => read(new XdrReader(Buffer.from(bytes), 'reply')), (e: unknown) => e instanceof XdrError && message.test(e.message));
    bad([0, 0, 0], (r) => r.int(), /malformed reply: int needs 4 bytes at offset 0, only 3 left/);
    bad([0, 0, 0, 9, 1, 2], (r) => r.string(100), /string needs/);
    bad([0, 0, 1, 0], (r) => r.string(10), /string of 256 bytes exceeds the maximum 10/);
    bad([0x7f, 0xff, 0xff, 0xff], (r) => r.array((x) => x.int(), 2 ** 31), /array of 2147483647 items cannot fit/);
    bad([0, 0, 0, 2], (r) => r.bool(), /expected a boolean \(0 or 1\), got 2/);
    bad([0, 0, 0, 1, 0, 0, 0, 1], (r) => {
      r.int();
      r.end();
    }, /4 unexpected bytes after the last field/);
  });

  it('writes procedure arguments in the protocol\'s field order (DomainSetMetadata)', () => {
    const w = new XdrWriter();
    P.domainSetMetadata.args(w, { dom, type: 2, metadata: '<a/>', key: undefined, uri: 'u', flags: 3 });
    const r = new XdrReader(w.bytes());
    assert.equal(r.string(100), dom.name);
    assert.equal(uuidString(r.fixedOpaque(16)), '0f9c2b1e-1111-4222-8333-444455556666');
    assert.equal(r.int(), -1);
    assert.equal(r.int(), 2);
    assert.equal(r.optional((x) => x.string(100)), '<a/>');
    assert.equal(r.optional((x) => x.string(100)), undefined);
    assert.equal(r.optional((x) => x.string(100)), 'u');
    assert.equal(r.uint(), 3);
    r.end();
  });

  it('reads ConnectListAllDomains replies and libvirt errors', () => {
    const w = new XdrWriter().uint(2);
    for (const d of [dom, { ...dom, name: 'b', id: 7 }]) w.string(d.name).fixedOpaque(d.uuid, 16).int(d.id);
    w.uint(2);
    const list = P.connectListAllDomains.ret(new XdrReader(w.bytes()));
    assert.deepEqual(list.map((d) => [d.name, d.id]), [[dom.name, -1], ['b', 7]]);

    const e = new XdrWriter().int(42).int(10).optional('Domain not found', (x, s) => x.string(s)).int(2).bool(false)
      .bool(false).bool(false).bool(false).int(0).int(0).bool(false);
    assert.deepEqual(readRemoteError(new XdrReader(e.bytes())), { code: 42, domain: 10, message: 'Domain not found', level: 2, str1: undefined, str2: undefined, str3: undefined, int1: 0, int2: 0 });
  });

  it('formats and parses UUIDs', () => {
    assert.throws(() => uuidBytes('not-a-uuid'), /expected a UUID/);
    fc.assert(fc.property(fc.uuid(), (u) => uuidString(uuidBytes(u)) === u.toLowerCase()));
  });
});
