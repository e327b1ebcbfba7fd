// RSA primitives of the WASM core against published known answers, against
// node:crypto (differential, 1024-4096-bit keys, e = 65537 and e = 3), and
// the error paths: input >= n, corrupted keys tripping the fault check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, generatePrimeSync, randomBytes } from "node:crypto";
import type { RsaPrivateKey } from "../../src/crypto/types.js";
import { generateRsaKey, rsaKeyFromPem, rsaPublicKeyFromPem, rsaPublicOf } from "../../src/crypto/rsa-key.js";
import { RsaError, wasmRsaPrivate, wasmRsaPublic } from "../../src/crypto/wasm/rsa.js";
import { nativeRsaPrivate, nativeRsaPublic } from "../../src/crypto/native/rsa.js";
import { PKCS1V15_KEYS, hex } from "../vectors/rsa-pkcs1v15.js";

const b = (u: Uint8Array) => Buffer.from(u).toString("hex");

function keyOf(v: (typeof PKCS1V15_KEYS)[number]): RsaPrivateKey {
  const n = hex(v.n);
  return { n, e: hex(v.e), d: hex(v.d), p: hex(v.p), q: hex(v.q), dp: hex(v.dp), dq: hex(v.dq), qinv: hex(v.qinv), bits: n.length * 8 };
}

/** A uniformly random integer below n, as k bytes (rejection sampling). */
function randomBelow(n: Uint8Array): Uint8Array {
  for (;;) {
    const m = new Uint8Array(randomBytes(n.length));
    const topBits = 32 - Math.clz32(n[0]!);
    m[0]! &= (1 << topBits) - 1;
    if (Buffer.compare(Buffer.from(m), Buffer.from(n)) < 0) return m;
  }
}

function minusOne(n: Uint8Array): Uint8Array {
  const m = n.slice();
  m[m.length - 1]! -= 1; // n is odd
  return m;
}

function assertRsaError(fn: () => unknown, reason: RsaError["reason"]) {
  assert.throws(fn, (err: unknown) => err instanceof RsaError && err.reason === reason);
}

// Fresh keys, generated once per file.
const keys = new Map<string, RsaPrivateKey>();
function key(bits: number, e = 65537): RsaPrivateKey {
  const id = `${bits}/${e}`;
  let k = keys.get(id);
  if (!k) {
    k = generateRsaKey(bits, e);
    keys.set(id, k);
  }
  return k;
}

test("PKCS#1 v1.5 known answers: RSADP gives 00 02 || seed || 00 || message, RSAEP inverts it", () => {
  let checked = 0;
  for (const v of PKCS1V15_KEYS) {
    const k = keyOf(v);
    for (const ex of v.examples) {
      const em = Buffer.concat([Buffer.from([0, 2]), hex(ex.seed), Buffer.from([0]), hex(ex.message)]);
      assert.equal(em.length, k.n.length, `${ex.name}: EM length`);
      const c = hex(ex.encryption);
      assert.equal(b(wasmRsaPrivate(k, c)), em.toString("hex"), `${ex.name}: wasm RSADP`);
      assert.equal(b(wasmRsaPublic(rsaPublicOf(k), em)), b(c), `${ex.name}: wasm RSAEP`);
      assert.equal(b(nativeRsaPrivate(k, c)), em.toString("hex"), `${ex.name}: native RSADP`);
      checked++;
    }
  }
  assert.equal(checked, 3);
});

test("textbook RSA (p = 61, q = 53, e = 17): 65^17 mod 3233 = 2790 and back", () => {
  // The classic worked example: n = 3233, d = 2753, dp = d mod 60 = 53,
  // dq = d mod 52 = 49, qinv = 53^-1 mod 61 = 38. Exercises one-limb moduli.
  const k: RsaPrivateKey = {
    n: new Uint8Array([0x0c, 0xa1]),
    e: new Uint8Array([17]),
    d: new Uint8Array([0x0a, 0xc1]),
    p: new Uint8Array([61]),
    q: new Uint8Array([53]),
    dp: new Uint8Array([53]),
    dq: new Uint8Array([49]),
    qinv: new Uint8Array([38]),
    bits: 12,
  };
  assert.equal(b(wasmRsaPublic(rsaPublicOf(k), new Uint8Array([0, 65]))), "0ae6"); // 2790
  assert.equal(b(wasmRsaPrivate(k, new Uint8Array([0x0a, 0xe6]))), "0041");
  // Every message round-trips.
  for (let m = 0; m < 3233; m += 7) {
    const mb = new Uint8Array([m >> 8, m & 0xff]);
    assert.equal(b(wasmRsaPrivate(k, wasmRsaPublic(rsaPublicOf(k), mb))), b(mb), `m = ${m}`);
  }
});

