// Generates the nibble tables of the vector-permute AES core
// (assembly/aes-vperm.ts) from the field arithmetic, and checks them.
//
// Place: a build-time tool, not part of the build. It prints the
// AssemblyScript constant block that sits between the GENERATED markers of
// assembly/aes-vperm.ts; `--check` instead compares that block with the file
// (exit 1 on any difference), so the tables in the tree are reproducible.
//
// The mathematics (after M. Hamburg, "Accelerating AES with Vector Permute
// Instructions", CHES 2009, §3-§4; derived here, see the notes in
// assembly/aes-vperm.ts):
//   - GF(2^8) of FIPS-197 §4.2 (mod x^8+x^4+x^3+x+1) is mapped isomorphically
//     onto F = GF(16)[y]/(y^2+y+nu), GF(16) = GF(2)[z]/(z^4+z+1), nu chosen
//     so that y^2+y+nu is irreducible. An element is a*y + b.
//   - The core keeps every state byte as (i << 4) | k with i = nu*a, k = b:
//     a GF(2)-linear change of basis of the AES byte (the matrix M below).
//   - With c = 1/nu and j = i ^ k, the inverse of a*y + b follows from
//     five GF(16) reciprocals (each a 16-entry lookup):
//       iak = 1/i + c/k,  jak = 1/j + c/k,
//       io  = 1/iak + j,  jo  = 1/jak + i,
//     where io = N/(k + c*i), jo = N/(k + c*j) for N = nu*a^2 + a*b + b^2 the
//     norm of a*y + b, so 1/io and 1/jo are two independent GF(16)-linear
//     forms of the inverse's coordinates divided by N:
//       (a*y + b)^-1 = (a*y + a + b)/N = F1(io) + F2(jo),
//       F1(io) = (nu*(1+c)/io)*y + 1/io,  F2(jo) = (nu/jo)*y.
//   - Reciprocal of 0 ("infinity") is a byte with the top bit set (0x80):
//     XORing a nibble keeps it >= 16, i8x16.swizzle returns 0 for it, which is
//     exactly 1/infinity = 0, and the two infinities of x = 0 cancel (0x80 ^
//     0x80 = 0, whose reciprocal is infinity again), giving S(0) = 0x63.
//   - The output tables apply F1/F2, map back to the AES field, apply the
//     linear part of the S-box affine map (FIPS-197 §5.1.1, eq. 5.1), and
//     re-enter the core's basis (times 1, 2 and 3 for MixColumns) or stay
//     in the standard basis (last round). The affine constant 0x63 is folded
//     into the round keys by the key schedule.
//
// Run: node scripts/gen-aes-vperm.mjs [--check]
import { readFileSync } from "node:fs";

// ---------------------------------------------------------------------------
// The reference: FIPS-197 Figure 7, the S-box as printed (row = high nibble).
const FIPS197_SBOX = (
  "637c777bf26b6fc53001672bfed7ab76ca82c97dfa5947f0add4a2af9ca472c0" +
  "b7fd9326363ff7cc34a5e5f171d8311504c723c31896059a071280e2eb27b275" +
  "09832c1a1b6e5aa0523bd6b329e32f8453d100ed20fcb15b6acbbe394a4c58cf" +
  "d0efaafb434d338545f9027f503c9fa851a3408f929d38f5bcb6da2110fff3d2" +
  "cd0c13ec5f974417c4a77e3d645d197360814fdc222a908846eeb814de5e0bdb" +
  "e0323a0a4906245cc2d3ac629195e479e7c8376d8dd54ea96c56f4ea657aae08" +
  "ba78252e1ca6b4c6e8dd741f4bbd8b8a703eb5664803f60e613557b986c11d9e" +
  "e1f8981169d98e949b1e87e9ce5528df8ca1890dbfe6426841992d0fb054bb16"
).match(/../g).map((h) => parseInt(h, 16));

// ---------------------------------------------------------------------------
// Field arithmetic.

/** FIPS-197 §4.2: product in GF(2^8) mod x^8+x^4+x^3+x+1. */
function aesMul(a, b) {
  let r = 0;
  for (; b; b >>= 1) {
    if (b & 1) r ^= a;
    a = (a << 1) ^ (a & 0x80 ? 0x11b : 0);
  }
  return r;
}

/** GF(16) = GF(2)[z]/(z^4+z+1), nibbles in the polynomial basis. */
function gf16Mul(a, b) {
  let r = 0;
  for (; b; b >>= 1) {
    if (b & 1) r ^= a;
    a = (a << 1) ^ (a & 8 ? 0x13 : 0);
  }
  return r;
}
const gf16Inv = (a) => {
  for (let x = 1; x < 16; x++) if (gf16Mul(a, x) === 1) return x;
  throw new Error(`no inverse of ${a} in GF(16)`);
};

// nu: the first GF(16) element with y^2 + y + nu irreducible (no root).
const NU = [...Array(16).keys()].find((n) => n > 0 && ![...Array(16).keys()].some((y) => (gf16Mul(y, y) ^ y ^ n) === 0));
const C = gf16Inv(NU);

