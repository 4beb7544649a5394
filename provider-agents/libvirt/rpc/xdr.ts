/**
 * XDR (RFC 4506), the encoding of libvirt's RPC messages: big-endian 4-byte units, strings and
 * variable opaques prefixed by their length and padded to 4 bytes, optional data as a 0/1 flag.
 * Only the types libvirt's protocol uses. The reader checks every length against what is left and
 * against a maximum, so a malformed or hostile message yields an XdrError, never a huge allocation.
 */

export class XdrError extends Error {
  override readonly name = 'XdrError';
}

const pad = (n: number) => (4 - (n % 4)) % 4;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

export class XdrWriter {
  private buf: Buffer;
  private off = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.alloc(initialSize);
  }

  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  int(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.off);
    this.off += 4;
    return this;
  }

  uint(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
    return this;
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  hyper(v: bigint): this {
    this.room(8);
    this.buf.writeBigInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  uhyper(v: bigint): this {
    this.room(8);
    this.buf.writeBigUInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  /** Fixed-length opaque: exactly `length` bytes, padded. */
  fixedOpaque(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new XdrError(`expected ${length} bytes of fixed opaque data, got ${bytes.length}`);
    this.room(length + pad(length));
    this.buf.set(bytes, this.off);
    this.off += length;
    this.buf.fill(0, this.off, this.off + pad(length));
    this.off += pad(length);
    return this;
  }

  opaque(bytes: Uint8Array): this {
    this.uint(bytes.length);
    return this.fixedOpaque(bytes, bytes.length);
  }

  string(s: string): this {
    return this.opaque(utf8.encode(s));
  }

  /** `T *` in XDR: a presence flag, then the value. */
  optional<T>(value: T | undefined | null, write: (w: this, v: T) => void): this {
    if (value === undefined || value === null) return this.bool(false);
    this.bool(true);
    write(this, value);
    return this;
  }

  array<T>(items: readonly T[], write: (w: this, v: T) => void): this {
    this.uint(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** Raw bytes already in XDR form (a nested message). */
  raw(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.buf.set(bytes, this.off);
    this.off += bytes.length;
    return this;
  }

  get length(): number {
    return this.off;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

export class XdrReader {
  private off = 0;

  constructor(private readonly buf: Buffer, private readonly what = 'message') {}

  private need(n: number, field: string): void {
    if (n < 0 || this.off + n > this.buf.length) {
      throw new XdrError(`malformed ${this.what}: ${field} needs ${n} bytes at offset ${this.off}, only ${this.buf.length - this.off} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }

  uint(): number {
    this.need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrError(`malformed ${this.what}: expected a boolean (0 or 1), got ${v}`);
    return v === 1;
  }

  hyper(): bigint {
    this.need(8, 'hyper');
    const v = this.buf.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }

  uhyper(): bigint {
    this.need(8, 'unsigned hyper');
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }

  fixedOpaque(length: number): Buffer {
    this.need(length + pad(length), 'fixed opaque');
    const v = Buffer.from(this.buf.subarray(this.off, this.off + length));
    this.off += length + pad(length);
    return v;
  }

  opaque(max: number): Buffer {
    const n = this.uint();
    if (n > max) throw new XdrError(`malformed ${this.what}: opaque of ${n} bytes exceeds the maximum ${max}`);
    return this.fixedOpaque(n);
  }

  string(max: number): string {
    const n = this.uint();
    if (n > max) throw new XdrError(`malformed ${this.what}: string of ${n} bytes exceeds the maximum ${max}`);
    this.need(n + pad(n), 'string');
    const v = fromUtf8.decode(this.buf.subarray(this.off, this.off + n));
    this.off += n + pad(n);
    return v;
  }

  optional<T>(read: (r: this) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }

  array<T>(read: (r: this) => T, max: number): T[] {
    const n = this.uint();
    if (n > max) throw new XdrError(`malformed ${this.what}: array of ${n} items exceeds the maximum ${max}`);
    // Every item takes at least 4 bytes: refuse counts the rest of the buffer cannot hold.
    if (n * 4 > this.buf.length - this.off) throw new XdrError(`malformed ${this.what}: array of ${n} items cannot fit in ${this.buf.length - this.off} bytes`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this));
    return out;
  }

  get remaining(): number {
    return this.buf.length - this.off;
  }

  /** The bytes not read yet (a stream packet's data). */
  rest(): Buffer {
    const v = this.buf.subarray(this.off);
    this.off = this.buf.length;
    return v;
  }

  /** Fails when bytes are left over: the message was not what we expected. */
  end(): void {
    if (this.off !== this.buf.length) throw new XdrError(`malformed ${this.what}: ${this.buf.length - this.off} unexpected bytes after the last field`);
  }
}
