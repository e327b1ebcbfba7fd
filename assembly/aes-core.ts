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
// The cost of one pass is the same for one block as for eight, so CBC
// decryption (parallel) runs eight blocks per pass and CBC encryption (serial,
// SP 800-38A §6.2) one. Planes live in a static 128-byte buffer between the
// S-box and the linear layer: AssemblyScript functions return one value.
//
// Context layout (flat, position independent; the glue copies it around):
//   [0, 4)      Nr, the number of rounds (10 for AES-128, 14 for AES-256)
//   [16, ...)   round keys 0..Nr as bit planes, 128 bytes each (plane b at
//               +16b, lane k = 0xff if bit b of round key byte k is set), with
//               0x63 folded into keys 1..Nr (see aes-sbox.ts).
// The inverse cipher (FIPS-197 §5.3) uses the same keys in reverse order, so
// this block serves both directions.

import { sboxFwd, sboxInv } from "./aes-sbox";

export const AES_CTX_SIZE: i32 = 16 + 15 * 128;
const KEYS: usize = 16;

/** State planes of the block(s) in flight. */
const ST: usize = memory.data(128, 16);
/** Expanded key as bytes (FIPS-197 §5.2 w[0..4(Nr+1))), wiped after use. */
const W: usize = memory.data(240, 16);

// @ts-ignore: decorator
@inline
function X(a: v128, b: v128): v128 {
  return v128.xor(a, b);
}

