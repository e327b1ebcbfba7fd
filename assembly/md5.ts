// MD5 (RFC 1321) over a flat, exportable context.
//
// TLS 1.0/1.1 need it for the PRF (prf.ts, P_MD5 half) and HMAC-MD5 for the
// RC4_128_MD5 suite's record MAC; SSL 3.0 for its key derivation. The record
// code drives md5Compress directly for its constant-time MAC; the TS glue is
// src/crypto/wasm/hash.ts.
//
// Context layout (88 bytes; see hash-common.ts, stable):
//   ctx + 0   A, B, C, D (RFC 1321 §3.3), u32 each, little-endian in memory
//   ctx + 16  total byte count, u64 little-endian
//   ctx + 24  64-byte partial block
import { countOffset, bufferOffset, mdPad, mdUpdate } from "./hash-common";

const CV_WORDS: i32 = 4;
const COUNT: usize = countOffset(CV_WORDS);
const BUF: usize = bufferOffset(CV_WORDS);
const CTX_SIZE: i32 = <i32>BUF + 64;

// RFC 1321 §3.4 auxiliary functions; F and G rewritten with one operation
// fewer (F = XY ∨ ¬XZ = Z ⊕ (X ∧ (Y ⊕ Z)), G = XZ ∨ Y¬Z = Y ⊕ (Z ∧ (X ⊕ Y))).
// @ts-ignore: decorator
@inline function ff(x: u32, y: u32, z: u32): u32 { return z ^ (x & (y ^ z)); }
// @ts-ignore: decorator
@inline function gg(x: u32, y: u32, z: u32): u32 { return y ^ (z & (x ^ y)); }
// @ts-ignore: decorator
@inline function hh(x: u32, y: u32, z: u32): u32 { return x ^ y ^ z; }
// @ts-ignore: decorator
@inline function ii(x: u32, y: u32, z: u32): u32 { return y ^ (x | ~z); }

export function md5CtxSize(): i32 {
  return CTX_SIZE;
}

/** RFC 1321 §3.3: A = 01 23 45 67 ... as little-endian words. */
export function md5Init(ctx: usize): void {
  store<u32>(ctx, 0x67452301, 0);
  store<u32>(ctx, 0xefcdab89, 4);
  store<u32>(ctx, 0x98badcfe, 8);
  store<u32>(ctx, 0x10325476, 12);
  store<u64>(ctx + COUNT, 0);
  memory.fill(ctx + BUF, 0, 64);
}

/**
 * One MD5 compression (RFC 1321 §3.4) of the 64-byte block at `block` (any
 * alignment) into the four-word chaining value at `h`. Leaves the byte count
 * alone (the constant-time record MAC drives it directly).
 *
 * Fully unrolled: the 64 steps below are the RFC's table, with
 * a = b + ((a + f(b,c,d) + X[k] + T[i]) <<< s) and
 * T[i] = floor(2^32 · |sin(i)|) written out.
 */
