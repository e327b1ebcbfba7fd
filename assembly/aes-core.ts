// The bitsliced AES engine (FIPS-197) behind aes.ts and cbc.ts. Internal:
// nothing here is exported from sym.wasm.
//
// Representation (after Käsper and Schwabe, "Faster and timing-attack
// resistant AES-GCM", CHES 2009, adapted to WASM SIMD): the state of eight
// blocks is eight v128 bit planes. Plane b holds bit b of every state byte;
// lane k of a plane is state byte k (FIPS-197 §3.4: byte k is row k mod 4,
// column k div 4), and bit j of that lane belongs to block j. So ShiftRows
// and the row rotations of MixColumns are byte shuffles of each plane, and
// SubBytes is the Boolean circuit of aes-sbox.ts applied to whole planes. No
// memory access depends on key or data: constant time.
//
// The cost of one pass is the same for one block as for eight, so this engine
// does the parallel work: CBC decryption and multi-chain CBC encryption, eight
// blocks per pass. Serial CBC encryption (SP 800-38A §6.2) would use one lane
// of eight; it runs on the vector-permute engine (aes-vperm.ts), whose key
// schedule shares this context. Between rounds the planes live in a static 128-byte
// buffer (AssemblyScript functions return one value); within a round
// (aes-sbox.ts + aes-linear.ts) they stay in locals.
//
// Context layout (flat, position independent; the glue copies it around):
//   [0, 4)      Nr, the number of rounds (10 for AES-128, 14 for AES-256)
//   [16, ...)   round keys 0..Nr as bit planes, 128 bytes each (plane b at
//               +16b, lane k = 0xff if bit b of round key byte k is set), with
//               0x63 folded into keys 1..Nr (see aes-sbox.ts).
//   [1936, 2192) the vector-permute schedule of aes-vperm.ts (16 x 16 bytes),
//               written by vpermExpandKey; the single-chain encryption path.
// The inverse cipher (FIPS-197 §5.3) uses the bit-plane keys in reverse
// order, so this block serves both directions.

import { addRoundKey } from "./aes-linear";
import { decLastRound, decRound, encLastRound, encRound, subBytes } from "./aes-sbox";

const KEYS: usize = 16;
/** Offset of the vperm schedule: after Nr and the 15 bit-plane round keys. */
export const VPERM_KEYS: i32 = 16 + 15 * 128;
export const AES_CTX_SIZE: i32 = VPERM_KEYS + 16 * 16;

/** State planes of the block(s) in flight. */
const ST: usize = memory.data(128, 16);
/** Expanded key as bytes (FIPS-197 §5.2 w[0..4(Nr+1))), wiped after use. */
const W: usize = memory.data(240, 16);

// @ts-ignore: decorator
@inline
function X(a: v128, b: v128): v128 {
  return v128.xor(a, b);
}

// ---------------------------------------------------------------------------
// Layout changes between blocks and planes.

// @ts-ignore: decorator
@inline
function swapMask(x: v128, y: v128, n: i32, m: v128): v128 {
  // Bits of y under m that differ from the bits of x at n places above.
  return v128.and(X(i64x2.shr_u(x, n), y), m);
}

/**
 * Eight blocks at `src` (128 bytes) <-> eight planes at `dst`. Per state
 * byte this is an 8x8 bit-matrix transpose (block j, bit b) -> (plane b,
 * bit j), done with three rounds of SWAPMOVE on all sixteen bytes at once.
 * A transpose is its own inverse, so the same function converts back.
 */
export function transpose8(src: usize, dst: usize): void {
  let b0 = v128.load(src, 0);
  let b1 = v128.load(src, 16);
  let b2 = v128.load(src, 32);
  let b3 = v128.load(src, 48);
  let b4 = v128.load(src, 64);
  let b5 = v128.load(src, 80);
  let b6 = v128.load(src, 96);
  let b7 = v128.load(src, 112);
  // The 64-bit shifts leak bits across byte borders only into positions the
  // masks clear.
  const m1 = i8x16.splat(0x55);
  const m2 = i8x16.splat(0x33);
  const m4 = i8x16.splat(0x0f);
  let t: v128;
  t = swapMask(b0, b1, 1, m1); b1 = X(b1, t); b0 = X(b0, i64x2.shl(t, 1));
  t = swapMask(b2, b3, 1, m1); b3 = X(b3, t); b2 = X(b2, i64x2.shl(t, 1));
  t = swapMask(b4, b5, 1, m1); b5 = X(b5, t); b4 = X(b4, i64x2.shl(t, 1));
  t = swapMask(b6, b7, 1, m1); b7 = X(b7, t); b6 = X(b6, i64x2.shl(t, 1));
  t = swapMask(b0, b2, 2, m2); b2 = X(b2, t); b0 = X(b0, i64x2.shl(t, 2));
  t = swapMask(b1, b3, 2, m2); b3 = X(b3, t); b1 = X(b1, i64x2.shl(t, 2));
  t = swapMask(b4, b6, 2, m2); b6 = X(b6, t); b4 = X(b4, i64x2.shl(t, 2));
  t = swapMask(b5, b7, 2, m2); b7 = X(b7, t); b5 = X(b5, i64x2.shl(t, 2));
  t = swapMask(b0, b4, 4, m4); b4 = X(b4, t); b0 = X(b0, i64x2.shl(t, 4));
  t = swapMask(b1, b5, 4, m4); b5 = X(b5, t); b1 = X(b1, i64x2.shl(t, 4));
  t = swapMask(b2, b6, 4, m4); b6 = X(b6, t); b2 = X(b2, i64x2.shl(t, 4));
  t = swapMask(b3, b7, 4, m4); b7 = X(b7, t); b3 = X(b3, i64x2.shl(t, 4));
  v128.store(dst, b0, 0);
  v128.store(dst, b1, 16);
  v128.store(dst, b2, 32);
  v128.store(dst, b3, 48);
  v128.store(dst, b4, 64);
  v128.store(dst, b5, 80);
  v128.store(dst, b6, 96);
  v128.store(dst, b7, 112);
}

