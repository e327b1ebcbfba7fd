// Bitsliced AES S-box and inverse S-box (FIPS-197 §5.1.1, §5.3.2), constant
// time: Boolean gates only, no table indexed by key or data.
//
// Place in the data flow: internal to the AES core (aes-core.ts), which keeps
// the AES state as eight bit planes of 128 bits (plane b = bit b of every
// state byte of eight blocks); one call substitutes all 128 bytes at once.
// Each exported function is a whole round: the S-box, then the linear layer
// of aes-linear.ts on the S-box outputs while they are still locals.
//
// The gate lists are the published straight-line programs of Boyar and
// Peralta, "A depth-16 circuit for the AES S-box" (IACR ePrint 2011/332):
// Figure 5 (top linear layer, forward), Figure 6 (top, inverse), Figure 7
// (shared non-linear middle; D = U7 forward, D = Y5 inverse), Figure 8
// (bottom, forward) and Figure 9 (bottom, inverse). Their bit order: U0 is the
// most significant input bit, S0/W0 the most significant output bit, so U0 is
// plane 7 here. "+" is XOR, "x" is AND, "#" is XNOR.
//
// Every XNOR is written as a plain XOR. The forward XNORs (S1, S2, S6, S7) add
// exactly the affine constant 0x63; the inverse XNORs in the top layer are
// exactly the effect of 0x63 on the input. Both constants pass linearly
// through ShiftRows and (Inv)MixColumns (each column of 0x63s maps to itself,
// since 2^3^1^1 = 14^11^13^9 = 1), so aes-core.ts folds 0x63 into round keys
// 1..Nr instead of spending four NOTs per plane set per round. Hence the
// forward circuit computes S(x) ^ 0x63 and the inverse one InvS(x ^ 0x63).
// (test/crypto/cipher-aes.test.ts drives all 256 inputs through both, and
// the folding was checked exhaustively against the FIPS-197 S-box.)

import { invShiftRows, keyInvMixStore, shiftMixKeyStore, shiftRowsKeyStore, storePlanes } from "./aes-linear";

/** What follows the S-box in a round (a constant at every call site). */
const TAIL_NONE = 0; // SubBytes only (the key schedule's SubWord)
const TAIL_MIX = 1; // ShiftRows, MixColumns, AddRoundKey: middle encryption round
const TAIL_LAST = 2; // ShiftRows, AddRoundKey: last encryption round
const TAIL_INVMIX = 3; // AddRoundKey, InvMixColumns: middle decryption round
const TAIL_KEY = 4; // AddRoundKey: last decryption round

// @ts-ignore: decorator
@inline
function X(a: v128, b: v128): v128 {
  return v128.xor(a, b);
}

// @ts-ignore: decorator
@inline
function A(a: v128, b: v128): v128 {
  return v128.and(a, b);
}

