// SHA-256 (FIPS 180-4 §6.2) over a flat, exportable context.
//
// Used by the TLS 1.2 PRF (prf.ts), HMAC-SHA256 (hmac.ts) for the
// *_SHA256 cipher suites, the record MAC (constant-time, via sha256Compress),
// and the TS glue src/crypto/wasm/hash.ts. The glue copies the context and the
// data into scratch memory, calls, and copies the context back.
//
// Context layout (104 bytes; see hash-common.ts, stable):
//   ctx + 0   H0..H7, u32 each (little-endian in memory)
//   ctx + 32  total byte count, u64 little-endian
//   ctx + 40  64-byte partial block
import { countOffset, bufferOffset, mdPad, mdUpdate, storeBigEndianWords } from "./hash-common";

const CV_WORDS: i32 = 8;
const COUNT: usize = countOffset(CV_WORDS);
const BUF: usize = bufferOffset(CV_WORDS);
const CTX_SIZE: i32 = <i32>BUF + 64;

// FIPS 180-4 §4.1.2, written with fewer operations than the spec's form:
// Ch(x,y,z) = (x∧y)⊕(¬x∧z) = z⊕(x∧(y⊕z)); Maj(x,y,z) = y⊕((x⊕y)∧(y⊕z)),
// whose x⊕y is the next round's y⊕z (the optimizer shares it).
// @ts-ignore: decorator
@inline function ch(x: u32, y: u32, z: u32): u32 { return z ^ (x & (y ^ z)); }
// @ts-ignore: decorator
@inline function maj(x: u32, y: u32, z: u32): u32 { return y ^ ((x ^ y) & (y ^ z)); }
// @ts-ignore: decorator
@inline function bigSigma0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline function bigSigma1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline function smallSigma0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
// @ts-ignore: decorator
@inline function smallSigma1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }

export function sha256CtxSize(): i32 {
  return CTX_SIZE;
}

/** FIPS 180-4 §5.3.3: initial hash value (square roots of the first 8 primes). */
export function sha256Init(ctx: usize): void {
  store<u32>(ctx, 0x6a09e667, 0);
  store<u32>(ctx, 0xbb67ae85, 4);
  store<u32>(ctx, 0x3c6ef372, 8);
  store<u32>(ctx, 0xa54ff53a, 12);
  store<u32>(ctx, 0x510e527f, 16);
  store<u32>(ctx, 0x9b05688c, 20);
  store<u32>(ctx, 0x1f83d9ab, 24);
  store<u32>(ctx, 0x5be0cd19, 28);
  store<u64>(ctx + COUNT, 0);
  memory.fill(ctx + BUF, 0, 64);
}

/**
 * One SHA-256 compression (FIPS 180-4 §6.2.2) of the 64-byte block at `block`
 * (any alignment) into the eight-word chaining value at `h`. Does not touch
 * the byte count: the constant-time record MAC drives it directly.
 */