for (const [bits, e, rounds] of [
  [1024, 65537, 70],
  [2048, 65537, 12],
  [3072, 65537, 4],
  [4096, 65537, 3],
  [2048, 3, 8],
  [1024, 3, 8],
] as const) {
  test(`differential vs node:crypto, ${bits}-bit key, e = ${e}`, () => {
    const k = key(bits, e);
    const pub = rsaPublicOf(k);
    assert.equal(k.bits, bits);
    const inputs = [new Uint8Array(k.n.length), Uint8Array.of(1), Uint8Array.of(2), minusOne(k.n)];
    // More than one blinding period (32 uses) for the smaller keys.
    for (let i = 0; i < rounds; i++) inputs.push(randomBelow(k.n));
    for (const m of inputs) {
      const c = wasmRsaPublic(pub, m);
      assert.equal(b(c), b(nativeRsaPublic(pub, m)), "public");
      const s = wasmRsaPrivate(k, m);
      assert.equal(b(s), b(nativeRsaPrivate(k, m)), "private");
      const back = wasmRsaPrivate(k, c);
      assert.equal(b(back), b(toK(m, k.n.length)), "private(public(m)) == m");
    }
  });
}

function toK(m: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(m, len - m.length);
  return out;
}

test("blinding value does not change the result; keys interleave", () => {
  const k1 = key(1024);
  const k2 = key(2048);
  const m1 = randomBelow(k1.n);
  const m2 = randomBelow(k2.n);
  const want1 = b(nativeRsaPrivate(k1, m1));
  const want2 = b(nativeRsaPrivate(k2, m2));
  for (let i = 0; i < 5; i++) {
    assert.equal(b(wasmRsaPrivate(k1, m1, randomBytes(k1.n.length))), want1);
    assert.equal(b(wasmRsaPrivate(k2, m2, randomBytes(k2.n.length))), want2);
    assert.equal(b(wasmRsaPrivate(k1, m1)), want1);
  }
  // Degenerate blinding bytes: r = 0 cannot be inverted and is refused.
  assertRsaError(() => wasmRsaPrivate(k1, m1, new Uint8Array(k1.n.length)), "blinding");
  // r = 1 is a valid (if useless) blinding value.
  const one = new Uint8Array(k1.n.length);
  one[one.length - 1] = 1;
  assert.equal(b(wasmRsaPrivate(k1, m1, one)), want1);
  assert.equal(b(wasmRsaPrivate(k1, m1)), want1);
});

test("inputs >= n are rejected by both operations and both providers", () => {
  const k = key(1024);
  const pub = rsaPublicOf(k);
  const nPlus1 = k.n.slice();
  nPlus1[nPlus1.length - 1]! += 1;
  const tooLong = new Uint8Array(k.n.length + 1).fill(1);
  for (const bad of [k.n, nPlus1, new Uint8Array(k.n.length).fill(0xff), tooLong]) {
    assertRsaError(() => wasmRsaPrivate(k, bad), "input-range");
    assertRsaError(() => wasmRsaPublic(pub, bad), "input-range");
    assertRsaError(() => nativeRsaPrivate(k, bad), "input-range");
    assertRsaError(() => nativeRsaPublic(pub, bad), "input-range");
  }
  // Leading zero bytes beyond k are fine: the integer is what counts.
  const m = randomBelow(k.n);
  const padded = new Uint8Array(k.n.length + 3);
  padded.set(m, 3);
  assert.equal(b(wasmRsaPrivate(k, padded)), b(wasmRsaPrivate(k, m)));
});

