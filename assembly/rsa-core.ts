// RSA primitives over a prepared key block: RSADP (RFC 8017 §5.1.2) with
// CRT, base blinding and a fault check, and RSAEP (RFC 8017 §5.1.1). Sits between
// bigint.ts (arithmetic) and the exports in rsa.ts; the TLS unpadding lives
// in pkcs1.ts.
//
// Key block. A key is prepared once (rsaPrepare) into a flat, relocatable
// block: a 64-byte header, then integers at offsets computed from the limb
// counts alone, so the glue can keep the block as bytes and copy it into
// scratch per operation (BearSSL's "memcpy() to capture the state"). The only
// part an operation changes is the blinding state at the front (header and
// the pair A, B), so the glue copies back just rsaMutableLength() bytes.
//
//   header   u32 fields below
//   A        r^e * R mod n        (blinding multiplier, Montgomery-adjusted)
//   B        r^-1 * R mod n       (unblinding multiplier)
//   N R2n E  modulus, R^2 mod n, public exponent          (n-size slots)
//   P Q oneP oneQ R2p R2q R3p R3q DP DQ PM2 QM2 QINVM    (prime-size slots)
//
// Blinding (Kocher, CRYPTO '96): defence in depth against timing and power
// analysis on top of the constant-time arithmetic. We keep the pair
// (A, B) = (r^e, r^-1) mod n and square both after each use, as OpenSSL does;
// every BLIND_USES operations the glue supplies fresh random bytes for a new
// r (rsaBlindingRefresh). r^-1 is computed in constant time by Fermat in each
// prime, r^(p-2) mod p and r^(q-2) mod q, recombined by Garner: this reuses
// the secret-exponent code path, so no variable-time inversion is needed;
// it costs about one private operation per refresh, i.e. ~3% amortised.
import {
  LIMB_BITS,
  LIMB_MASK,
  MAX_LIMBS,
  MAX_CRT_LIMBS,
  stride,
  limbsFor,
  zero,
  copy,
  ctEqual,
  condSub,
  modSub,
  cmpVar,
  bitLengthVar,
  fromBytes,
  toBytes,
  montInverse,
  montMul,
  montSqr,
  montReduceWide,
  mulAdd,
  powerOfTwoMod,
  modexpCT,
  modexpPublic,
  wipeWorkAreas,
} from "./bigint";

// Result codes shared with the glue (src/crypto/wasm/rsa.ts).
export const RSA_OK: i32 = 0;
/** Input representative >= n (RFC 8017 §5.1.1/5.1.2 step 1). */
export const RSA_ERR_RANGE: i32 = -1;
/** The result failed the check result^e == input: no output released. */
export const RSA_ERR_FAULT: i32 = -2;
/** The blinding pair was never set up (rsaBlindingRefresh not called). */
export const RSA_ERR_BLINDING: i32 = -3;
/** Key material rejected at preparation. */
export const RSA_ERR_KEY: i32 = -4;

/** Uses of one blinding pair before the glue must refresh it. */
export const BLIND_USES: u32 = 32;

const MAGIC: u32 = 0x31415352; // "RSA1"
const HEADER: usize = 64;
// Header fields (byte offsets).
const H_MAGIC: usize = 0;
const H_LENGTH: usize = 4;
const H_KN: usize = 8;
const H_KP: usize = 12;
const H_NBYTES: usize = 16;
const H_BITSP: usize = 20;
const H_BITSQ: usize = 24;
const H_N0N: usize = 28;
const H_N0P: usize = 32;
const H_N0Q: usize = 36;
const H_USES: usize = 40;
const H_PRIVATE: usize = 44;

// n-size slots.
const S_A: i32 = 0;
const S_B: i32 = 1;
const S_N: i32 = 2;
const S_R2N: i32 = 3;
const S_E: i32 = 4;
const N_SLOTS: i32 = 5;
// Prime-size slots.
const S_P: i32 = 0;
const S_Q: i32 = 1;
const S_ONEP: i32 = 2;
const S_ONEQ: i32 = 3;
const S_R2P: i32 = 4;
const S_R2Q: i32 = 5;
const S_R3P: i32 = 6;
const S_R3Q: i32 = 7;
const S_DP: i32 = 8;
const S_DQ: i32 = 9;
const S_PM2: i32 = 10;
const S_QM2: i32 = 11;
const S_QINVM: i32 = 12;
const P_SLOTS: i32 = 13;