/** F = GF(16)[y]/(y^2+y+nu); bytes (a << 4) | b stand for a*y + b. */
function towerMul(x, w) {
  const a = x >> 4, b = x & 15, c = w >> 4, d = w & 15;
  // (ay+b)(cy+d) = ac*y^2 + (ad+bc)y + bd, y^2 = y + nu
  const ac = gf16Mul(a, c);
  return ((ac ^ gf16Mul(a, d) ^ gf16Mul(b, c)) << 4) | (gf16Mul(ac, NU) ^ gf16Mul(b, d));
}

function pow(mul, x, n) {
  let r = 1;
  for (let t = 0; t < n; t++) r = mul(r, x);
  return r;
}

// beta: the first root in F of the AES polynomial; phi(sum b_t x^t) = sum b_t beta^t.
const BETA = [...Array(256).keys()].find((w) => {
  const p = pow(towerMul, w, 8) ^ pow(towerMul, w, 4) ^ pow(towerMul, w, 3) ^ w ^ 1;
  return w > 1 && p === 0;
});
const BETA_POW = [...Array(8).keys()].map((t) => pow(towerMul, BETA, t));

/** Applies the GF(2)-linear map with column images `cols` (bit t -> cols[t]). */
const linear = (cols) => (x) => cols.reduce((r, col, t) => ((x >> t) & 1 ? r ^ col : r), 0);
const phi = linear(BETA_POW);
const PHI_INV = new Array(256);
for (let x = 0; x < 256; x++) PHI_INV[phi(x)] = x;

/** AES byte -> core byte (i << 4) | k with i = nu*a, k = b. */
const toCore = (x) => {
  const w = phi(x);
  return (gf16Mul(NU, w >> 4) << 4) | (w & 15);
};
const FROM_CORE = new Array(256);
for (let x = 0; x < 256; x++) FROM_CORE[toCore(x)] = x;

/** FIPS-197 §5.1.1 (5.1): the linear part of the affine map (no 0x63). */
function affineLinear(x) {
  let r = 0;
  for (let t = 0; t < 8; t++) {
    const bit = ((x >> t) ^ (x >> ((t + 4) % 8)) ^ (x >> ((t + 5) % 8)) ^ (x >> ((t + 6) % 8)) ^ (x >> ((t + 7) % 8))) & 1;
    r |= bit << t;
  }
  return r;
}

// ---------------------------------------------------------------------------
// Self-checks of the field setup: phi is a field isomorphism and the core
// basis is GF(2)-linear (so it commutes with XOR of round keys).
for (let x = 0; x < 256; x++) {
  if (PHI_INV[phi(x)] !== x || FROM_CORE[toCore(x)] !== x) throw new Error("basis change is not a bijection");
  for (let w = 0; w < 256; w++) {
    if (phi(aesMul(x, w)) !== towerMul(phi(x), phi(w))) throw new Error("phi is not multiplicative");
    if (toCore(x ^ w) !== (toCore(x) ^ toCore(w))) throw new Error("core basis change is not linear");
  }
}

// ---------------------------------------------------------------------------
// The tables.

const INF = 0x80;
/** INV[n] = 1/n in GF(16), 1/0 = infinity. */
const INV = [...Array(16).keys()].map((n) => (n === 0 ? INF : gf16Inv(n)));
/** DIVC[k] = c/k, c/0 = infinity. */
const DIVC = [...Array(16).keys()].map((k) => (k === 0 ? INF : gf16Mul(C, gf16Inv(k))));

/** F1(io), F2(jo) as elements of F (index 0 is never reached finitely). */
const F1 = (io) => (io === 0 ? 0 : ((gf16Mul(gf16Mul(NU, 1 ^ C), gf16Inv(io)) << 4) | gf16Inv(io)));
const F2 = (jo) => (jo === 0 ? 0 : gf16Mul(NU, gf16Inv(jo)) << 4);

/** Output table: nibble -> map(A(phi^-1(F(nibble)))) for an F-part and a final map. */
const outTable = (f, map) => [...Array(16).keys()].map((n) => map(affineLinear(PHI_INV[f(n)])));

const tables = {
  // Input transform, standard byte -> core byte, by nibbles: the low nibble's
  // image and the high nibble's image (linear, so they XOR).
  IPT_LO: [...Array(16).keys()].map((n) => toCore(n)),
  IPT_HI: [...Array(16).keys()].map((n) => toCore(n << 4)),
  INV,
  DIVC,
  // Middle rounds: core basis of S(x) ^ 0x63 and of 2*(S(x) ^ 0x63).
  SB1_IO: outTable(F1, toCore),
  SB1_JO: outTable(F2, toCore),
  SB2_IO: outTable(F1, (v) => toCore(aesMul(2, v))),
  SB2_JO: outTable(F2, (v) => toCore(aesMul(2, v))),
  SB3_IO: outTable(F1, (v) => toCore(aesMul(3, v))),
  SB3_JO: outTable(F2, (v) => toCore(aesMul(3, v))),
  // Last round: S(x) ^ 0x63 in the standard basis.
  SBO_IO: outTable(F1, (v) => v),
  SBO_JO: outTable(F2, (v) => v),
};