export function md5Compress(h: usize, block: usize): void {
  // X[k]: the block as little-endian words (RFC 1321 §2), loaded once.
  const x0 = load<u32>(block, 0), x1 = load<u32>(block, 4), x2 = load<u32>(block, 8), x3 = load<u32>(block, 12);
  const x4 = load<u32>(block, 16), x5 = load<u32>(block, 20), x6 = load<u32>(block, 24), x7 = load<u32>(block, 28);
  const x8 = load<u32>(block, 32), x9 = load<u32>(block, 36), x10 = load<u32>(block, 40), x11 = load<u32>(block, 44);
  const x12 = load<u32>(block, 48), x13 = load<u32>(block, 52), x14 = load<u32>(block, 56), x15 = load<u32>(block, 60);
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);

  // Round 1: F, shifts 7, 12, 17, 22.
  a = b + rotl<u32>(a + ff(b, c, d) + x0 + 0xd76aa478, 7);
  d = a + rotl<u32>(d + ff(a, b, c) + x1 + 0xe8c7b756, 12);
  c = d + rotl<u32>(c + ff(d, a, b) + x2 + 0x242070db, 17);
  b = c + rotl<u32>(b + ff(c, d, a) + x3 + 0xc1bdceee, 22);
  a = b + rotl<u32>(a + ff(b, c, d) + x4 + 0xf57c0faf, 7);
  d = a + rotl<u32>(d + ff(a, b, c) + x5 + 0x4787c62a, 12);
  c = d + rotl<u32>(c + ff(d, a, b) + x6 + 0xa8304613, 17);
  b = c + rotl<u32>(b + ff(c, d, a) + x7 + 0xfd469501, 22);
  a = b + rotl<u32>(a + ff(b, c, d) + x8 + 0x698098d8, 7);
  d = a + rotl<u32>(d + ff(a, b, c) + x9 + 0x8b44f7af, 12);
  c = d + rotl<u32>(c + ff(d, a, b) + x10 + 0xffff5bb1, 17);
  b = c + rotl<u32>(b + ff(c, d, a) + x11 + 0x895cd7be, 22);
  a = b + rotl<u32>(a + ff(b, c, d) + x12 + 0x6b901122, 7);
  d = a + rotl<u32>(d + ff(a, b, c) + x13 + 0xfd987193, 12);
  c = d + rotl<u32>(c + ff(d, a, b) + x14 + 0xa679438e, 17);
  b = c + rotl<u32>(b + ff(c, d, a) + x15 + 0x49b40821, 22);
  // Round 2: G, shifts 5, 9, 14, 20.
  a = b + rotl<u32>(a + gg(b, c, d) + x1 + 0xf61e2562, 5);
  d = a + rotl<u32>(d + gg(a, b, c) + x6 + 0xc040b340, 9);
  c = d + rotl<u32>(c + gg(d, a, b) + x11 + 0x265e5a51, 14);
  b = c + rotl<u32>(b + gg(c, d, a) + x0 + 0xe9b6c7aa, 20);
  a = b + rotl<u32>(a + gg(b, c, d) + x5 + 0xd62f105d, 5);
  d = a + rotl<u32>(d + gg(a, b, c) + x10 + 0x02441453, 9);
  c = d + rotl<u32>(c + gg(d, a, b) + x15 + 0xd8a1e681, 14);
  b = c + rotl<u32>(b + gg(c, d, a) + x4 + 0xe7d3fbc8, 20);
  a = b + rotl<u32>(a + gg(b, c, d) + x9 + 0x21e1cde6, 5);
  d = a + rotl<u32>(d + gg(a, b, c) + x14 + 0xc33707d6, 9);
  c = d + rotl<u32>(c + gg(d, a, b) + x3 + 0xf4d50d87, 14);
  b = c + rotl<u32>(b + gg(c, d, a) + x8 + 0x455a14ed, 20);
  a = b + rotl<u32>(a + gg(b, c, d) + x13 + 0xa9e3e905, 5);
  d = a + rotl<u32>(d + gg(a, b, c) + x2 + 0xfcefa3f8, 9);
  c = d + rotl<u32>(c + gg(d, a, b) + x7 + 0x676f02d9, 14);
  b = c + rotl<u32>(b + gg(c, d, a) + x12 + 0x8d2a4c8a, 20);
  // Round 3: H, shifts 4, 11, 16, 23.
  a = b + rotl<u32>(a + hh(b, c, d) + x5 + 0xfffa3942, 4);
  d = a + rotl<u32>(d + hh(a, b, c) + x8 + 0x8771f681, 11);
  c = d + rotl<u32>(c + hh(d, a, b) + x11 + 0x6d9d6122, 16);
  b = c + rotl<u32>(b + hh(c, d, a) + x14 + 0xfde5380c, 23);
  a = b + rotl<u32>(a + hh(b, c, d) + x1 + 0xa4beea44, 4);
  d = a + rotl<u32>(d + hh(a, b, c) + x4 + 0x4bdecfa9, 11);
  c = d + rotl<u32>(c + hh(d, a, b) + x7 + 0xf6bb4b60, 16);
  b = c + rotl<u32>(b + hh(c, d, a) + x10 + 0xbebfbc70, 23);
  a = b + rotl<u32>(a + hh(b, c, d) + x13 + 0x289b7ec6, 4);
  d = a + rotl<u32>(d + hh(a, b, c) + x0 + 0xeaa127fa, 11);
  c = d + rotl<u32>(c + hh(d, a, b) + x3 + 0xd4ef3085, 16);
  b = c + rotl<u32>(b + hh(c, d, a) + x6 + 0x04881d05, 23);
  a = b + rotl<u32>(a + hh(b, c, d) + x9 + 0xd9d4d039, 4);
  d = a + rotl<u32>(d + hh(a, b, c) + x12 + 0xe6db99e5, 11);
  c = d + rotl<u32>(c + hh(d, a, b) + x15 + 0x1fa27cf8, 16);
  b = c + rotl<u32>(b + hh(c, d, a) + x2 + 0xc4ac5665, 23);
  // Round 4: I, shifts 6, 10, 15, 21.
  a = b + rotl<u32>(a + ii(b, c, d) + x0 + 0xf4292244, 6);
  d = a + rotl<u32>(d + ii(a, b, c) + x7 + 0x432aff97, 10);
  c = d + rotl<u32>(c + ii(d, a, b) + x14 + 0xab9423a7, 15);
  b = c + rotl<u32>(b + ii(c, d, a) + x5 + 0xfc93a039, 21);
  a = b + rotl<u32>(a + ii(b, c, d) + x12 + 0x655b59c3, 6);
  d = a + rotl<u32>(d + ii(a, b, c) + x3 + 0x8f0ccc92, 10);
  c = d + rotl<u32>(c + ii(d, a, b) + x10 + 0xffeff47d, 15);
  b = c + rotl<u32>(b + ii(c, d, a) + x1 + 0x85845dd1, 21);
  a = b + rotl<u32>(a + ii(b, c, d) + x8 + 0x6fa87e4f, 6);
  d = a + rotl<u32>(d + ii(a, b, c) + x15 + 0xfe2ce6e0, 10);
  c = d + rotl<u32>(c + ii(d, a, b) + x6 + 0xa3014314, 15);
  b = c + rotl<u32>(b + ii(c, d, a) + x13 + 0x4e0811a1, 21);
  a = b + rotl<u32>(a + ii(b, c, d) + x4 + 0xf7537e82, 6);
  d = a + rotl<u32>(d + ii(a, b, c) + x11 + 0xbd3af235, 10);
  c = d + rotl<u32>(c + ii(d, a, b) + x2 + 0x2ad7d2bb, 15);
  b = c + rotl<u32>(b + ii(c, d, a) + x9 + 0xeb86d391, 21);

  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
}

/** Absorbs `len` bytes at `data` (any alignment); lengths are public. */
export function md5Update(ctx: usize, data: usize, len: i32): void {
  mdUpdate(ctx, CV_WORDS, md5Compress, data, len);
}

/**
 * RFC 1321 §3.1-3.2 padding (0x80, zeros, 64-bit *little-endian* bit length),
 * then the 16-byte digest A, B, C, D little-endian (§3.5) at `out`. The
 * context is spent afterwards.
 */
export function md5Final(ctx: usize, out: usize): void {
  mdPad(ctx, CV_WORDS, md5Compress, false);
  memory.copy(out, ctx, 16);
}
