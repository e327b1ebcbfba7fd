// Big integers for RSA: 28-bit limbs, Montgomery arithmetic, constant-time
// modular exponentiation. Used by rsa-core.ts (the RSA primitives); nothing
// here knows about keys or padding.
//
// Representation. An integer of k limbs is an array of u32 in linear memory,
// limb i holding bits 28i..28i+27 (little-endian limb order), each limb
// < 2^28. The array has stride(k) slots: k limbs, then zero padding up to a
// multiple of 4 plus 4 more, so the SIMD loops below may read whole v128
// chunks past the end and always see zeros. Every function that writes an
// integer clears its padding (clearPad) for that reason.
//
// Why 28-bit limbs. WASM has no 64x64->128 multiply, so the widest product is
// 32x32->64. With 28-bit limbs a product is < 2^56 and a u64 column can absorb
// 2k <= 240 products plus a carry without overflow, so the schoolbook product
// and the Montgomery reduction accumulate into u64 columns with no carry
// handling in the inner loops ("delayed carries"); carries are propagated once
// per reduction row. The inner loops then map onto i64x2.extmul_{low,high}_
// i32x4_u: two 32x32->64 products per instruction. Above 120 limbs (moduli
// over ~3360 bits, only the public-exponent operations on n) one
// normalisation pass between product and reduction keeps the bound.
//
// Tuning notes (measured with bench/rsa-micro.ts; V8 on x64 lowers each
// extmul to two unpacks and one pmuludq, so the sweep is bound by
// instruction count, not memory): two rows per sweep (addRows2) gave +40%
// over one row; unrolling the sweep twice +6%; four rows per sweep and a
// shorter serial chain for the Montgomery digits gave nothing measurable.
// Products, squarings and reductions then cost about the same per limb
// product, and the reduction is over half of the time.
//
// Montgomery form with R = 2^(28k) >= 4m ("lazy" reduction, after Walter,
// "Montgomery exponentiation needs no final subtractions", 1999): if a, b < 2m
// then REDC(a*b) = (ab + um)/R < 4m^2/R + m <= 2m, so every intermediate stays
// below 2m and exponentiation needs no conditional subtraction inside the
// loop. Only the final conversion out of Montgomery form is followed by one
// constant-time conditional subtraction (condSub, mask select).
//
// Constant time. For secret operands, no branch and no memory index depends
// on secret data: loop bounds depend only on k and on public bit lengths;
// the exponentiation uses a fixed window (5 bits) and fetches table entries
// by reading every entry and combining with all-ones/all-zeros masks
// (tableSelect); comparisons and conditional copies return/consume masks.
// Variable-time code (cmpVar, modexpPublic's branch on exponent bits) is only
// used on public data and is marked as such.

export const LIMB_BITS: i32 = 28;
export const LIMB_MASK: u32 = 0x0fffffff;

/** Largest supported limb count: 4096-bit moduli need ceil(4098/28) = 147. */
export const MAX_LIMBS: i32 = 147;
/** Largest limb count for secret (CRT) exponentiation: primes up to 2070 bits. */
export const MAX_CRT_LIMBS: i32 = 74;

/** Window width of the constant-time exponentiation (table of 2^5 entries). */
const WINDOW: i32 = 5;
const TABLE_SIZE: i32 = 1 << WINDOW;

/** Slots (u32) an integer of k limbs occupies: k rounded up to 4, plus 4. */
// @ts-ignore: decorator
@inline
export function stride(k: i32): i32 {
  return ((k + 3) & ~3) + 4;
}

/** Limbs needed so that R = 2^(28k) >= 4m for an m of `bits` bits. */
export function limbsFor(bits: i32): i32 {
  return (bits + 2 + LIMB_BITS - 1) / LIMB_BITS;
}

const MAX_STRIDE: i32 = ((MAX_LIMBS + 3) & ~3) + 4;