/** One block into planes: only bit 0 of each lane is used (block slot 0). */
// @ts-ignore: decorator
@inline
function slice1(x: v128, dst: usize): void {
  const one = i8x16.splat(1);
  v128.store(dst, v128.and(x, one), 0);
  v128.store(dst, v128.and(i64x2.shr_u(x, 1), one), 16);
  v128.store(dst, v128.and(i64x2.shr_u(x, 2), one), 32);
  v128.store(dst, v128.and(i64x2.shr_u(x, 3), one), 48);
  v128.store(dst, v128.and(i64x2.shr_u(x, 4), one), 64);
  v128.store(dst, v128.and(i64x2.shr_u(x, 5), one), 80);
  v128.store(dst, v128.and(i64x2.shr_u(x, 6), one), 96);
  v128.store(dst, v128.and(i64x2.shr_u(x, 7), one), 112);
}

/** Block slot 0 back out of the planes (the other slots carry garbage). */
// @ts-ignore: decorator
@inline
function unslice1(src: usize): v128 {
  const one = i8x16.splat(1);
  let x = v128.and(v128.load(src, 0), one);
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 16), one), 1));
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 32), one), 2));
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 48), one), 3));
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 64), one), 4));
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 80), one), 5));
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 96), one), 6));
  x = v128.or(x, i64x2.shl(v128.and(v128.load(src, 112), one), 7));
  return x;
}

// ---------------------------------------------------------------------------
// Whole cipher on the planes at ST.

function encryptPlanes(ctx: usize): void {
  const nr = <usize>load<u32>(ctx);
  addRoundKey(ST, ctx + KEYS);
  for (let r: usize = 1; r < nr; r++) encRound(ST, ctx + KEYS + (r << 7));
  encLastRound(ST, ctx + KEYS + (nr << 7));
}

function decryptPlanes(ctx: usize): void {
  const nr = <usize>load<u32>(ctx);
  addRoundKey(ST, ctx + KEYS + (nr << 7));
  for (let r = nr - 1; r > 0; r--) decRound(ST, ctx + KEYS + (r << 7));
  decLastRound(ST, ctx + KEYS);
}

/** Eight blocks at src (128 bytes) -> dst; src and dst may be equal. */
export function encrypt8(ctx: usize, src: usize, dst: usize): void {
  transpose8(src, ST);
  encryptPlanes(ctx);
  transpose8(ST, dst);
}

/** Eight blocks at src (128 bytes) -> dst, decrypted; src and dst may be equal. */
export function decrypt8(ctx: usize, src: usize, dst: usize): void {
  transpose8(src, ST);
  decryptPlanes(ctx);
  transpose8(ST, dst);
}

// ---------------------------------------------------------------------------
// Key expansion (FIPS-197 §5.2).

/** SubWord through the bitsliced S-box: constant time like the rounds. */
function subWord(w: u32): u32 {
  slice1(i32x4.splat(<i32>w), ST);
  subBytes(ST);
  return <u32>i32x4.extract_lane(unslice1(ST), 0) ^ 0x63636363;
}

/** Expands a 16- or 32-byte key into the context. Other lengths: no-op, the glue checks. */
export function expandKey(ctx: usize, key: usize, keyLen: i32): void {
  if (keyLen != 16 && keyLen != 32) return;
  const nk = keyLen >> 2;
  const nr = nk + 6;
  const words = 4 * (nr + 1);
  memory.copy(W, key, <usize>keyLen);
  let rcon: u32 = 1;
  for (let i = nk; i < words; i++) {
    // Words are little-endian u32: byte 0 of the word is the low byte.
    let temp = load<u32>(W + (<usize>(i - 1) << 2));
    if (i % nk == 0) {
      temp = subWord(rotr<u32>(temp, 8)) ^ rcon; // RotWord, SubWord, Rcon[i/Nk]
      rcon = (rcon << 1) ^ (0x11b & -(rcon >> 7)); // xtime on a public constant
    } else if (nk > 6 && i % nk == 4) {
      temp = subWord(temp);
    }
    store<u32>(W + (<usize>i << 2), load<u32>(W + (<usize>(i - nk) << 2)) ^ temp);
  }
  store<u32>(ctx, nr);
  store<u32>(ctx, 0, 4);
  store<u64>(ctx, 0, 8);
  const c63 = i8x16.splat(0x63);
  for (let r = 0; r <= nr; r++) {
    let k = v128.load(W + (<usize>r << 4));
    if (r > 0) k = X(k, c63);
    const p = ctx + KEYS + (<usize>r << 7);
    // Bit b of each byte, moved to the sign bit, spread over the byte.
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 7), 7), 0);
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 6), 7), 16);
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 5), 7), 32);
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 4), 7), 48);
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 3), 7), 64);
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 2), 7), 80);
    v128.store(p, i8x16.shr_s(i8x16.shl(k, 1), 7), 96);
    v128.store(p, i8x16.shr_s(k, 7), 112);
  }
  // Unused key slots of AES-128 stay zero so contexts compare byte-equal.
  const used = <usize>KEYS + (<usize>(nr + 1) << 7);
  memory.fill(ctx + used, 0, <usize>VPERM_KEYS - used);
  wipe();
}

/** Clears the static buffers that held key-dependent or secret values. */
export function wipe(): void {
  memory.fill(W, 0, 240);
  memory.fill(ST, 0, 128);
}