// Room for up to 2*MAX_CRT_LIMBS = 148 limbs (p*q in prepare) plus padding.
const MAX_STRIDE_BYTES: i32 = (((2 * MAX_CRT_LIMBS + 3) & ~3) + 4) << 2;
// Temporaries (n-size; also used for prime-size values).
const C: usize = memory.data(MAX_STRIDE_BYTES, 16);
const CB: usize = memory.data(MAX_STRIDE_BYTES, 16);
const MB: usize = memory.data(MAX_STRIDE_BYTES, 16);
const RES: usize = memory.data(MAX_STRIDE_BYTES, 16);
const Z: usize = memory.data(MAX_STRIDE_BYTES, 16);
const M1: usize = memory.data(MAX_STRIDE_BYTES, 16);
const M2: usize = memory.data(MAX_STRIDE_BYTES, 16);
const X: usize = memory.data(MAX_STRIDE_BYTES, 16);
const W: usize = memory.data(MAX_STRIDE_BYTES, 16);
const ZERO: usize = memory.data(MAX_STRIDE_BYTES, 16);

// ---------------------------------------------------------------------------
// Block layout

// @ts-ignore: decorator
@inline
function hdr(blk: usize, field: usize): u32 {
  return load<u32>(blk + field);
}

// @ts-ignore: decorator
@inline
function nSlot(blk: usize, slot: i32): usize {
  return blk + HEADER + (<usize>slot * (<usize>stride(hdr(blk, H_KN)) << 2));
}

// @ts-ignore: decorator
@inline
function pSlot(blk: usize, slot: i32): usize {
  const nBytes = <usize>N_SLOTS * (<usize>stride(hdr(blk, H_KN)) << 2);
  return blk + HEADER + nBytes + (<usize>slot * (<usize>stride(hdr(blk, H_KP)) << 2));
}

function blockLength(kn: i32, kp: i32): i32 {
  return <i32>HEADER + N_SLOTS * (stride(kn) << 2) + (kp > 0 ? P_SLOTS * (stride(kp) << 2) : 0);
}

/** Bytes at the front of a block that an operation may change (header, A, B). */
export function mutableLength(blk: usize): i32 {
  return <i32>HEADER + 2 * (stride(hdr(blk, H_KN)) << 2);
}

export function modulusBytes(blk: usize): i32 {
  return <i32>hdr(blk, H_NBYTES);
}

export function blindingDue(blk: usize): bool {
  return hdr(blk, H_USES) == 0;
}

// ---------------------------------------------------------------------------
// Preparation

