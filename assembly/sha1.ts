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
import { countOffset, bufferOffset } from "./hash-common";

const CV_WORDS: i32 = 5;
const COUNT: usize = countOffset(CV_WORDS);
const BUF: usize = bufferOffset(CV_WORDS);
const CTX_SIZE: i32 = <i32>BUF + 64;

// Message schedule W0..W79 (FIPS 180-4 §6.1.2 step 1); static, see sha256.ts.
const W: usize = memory.data(80 * 4, 16);

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
  // Step 1: W[0..15] big-endian from the block, then
  // W[t] = ROTL1(W[t-3] ⊕ W[t-8] ⊕ W[t-14] ⊕ W[t-16]), with p = &W[t-16].
  for (let t: usize = 0; t < 64; t += 4) {
    store<u32>(W + t, bswap<u32>(load<u32>(block + t)));
  }
  for (let p: usize = W; p < W + 256; p += 4) {
    store<u32>(p, rotl<u32>(load<u32>(p, 52) ^ load<u32>(p, 32) ^ load<u32>(p, 8) ^ load<u32>(p, 0), 1), 64);
  }

  // Steps 2-3: 80 rounds of T = ROTL5(a) + f(b,c,d) + e + K + W[t];
  // e = d; d = c; c = ROTL30(b); b = a; a = T. Five rounds per iteration,
  // renaming the variables instead of moving them.
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12), e = load<u32>(h, 16);
  let w = W;
  // Rounds 0-19: Ch, K = 0x5a827999 (FIPS 180-4 §4.2.1).
  for (; w < W + 80; w += 20) {
    e += rotl<u32>(a, 5) + ch(b, c, d) + 0x5a827999 + load<u32>(w, 0); b = rotl<u32>(b, 30);
    d += rotl<u32>(e, 5) + ch(a, b, c) + 0x5a827999 + load<u32>(w, 4); a = rotl<u32>(a, 30);
    c += rotl<u32>(d, 5) + ch(e, a, b) + 0x5a827999 + load<u32>(w, 8); e = rotl<u32>(e, 30);
    b += rotl<u32>(c, 5) + ch(d, e, a) + 0x5a827999 + load<u32>(w, 12); d = rotl<u32>(d, 30);
    a += rotl<u32>(b, 5) + ch(c, d, e) + 0x5a827999 + load<u32>(w, 16); c = rotl<u32>(c, 30);
  }
  // Rounds 20-39: Parity, K = 0x6ed9eba1.
  for (; w < W + 160; w += 20) {
    e += rotl<u32>(a, 5) + parity(b, c, d) + 0x6ed9eba1 + load<u32>(w, 0); b = rotl<u32>(b, 30);
    d += rotl<u32>(e, 5) + parity(a, b, c) + 0x6ed9eba1 + load<u32>(w, 4); a = rotl<u32>(a, 30);
    c += rotl<u32>(d, 5) + parity(e, a, b) + 0x6ed9eba1 + load<u32>(w, 8); e = rotl<u32>(e, 30);
    b += rotl<u32>(c, 5) + parity(d, e, a) + 0x6ed9eba1 + load<u32>(w, 12); d = rotl<u32>(d, 30);
    a += rotl<u32>(b, 5) + parity(c, d, e) + 0x6ed9eba1 + load<u32>(w, 16); c = rotl<u32>(c, 30);
  }
  // Rounds 40-59: Maj, K = 0x8f1bbcdc.
  for (; w < W + 240; w += 20) {
    e += rotl<u32>(a, 5) + maj(b, c, d) + 0x8f1bbcdc + load<u32>(w, 0); b = rotl<u32>(b, 30);
    d += rotl<u32>(e, 5) + maj(a, b, c) + 0x8f1bbcdc + load<u32>(w, 4); a = rotl<u32>(a, 30);
    c += rotl<u32>(d, 5) + maj(e, a, b) + 0x8f1bbcdc + load<u32>(w, 8); e = rotl<u32>(e, 30);
    b += rotl<u32>(c, 5) + maj(d, e, a) + 0x8f1bbcdc + load<u32>(w, 12); d = rotl<u32>(d, 30);
    a += rotl<u32>(b, 5) + maj(c, d, e) + 0x8f1bbcdc + load<u32>(w, 16); c = rotl<u32>(c, 30);
  }
  // Rounds 60-79: Parity, K = 0xca62c1d6.
  for (; w < W + 320; w += 20) {
    e += rotl<u32>(a, 5) + parity(b, c, d) + 0xca62c1d6 + load<u32>(w, 0); b = rotl<u32>(b, 30);
    d += rotl<u32>(e, 5) + parity(a, b, c) + 0xca62c1d6 + load<u32>(w, 4); a = rotl<u32>(a, 30);
    c += rotl<u32>(d, 5) + parity(e, a, b) + 0xca62c1d6 + load<u32>(w, 8); e = rotl<u32>(e, 30);
    b += rotl<u32>(c, 5) + parity(d, e, a) + 0xca62c1d6 + load<u32>(w, 12); d = rotl<u32>(d, 30);
    a += rotl<u32>(b, 5) + parity(c, d, e) + 0xca62c1d6 + load<u32>(w, 16); c = rotl<u32>(c, 30);
  }

  // Step 4.
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
}

/** Absorbs `len` bytes at `data` (any alignment); lengths are public. */
export function sha1Update(ctx: usize, data: usize, len: i32): void {
  if (len <= 0) return;
  const count = load<u64>(ctx + COUNT);
  store<u64>(ctx + COUNT, count + <u64>len);
  const buf = ctx + BUF;
  let used = <i32>(count & 63);
  if (used != 0) {
    const take = min(64 - used, len);
    memory.copy(buf + used, data, take);
    data += take;
    len -= take;
    if (used + take < 64) return;
    sha1Compress(ctx, buf);
    // Keep the block canonical: buffer bytes past count mod 64 are zero, so
    // equal streams export equal bytes however they were split.
    memory.fill(buf, 0, 64);
  }
  while (len >= 64) {
    sha1Compress(ctx, data);
    data += 64;
    len -= 64;
  }
  if (len > 0) memory.copy(buf, data, len);
}

/**
 * FIPS 180-4 §5.1.1 padding, then the 20-byte big-endian digest at `out`.
 * The context is spent afterwards.
 */
export function sha1Final(ctx: usize, out: usize): void {
  const count = load<u64>(ctx + COUNT);
  const buf = ctx + BUF;
  let used = <i32>(count & 63);
  store<u8>(buf + used, 0x80);
  used++;
  if (used > 56) {
    memory.fill(buf + used, 0, 64 - used);
    sha1Compress(ctx, buf);
    used = 0;
  }
  memory.fill(buf + used, 0, 56 - used);
  store<u64>(buf, bswap<u64>(count << 3), 56);
  sha1Compress(ctx, buf);
  for (let i: usize = 0; i < 20; i += 4) {
    store<u32>(out + i, bswap<u32>(load<u32>(ctx + i)));
  }
}