// @ts-ignore: decorator
@inline
function sbox(st: usize, rk: usize, inverse: bool, tail: i32): void {
  let U0 = v128.load(st, 112);
  let U1 = v128.load(st, 96);
  let U2 = v128.load(st, 80);
  let U3 = v128.load(st, 64);
  let U4 = v128.load(st, 48);
  let U5 = v128.load(st, 32);
  let U6 = v128.load(st, 16);
  let U7 = v128.load(st, 0);
  if (inverse) {
    U0 = invShiftRows(U0);
    U1 = invShiftRows(U1);
    U2 = invShiftRows(U2);
    U3 = invShiftRows(U3);
    U4 = invShiftRows(U4);
    U5 = invShiftRows(U5);
    U6 = invShiftRows(U6);
    U7 = invShiftRows(U7);
  }
  let T1: v128, T2: v128, T3: v128, T4: v128, T6: v128, T8: v128, T9: v128, T10: v128;
  let T13: v128, T14: v128, T15: v128, T16: v128, T17: v128, T19: v128, T20: v128;
  let T22: v128, T23: v128, T24: v128, T25: v128, T26: v128, T27: v128, D: v128;
  if (inverse) {
    // Figure 6 (inverse top linear layer).
    T23 = X(U0, U3);
    T22 = X(U1, U3);  // XNOR in T22, constant folded
    T2 = X(U0, U1);  // XNOR in T2, constant folded
    T1 = X(U3, U4);
    T24 = X(U4, U7);  // XNOR in T24, constant folded
    const R5 = X(U6, U7);
    T8 = X(U1, T23);  // XNOR in T8, constant folded
    T19 = X(T22, R5);
    T9 = X(U7, T1);  // XNOR in T9, constant folded
    T10 = X(T2, T24);
    T13 = X(T2, R5);
    T3 = X(T1, R5);
    T25 = X(U2, T1);  // XNOR in T25, constant folded
    const R13 = X(U1, U6);
    T17 = X(U2, T19);  // XNOR in T17, constant folded
    T20 = X(T24, R13);
    T4 = X(U4, T8);
    const R17 = X(U2, U5);  // XNOR in R17, constant folded
    const R18 = X(U5, U6);  // XNOR in R18, constant folded
    const R19 = X(U2, U4);  // XNOR in R19, constant folded
    const Y5 = X(U0, R17);
    T6 = X(T22, R17);
    T16 = X(R13, R19);
    T27 = X(T1, R18);
    T15 = X(T10, T27);
    T14 = X(T10, R18);
    T26 = X(T3, T16);
    D = Y5;
  } else {
    // Figure 5 (forward top linear layer).
    T1 = X(U0, U3);
    T2 = X(U0, U5);
    T3 = X(U0, U6);
    T4 = X(U3, U5);
    const T5 = X(U4, U6);
    T6 = X(T1, T5);
    const T7 = X(U1, U2);
    T8 = X(U7, T6);
    T9 = X(U7, T7);
    T10 = X(T6, T7);
    const T11 = X(U1, U5);
    const T12 = X(U2, U5);
    T13 = X(T3, T4);
    T14 = X(T6, T11);
    T15 = X(T5, T11);
    T16 = X(T5, T12);
    T17 = X(T9, T16);
    const T18 = X(U3, U7);
    T19 = X(T7, T18);
    T20 = X(T1, T19);
    const T21 = X(U6, U7);
    T22 = X(T7, T21);
    T23 = X(T2, T22);
    T24 = X(T2, T10);
    T25 = X(T20, T17);
    T26 = X(T3, T16);
    T27 = X(T1, T12);
    D = U7;
  }
  // Figure 7 (shared non-linear middle: inversion in GF(2^8) via GF(2^4)).
  const M1 = A(T13, T6);
  const M2 = A(T23, T8);
  const M3 = X(T14, M1);
  const M4 = A(T19, D);
  const M5 = X(M4, M1);
  const M6 = A(T3, T16);
  const M7 = A(T22, T9);
  const M8 = X(T26, M6);
  const M9 = A(T20, T17);
  const M10 = X(M9, M6);
  const M11 = A(T1, T15);
  const M12 = A(T4, T27);
  const M13 = X(M12, M11);
  const M14 = A(T2, T10);
  const M15 = X(M14, M11);
  const M16 = X(M3, M2);
  const M17 = X(M5, T24);
  const M18 = X(M8, M7);
  const M19 = X(M10, M15);
  const M20 = X(M16, M13);
  const M21 = X(M17, M15);
  const M22 = X(M18, M13);
  const M23 = X(M19, T25);
  const M24 = X(M22, M23);
  const M25 = A(M22, M20);
  const M26 = X(M21, M25);
  const M27 = X(M20, M21);
  const M28 = X(M23, M25);
  const M29 = A(M28, M27);
  const M30 = A(M26, M24);
  const M31 = A(M20, M23);
  const M32 = A(M27, M31);
  const M33 = X(M27, M25);
  const M34 = A(M21, M22);
  const M35 = A(M24, M34);
  const M36 = X(M24, M25);
  const M37 = X(M21, M29);
  const M38 = X(M32, M33);
  const M39 = X(M23, M30);
  const M40 = X(M35, M36);
  const M41 = X(M38, M40);
  const M42 = X(M37, M39);
  const M43 = X(M37, M38);
  const M44 = X(M39, M40);
  const M45 = X(M42, M41);
  const M46 = A(M44, T6);
  const M47 = A(M40, T8);
  const M48 = A(M39, D);
  const M49 = A(M43, T16);
  const M50 = A(M38, T9);
  const M51 = A(M37, T17);
  const M52 = A(M42, T15);
  const M53 = A(M45, T27);
  const M54 = A(M41, T10);
  const M55 = A(M44, T13);
  const M56 = A(M40, T23);
  const M57 = A(M39, T19);
  const M58 = A(M43, T3);
  const M59 = A(M38, T22);
  const M60 = A(M37, T20);
  const M61 = A(M42, T1);
  const M62 = A(M45, T4);
  const M63 = A(M41, T2);
  if (inverse) {
    // Figure 9 (inverse bottom linear layer), outputs W0..W7.
    const P0 = X(M52, M61);
    const P1 = X(M58, M59);
    const P2 = X(M54, M62);
    const P3 = X(M47, M50);
    const P4 = X(M48, M56);
    const P5 = X(M46, M51);
    const P6 = X(M49, M60);
    const P7 = X(P0, P1);
    const P8 = X(M50, M53);
    const P9 = X(M55, M63);
    const P10 = X(M57, P4);
    const P11 = X(P0, P3);
    const P12 = X(M46, M48);
    const P13 = X(M49, M51);
    const P14 = X(M49, M62);
    const P15 = X(M54, M59);
    const P16 = X(M57, M61);
    const P17 = X(M58, P2);
    const P18 = X(M63, P5);
    const P19 = X(P2, P3);
    const P20 = X(P4, P6);
    const P22 = X(P2, P7);
    const P23 = X(P7, P8);
    const P24 = X(P5, P7);
    const P25 = X(P6, P10);
    const P26 = X(P9, P11);
    const P27 = X(P10, P18);
    const P28 = X(P11, P25);
    const P29 = X(P15, P20);
    const W0 = X(P13, P22);
    const W1 = X(P26, P29);
    const W2 = X(P17, P28);
    const W3 = X(P12, P22);
    const W4 = X(P23, P27);
    const W5 = X(P19, P24);
    const W6 = X(P14, P23);
    const W7 = X(P9, P16);
    // Plane b is output W(7-b).
    if (tail == TAIL_INVMIX) keyInvMixStore(st, rk, W7, W6, W5, W4, W3, W2, W1, W0);
    else storePlanes(st, rk, tail == TAIL_KEY, W7, W6, W5, W4, W3, W2, W1, W0);
  } else {
    // Figure 8 (forward bottom linear layer), outputs S0..S7.
    const L0 = X(M61, M62);
    const L1 = X(M50, M56);
    const L2 = X(M46, M48);
    const L3 = X(M47, M55);
    const L4 = X(M54, M58);
    const L5 = X(M49, M61);
    const L6 = X(M62, L5);
    const L7 = X(M46, L3);
    const L8 = X(M51, M59);
    const L9 = X(M52, M53);
    const L10 = X(M53, L4);
    const L11 = X(M60, L2);
    const L12 = X(M48, M51);
    const L13 = X(M50, L0);
    const L14 = X(M52, M61);
    const L15 = X(M55, L1);
    const L16 = X(M56, L0);
    const L17 = X(M57, L1);
    const L18 = X(M58, L8);
    const L19 = X(M63, L4);
    const L20 = X(L0, L1);
    const L21 = X(L1, L7);
    const L22 = X(L3, L12);
    const L23 = X(L18, L2);
    const L24 = X(L15, L9);
    const L25 = X(L6, L10);
    const L26 = X(L7, L9);
    const L27 = X(L8, L10);
    const L28 = X(L11, L14);
    const L29 = X(L11, L17);
    const S0 = X(L6, L24);
    const S1 = X(L16, L26);  // XNOR in S1, constant folded
    const S2 = X(L19, L28);  // XNOR in S2, constant folded
    const S3 = X(L6, L21);
    const S4 = X(L20, L22);
    const S5 = X(L25, L29);
    const S6 = X(L13, L27);  // XNOR in S6, constant folded
    const S7 = X(L6, L23);  // XNOR in S7, constant folded
    // Plane b is output S(7-b).
    if (tail == TAIL_MIX) shiftMixKeyStore(st, rk, S7, S6, S5, S4, S3, S2, S1, S0);
    else if (tail == TAIL_LAST) shiftRowsKeyStore(st, rk, S7, S6, S5, S4, S3, S2, S1, S0);
    else storePlanes(st, 0, false, S7, S6, S5, S4, S3, S2, S1, S0);
  }
}

/** SubBytes on the planes at `st`, in place: S(x) ^ 0x63 (see above). */
export function subBytes(st: usize): void {
  sbox(st, 0, false, TAIL_NONE);
}

/** A middle encryption round (FIPS-197 §5.1) on the planes at st; rk = its round key planes. */
export function encRound(st: usize, rk: usize): void {
  sbox(st, rk, false, TAIL_MIX);
}

/** The last encryption round (no MixColumns). */
export function encLastRound(st: usize, rk: usize): void {
  sbox(st, rk, false, TAIL_LAST);
}

/** A middle round of the inverse cipher (FIPS-197 §5.3): InvShiftRows, InvSubBytes, AddRoundKey, InvMixColumns. */
export function decRound(st: usize, rk: usize): void {
  sbox(st, rk, true, TAIL_INVMIX);
}

/** The last round of the inverse cipher (no InvMixColumns). */
export function decLastRound(st: usize, rk: usize): void {
  sbox(st, rk, true, TAIL_KEY);
}
