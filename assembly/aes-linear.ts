// The linear layers of an AES round on bit planes (FIPS-197 §5.1.2-§5.1.4,
// §5.3.1, §5.3.3): ShiftRows, MixColumns, InvMixColumns, AddRoundKey.
// Internal to the AES core: all @inline, so that aes-sbox.ts composes each
// whole round in one function and the planes stay in locals between the
// S-box and the linear layer. Plane layout: see aes-core.ts.

// @ts-ignore: decorator
@inline
function X(a: v128, b: v128): v128 {
  return v128.xor(a, b);
}

// Byte permutations are written as i8x16.swizzle with a constant index vector
// rather than i8x16.shuffle: V8 (x64) then loads the pshufb mask once per
// function, where for a shuffle it rebuilds the mask from immediates at every
// use (four extra instructions each; 24 shuffles per round).

// ShiftRows (FIPS-197 §5.1.2): state byte k = r + 4c takes r + 4((c + r) mod 4).
// @ts-ignore: decorator
@inline
export function shiftRows(x: v128): v128 {
  return i8x16.swizzle(x, v128(0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11));
}

// InvShiftRows (FIPS-197 §5.3.1): byte k = r + 4c takes r + 4((c - r) mod 4).
// @ts-ignore: decorator
@inline
export function invShiftRows(x: v128): v128 {
  return i8x16.swizzle(x, v128(0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3));
}

// Row rotations inside each column: byte r + 4c takes ((r + n) mod 4) + 4c.
// @ts-ignore: decorator
@inline
function rot1(x: v128): v128 {
  return i8x16.swizzle(x, v128(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
}

// @ts-ignore: decorator
@inline
function rot2(x: v128): v128 {
  return i8x16.swizzle(x, v128(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
}

/** AddRoundKey on the planes in memory at st. */
export function addRoundKey(st: usize, rk: usize): void {
  v128.store(st, X(v128.load(st, 0), v128.load(rk, 0)), 0);
  v128.store(st, X(v128.load(st, 16), v128.load(rk, 16)), 16);
  v128.store(st, X(v128.load(st, 32), v128.load(rk, 32)), 32);
  v128.store(st, X(v128.load(st, 48), v128.load(rk, 48)), 48);
  v128.store(st, X(v128.load(st, 64), v128.load(rk, 64)), 64);
  v128.store(st, X(v128.load(st, 80), v128.load(rk, 80)), 80);
  v128.store(st, X(v128.load(st, 96), v128.load(rk, 96)), 96);
  v128.store(st, X(v128.load(st, 112), v128.load(rk, 112)), 112);
}

/** Stores planes p0..p7 at st, XORed with the round key at rk if withKey. */
// @ts-ignore: decorator
@inline
export function storePlanes(
  st: usize, rk: usize, withKey: bool,
  p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128,
): void {
  if (withKey) {
    p0 = X(p0, v128.load(rk, 0));
    p1 = X(p1, v128.load(rk, 16));
    p2 = X(p2, v128.load(rk, 32));
    p3 = X(p3, v128.load(rk, 48));
    p4 = X(p4, v128.load(rk, 64));
    p5 = X(p5, v128.load(rk, 80));
    p6 = X(p6, v128.load(rk, 96));
    p7 = X(p7, v128.load(rk, 112));
  }
  v128.store(st, p0, 0);
  v128.store(st, p1, 16);
  v128.store(st, p2, 32);
  v128.store(st, p3, 48);
  v128.store(st, p4, 64);
  v128.store(st, p5, 80);
  v128.store(st, p6, 96);
  v128.store(st, p7, 112);
}

/** Last encryption round after SubBytes: ShiftRows, AddRoundKey, store. */
// @ts-ignore: decorator
@inline
export function shiftRowsKeyStore(
  st: usize, rk: usize,
  p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128,
): void {
  storePlanes(
    st, rk, true,
    shiftRows(p0), shiftRows(p1), shiftRows(p2), shiftRows(p3),
    shiftRows(p4), shiftRows(p5), shiftRows(p6), shiftRows(p7),
  );
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
  storePlanes(
    st, rk, withKey,
    X(X(a7, r0), rot2(a0)),
    X(X(X(a0, a7), r1), rot2(a1)),
    X(X(a1, r2), rot2(a2)),
    X(X(X(a2, a7), r3), rot2(a3)),
    X(X(X(a3, a7), r4), rot2(a4)),
    X(X(a4, r5), rot2(a5)),
    X(X(a5, r6), rot2(a6)),
    X(X(a6, r7), rot2(a7)),
  );
}

/** A middle encryption round after SubBytes: ShiftRows, MixColumns, AddRoundKey, store. */
// @ts-ignore: decorator
@inline
export function shiftMixKeyStore(
  st: usize, rk: usize,
  p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128,
): void {
  mixColumnsStore(
    st, rk, true,
    shiftRows(p0), shiftRows(p1), shiftRows(p2), shiftRows(p3),
    shiftRows(p4), shiftRows(p5), shiftRows(p6), shiftRows(p7),
  );
}

/**
 * A middle decryption round after InvSubBytes: AddRoundKey, InvMixColumns
 * (FIPS-197 §5.3.3), store. InvMixColumns = MixColumns after
 * s_r ^= 4 (s_r ^ s_(r+2)) (the circulant [0e 0b 0d 09] = [02 03 01 01] x
 * [05 00 04 00]; Daemen and Rijmen, "The Design of Rijndael", §4.1.3).
 */
// @ts-ignore: decorator
@inline
export function keyInvMixStore(
  st: usize, rk: usize,
  p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128,
): void {
  const s0 = X(p0, v128.load(rk, 0));
  const s1 = X(p1, v128.load(rk, 16));
  const s2 = X(p2, v128.load(rk, 32));
  const s3 = X(p3, v128.load(rk, 48));
  const s4 = X(p4, v128.load(rk, 64));
  const s5 = X(p5, v128.load(rk, 80));
  const s6 = X(p6, v128.load(rk, 96));
  const s7 = X(p7, v128.load(rk, 112));
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