// ShiftRows (FIPS-197 §5.1.2): state byte k = r + 4c takes r + 4((c + r) mod 4).
// @ts-ignore: decorator
@inline
function shiftRows(x: v128): v128 {
  return i8x16.shuffle(x, x, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
}

// Row rotations inside each column: byte r + 4c takes ((r + n) mod 4) + 4c.
// @ts-ignore: decorator
@inline
function rot1(x: v128): v128 {
  return i8x16.shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
}

// @ts-ignore: decorator
@inline
function rot2(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
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
// Round layers on the planes at `st`.

function addRoundKey(st: usize, rk: usize): void {
  v128.store(st, X(v128.load(st, 0), v128.load(rk, 0)), 0);
  v128.store(st, X(v128.load(st, 16), v128.load(rk, 16)), 16);
  v128.store(st, X(v128.load(st, 32), v128.load(rk, 32)), 32);
  v128.store(st, X(v128.load(st, 48), v128.load(rk, 48)), 48);
  v128.store(st, X(v128.load(st, 64), v128.load(rk, 64)), 64);
  v128.store(st, X(v128.load(st, 80), v128.load(rk, 80)), 80);
  v128.store(st, X(v128.load(st, 96), v128.load(rk, 96)), 96);
  v128.store(st, X(v128.load(st, 112), v128.load(rk, 112)), 112);
}

/** Last encryption round after SubBytes: ShiftRows, AddRoundKey. */
function shiftRowsAddKey(st: usize, rk: usize): void {
  v128.store(st, X(shiftRows(v128.load(st, 0)), v128.load(rk, 0)), 0);
  v128.store(st, X(shiftRows(v128.load(st, 16)), v128.load(rk, 16)), 16);
  v128.store(st, X(shiftRows(v128.load(st, 32)), v128.load(rk, 32)), 32);
  v128.store(st, X(shiftRows(v128.load(st, 48)), v128.load(rk, 48)), 48);
  v128.store(st, X(shiftRows(v128.load(st, 64)), v128.load(rk, 64)), 64);
  v128.store(st, X(shiftRows(v128.load(st, 80)), v128.load(rk, 80)), 80);
  v128.store(st, X(shiftRows(v128.load(st, 96)), v128.load(rk, 96)), 96);
  v128.store(st, X(shiftRows(v128.load(st, 112)), v128.load(rk, 112)), 112);
}

/**
 * MixColumns (FIPS-197 §5.1.3) of q, then AddRoundKey if withKey, stored at st.
 * out_r = 2 q_r ^ 3 q_(r+1) ^ q_(r+2) ^ q_(r+3) = 2a ^ q_(r+1) ^ rot2(a)_r with
 * a = q ^ rot1(q). Doubling (xtime, §4.2.1) on planes is a shift of plane
 * indices plus plane 7 folded into planes 0, 1, 3, 4 (m(x) = x^8+x^4+x^3+x+1).
 */
// @ts-ignore: decorator
@inline
function mixColumnsStore(
  st: usize, rk: usize, withKey: bool,
  q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128,
): void {
  const r0 = rot1(q0), r1 = rot1(q1), r2 = rot1(q2), r3 = rot1(q3);
  const r4 = rot1(q4), r5 = rot1(q5), r6 = rot1(q6), r7 = rot1(q7);
  const a0 = X(q0, r0), a1 = X(q1, r1), a2 = X(q2, r2), a3 = X(q3, r3);
  const a4 = X(q4, r4), a5 = X(q5, r5), a6 = X(q6, r6), a7 = X(q7, r7);
  let o0 = X(X(a7, r0), rot2(a0));
  let o1 = X(X(X(a0, a7), r1), rot2(a1));
  let o2 = X(X(a1, r2), rot2(a2));
  let o3 = X(X(X(a2, a7), r3), rot2(a3));
  let o4 = X(X(X(a3, a7), r4), rot2(a4));
  let o5 = X(X(a4, r5), rot2(a5));
  let o6 = X(X(a5, r6), rot2(a6));
  let o7 = X(X(a6, r7), rot2(a7));
  if (withKey) {
    o0 = X(o0, v128.load(rk, 0));
    o1 = X(o1, v128.load(rk, 16));
    o2 = X(o2, v128.load(rk, 32));
    o3 = X(o3, v128.load(rk, 48));
    o4 = X(o4, v128.load(rk, 64));
    o5 = X(o5, v128.load(rk, 80));
    o6 = X(o6, v128.load(rk, 96));
    o7 = X(o7, v128.load(rk, 112));
  }
  v128.store(st, o0, 0);
  v128.store(st, o1, 16);
  v128.store(st, o2, 32);
  v128.store(st, o3, 48);
  v128.store(st, o4, 64);
  v128.store(st, o5, 80);
  v128.store(st, o6, 96);
  v128.store(st, o7, 112);
}

/** A middle encryption round after SubBytes: ShiftRows, MixColumns, AddRoundKey. */
function shiftMixAddKey(st: usize, rk: usize): void {
  mixColumnsStore(
    st, rk, true,
    shiftRows(v128.load(st, 0)), shiftRows(v128.load(st, 16)),
    shiftRows(v128.load(st, 32)), shiftRows(v128.load(st, 48)),
    shiftRows(v128.load(st, 64)), shiftRows(v128.load(st, 80)),
    shiftRows(v128.load(st, 96)), shiftRows(v128.load(st, 112)),
  );
}

/**
 * A middle decryption round after InvSubBytes: AddRoundKey, InvMixColumns
 * (FIPS-197 §5.3.3). InvMixColumns = MixColumns after s_r ^= 4 (s_r ^ s_(r+2))
 * (the circulant [0e 0b 0d 09] = [02 03 01 01] x [05 00 04 00]; Daemen and
 * Rijmen, "The Design of Rijndael", §4.1.3), which reuses mixColumnsStore.
 */
function addKeyInvMix(st: usize, rk: usize): void {
  const s0 = X(v128.load(st, 0), v128.load(rk, 0));
  const s1 = X(v128.load(st, 16), v128.load(rk, 16));
  const s2 = X(v128.load(st, 32), v128.load(rk, 32));
  const s3 = X(v128.load(st, 48), v128.load(rk, 48));
  const s4 = X(v128.load(st, 64), v128.load(rk, 64));
  const s5 = X(v128.load(st, 80), v128.load(rk, 80));
  const s6 = X(v128.load(st, 96), v128.load(rk, 96));
  const s7 = X(v128.load(st, 112), v128.load(rk, 112));
  const w0 = X(s0, rot2(s0)), w1 = X(s1, rot2(s1)), w2 = X(s2, rot2(s2)), w3 = X(s3, rot2(s3));
  const w4 = X(s4, rot2(s4)), w5 = X(s5, rot2(s5)), w6 = X(s6, rot2(s6)), w7 = X(s7, rot2(s7));
  // 4w: xtime twice on planes.
  const w67 = X(w6, w7);
  mixColumnsStore(
    st, 0, false,
    X(s0, w6), X(s1, w67), X(s2, X(w0, w7)), X(s3, X(w1, w6)),
    X(s4, X(w2, w67)), X(s5, X(w3, w7)), X(s6, w4), X(s7, w5),
  );
}

// ---------------------------------------------------------------------------
// Whole cipher on the planes at ST.

function encryptPlanes(ctx: usize): void {
  const nr = <usize>load<u32>(ctx);
  addRoundKey(ST, ctx + KEYS);
  for (let r: usize = 1; r < nr; r++) {
    sboxFwd(ST);
    shiftMixAddKey(ST, ctx + KEYS + (r << 7));
  }
  sboxFwd(ST);
  shiftRowsAddKey(ST, ctx + KEYS + (nr << 7));
}

function decryptPlanes(ctx: usize): void {
  const nr = <usize>load<u32>(ctx);
  addRoundKey(ST, ctx + KEYS + (nr << 7));
  for (let r = nr - 1; r > 0; r--) {
    sboxInv(ST);
    addKeyInvMix(ST, ctx + KEYS + (r << 7));
  }
  sboxInv(ST);
  addRoundKey(ST, ctx + KEYS);
}

/** Encrypts one block given as a value; the serial path of CBC encryption. */
// @ts-ignore: decorator
@inline
export function encrypt1(ctx: usize, x: v128): v128 {
  slice1(x, ST);
  encryptPlanes(ctx);
  return unslice1(ST);
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
  sboxFwd(ST);
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
  memory.fill(ctx + used, 0, <usize>AES_CTX_SIZE - used);
  wipe();
}

/** Clears the static buffers that held key-dependent or secret values. */
export function wipe(): void {
  memory.fill(W, 0, 240);
  memory.fill(ST, 0, 128);
}