export function sha256Compress(h: usize, block: usize): void {
  // Steps 1-3 (FIPS 180-4 §6.2.2), merged and written out: the schedule is
  // kept as a sliding window of 16 words in locals (W[t] overwrites W[t-16],
  // the only word it no longer needs), computed just before round t uses it,
  // so no W[0..63] array goes through memory. The working variables are
  // renamed instead of shifted: round t+1 sees the spec's a..h after its
  // "h = g, g = f, ..." step. K[t] (FIPS 180-4 §4.2.2: the first 32 bits of
  // the fractional parts of the cube roots of the first 64 primes) appear as
  // immediates. Fully unrolled, this runs ~12% faster than a 16-round loop.
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
  let t1: u32;
  let w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32, w6: u32, w7: u32;
  let w8: u32, w9: u32, w10: u32, w11: u32, w12: u32, w13: u32, w14: u32, w15: u32;
  // Each round: T1 = h + Σ1(e) + Ch(e,f,g) + K[t] + W[t]; d += T1; h = T1 + Σ0(a) + Maj(a,b,c).
  // Rounds 0-15: W[t] is message word t, big-endian (FIPS 180-4 §3.1).
  w0 = bswap<u32>(load<u32>(block, 0));
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0x428a2f98 + w0; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w1 = bswap<u32>(load<u32>(block, 4));
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0x71374491 + w1; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w2 = bswap<u32>(load<u32>(block, 8));
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0xb5c0fbcf + w2; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w3 = bswap<u32>(load<u32>(block, 12));
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0xe9b5dba5 + w3; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w4 = bswap<u32>(load<u32>(block, 16));
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0x3956c25b + w4; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w5 = bswap<u32>(load<u32>(block, 20));
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0x59f111f1 + w5; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w6 = bswap<u32>(load<u32>(block, 24));
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0x923f82a4 + w6; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w7 = bswap<u32>(load<u32>(block, 28));
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0xab1c5ed5 + w7; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  w8 = bswap<u32>(load<u32>(block, 32));
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0xd807aa98 + w8; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w9 = bswap<u32>(load<u32>(block, 36));
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0x12835b01 + w9; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w10 = bswap<u32>(load<u32>(block, 40));
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0x243185be + w10; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w11 = bswap<u32>(load<u32>(block, 44));
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0x550c7dc3 + w11; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w12 = bswap<u32>(load<u32>(block, 48));
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0x72be5d74 + w12; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w13 = bswap<u32>(load<u32>(block, 52));
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0x80deb1fe + w13; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w14 = bswap<u32>(load<u32>(block, 56));
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0x9bdc06a7 + w14; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w15 = bswap<u32>(load<u32>(block, 60));
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0xc19bf174 + w15; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  // Rounds 16-63: W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], into the slot of W[t-16].
  w0 += smallSigma1(w14) + w9 + smallSigma0(w1);
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0xe49b69c1 + w0; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w1 += smallSigma1(w15) + w10 + smallSigma0(w2);
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0xefbe4786 + w1; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w2 += smallSigma1(w0) + w11 + smallSigma0(w3);
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0x0fc19dc6 + w2; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w3 += smallSigma1(w1) + w12 + smallSigma0(w4);
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0x240ca1cc + w3; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w4 += smallSigma1(w2) + w13 + smallSigma0(w5);
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0x2de92c6f + w4; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w5 += smallSigma1(w3) + w14 + smallSigma0(w6);
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0x4a7484aa + w5; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w6 += smallSigma1(w4) + w15 + smallSigma0(w7);
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0x5cb0a9dc + w6; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w7 += smallSigma1(w5) + w0 + smallSigma0(w8);
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0x76f988da + w7; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  w8 += smallSigma1(w6) + w1 + smallSigma0(w9);
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0x983e5152 + w8; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w9 += smallSigma1(w7) + w2 + smallSigma0(w10);
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0xa831c66d + w9; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w10 += smallSigma1(w8) + w3 + smallSigma0(w11);
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0xb00327c8 + w10; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w11 += smallSigma1(w9) + w4 + smallSigma0(w12);
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0xbf597fc7 + w11; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w12 += smallSigma1(w10) + w5 + smallSigma0(w13);
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0xc6e00bf3 + w12; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w13 += smallSigma1(w11) + w6 + smallSigma0(w14);
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0xd5a79147 + w13; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w14 += smallSigma1(w12) + w7 + smallSigma0(w15);
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0x06ca6351 + w14; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w15 += smallSigma1(w13) + w8 + smallSigma0(w0);
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0x14292967 + w15; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  w0 += smallSigma1(w14) + w9 + smallSigma0(w1);
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0x27b70a85 + w0; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w1 += smallSigma1(w15) + w10 + smallSigma0(w2);
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0x2e1b2138 + w1; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w2 += smallSigma1(w0) + w11 + smallSigma0(w3);
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0x4d2c6dfc + w2; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w3 += smallSigma1(w1) + w12 + smallSigma0(w4);
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0x53380d13 + w3; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w4 += smallSigma1(w2) + w13 + smallSigma0(w5);
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0x650a7354 + w4; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w5 += smallSigma1(w3) + w14 + smallSigma0(w6);
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0x766a0abb + w5; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w6 += smallSigma1(w4) + w15 + smallSigma0(w7);
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0x81c2c92e + w6; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w7 += smallSigma1(w5) + w0 + smallSigma0(w8);
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0x92722c85 + w7; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  w8 += smallSigma1(w6) + w1 + smallSigma0(w9);
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0xa2bfe8a1 + w8; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w9 += smallSigma1(w7) + w2 + smallSigma0(w10);
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0xa81a664b + w9; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w10 += smallSigma1(w8) + w3 + smallSigma0(w11);
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0xc24b8b70 + w10; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w11 += smallSigma1(w9) + w4 + smallSigma0(w12);
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0xc76c51a3 + w11; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w12 += smallSigma1(w10) + w5 + smallSigma0(w13);
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0xd192e819 + w12; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w13 += smallSigma1(w11) + w6 + smallSigma0(w14);
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0xd6990624 + w13; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w14 += smallSigma1(w12) + w7 + smallSigma0(w15);
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0xf40e3585 + w14; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w15 += smallSigma1(w13) + w8 + smallSigma0(w0);
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0x106aa070 + w15; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  w0 += smallSigma1(w14) + w9 + smallSigma0(w1);
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0x19a4c116 + w0; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w1 += smallSigma1(w15) + w10 + smallSigma0(w2);
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0x1e376c08 + w1; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w2 += smallSigma1(w0) + w11 + smallSigma0(w3);
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0x2748774c + w2; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w3 += smallSigma1(w1) + w12 + smallSigma0(w4);
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0x34b0bcb5 + w3; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w4 += smallSigma1(w2) + w13 + smallSigma0(w5);
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0x391c0cb3 + w4; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w5 += smallSigma1(w3) + w14 + smallSigma0(w6);
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0x4ed8aa4a + w5; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w6 += smallSigma1(w4) + w15 + smallSigma0(w7);
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0x5b9cca4f + w6; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w7 += smallSigma1(w5) + w0 + smallSigma0(w8);
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0x682e6ff3 + w7; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);
  w8 += smallSigma1(w6) + w1 + smallSigma0(w9);
  t1 = hh + bigSigma1(e) + ch(e, f, g) + 0x748f82ee + w8; d += t1; hh = t1 + bigSigma0(a) + maj(a, b, c);
  w9 += smallSigma1(w7) + w2 + smallSigma0(w10);
  t1 = g + bigSigma1(d) + ch(d, e, f) + 0x78a5636f + w9; c += t1; g = t1 + bigSigma0(hh) + maj(hh, a, b);
  w10 += smallSigma1(w8) + w3 + smallSigma0(w11);
  t1 = f + bigSigma1(c) + ch(c, d, e) + 0x84c87814 + w10; b += t1; f = t1 + bigSigma0(g) + maj(g, hh, a);
  w11 += smallSigma1(w9) + w4 + smallSigma0(w12);
  t1 = e + bigSigma1(b) + ch(b, c, d) + 0x8cc70208 + w11; a += t1; e = t1 + bigSigma0(f) + maj(f, g, hh);
  w12 += smallSigma1(w10) + w5 + smallSigma0(w13);
  t1 = d + bigSigma1(a) + ch(a, b, c) + 0x90befffa + w12; hh += t1; d = t1 + bigSigma0(e) + maj(e, f, g);
  w13 += smallSigma1(w11) + w6 + smallSigma0(w14);
  t1 = c + bigSigma1(hh) + ch(hh, a, b) + 0xa4506ceb + w13; g += t1; c = t1 + bigSigma0(d) + maj(d, e, f);
  w14 += smallSigma1(w12) + w7 + smallSigma0(w15);
  t1 = b + bigSigma1(g) + ch(g, hh, a) + 0xbef9a3f7 + w14; f += t1; b = t1 + bigSigma0(c) + maj(c, d, e);
  w15 += smallSigma1(w13) + w8 + smallSigma0(w0);
  t1 = a + bigSigma1(f) + ch(f, g, hh) + 0xc67178f2 + w15; e += t1; a = t1 + bigSigma0(b) + maj(b, c, d);

  // Step 4: add into the chaining value.
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
  store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24);
  store<u32>(h, load<u32>(h, 28) + hh, 28);
}

/** Absorbs `len` bytes at `data` (any alignment). Lengths are public: branching on them is fine. */
export function sha256Update(ctx: usize, data: usize, len: i32): void {
  mdUpdate(ctx, CV_WORDS, sha256Compress, data, len);
}

/**
 * FIPS 180-4 §5.1.1 padding (0x80, zeros, 64-bit big-endian bit length),
 * then the digest, big-endian (§6.2.2 step 4), 32 bytes at `out`. The context
 * is spent afterwards; copy it first to keep hashing (the glue does).
 */
export function sha256Final(ctx: usize, out: usize): void {
  mdPad(ctx, CV_WORDS, sha256Compress, true);
  storeBigEndianWords(ctx, out, CV_WORDS);
}