// ---------------------------------------------------------------------------
// Simulation of one S-box as the AssemblyScript code computes it, with the
// semantics of i8x16.swizzle (an index >= 16 reads 0), against FIPS-197.

const swz = (table, idx) => (idx < 16 ? table[idx] : 0);

function coreSbox(coreByte, lo, hi) {
  const k = coreByte & 15, i = (coreByte >> 4) & 15;
  const ak = swz(tables.DIVC, k);
  const j = i ^ k;
  const iak = swz(INV, i) ^ ak;
  const jak = swz(INV, j) ^ ak;
  const io = swz(INV, iak) ^ j;
  const jo = swz(INV, jak) ^ i;
  return swz(lo, io) ^ swz(hi, jo);
}

let bad = 0;
for (let x = 0; x < 256; x++) {
  const s = FIPS197_SBOX[x];
  const core = swz(tables.IPT_LO, x & 15) ^ swz(tables.IPT_HI, x >> 4);
  if (core !== toCore(x)) bad++;
  if ((coreSbox(core, tables.SBO_IO, tables.SBO_JO) ^ 0x63) !== s) bad++;
  if (coreSbox(core, tables.SB1_IO, tables.SB1_JO) !== toCore(s ^ 0x63)) bad++;
  if (coreSbox(core, tables.SB2_IO, tables.SB2_JO) !== toCore(aesMul(2, s ^ 0x63))) bad++;
  if (coreSbox(core, tables.SB3_IO, tables.SB3_JO) !== toCore(aesMul(3, s ^ 0x63))) bad++;
  // The S-box from its definition (FIPS-197 §5.1.1) agrees with Figure 7.
  const inv = x === 0 ? 0 : [...Array(256).keys()].find((w) => aesMul(x, w) === 1);
  if ((affineLinear(inv) ^ 0x63) !== s) bad++;
}
if (bad) {
  console.error(`gen-aes-vperm: ${bad} S-box mismatches against FIPS-197 Figure 7`);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Byte permutations (FIPS-197 §3.4: state byte r + 4c is row r, column c).
// ShiftRows (§5.1.2) takes byte r + 4((c + r) mod 4); the MixColumns (§5.1.3)
// row rotation rot_n takes ((r + n) mod 4) + 4c within the column. MC_n is
// rot_n after ShiftRows, so one swizzle does both. ISR is InvShiftRows
// (§5.3.1), used by the key schedule to pre-permute round keys.
const perm = (f) => [...Array(16).keys()].map((p) => f(p & 3, p >> 2));
const perms = {
  SR: perm((r, c) => r + 4 * ((c + r) % 4)),
  ISR: perm((r, c) => r + 4 * ((c - r + 4) % 4)),
  MC_1: perm((r, c) => ((r + 1) % 4) + 4 * ((c + r + 1) % 4)),
  MC_2: perm((r, c) => ((r + 2) % 4) + 4 * ((c + r + 2) % 4)),
  MC_3: perm((r, c) => ((r + 3) % 4) + 4 * ((c + r + 3) % 4)),
};

// ---------------------------------------------------------------------------
// Output.

const hex = (b) => `0x${b.toString(16).padStart(2, "0")}`;
// v128() takes i8 lanes: bytes from 0x80 up carry an explicit cast.
const v128 = (bytes) => `v128(${bytes.map((b) => (b < 0x80 ? hex(b) : `<i8>${hex(b)}`)).join(", ")})`;
const lines = [
  `// nu = ${hex(NU)}, c = 1/nu = ${hex(C)} in GF(16) mod z^4+z+1; beta = ${hex(BETA)} in F.`,
  `// S-box checked for all 256 inputs against FIPS-197 Figure 7.`,
];
for (const [name, t] of Object.entries(tables)) lines.push(`const ${name}: v128 = ${v128(t)};`);
for (const [name, t] of Object.entries(perms)) lines.push(`const ${name}: v128 = ${v128(t)};`);
// The affine constant in the core basis (folded into the round keys).
lines.push(`const C63: v128 = ${v128(new Array(16).fill(toCore(0x63)))};`);
const block = lines.join("\n");

const BEGIN = "// BEGIN GENERATED by scripts/gen-aes-vperm.mjs";
const END = "// END GENERATED";
if (process.argv.includes("--check")) {
  const src = readFileSync(new URL("../assembly/aes-vperm.ts", import.meta.url), "utf8");
  const a = src.indexOf(BEGIN), b = src.indexOf(END);
  const inFile = a < 0 || b < 0 ? "" : src.slice(src.indexOf("\n", a) + 1, b).trimEnd();
  if (inFile !== block) {
    console.error("gen-aes-vperm: the tables in assembly/aes-vperm.ts differ from the generated ones");
    process.exit(1);
  }
  console.log("gen-aes-vperm: assembly/aes-vperm.ts matches; S-box verified for all 256 inputs");
} else {
  console.log(`${BEGIN}\n${block}\n${END}`);
}