// Column accumulator for products: 2*stride u64 columns.
const T: usize = memory.data(2 * MAX_STRIDE * 8 + 64, 16);
// Temporaries for condSub and exponentiation.
const TMP: usize = memory.data(MAX_STRIDE * 4, 16);
const ACC: usize = memory.data(MAX_STRIDE * 4, 16);
const SEL: usize = memory.data(MAX_STRIDE * 4, 16);
// The exponentiation table, TABLE_SIZE entries of stride(MAX_CRT_LIMBS).
const CRT_STRIDE: i32 = ((MAX_CRT_LIMBS + 3) & ~3) + 4;
const TABLE: usize = memory.data(TABLE_SIZE * CRT_STRIDE * 4, 16);
// Per-entry masks for tableSelect, one v128 each.
const MASKS: usize = memory.data(TABLE_SIZE * 16, 16);

// ---------------------------------------------------------------------------
// Constant-time primitives

/** All ones if x == 0, else 0. x is any u32. */
// @ts-ignore: decorator
@inline
export function ctIsZero(x: u32): u32 {
  // (x | -x) has its top bit set iff x != 0.
  return ((x | (0 - x)) >> 31) - 1;
}

/** All ones if a == b, else 0. */
// @ts-ignore: decorator
@inline
export function ctEq(a: u32, b: u32): u32 {
  return ctIsZero(a ^ b);
}

/** Sets the limbs of x in [k, stride(k)) to zero (the SIMD over-read area). */
export function clearPad(x: usize, k: i32): void {
  const s = stride(k);
  for (let i = k; i < s; i++) store<u32>(x + (<usize>i << 2), 0);
}

export function zero(x: usize, k: i32): void {
  const s = stride(k);
  for (let i = 0; i < s; i++) store<u32>(x + (<usize>i << 2), 0);
}

export function copy(dst: usize, src: usize, k: i32): void {
  for (let i = 0; i < k; i++) store<u32>(dst + (<usize>i << 2), load<u32>(src + (<usize>i << 2)));
  clearPad(dst, k);
}

/** dst = mask ? src : dst, for mask all-ones or all-zeros. */
export function ctCopy(dst: usize, src: usize, k: i32, mask: u32): void {
  for (let i = 0; i < k; i++) {
    const p = dst + (<usize>i << 2);
    const d = load<u32>(p);
    store<u32>(p, d ^ ((d ^ load<u32>(src + (<usize>i << 2))) & mask));
  }
}

/** All ones if a == b (k limbs each), else 0. Reads every limb. */
export function ctEqual(a: usize, b: usize, k: i32): u32 {
  let diff: u32 = 0;
  for (let i = 0; i < k; i++) diff |= load<u32>(a + (<usize>i << 2)) ^ load<u32>(b + (<usize>i << 2));
  return ctIsZero(diff);
}

/** x = x - m if x >= m (constant time, mask select). x, m of k limbs. */
export function condSub(x: usize, m: usize, k: i32): void {
  let borrow: i32 = 0;
  for (let i = 0; i < k; i++) {
    const d = <i32>load<u32>(x + (<usize>i << 2)) - <i32>load<u32>(m + (<usize>i << 2)) - borrow;
    store<u32>(TMP + (<usize>i << 2), <u32>d & LIMB_MASK);
    borrow = (d >> 31) & 1; // arithmetic shift: 1 iff the limb went negative
  }
  // borrow == 0 means x >= m: take the difference.
  ctCopy(x, TMP, k, <u32>borrow - 1);
}

/** out = a - b mod m for a, b in [0, m) (constant time). */
export function modSub(out: usize, a: usize, b: usize, m: usize, k: i32): void {
  let borrow: i32 = 0;
  for (let i = 0; i < k; i++) {
    const d = <i32>load<u32>(a + (<usize>i << 2)) - <i32>load<u32>(b + (<usize>i << 2)) - borrow;
    store<u32>(out + (<usize>i << 2), <u32>d & LIMB_MASK);
    borrow = (d >> 31) & 1;
  }
  // On borrow add m back, masked.
  const mask: u32 = 0 - <u32>borrow;
  let carry: u32 = 0;
  for (let i = 0; i < k; i++) {
    const s = load<u32>(out + (<usize>i << 2)) + (load<u32>(m + (<usize>i << 2)) & mask) + carry;
    store<u32>(out + (<usize>i << 2), s & LIMB_MASK);
    carry = s >> LIMB_BITS;
  }
  clearPad(out, k);
}