// @ts-ignore: decorator
@inline
function descPtr(desc: usize, i: i32): usize {
  return <usize>load<u32>(desc + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline
function descLen(desc: usize, i: i32): i32 {
  return <i32>load<u32>(desc + (<usize>i << 3), 4);
}

/**
 * Prepares a key block at blk from big-endian integers described at desc:
 * seven (ptr, len) u32 pairs for n, e, p, q, dp, dq, qinv (only n and e read
 * when isPrivate is false). Returns the block length, or RSA_ERR_KEY.
 * Runs once per key; not constant time in the bit lengths (public), constant
 * time in the values.
 */
export function prepare(blk: usize, desc: usize, isPrivate: bool): i32 {
  // Modulus size first: everything else is laid out from it.
  if (!fromBytes(X, MAX_LIMBS, descPtr(desc, 0), descLen(desc, 0))) return RSA_ERR_KEY;
  const bitsN = bitLengthVar(X, MAX_LIMBS);
  if (bitsN < 8 || bitsN > 4096 || (load<u32>(X) & 1) == 0) return RSA_ERR_KEY;
  const kn = limbsFor(bitsN);

  let kp = 0;
  let bitsP = 0;
  let bitsQ = 0;
  if (isPrivate) {
    if (!fromBytes(M1, MAX_LIMBS, descPtr(desc, 2), descLen(desc, 2))) return RSA_ERR_KEY;
    if (!fromBytes(M2, MAX_LIMBS, descPtr(desc, 3), descLen(desc, 3))) return RSA_ERR_KEY;
    bitsP = bitLengthVar(M1, MAX_LIMBS);
    bitsQ = bitLengthVar(M2, MAX_LIMBS);
    kp = limbsFor(bitsP > bitsQ ? bitsP : bitsQ);
    if (bitsP < 3 || bitsQ < 3 || kp > MAX_CRT_LIMBS || 2 * kp < kn) return RSA_ERR_KEY;
    if ((load<u32>(M1) & load<u32>(M2) & 1) == 0) return RSA_ERR_KEY;
  }

  const len = blockLength(kn, kp);
  memory.fill(blk, 0, len);
  store<u32>(blk + H_MAGIC, MAGIC);
  store<u32>(blk + H_LENGTH, len);
  store<u32>(blk + H_KN, kn);
  store<u32>(blk + H_KP, kp);
  store<u32>(blk + H_NBYTES, (bitsN + 7) >> 3);
  store<u32>(blk + H_BITSP, bitsP);
  store<u32>(blk + H_BITSQ, bitsQ);
  store<u32>(blk + H_USES, 0);
  store<u32>(blk + H_PRIVATE, isPrivate ? 1 : 0);

  const n = nSlot(blk, S_N);
  copy(n, X, kn);
  store<u32>(blk + H_N0N, montInverse(load<u32>(n)));
  powerOfTwoMod(nSlot(blk, S_R2N), n, kn, 2);
  const e = nSlot(blk, S_E);
  if (descLen(desc, 1) > <i32>((bitsN + 7) >> 3)) return RSA_ERR_KEY;
  if (!fromBytes(e, kn, descPtr(desc, 1), descLen(desc, 1))) return RSA_ERR_KEY;
  if (bitLengthVar(e, kn) < 2 || (load<u32>(e) & 1) == 0) return RSA_ERR_KEY;
  if (!isPrivate) return len;

  const p = pSlot(blk, S_P);
  const q = pSlot(blk, S_Q);
  copy(p, M1, kp);
  copy(q, M2, kp);
  // The primes must multiply to n, or CRT results would be garbage.
  // X still holds n, zero-extended to MAX_LIMBS limbs.
  mulAdd(Z, 2 * kp, p, q, ZERO, kp);
  if (ctEqual(Z, X, 2 * kp) == 0) return RSA_ERR_KEY;
  if (!prepareprime(blk, p, kp, H_N0P, S_ONEP, S_R2P, S_R3P, S_PM2, S_DP, descPtr(desc, 4), descLen(desc, 4))) return RSA_ERR_KEY;
  if (!prepareprime(blk, q, kp, H_N0Q, S_ONEQ, S_R2Q, S_R3Q, S_QM2, S_DQ, descPtr(desc, 5), descLen(desc, 5))) return RSA_ERR_KEY;
  // qinv in Montgomery form, so montMul(x, QINVM) = x * qinv mod p.
  const qinvm = pSlot(blk, S_QINVM);
  if (!fromBytes(W, kp, descPtr(desc, 6), descLen(desc, 6))) return RSA_ERR_KEY;
  montMul(qinvm, W, pSlot(blk, S_R2P), p, kp, hdr(blk, H_N0P));
  condSub(qinvm, p, kp);
  return len;
}

function prepareprime(blk: usize, p: usize, kp: i32, hN0: usize, sOne: i32, sR2: i32, sR3: i32, sPm2: i32, sD: i32, dPtr: usize, dLen: i32): bool {
  const n0 = montInverse(load<u32>(p));
  store<u32>(blk + hN0, n0);
  const r2 = pSlot(blk, sR2);
  powerOfTwoMod(r2, p, kp, 2);
  // R mod p = REDC(R^2); R^3 = REDC(R^2 * R^2).
  const one = pSlot(blk, sOne);
  montReduceWide(one, r2, kp, p, kp, n0);
  condSub(one, p, kp);
  const r3 = pSlot(blk, sR3);
  montMul(r3, r2, r2, p, kp, n0);
  condSub(r3, p, kp);
  // p - 2, the Fermat exponent for r^-1 mod p (p odd, >= 5: no borrow out).
  const pm2 = pSlot(blk, sPm2);
  let borrow: i32 = 2;
  for (let i = 0; i < kp; i++) {
    const d = <i32>load<u32>(p + (<usize>i << 2)) - borrow;
    store<u32>(pm2 + (<usize>i << 2), <u32>d & LIMB_MASK);
    borrow = (d >> 31) & 1;
  }
  const d = pSlot(blk, sD);
  return fromBytes(d, kp, dPtr, dLen);
}

// ---------------------------------------------------------------------------
// CRT halves and recombination

/**
 * out = c^d mod p (in [0, p)) for c < n of kn limbs, with d the slot of the
 * exponent for this prime (dp or p-2). c mod p is taken in constant time with
 * Montgomery reduction: REDC(c) = c*R^-1 mod p (valid because c < n < R*p),
 * then a multiplication by R^3 gives c*R, the Montgomery form of c.
 */
function crtHalf(out: usize, blk: usize, c: usize, isQ: bool, sExp: i32): void {
  const kn = <i32>hdr(blk, H_KN);
  const kp = <i32>hdr(blk, H_KP);
  const p = pSlot(blk, isQ ? S_Q : S_P);
  const n0 = hdr(blk, isQ ? H_N0Q : H_N0P);
  const bits = <i32>hdr(blk, isQ ? H_BITSQ : H_BITSP);
  montReduceWide(X, c, kn, p, kp, n0);
  montMul(X, X, pSlot(blk, isQ ? S_R3Q : S_R3P), p, kp, n0);
  modexpCT(X, X, pSlot(blk, sExp), bits, pSlot(blk, isQ ? S_ONEQ : S_ONEP), p, kp, n0);
  // Out of Montgomery form: REDC(x) <= p for x < 2p, then one subtraction.
  montReduceWide(out, X, kp, p, kp, n0);
  condSub(out, p, kp);
}

/**
 * Garner's recombination (RFC 8017 §5.1.2 step 2.b): out = m2 + q*h with
 * h = qinv*(m1 - m2) mod p; m1 in [0, p), m2 in [0, q), out < n in kn limbs.
 */
function crtCombine(out: usize, blk: usize, m1: usize, m2: usize): void {
  const kn = <i32>hdr(blk, H_KN);
  const kp = <i32>hdr(blk, H_KP);
  const p = pSlot(blk, S_P);
  const n0 = hdr(blk, H_N0P);
  // m2 mod p, constant time whatever the relative size of p and q:
  // REDC(m2) * R^2 = m2 mod p.
  montReduceWide(W, m2, kp, p, kp, n0);
  montMul(W, W, pSlot(blk, S_R2P), p, kp, n0);
  condSub(W, p, kp);
  modSub(W, m1, W, p, kp);
  montMul(W, W, pSlot(blk, S_QINVM), p, kp, n0);
  condSub(W, p, kp);
  mulAdd(out, kn, W, pSlot(blk, S_Q), m2, kp);
}

// ---------------------------------------------------------------------------
// Operations

/**
 * RSADP with CRT, blinding and a fault check (RFC 8017 §5.1.2). in and out
 * are nBytes big-endian. On error out is zeroed.
 */
export function privateOp(blk: usize, inp: usize, outp: usize): i32 {
  const nBytes = <i32>hdr(blk, H_NBYTES);
  memory.fill(outp, 0, nBytes);
  if (hdr(blk, H_PRIVATE) == 0) return RSA_ERR_KEY;
  if (hdr(blk, H_USES) == 0) return RSA_ERR_BLINDING;
  const kn = <i32>hdr(blk, H_KN);
  const n = nSlot(blk, S_N);
  const n0 = hdr(blk, H_N0N);
  fromBytes(C, kn, inp, nBytes);
  // RFC 8017 §5.1.2 step 1: "ciphertext representative out of range".
  // The ciphertext is public, so a variable-time comparison is fine.
  if (cmpVar(C, n, kn) >= 0) return RSA_ERR_RANGE;

  // Blind: c' = c * r^e mod n (A holds r^e * R).
  const a = nSlot(blk, S_A);
  const b = nSlot(blk, S_B);
  montMul(CB, C, a, n, kn, n0);
  condSub(CB, n, kn);

  crtHalf(M1, blk, CB, false, S_DP);
  crtHalf(M2, blk, CB, true, S_DQ);
  crtCombine(MB, blk, M1, M2);

  // Unblind: m = m' * r^-1 mod n (B holds r^-1 * R).
  montMul(RES, MB, b, n, kn, n0);
  condSub(RES, n, kn);

  // Next blinding pair: (r^2)^e and (r^2)^-1.
  montSqr(a, a, n, kn, n0);
  condSub(a, n, kn);
  montSqr(b, b, n, kn, n0);
  condSub(b, n, kn);
  store<u32>(blk + H_USES, hdr(blk, H_USES) - 1);

  // Fault check (Boneh-DeMillo-Lipton 1997): a CRT half computed wrongly
  // would let the output factor n, so re-encrypt and compare before release.
  publicPow(Z, blk, RES);
  const ok = ctEqual(Z, C, kn);
  wipe(kn);
  if (ok == 0) {
    zero(RES, kn);
    return RSA_ERR_FAULT;
  }
  toBytes(outp, nBytes, RES, kn);
  zero(RES, kn);
  return RSA_OK;
}

/** out = x^e mod n in [0, n), x < n of kn limbs. */
function publicPow(out: usize, blk: usize, x: usize): void {
  const kn = <i32>hdr(blk, H_KN);
  const n = nSlot(blk, S_N);
  const n0 = hdr(blk, H_N0N);
  montMul(out, x, nSlot(blk, S_R2N), n, kn, n0);
  modexpPublic(out, out, nSlot(blk, S_E), kn, n, kn, n0);
  montReduceWide(out, out, kn, n, kn, n0);
  condSub(out, n, kn);
}

/** RSAEP (RFC 8017 §5.1.1): out = in^e mod n. Variable time (public data). */
export function publicOp(blk: usize, inp: usize, outp: usize): i32 {
  const nBytes = <i32>hdr(blk, H_NBYTES);
  memory.fill(outp, 0, nBytes);
  const kn = <i32>hdr(blk, H_KN);
  fromBytes(C, kn, inp, nBytes);
  if (cmpVar(C, nSlot(blk, S_N), kn) >= 0) return RSA_ERR_RANGE;
  publicPow(Z, blk, C);
  toBytes(outp, nBytes, Z, kn);
  return RSA_OK;
}

/**
 * New blinding pair from nBytes random bytes: r is taken below 2^(bits(n)-1)
 * so r < n without a rejection loop (a negligible bias; r only has to be
 * unpredictable). A = r^e * R, B = r^-1 * R mod n.
 */
export function blindingRefresh(blk: usize, rnd: usize): i32 {
  if (hdr(blk, H_PRIVATE) == 0) return RSA_ERR_KEY;
  const kn = <i32>hdr(blk, H_KN);
  const nBytes = <i32>hdr(blk, H_NBYTES);
  const n = nSlot(blk, S_N);
  const n0 = hdr(blk, H_N0N);
  fromBytes(C, kn, rnd, nBytes);
  // Keep bits below bits(n) - 1 (a public position).
  const top = bitLengthVar(n, kn) - 1;
  for (let i = 0; i < kn; i++) {
    const lo = i * LIMB_BITS;
    let keep: u32 = LIMB_MASK;
    if (lo >= top) keep = 0;
    else if (lo + LIMB_BITS > top) keep = (<u32>1 << <u32>(top - lo)) - 1;
    store<u32>(C + (<usize>i << 2), load<u32>(C + (<usize>i << 2)) & keep);
  }
  // A = r^e * R mod n.
  const a = nSlot(blk, S_A);
  montMul(a, C, nSlot(blk, S_R2N), n, kn, n0);
  modexpPublic(a, a, nSlot(blk, S_E), kn, n, kn, n0);
  condSub(a, n, kn);
  // r^-1 mod p and mod q by Fermat (constant time), then Garner.
  crtHalf(M1, blk, C, false, S_PM2);
  crtHalf(M2, blk, C, true, S_QM2);
  crtCombine(MB, blk, M1, M2);
  const b = nSlot(blk, S_B);
  montMul(b, MB, nSlot(blk, S_R2N), n, kn, n0);
  condSub(b, n, kn);
  // r * B must be 1: fails for r = 0 or r sharing a factor with n (then
  // Fermat gives no inverse). Negligible for real keys, but with a tiny
  // modulus or degenerate random bytes we refuse rather than let the fault
  // check catch it later.
  montMul(Z, C, b, n, kn, n0);
  condSub(Z, n, kn);
  zero(W, kn);
  store<u32>(W, 1);
  const ok = ctEqual(Z, W, kn);
  wipe(kn);
  if (ok == 0) {
    zero(a, kn);
    zero(b, kn);
    store<u32>(blk + H_USES, 0);
    return RSA_ERR_BLINDING;
  }
  store<u32>(blk + H_USES, BLIND_USES);
  return RSA_OK;
}

/** Clears the temporaries that held secret values. */
function wipe(kn: i32): void {
  const k = kn > MAX_CRT_LIMBS ? kn : MAX_CRT_LIMBS;
  zero(C, k);
  zero(CB, k);
  zero(MB, k);
  zero(M1, k);
  zero(M2, k);
  zero(X, k);
  zero(W, k);
  wipeWorkAreas();
}