test("a corrupted CRT key trips the fault check and releases nothing", () => {
  const good = key(2048);
  const m = randomBelow(good.n);
  const want = b(nativeRsaPrivate(good, m));
  const flip = (a: Uint8Array, byte: number, bit: number) => {
    const c = a.slice();
    c[byte]! ^= 1 << bit;
    return c;
  };
  const corrupted: RsaPrivateKey[] = [
    { ...good, dp: flip(good.dp, good.dp.length - 1, 1) },
    { ...good, dp: flip(good.dp, 3, 7) },
    { ...good, dq: flip(good.dq, 10, 0) },
    { ...good, qinv: flip(good.qinv, 20, 4) },
  ];
  for (const bad of corrupted) {
    for (let i = 0; i < 3; i++) assertRsaError(() => wasmRsaPrivate(bad, randomBelow(good.n)), "fault");
  }
  // The good key still works afterwards.
  assert.equal(b(wasmRsaPrivate(good, m)), want);
});

test("keys whose primes do not multiply to n, or with an even modulus, are refused", () => {
  const k = key(1024);
  const other = key(1024, 3);
  assertRsaError(() => wasmRsaPrivate({ ...k, p: other.p }, Uint8Array.of(5)), "key");
  const even = k.n.slice();
  even[even.length - 1]! &= 0xfe;
  assertRsaError(() => wasmRsaPublic({ n: even, e: k.e, bits: k.bits }, Uint8Array.of(5)), "key");
});

test("PEM keys parse into the byte records and agree with node:crypto", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const pem = privateKey.export({ format: "pem", type: "pkcs1" }).toString();
  const k = rsaKeyFromPem(pem);
  const pub = rsaPublicKeyFromPem(publicKey.export({ format: "pem", type: "spki" }).toString());
  assert.equal(k.bits, 1024);
  assert.equal(b(pub.n), b(k.n));
  assert.equal(b(k.e), "010001");
  const jwk = createPrivateKey(pem).export({ format: "jwk" });
  const qi = Buffer.from(jwk.qi!, "base64url");
  assert.equal(b(k.qinv), qi.subarray(qi.findIndex((x) => x !== 0)).toString("hex"));
  const m = randomBelow(k.n);
  assert.equal(b(wasmRsaPrivate(k, wasmRsaPublic(pub, m))), b(m));
});

// Keys built here from primes of chosen sizes, to reach CRT paths that
// node:crypto's balanced keys never take: |p| != |q|, and p < q.
const big = (u: Uint8Array) => BigInt("0x" + (Buffer.from(u).toString("hex") || "0"));
function bytes(x: bigint): Uint8Array {
  let h = x.toString(16);
  if (h.length % 2) h = "0" + h;
  return new Uint8Array(Buffer.from(h, "hex"));
}
function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error("not invertible");
  return ((s0 % m) + m) % m;
}
function keyFromPrimes(p: bigint, q: bigint, e = 65537n): RsaPrivateKey {
  const n = p * q;
  const d = modInverse(e, (p - 1n) * (q - 1n));
  return {
    n: bytes(n),
    e: bytes(e),
    d: bytes(d),
    p: bytes(p),
    q: bytes(q),
    dp: bytes(d % (p - 1n)),
    dq: bytes(d % (q - 1n)),
    qinv: bytes(modInverse(q, p)),
    bits: n.toString(2).length,
  };
}
const prime = (bits: number) => generatePrimeSync(bits, { bigint: true });

test("unbalanced and swapped primes: wasm agrees with node:crypto", () => {
  for (const [pb, qb] of [
    [480, 544],
    [544, 480],
    [1000, 1048],
    [1536, 1536],
  ] as const) {
    let k: RsaPrivateKey | undefined;
    while (!k) {
      try {
        k = keyFromPrimes(prime(pb), prime(qb));
      } catch {
        // e not invertible mod (p-1)(q-1): draw new primes
      }
    }
    const pub = rsaPublicOf(k);
    for (let i = 0; i < 3; i++) {
      const m = randomBelow(k.n);
      assert.equal(b(wasmRsaPrivate(k, m)), b(nativeRsaPrivate(k, m)), `${pb}/${qb}`);
      assert.equal(b(wasmRsaPrivate(k, wasmRsaPublic(pub, m))), b(m), `${pb}/${qb} round trip`);
    }
    // Also with the roles of p and q exchanged (p < q when p came out larger).
    const swapped = keyFromPrimes(big(k.q), big(k.p));
    const m = randomBelow(k.n);
    assert.equal(b(wasmRsaPrivate(swapped, m)), b(nativeRsaPrivate(k, m)), `${pb}/${qb} swapped`);
  }
});
