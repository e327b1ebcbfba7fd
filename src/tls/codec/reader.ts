// The byte reader every parser in src/tls/codec uses.
//
// A Reader is a cursor over a Uint8Array. Each read names the field it reads,
// so a failure says exactly which field of which message was wrong:
// `new Reader(body, "ClientHello").vector16("cipher_suites", ...)` that runs
// past the end throws "ClientHello.cipher_suites: length 300 exceeds the 20
// bytes remaining". Length-prefixed vectors (RFC 5246 §4.3) come back as
// sub-readers confined to the vector's bytes, named after the vector, so a
// parser cannot read past a vector's end by construction.
//
// Results of bytes()/rest() are views into the input, not copies: the record
// deframer hands out fresh buffers, so parsed messages may keep them.

import { lengthOutOfRange, trailingBytes, truncated, vectorOverrun, notMultiple } from "./errors.js";

/** The <min..max> bounds of a variable-length vector, in bytes (RFC 5246 §4.3). */
export interface LengthRange {
  readonly min: number;
  readonly max: number;
}

export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** Dotted name of the structure being read, used in error messages. */
    readonly where: string,
  ) {}

  /** Bytes not yet read. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  /** Throws decode_error if anything is left: every structure we parse has a known end. */
  expectEnd(): void {
    if (this.pos !== this.buf.length) throw trailingBytes(this.where, this.remaining);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u24(field: string): number {
    this.need(3, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 3;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    // Multiply rather than shift: `<< 24` would go negative for the top bit.
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  u64(field: string): bigint {
    this.need(8, field);
    const hi = BigInt(this.u32(field));
    const lo = BigInt(this.u32(field));
    return (hi << 32n) | lo;
  }

  /** Exactly n bytes (a fixed-length opaque such as Random's 32 bytes). */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Everything left. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return out;
  }

  /** A vector with a 1-byte length prefix, as a sub-reader over its contents. */
  vector8(field: string, range: LengthRange = { min: 0, max: 0xff }): Reader {
    return this.vector(1, field, range);
  }

  /** A vector with a 2-byte length prefix, as a sub-reader over its contents. */
  vector16(field: string, range: LengthRange = { min: 0, max: 0xffff }): Reader {
    return this.vector(2, field, range);
  }

  /** A vector with a 3-byte length prefix, as a sub-reader over its contents. */
  vector24(field: string, range: LengthRange = { min: 0, max: 0xffffff }): Reader {
    return this.vector(3, field, range);
  }

  /** opaque field<min..max> with a 1-byte length: the bytes themselves. */
  opaque8(field: string, range?: LengthRange): Uint8Array {
    return this.vector8(field, range).rest();
  }

  /** opaque field<min..max> with a 2-byte length: the bytes themselves. */
  opaque16(field: string, range?: LengthRange): Uint8Array {
    return this.vector16(field, range).rest();
  }

  /** opaque field<min..max> with a 3-byte length: the bytes themselves. */
  opaque24(field: string, range?: LengthRange): Uint8Array {
    return this.vector24(field, range).rest();
  }

  /**
   * Reads every remaining element of a vector of fixed-size integers, e.g.
   * `CipherSuite cipher_suites<2..2^16-2>`: the length must be a multiple of
   * the element size (RFC 5246 §4.3: "the length ... must be an exact
   * multiple of the length of a single element").
   */
  u16List(): number[] {
    if (this.remaining % 2 !== 0) throw notMultiple(this.where, this.remaining, 2);
    const out: number[] = [];
    let i = 0;
    while (!this.atEnd()) out.push(this.u16(`[${i++}]`));
    return out;
  }

  /** Every remaining byte as a list of u8 values, e.g. compression_methods. */
  u8List(): number[] {
    return Array.from(this.rest());
  }

  private vector(prefix: 1 | 2 | 3, field: string, range: LengthRange): Reader {
    const length = prefix === 1 ? this.u8(field) : prefix === 2 ? this.u16(field) : this.u24(field);
    const name = this.name(field);
    if (length > this.remaining) throw vectorOverrun(name, length, this.remaining);
    if (length < range.min || length > range.max) throw lengthOutOfRange(name, length, range.min, range.max);
    const sub = new Reader(this.buf.subarray(this.pos, this.pos + length), name);
    this.pos += length;
    return sub;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) throw truncated(this.name(field), n, this.remaining);
  }

  private name(field: string): string {
    // Element indexes attach without a dot: "ClientHello.cipher_suites[3]".
    return field.startsWith("[") ? `${this.where}${field}` : `${this.where}.${field}`;
  }
}
