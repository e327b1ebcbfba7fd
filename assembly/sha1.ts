// SHA-1 (FIPS 180-4 §6.1) over a flat, exportable context.
//
// Used by HMAC-SHA1 (hmac.ts) for the *_SHA cipher suites' record MAC, the
// TLS 1.0/1.1 PRF (prf.ts, P_SHA1 half), the SSL 3.0 key derivation, and the
// TS glue src/crypto/wasm/hash.ts. The record code drives sha1Compress
// directly for its constant-time MAC.
//
// Context layout (92 bytes; see hash-common.ts, stable):
//   ctx + 0   H0..H4, u32 each (little-endian in memory)
//   ctx + 20  total byte count, u64 little-endian
//   ctx + 28  64-byte partial block
import { countOffset, bufferOffset, mdPad, mdUpdate, storeBigEndianWords } from "./hash-common";

const CV_WORDS: i32 = 5;
const COUNT: usize = countOffset(CV_WORDS);
const BUF: usize = bufferOffset(CV_WORDS);
const CTX_SIZE: i32 = <i32>BUF + 64;

// FIPS 180-4 §4.1.1 round functions (Ch and Maj in fewer operations, as in sha256.ts).
// @ts-ignore: decorator
@inline function ch(x: u32, y: u32, z: u32): u32 { return z ^ (x & (y ^ z)); }
// @ts-ignore: decorator
@inline function parity(x: u32, y: u32, z: u32): u32 { return x ^ y ^ z; }
// @ts-ignore: decorator
@inline function maj(x: u32, y: u32, z: u32): u32 { return (x & y) | (z & (x | y)); }

export function sha1CtxSize(): i32 {
  return CTX_SIZE;
}

/** FIPS 180-4 §5.3.1: initial hash value. */
export function sha1Init(ctx: usize): void {
  store<u32>(ctx, 0x67452301, 0);
  store<u32>(ctx, 0xefcdab89, 4);
  store<u32>(ctx, 0x98badcfe, 8);
  store<u32>(ctx, 0x10325476, 12);
  store<u32>(ctx, 0xc3d2e1f0, 16);
  store<u64>(ctx + COUNT, 0);
  memory.fill(ctx + BUF, 0, 64);
}

/**
 * One SHA-1 compression (FIPS 180-4 §6.1.2) of the 64-byte block at `block`
 * (any alignment) into the five-word chaining value at `h`. Leaves the byte
 * count alone (the constant-time record MAC drives it directly).
 */
