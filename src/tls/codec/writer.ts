// The byte writer every encoder in src/tls/codec uses.
//
// A growable buffer with the same vocabulary as Reader. Length-prefixed
// vectors (RFC 5246 §4.3) are written by reserving the prefix, running a
// callback that writes the contents, then filling the prefix in: nested
// vectors (extensions inside a ClientHello inside a handshake header) need no
// precomputed sizes.
//
// Writers trust their input: they are driven by the engine's own state, and
// a value that does not fit its length prefix is a bug here, reported as a
// RangeError rather than a DecodeError (which is for the peer's faults).

export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** The bytes written, as a fresh copy the caller owns. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /**
   * Empties the writer and keeps its buffer: a writer reused for every
   * checkpoint stops growing after the first few (src/relay/checkpoint.ts).
   */
  reset(): this {
    this.len = 0;
    return this;
  }

  u8(v: number): this {
    checkUint(v, 0xff, "u8");
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    checkUint(v, 0xffff, "u16");
    this.ensure(2);
    this.put(v, 2, this.len);
    this.len += 2;
    return this;
  }

  u24(v: number): this {
    checkUint(v, 0xffffff, "u24");
    this.ensure(3);
    this.put(v, 3, this.len);
    this.len += 3;
    return this;
  }

  u32(v: number): this {
    checkUint(v, 0xffffffff, "u32");
    this.ensure(4);
    this.put(v, 4, this.len);
    this.len += 4;
    return this;
  }

  u64(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    this.u32(Number(v >> 32n));
    return this.u32(Number(v & 0xffffffffn));
  }

  /** A u64 from a number (a byte offset or count: at most 2^53 - 1), without a bigint. */
  uint53(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uint53 out of range: ${v}`);
    const hi = Math.floor(v / 0x100000000);
    return this.u32(hi).u32(v - hi * 0x100000000);
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** A vector with a 1-byte length prefix whose contents `body` writes. */
  vector8(body: (w: this) => void): this {
    return this.vector(1, body);
  }

  /** A vector with a 2-byte length prefix whose contents `body` writes. */
  vector16(body: (w: this) => void): this {
    return this.vector(2, body);
  }

  /** A vector with a 3-byte length prefix whose contents `body` writes. */
  vector24(body: (w: this) => void): this {
    return this.vector(3, body);
  }

  /** opaque<..> with a 1-byte length. */
  opaque8(b: Uint8Array): this {
    return this.vector8((w) => w.bytes(b));
  }

  /** opaque<..> with a 2-byte length. */
  opaque16(b: Uint8Array): this {
    return this.vector16((w) => w.bytes(b));
  }

  /** opaque<..> with a 3-byte length. */
  opaque24(b: Uint8Array): this {
    return this.vector24((w) => w.bytes(b));
  }

  private vector(prefix: 1 | 2 | 3, body: (w: this) => void): this {
    this.ensure(prefix);
    const at = this.len;
    this.len += prefix;
    body(this);
    const length = this.len - at - prefix;
    const max = prefix === 1 ? 0xff : prefix === 2 ? 0xffff : 0xffffff;
    if (length > max) throw new RangeError(`vector of ${length} bytes does not fit a ${prefix}-byte length`);
    this.put(length, prefix, at);
    return this;
  }

  private put(v: number, size: number, at: number): void {
    for (let i = size - 1; i >= 0; i--) {
      this.buf[at + i] = v & 0xff;
      v = Math.floor(v / 256);
    }
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, 64);
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}

/** Runs `body` on a fresh Writer and returns the bytes. */
export function encode(body: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  body(w);
  return w.finish();
}
