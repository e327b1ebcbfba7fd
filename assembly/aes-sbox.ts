// Bitsliced AES S-box and inverse S-box (FIPS-197 §5.1.1, §5.3.2), constant
// time: Boolean gates only, no table indexed by key or data.
//
// Place in the data flow: internal to the AES core (aes-core.ts), which keeps
// the AES state as eight bit planes of 128 bits (plane b = bit b of every
// state byte of eight blocks); one call substitutes all 128 bytes at once.
// Each exported function is a whole round: the S-box, then the linear layer
// of aes-linear.ts on the S-box outputs while they are still locals.
//
// The gate lists are published straight-line programs of Boyar and Peralta,
// transcribed gate by gate ("+" XOR, "x" AND, "#" XNOR; U0 is the most
// significant input bit, S0/W0 the most significant output bit, so U0 is
// plane 7 here):
// - forward S-box: the 115-gate program (32 AND, 83 XOR/XNOR) of "A new
//   combinational logic minimization technique with applications to
//   cryptology" (SEA 2010; the CMT's SLP_AES_113), 13 gates fewer than the
//   depth-16 forward circuit (fewer instructions and spills per round);
// - inverse S-box: "A depth-16 circuit for the AES S-box" (IACR ePrint
//   2011/332), Figure 6 (inverse top linear layer), Figure 7 (the non-linear
//   middle, with D = Y5) and Figure 9 (inverse bottom linear layer).
//
// Every XNOR is written as a plain XOR. The forward XNORs (S1, S2, S6, S7) add
// exactly the affine constant 0x63; the inverse XNORs in Figure 6 are
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
  if (inverse) {
    // Figure 6 (inverse top linear layer).
    const T23 = X(U0, U3);
    const T22 = X(U1, U3);  // XNOR in T22, constant folded
    const T2 = X(U0, U1);  // XNOR in T2, constant folded
    const T1 = X(U3, U4);
    const T24 = X(U4, U7);  // XNOR in T24, constant folded
    const R5 = X(U6, U7);
    const T8 = X(U1, T23);  // XNOR in T8, constant folded
    const T19 = X(T22, R5);
    const T9 = X(U7, T1);  // XNOR in T9, constant folded
    const T10 = X(T2, T24);
    const T13 = X(T2, R5);
    const T3 = X(T1, R5);
    const T25 = X(U2, T1);  // XNOR in T25, constant folded
    const R13 = X(U1, U6);
    const T17 = X(U2, T19);  // XNOR in T17, constant folded
    const T20 = X(T24, R13);
    const T4 = X(U4, T8);
    const R17 = X(U2, U5);  // XNOR in R17, constant folded
    const R18 = X(U5, U6);  // XNOR in R18, constant folded
    const R19 = X(U2, U4);  // XNOR in R19, constant folded
    const Y5 = X(U0, R17);
    const T6 = X(T22, R17);
    const T16 = X(R13, R19);
    const T27 = X(T1, R18);
    const T15 = X(T10, T27);
    const T14 = X(T10, R18);
    const T26 = X(T3, T16);
    const D = Y5;
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
    // Forward: the SLP_AES_113 program (Boyar and Peralta, SEA 2010), top
    // linear layer y*, non-linear middle t2..t45 and z*, bottom t46..t67.
    const y14 = X(U3, U5);
    const y13 = X(U0, U6);
    const y9 = X(U0, U3);
    const y8 = X(U0, U5);
    const t0 = X(U1, U2);
    const y1 = X(t0, U7);
    const y4 = X(y1, U3);
    const y12 = X(y13, y14);
    const y2 = X(y1, U0);
    const y5 = X(y1, U6);
    const y3 = X(y5, y8);
    const t1 = X(U4, y12);
    const y15 = X(t1, U5);
    const y20 = X(t1, U1);
    const y6 = X(y15, U7);
    const y10 = X(y15, t0);
    const y11 = X(y20, y9);
    const y7 = X(U7, y11);
    const y17 = X(y10, y11);
    const y19 = X(y10, y8);
    const y16 = X(t0, y11);
    const y21 = X(y13, y16);
    const y18 = X(U0, y16);
    const t2 = A(y12, y15);
    const t3 = A(y3, y6);
    const t4 = X(t3, t2);
    const t5 = A(y4, U7);
    const t6 = X(t5, t2);
    const t7 = A(y13, y16);
    const t8 = A(y5, y1);
    const t9 = X(t8, t7);
    const t10 = A(y2, y7);
    const t11 = X(t10, t7);
    const t12 = A(y9, y11);
    const t13 = A(y14, y17);
    const t14 = X(t13, t12);
    const t15 = A(y8, y10);
    const t16 = X(t15, t12);
    const t17 = X(t4, t14);
    const t18 = X(t6, t16);
    const t19 = X(t9, t14);
    const t20 = X(t11, t16);
    const t21 = X(t17, y20);
    const t22 = X(t18, y19);
    const t23 = X(t19, y21);
    const t24 = X(t20, y18);
    const t25 = X(t21, t22);
    const t26 = A(t21, t23);
    const t27 = X(t24, t26);
    const t28 = A(t25, t27);
    const t29 = X(t28, t22);
    const t30 = X(t23, t24);
    const t31 = X(t22, t26);
    const t32 = A(t31, t30);
    const t33 = X(t32, t24);
    const t34 = X(t23, t33);
    const t35 = X(t27, t33);
    const t36 = A(t24, t35);
    const t37 = X(t36, t34);
    const t38 = X(t27, t36);
    const t39 = A(t29, t38);
    const t40 = X(t25, t39);
    const t41 = X(t40, t37);
    const t42 = X(t29, t33);
    const t43 = X(t29, t40);
    const t44 = X(t33, t37);
    const t45 = X(t42, t41);
    const z0 = A(t44, y15);
    const z1 = A(t37, y6);
    const z2 = A(t33, U7);
    const z3 = A(t43, y16);
    const z4 = A(t40, y1);
    const z5 = A(t29, y7);
    const z6 = A(t42, y11);
    const z7 = A(t45, y17);
    const z8 = A(t41, y10);
    const z9 = A(t44, y12);
    const z10 = A(t37, y3);
    const z11 = A(t33, y4);
    const z12 = A(t43, y13);
    const z13 = A(t40, y5);
    const z14 = A(t29, y2);
    const z15 = A(t42, y9);
    const z16 = A(t45, y14);
    const z17 = A(t41, y8);
    const t46 = X(z15, z16);
    const t47 = X(z10, z11);
    const t48 = X(z5, z13);
    const t49 = X(z9, z10);
    const t50 = X(z2, z12);
    const t51 = X(z2, z5);
    const t52 = X(z7, z8);
    const t53 = X(z0, z3);
    const t54 = X(z6, z7);
    const t55 = X(z16, z17);
    const t56 = X(z12, t48);
    const t57 = X(t50, t53);
    const t58 = X(z4, t46);
    const t59 = X(z3, t54);
    const t60 = X(t46, t57);
    const t61 = X(z14, t57);
    const t62 = X(t52, t58);
    const t63 = X(t49, t58);
    const t64 = X(z4, t59);
    const t65 = X(t61, t62);
    const t66 = X(z1, t63);
    const S0 = X(t59, t63);
    const S6 = X(t56, t62); // XNOR in S6, constant folded
    const S7 = X(t48, t60); // XNOR in S7, constant folded
    const t67 = X(t64, t65);
    const S3 = X(t53, t66);
    const S4 = X(t51, t66);
    const S5 = X(t47, t65);
    const S1 = X(t64, S3); // XNOR in S1, constant folded
    const S2 = X(t55, t67); // XNOR in S2, constant folded
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