export function sha1Compress(h: usize, block: usize): void {
  // Steps 1-3 (FIPS 180-4 §6.1.2), merged and written out: the schedule is a
  // sliding window of 16 words in locals, W[t] = ROTL1(W[t-3] ⊕ W[t-8] ⊕
  // W[t-14] ⊕ W[t-16]) overwriting W[t-16] just before round t uses it.
  // Each round is T = ROTL5(a) + f(b,c,d) + e + K + W[t]; e = d; d = c;
  // c = ROTL30(b); b = a; a = T, with the variables renamed instead of moved
  // (so the five names cycle every round and the 80 rounds are spelled out).
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12), e = load<u32>(h, 16);
  let w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32, w6: u32, w7: u32;
  let w8: u32, w9: u32, w10: u32, w11: u32, w12: u32, w13: u32, w14: u32, w15: u32;
  // Rounds 0-19: Ch, K = 0x5a827999 (FIPS 180-4 §4.1.1, §4.2.1).
  w0 = bswap<u32>(load<u32>(block, 0));
  e += rotl<u32>(a, 5) + ch(b, c, d) + 0x5a827999 + w0; b = rotl<u32>(b, 30);
  w1 = bswap<u32>(load<u32>(block, 4));
  d += rotl<u32>(e, 5) + ch(a, b, c) + 0x5a827999 + w1; a = rotl<u32>(a, 30);
  w2 = bswap<u32>(load<u32>(block, 8));
  c += rotl<u32>(d, 5) + ch(e, a, b) + 0x5a827999 + w2; e = rotl<u32>(e, 30);
  w3 = bswap<u32>(load<u32>(block, 12));
  b += rotl<u32>(c, 5) + ch(d, e, a) + 0x5a827999 + w3; d = rotl<u32>(d, 30);
  w4 = bswap<u32>(load<u32>(block, 16));
  a += rotl<u32>(b, 5) + ch(c, d, e) + 0x5a827999 + w4; c = rotl<u32>(c, 30);
  w5 = bswap<u32>(load<u32>(block, 20));
  e += rotl<u32>(a, 5) + ch(b, c, d) + 0x5a827999 + w5; b = rotl<u32>(b, 30);
  w6 = bswap<u32>(load<u32>(block, 24));
  d += rotl<u32>(e, 5) + ch(a, b, c) + 0x5a827999 + w6; a = rotl<u32>(a, 30);
  w7 = bswap<u32>(load<u32>(block, 28));
  c += rotl<u32>(d, 5) + ch(e, a, b) + 0x5a827999 + w7; e = rotl<u32>(e, 30);
  w8 = bswap<u32>(load<u32>(block, 32));
  b += rotl<u32>(c, 5) + ch(d, e, a) + 0x5a827999 + w8; d = rotl<u32>(d, 30);
  w9 = bswap<u32>(load<u32>(block, 36));
  a += rotl<u32>(b, 5) + ch(c, d, e) + 0x5a827999 + w9; c = rotl<u32>(c, 30);
  w10 = bswap<u32>(load<u32>(block, 40));
  e += rotl<u32>(a, 5) + ch(b, c, d) + 0x5a827999 + w10; b = rotl<u32>(b, 30);
  w11 = bswap<u32>(load<u32>(block, 44));
  d += rotl<u32>(e, 5) + ch(a, b, c) + 0x5a827999 + w11; a = rotl<u32>(a, 30);
  w12 = bswap<u32>(load<u32>(block, 48));
  c += rotl<u32>(d, 5) + ch(e, a, b) + 0x5a827999 + w12; e = rotl<u32>(e, 30);
  w13 = bswap<u32>(load<u32>(block, 52));
  b += rotl<u32>(c, 5) + ch(d, e, a) + 0x5a827999 + w13; d = rotl<u32>(d, 30);
  w14 = bswap<u32>(load<u32>(block, 56));
  a += rotl<u32>(b, 5) + ch(c, d, e) + 0x5a827999 + w14; c = rotl<u32>(c, 30);
  w15 = bswap<u32>(load<u32>(block, 60));
  e += rotl<u32>(a, 5) + ch(b, c, d) + 0x5a827999 + w15; b = rotl<u32>(b, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  d += rotl<u32>(e, 5) + ch(a, b, c) + 0x5a827999 + w0; a = rotl<u32>(a, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  c += rotl<u32>(d, 5) + ch(e, a, b) + 0x5a827999 + w1; e = rotl<u32>(e, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  b += rotl<u32>(c, 5) + ch(d, e, a) + 0x5a827999 + w2; d = rotl<u32>(d, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  a += rotl<u32>(b, 5) + ch(c, d, e) + 0x5a827999 + w3; c = rotl<u32>(c, 30);
  // Rounds 20-39: Parity, K = 0x6ed9eba1.
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0x6ed9eba1 + w4; b = rotl<u32>(b, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0x6ed9eba1 + w5; a = rotl<u32>(a, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0x6ed9eba1 + w6; e = rotl<u32>(e, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0x6ed9eba1 + w7; d = rotl<u32>(d, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0x6ed9eba1 + w8; c = rotl<u32>(c, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0x6ed9eba1 + w9; b = rotl<u32>(b, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0x6ed9eba1 + w10; a = rotl<u32>(a, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0x6ed9eba1 + w11; e = rotl<u32>(e, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0x6ed9eba1 + w12; d = rotl<u32>(d, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0x6ed9eba1 + w13; c = rotl<u32>(c, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0x6ed9eba1 + w14; b = rotl<u32>(b, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0x6ed9eba1 + w15; a = rotl<u32>(a, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0x6ed9eba1 + w0; e = rotl<u32>(e, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0x6ed9eba1 + w1; d = rotl<u32>(d, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0x6ed9eba1 + w2; c = rotl<u32>(c, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0x6ed9eba1 + w3; b = rotl<u32>(b, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0x6ed9eba1 + w4; a = rotl<u32>(a, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0x6ed9eba1 + w5; e = rotl<u32>(e, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0x6ed9eba1 + w6; d = rotl<u32>(d, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0x6ed9eba1 + w7; c = rotl<u32>(c, 30);
  // Rounds 40-59: Maj, K = 0x8f1bbcdc.
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  e += rotl<u32>(a, 5) + maj(b, c, d) + 0x8f1bbcdc + w8; b = rotl<u32>(b, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  d += rotl<u32>(e, 5) + maj(a, b, c) + 0x8f1bbcdc + w9; a = rotl<u32>(a, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  c += rotl<u32>(d, 5) + maj(e, a, b) + 0x8f1bbcdc + w10; e = rotl<u32>(e, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  b += rotl<u32>(c, 5) + maj(d, e, a) + 0x8f1bbcdc + w11; d = rotl<u32>(d, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  a += rotl<u32>(b, 5) + maj(c, d, e) + 0x8f1bbcdc + w12; c = rotl<u32>(c, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  e += rotl<u32>(a, 5) + maj(b, c, d) + 0x8f1bbcdc + w13; b = rotl<u32>(b, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  d += rotl<u32>(e, 5) + maj(a, b, c) + 0x8f1bbcdc + w14; a = rotl<u32>(a, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  c += rotl<u32>(d, 5) + maj(e, a, b) + 0x8f1bbcdc + w15; e = rotl<u32>(e, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  b += rotl<u32>(c, 5) + maj(d, e, a) + 0x8f1bbcdc + w0; d = rotl<u32>(d, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  a += rotl<u32>(b, 5) + maj(c, d, e) + 0x8f1bbcdc + w1; c = rotl<u32>(c, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  e += rotl<u32>(a, 5) + maj(b, c, d) + 0x8f1bbcdc + w2; b = rotl<u32>(b, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  d += rotl<u32>(e, 5) + maj(a, b, c) + 0x8f1bbcdc + w3; a = rotl<u32>(a, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  c += rotl<u32>(d, 5) + maj(e, a, b) + 0x8f1bbcdc + w4; e = rotl<u32>(e, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  b += rotl<u32>(c, 5) + maj(d, e, a) + 0x8f1bbcdc + w5; d = rotl<u32>(d, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  a += rotl<u32>(b, 5) + maj(c, d, e) + 0x8f1bbcdc + w6; c = rotl<u32>(c, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  e += rotl<u32>(a, 5) + maj(b, c, d) + 0x8f1bbcdc + w7; b = rotl<u32>(b, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  d += rotl<u32>(e, 5) + maj(a, b, c) + 0x8f1bbcdc + w8; a = rotl<u32>(a, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  c += rotl<u32>(d, 5) + maj(e, a, b) + 0x8f1bbcdc + w9; e = rotl<u32>(e, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  b += rotl<u32>(c, 5) + maj(d, e, a) + 0x8f1bbcdc + w10; d = rotl<u32>(d, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  a += rotl<u32>(b, 5) + maj(c, d, e) + 0x8f1bbcdc + w11; c = rotl<u32>(c, 30);
  // Rounds 60-79: Parity, K = 0xca62c1d6.
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0xca62c1d6 + w12; b = rotl<u32>(b, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0xca62c1d6 + w13; a = rotl<u32>(a, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0xca62c1d6 + w14; e = rotl<u32>(e, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0xca62c1d6 + w15; d = rotl<u32>(d, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0xca62c1d6 + w0; c = rotl<u32>(c, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0xca62c1d6 + w1; b = rotl<u32>(b, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0xca62c1d6 + w2; a = rotl<u32>(a, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0xca62c1d6 + w3; e = rotl<u32>(e, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0xca62c1d6 + w4; d = rotl<u32>(d, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0xca62c1d6 + w5; c = rotl<u32>(c, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0xca62c1d6 + w6; b = rotl<u32>(b, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0xca62c1d6 + w7; a = rotl<u32>(a, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0xca62c1d6 + w8; e = rotl<u32>(e, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0xca62c1d6 + w9; d = rotl<u32>(d, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0xca62c1d6 + w10; c = rotl<u32>(c, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  e += rotl<u32>(a, 5) + parity(b, c, d) + 0xca62c1d6 + w11; b = rotl<u32>(b, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  d += rotl<u32>(e, 5) + parity(a, b, c) + 0xca62c1d6 + w12; a = rotl<u32>(a, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  c += rotl<u32>(d, 5) + parity(e, a, b) + 0xca62c1d6 + w13; e = rotl<u32>(e, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  b += rotl<u32>(c, 5) + parity(d, e, a) + 0xca62c1d6 + w14; d = rotl<u32>(d, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  a += rotl<u32>(b, 5) + parity(c, d, e) + 0xca62c1d6 + w15; c = rotl<u32>(c, 30);

  // Step 4.
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
}

/** Absorbs `len` bytes at `data` (any alignment); lengths are public. */
export function sha1Update(ctx: usize, data: usize, len: i32): void {
  mdUpdate(ctx, CV_WORDS, sha1Compress, data, len);
}

/**
 * FIPS 180-4 §5.1.1 padding, then the 20-byte big-endian digest at `out`.
 * The context is spent afterwards.
 */
export function sha1Final(ctx: usize, out: usize): void {
  mdPad(ctx, CV_WORDS, sha1Compress, true);
  storeBigEndianWords(ctx, out, CV_WORDS);
}