/** Variable time (public data only): -1, 0, 1 as a <, ==, > b. */
export function cmpVar(a: usize, b: usize, k: i32): i32 {
  for (let i = k - 1; i >= 0; i--) {
    const x = load<u32>(a + (<usize>i << 2));
    const y = load<u32>(b + (<usize>i << 2));
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Number of significant bits of x (variable time: public data only). */
export function bitLengthVar(x: usize, k: i32): i32 {
  for (let i = k - 1; i >= 0; i--) {
    const v = load<u32>(x + (<usize>i << 2));
    if (v != 0) return i * LIMB_BITS + 32 - <i32>clz<u32>(v);
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Conversion from and to big-endian bytes (the wire and PKCS#1 format,
// RFC 8017 §4.1 I2OSP / §4.2 OS2IP). Lengths are public.

/**
 * x (k limbs) = OS2IP(src[0..len)). Returns false if the value needs more
 * than k limbs (the caller checks lengths up front; this is a backstop).
 */
export function fromBytes(x: usize, k: i32, src: usize, len: i32): bool {
  let acc: u64 = 0;
  let nbits: i32 = 0;
  let li: i32 = 0;
  let overflow: u32 = 0;
  for (let i = len - 1; i >= 0; i--) {
    acc |= (<u64>load<u8>(src + <usize>i)) << nbits;
    nbits += 8;
    if (nbits >= LIMB_BITS) {
      if (li < k) store<u32>(x + (<usize>li << 2), <u32>acc & LIMB_MASK);
      else overflow |= <u32>acc & LIMB_MASK;
      li++;
      acc >>= LIMB_BITS;
      nbits -= LIMB_BITS;
    }
  }
  if (li < k) {
    store<u32>(x + (<usize>li << 2), <u32>acc);
    li++;
  } else {
    overflow |= <u32>acc;
  }
  for (; li < k; li++) store<u32>(x + (<usize>li << 2), 0);
  clearPad(x, k);
  return overflow == 0;
}

/** dst[0..len) = I2OSP(x, len), x of k limbs; high bits beyond len are dropped. */
export function toBytes(dst: usize, len: i32, x: usize, k: i32): void {
  let acc: u64 = 0;
  let nbits: i32 = 0;
  let li: i32 = 0;
  for (let i = len - 1; i >= 0; i--) {
    if (nbits < 8) {
      const limb: u64 = li < k ? <u64>load<u32>(x + (<usize>li << 2)) : 0;
      acc |= limb << nbits;
      nbits += LIMB_BITS;
      li++;
    }
    store<u8>(dst + <usize>i, <u8>acc);
    acc >>= 8;
    nbits -= 8;
  }
}

// ---------------------------------------------------------------------------
// Montgomery arithmetic

/** -m^-1 mod 2^28 for odd m0 (Newton iteration, each step doubles the bits). */
export function montInverse(m0: u32): u32 {
  let x: u32 = m0; // correct to 3 bits: m*m == 1 mod 8 for odd m
  x *= 2 - m0 * x; // 6
  x *= 2 - m0 * x; // 12
  x *= 2 - m0 * x; // 24
  x *= 2 - m0 * x; // 48
  return (0 - x) & LIMB_MASK;
}

/** Zeroes the column accumulator for k-limb operands. */
// @ts-ignore: decorator
@inline
function clearColumns(k: i32): void {
  const n = stride(k) << 1; // u64 columns, a multiple of 2
  const z = i64x2.splat(0);
  for (let i = 0; i < n; i += 2) v128.store(T + (<usize>i << 3), z);
}

/**
 * Two schoolbook rows in one pass over the columns at tp:
 * tp[j] += x0*b[j] + x1*b[j-1] for j in [0, n), then tp[n] += x1*b[n-1]
 * (b[-1] taken as 0; n a multiple of 4). Row x1 is row x0 shifted one
 * column, so each b chunk is loaded once and its copy shifted down one limb
 * is built from the previous chunk with one shuffle. Halves the column
 * loads/stores of one-row-at-a-time.
 */
// @ts-ignore: decorator
@inline
function addRows2(tp: usize, b: usize, n: i32, x0: u32, x1: u32): void {
  const v0 = i32x4.splat(x0);
  const v1 = i32x4.splat(x1);
  let prev = i32x4.splat(0);
  let j = 0;
  // Unrolled twice: V8 puts a stack-guard check and counter updates on every
  // loop back edge, a large share of a 4-column body.
  for (; j + 8 <= n; j += 8) {
    const bv = v128.load(b);
    const bs = i32x4.shuffle(prev, bv, 3, 4, 5, 6);
    const bw = v128.load(b, 16);
    const bt = i32x4.shuffle(bv, bw, 3, 4, 5, 6);
    prev = bw;
    const lo = i64x2.add(i64x2.extmul_low_i32x4_u(v0, bv), i64x2.extmul_low_i32x4_u(v1, bs));
    const hi = i64x2.add(i64x2.extmul_high_i32x4_u(v0, bv), i64x2.extmul_high_i32x4_u(v1, bs));
    const lo2 = i64x2.add(i64x2.extmul_low_i32x4_u(v0, bw), i64x2.extmul_low_i32x4_u(v1, bt));
    const hi2 = i64x2.add(i64x2.extmul_high_i32x4_u(v0, bw), i64x2.extmul_high_i32x4_u(v1, bt));
    v128.store(tp, i64x2.add(v128.load(tp), lo));
    v128.store(tp, i64x2.add(v128.load(tp, 16), hi), 16);
    v128.store(tp, i64x2.add(v128.load(tp, 32), lo2), 32);
    v128.store(tp, i64x2.add(v128.load(tp, 48), hi2), 48);
    tp += 64;
    b += 32;
  }
  if (j < n) {
    const bv = v128.load(b);
    const bs = i32x4.shuffle(prev, bv, 3, 4, 5, 6);
    prev = bv;
    const lo = i64x2.add(i64x2.extmul_low_i32x4_u(v0, bv), i64x2.extmul_low_i32x4_u(v1, bs));
    const hi = i64x2.add(i64x2.extmul_high_i32x4_u(v0, bv), i64x2.extmul_high_i32x4_u(v1, bs));
    v128.store(tp, i64x2.add(v128.load(tp), lo));
    v128.store(tp, i64x2.add(v128.load(tp, 16), hi), 16);
    tp += 32;
  }
  store<u64>(tp, load<u64>(tp) + <u64>x1 * <u64><u32>i32x4.extract_lane(prev, 3));
}

/** One row: tp[j] += x0*b[j] for j in [0, n), n a multiple of 4. */
// @ts-ignore: decorator
@inline
function addRow1(tp: usize, b: usize, n: i32, x0: u32): void {
  const v0 = i32x4.splat(x0);
  for (let j = 0; j < n; j += 4) {
    const bv = v128.load(b);
    v128.store(tp, i64x2.add(v128.load(tp), i64x2.extmul_low_i32x4_u(v0, bv)));
    v128.store(tp, i64x2.add(v128.load(tp, 16), i64x2.extmul_high_i32x4_u(v0, bv)), 16);
    tp += 32;
    b += 16;
  }
}

/** T += a * b, schoolbook, two rows per pass, two products per extmul. */
function mulColumns(a: usize, b: usize, k: i32): void {
  const kr = (k + 3) & ~3;
  let i = 0;
  for (; i + 1 < k; i += 2) {
    addRows2(T + (<usize>i << 3), b, kr, load<u32>(a + (<usize>i << 2)), load<u32>(a + (<usize>i << 2), 4));
  }
  if (i < k) addRow1(T + (<usize>i << 3), b, kr, load<u32>(a + (<usize>i << 2)));
}

/**
 * T += a^2: each off-diagonal product once with a doubled multiplier
 * (2*a[i] < 2^29, products < 2^57), two rows per pass, plus the diagonal.
 * Rows i and i+1 cover a[j] for j >= i+2 together; the products a[i]*a[i+1]
 * and the squares are added as scalars.
 */
function sqrColumns(a: usize, k: i32): void {
  let i = 0;
  for (; i + 1 < k; i += 2) {
    const x0 = load<u32>(a + (<usize>i << 2));
    const x1 = load<u32>(a + (<usize>i << 2), 4);
    const start = i + 2;
    const n = (k - start + 3) & ~3; // k - start >= 0 here
    addRows2(T + (<usize>(i + start) << 3), a + (<usize>start << 2), n, x0 << 1, x1 << 1);
    const d = T + (<usize>(i << 1) << 3);
    store<u64>(d, load<u64>(d) + <u64>x0 * <u64>x0);
    store<u64>(d, load<u64>(d, 8) + ((<u64>x0 * <u64>x1) << 1), 8);
    store<u64>(d, load<u64>(d, 16) + <u64>x1 * <u64>x1, 16);
  }
  if (i < k) {
    const x0 = load<u32>(a + (<usize>i << 2));
    const d = T + (<usize>(i << 1) << 3);
    store<u64>(d, load<u64>(d) + <u64>x0 * <u64>x0);
  }
}

/** Propagates carries through all columns so each is < 2^28 (keeps the u64 bound for k > 120). */
function normalizeColumns(k: i32): void {
  const n = stride(k) << 1;
  let c: u64 = 0;
  for (let i = 0; i < n; i++) {
    const p = T + (<usize>i << 3);
    c += load<u64>(p);
    store<u64>(p, c & <u64>LIMB_MASK);
    c >>= LIMB_BITS;
  }
}

/**
 * Montgomery reduction of the columns in T: out = T * R^-1 mod m, in [0, 2m)
 * when T < R*m (REDC, Montgomery 1985). One row per limb: u = T[i] * m' mod
 * 2^28 makes column i divisible by 2^28; its carry moves to column i+1.
 */
function reduceColumns(out: usize, m: usize, k: i32, m0inv: u32): void {
  if (k > 120) normalizeColumns(k);
  const kr = (k + 3) & ~3;
  const m0 = <u64>load<u32>(m);
  const m1 = <u64>load<u32>(m, 4);
  let i = 0;
  // Two rows per pass: u1 is found from column i+1 as it will be after row
  // i (its product u0*m[1] plus the carry out of column i), computed here in
  // scalar, so both rows can then be added in one sweep (addRows2).
  for (; i + 1 < k; i += 2) {
    const ci = T + (<usize>i << 3);
    const t0 = load<u64>(ci);
    const u0 = (<u32>t0 * m0inv) & LIMB_MASK;
    const t1 = load<u64>(ci, 8) + <u64>u0 * m1 + ((t0 + <u64>u0 * m0) >> LIMB_BITS);
    const u1 = (<u32>t1 * m0inv) & LIMB_MASK;
    addRows2(ci, m, kr, u0, u1);
    // Columns i and i+1 are now multiples of 2^28: move their carries up.
    const c1 = load<u64>(ci, 8) + (load<u64>(ci) >> LIMB_BITS);
    store<u64>(ci, load<u64>(ci, 16) + (c1 >> LIMB_BITS), 16);
  }
  if (i < k) {
    const ci = T + (<usize>i << 3);
    const u = (<u32>load<u64>(ci) * m0inv) & LIMB_MASK;
    addRow1(ci, m, kr, u);
    store<u64>(ci, load<u64>(ci, 8) + (load<u64>(ci) >> LIMB_BITS), 8);
  }
  let c: u64 = 0;
  const hi = T + (<usize>k << 3);
  for (let i = 0; i < k; i++) {
    c += load<u64>(hi + (<usize>i << 3));
    store<u32>(out + (<usize>i << 2), <u32>c & LIMB_MASK);
    c >>= LIMB_BITS;
  }
  clearPad(out, k);
}

/** out = a * b * R^-1 mod m, lazily reduced (< 2m for a, b < 2m). out may alias a or b. */
export function montMul(out: usize, a: usize, b: usize, m: usize, k: i32, m0inv: u32): void {
  clearColumns(k);
  mulColumns(a, b, k);
  reduceColumns(out, m, k, m0inv);
}

/** out = a^2 * R^-1 mod m, lazily reduced. out may alias a. */
export function montSqr(out: usize, a: usize, m: usize, k: i32, m0inv: u32): void {
  clearColumns(k);
  sqrColumns(a, k);
  reduceColumns(out, m, k, m0inv);
}

/**
 * out = x * R^-1 mod m, in [0, 2m), for x of up to 2k limbs (xk <= 2k) with
 * x < R*m. Used to reduce a double-length number (c mod p for c < n) in
 * constant time: REDC then multiply by R^3 (or R^2) to undo the R^-1.
 */
export function montReduceWide(out: usize, x: usize, xk: i32, m: usize, k: i32, m0inv: u32): void {
  clearColumns(k);
  for (let i = 0; i < xk; i++) store<u64>(T + (<usize>i << 3), <u64>load<u32>(x + (<usize>i << 2)));
  reduceColumns(out, m, k, m0inv);
}

/**
 * Plain product out = a * b (k limbs each) + c (k limbs), written as outk
 * limbs (outk <= 2k; the caller knows the value fits). For Garner's step
 * m = m2 + h*q.
 */
export function mulAdd(out: usize, outk: i32, a: usize, b: usize, c: usize, k: i32): void {
  clearColumns(k);
  mulColumns(a, b, k);
  for (let i = 0; i < k; i++) {
    const p = T + (<usize>i << 3);
    store<u64>(p, load<u64>(p) + <u64>load<u32>(c + (<usize>i << 2)));
  }
  let carry: u64 = 0;
  for (let i = 0; i < outk; i++) {
    carry += load<u64>(T + (<usize>i << 3));
    store<u32>(out + (<usize>i << 2), <u32>carry & LIMB_MASK);
    carry >>= LIMB_BITS;
  }
  clearPad(out, outk);
}

/**
 * out = 2^(28*k*times) mod m by repeated constant-time doubling: for times = 1
 * this is R mod m (Montgomery 1), for times = 2 it is R^2 mod m. m has k limbs,
 * m odd, m > 2. Cost O(bits * k); done once per key.
 */
export function powerOfTwoMod(out: usize, m: usize, k: i32, times: i32): void {
  zero(out, k);
  store<u32>(out, 1);
  const steps = LIMB_BITS * k * times;
  for (let s = 0; s < steps; s++) {
    // out = 2*out; out < m < 2^(28k - 2), so 2*out fits in k limbs.
    let carry: u32 = 0;
    for (let i = 0; i < k; i++) {
      const p = out + (<usize>i << 2);
      const v = (load<u32>(p) << 1) | carry;
      store<u32>(p, v & LIMB_MASK);
      carry = v >> LIMB_BITS;
    }
    condSub(out, m, k);
  }
}

/**
 * Zeroes this module's work areas (column accumulator, exponentiation table
 * and temporaries), which hold secret intermediates after an operation.
 */
export function wipeWorkAreas(): void {
  memory.fill(T, 0, 2 * MAX_STRIDE * 8 + 64);
  memory.fill(TMP, 0, MAX_STRIDE * 4);
  memory.fill(ACC, 0, MAX_STRIDE * 4);
  memory.fill(SEL, 0, MAX_STRIDE * 4);
  memory.fill(TABLE, 0, TABLE_SIZE * CRT_STRIDE * 4);
  memory.fill(MASKS, 0, TABLE_SIZE * 16);
}

// ---------------------------------------------------------------------------
// Exponentiation

/** The `WINDOW` exponent bits at bit position pos (public position). */
// @ts-ignore: decorator
@inline
function expWindow(e: usize, pos: i32): u32 {
  const li = pos / LIMB_BITS;
  const sh = pos - li * LIMB_BITS;
  const p = e + (<usize>li << 2);
  const v: u64 = <u64>load<u32>(p) | (<u64>load<u32>(p, 4) << LIMB_BITS);
  return <u32>(v >> sh) & (TABLE_SIZE - 1);
}

/**
 * out = TABLE[idx] reading every entry: each entry is ANDed with a mask that
 * is all ones only for idx, so the memory access pattern is independent of
 * the (secret) exponent window.
 */
function tableSelect(out: usize, idx: u32, k: i32): void {
  for (let e = 0; e < TABLE_SIZE; e++) v128.store(MASKS + (<usize>e << 4), i32x4.splat(ctEq(<u32>e, idx)));
  const kr = (k + 3) & ~3;
  const s = <usize>stride(k) << 2;
  for (let j = 0; j < kr; j += 4) {
    let acc = i32x4.splat(0);
    let tp = TABLE + (<usize>j << 2);
    for (let e = 0; e < TABLE_SIZE; e++) {
      acc = v128.or(acc, v128.and(v128.load(tp), v128.load(MASKS + (<usize>e << 4))));
      tp += s;
    }
    v128.store(out + (<usize>j << 2), acc);
  }
  clearPad(out, k);
}

/**
 * Constant-time out = base^e in Montgomery form, with base in Montgomery form
 * (< 2m) and `one` = R mod m. The exponent is read in fixed 5-bit windows
 * over `ebits` bits, a public bound (the bit length of m, never of e), so
 * the sequence of squarings and multiplications is the same for every
 * exponent of that size. out is lazily reduced (< 2m). k <= MAX_CRT_LIMBS.
 */
export function modexpCT(out: usize, base: usize, e: usize, ebits: i32, one: usize, m: usize, k: i32, m0inv: u32): void {
  const s = <usize>stride(k) << 2;
  copy(TABLE, one, k);
  copy(TABLE + s, base, k);
  for (let i = 2; i < TABLE_SIZE; i++) {
    const dst = TABLE + <usize>i * s;
    if ((i & 1) == 0) montSqr(dst, TABLE + <usize>(i >> 1) * s, m, k, m0inv);
    else montMul(dst, dst - s, base, m, k, m0inv);
  }
  let nwin = (ebits + WINDOW - 1) / WINDOW;
  if (nwin < 1) nwin = 1;
  tableSelect(ACC, expWindow(e, (nwin - 1) * WINDOW), k);
  for (let w = nwin - 2; w >= 0; w--) {
    for (let i = 0; i < WINDOW; i++) montSqr(ACC, ACC, m, k, m0inv);
    tableSelect(SEL, expWindow(e, w * WINDOW), k);
    montMul(ACC, ACC, SEL, m, k, m0inv);
  }
  copy(out, ACC, k);
}

/**
 * Variable-time out = base^e (Montgomery form in and out), left-to-right
 * square-and-multiply. Branches on the bits of e: only for public exponents
 * (RSAEP, the fault check, r^e for blinding). base may be secret: the
 * operations themselves are constant time and their sequence depends on e
 * only. e has ek limbs and must be > 0.
 */
export function modexpPublic(out: usize, base: usize, e: usize, ek: i32, m: usize, k: i32, m0inv: u32): void {
  const ebits = bitLengthVar(e, ek);
  copy(ACC, base, k);
  for (let i = ebits - 2; i >= 0; i--) {
    montSqr(ACC, ACC, m, k, m0inv);
    const li = i / LIMB_BITS;
    if ((load<u32>(e + (<usize>li << 2)) >> <u32>(i - li * LIMB_BITS)) & 1) montMul(ACC, ACC, base, m, k, m0inv);
  }
  copy(out, ACC, k);
}
