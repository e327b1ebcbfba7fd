// The TLS PRFs and SSL 3.0 key derivation of the WASM core (assembly/prf.ts
// via wasmPrf) and of the native provider (nativePrf): published known
// answers, a structural rebuild from node:crypto HMAC/hash primitives written
// out here, and a differential test between the two providers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { SSL3, TLS10, TLS11, TLS12 } from "../../src/crypto/types.js";
import { SSL3_MAX_KEY_BLOCK, wasmPrf } from "../../src/crypto/wasm/hash.js";
import { nativePrf } from "../../src/crypto/native/hash.js";
import { TLS10_PRF_VECTORS, TLS12_PRF_VECTORS } from "../vectors/prf-vectors.js";

const FC = { seed: 0x707266, numRuns: 150 };
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
const PROVIDERS = { wasm: wasmPrf, native: nativePrf };

test("TLS 1.2 PRF (P_SHA256): IETF TLS list known answer", () => {
  for (const v of TLS12_PRF_VECTORS) {
    for (const [name, prf] of Object.entries(PROVIDERS)) {
      const out = prf(TLS12, unhex(v.secret), v.label, unhex(v.seed), v.output.length / 2);
      assert.equal(hex(out), v.output, `${name}: ${v.source}`);
      // A prefix request yields the prefix (output is not length-bound).
      assert.equal(hex(prf(TLS12, unhex(v.secret), v.label, unhex(v.seed), 12)), v.output.slice(0, 24), name);
    }
  }
});

test("TLS 1.0/1.1 PRF (P_MD5 ⊕ P_SHA1): NIST CAVP known answers", () => {
  for (const v of TLS10_PRF_VECTORS) {
    for (const [name, prf] of Object.entries(PROVIDERS)) {
      for (const version of [TLS10, TLS11]) {
        const out = prf(version, unhex(v.secret), v.label, unhex(v.seed), v.output.length / 2);
        assert.equal(hex(out), v.output, `${name} 0x${version.toString(16)}: ${v.source}`);
      }
    }
  }
});

// --- Structural references written out from the RFCs -------------------------

function pHash(alg: "md5" | "sha1" | "sha256", secret: Uint8Array, seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let a: Buffer = Buffer.from(seed);
  while (Buffer.concat(blocks).length < length) {
    a = createHmac(alg, secret).update(a).digest();
    blocks.push(createHmac(alg, secret).update(Buffer.concat([a, seed])).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** RFC 2246 §5, S1 = first ceil(n/2) bytes, S2 = last ceil(n/2) bytes. */
function tls10Ref(secret: Uint8Array, labelSeed: Uint8Array, length: number): string {
  const half = Math.ceil(secret.length / 2);
  const md5 = pHash("md5", secret.subarray(0, half), labelSeed, length);
  const sha = pHash("sha1", secret.subarray(secret.length - half), labelSeed, length);
  return hex(md5.map((b, i) => b ^ sha[i]!));
}

/** RFC 6101 §6.1 / §6.2.2. */
function ssl3Ref(secret: Uint8Array, randoms: Uint8Array, length: number): string {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 16 < length; i++) {
    const salt = Buffer.alloc(i + 1, String.fromCharCode(65 + i));
    const sha = createHash("sha1").update(salt).update(secret).update(randoms).digest();
    blocks.push(createHash("md5").update(secret).update(sha).digest());
  }
  return hex(Buffer.concat(blocks).subarray(0, length));
}

const secretArb = fc.uint8Array({ minLength: 0, maxLength: 80 });
const seedArb = fc.uint8Array({ minLength: 0, maxLength: 100 });
const labelArb = fc.constantFrom("master secret", "key expansion", "client finished", "server finished", "test label");

test("TLS 1.0 PRF equals P_MD5 ⊕ P_SHA1 built from node:crypto HMAC (odd and even secrets)", () => {
  fc.assert(
    fc.property(secretArb, labelArb, seedArb, fc.integer({ min: 0, max: 200 }), (secret, label, seed, n) => {
      const expect = tls10Ref(secret, Buffer.concat([Buffer.from(label), seed]), n);
      assert.equal(hex(wasmPrf(TLS10, secret, label, seed, n)), expect);
      assert.equal(hex(nativePrf(TLS10, secret, label, seed, n)), expect);
    }),
    FC,
  );
});

test("TLS 1.0 PRF: an odd-length secret shares its middle byte between the halves", () => {
  // RFC 2246 §5: for 0102030405, S1 = 010203 and S2 = 030405 (not 0405).
  const secret = unhex("0102030405");
  const labelSeed = Buffer.from("x\u0000", "latin1");
  const md5 = pHash("md5", unhex("010203"), labelSeed, 16);
  const xor = (s2: string) => hex(md5.map((b, i) => b ^ pHash("sha1", unhex(s2), labelSeed, 16)[i]!));
  const got = hex(wasmPrf(TLS10, secret, "x", unhex("00"), 16));
  assert.equal(got, xor("030405"));
  assert.notEqual(got, xor("0405"), "a floor split would give this");
  assert.equal(hex(nativePrf(TLS10, secret, "x", unhex("00"), 16)), got);
});

test("TLS 1.2 PRF equals P_SHA256 built from node:crypto HMAC", () => {
  fc.assert(
    fc.property(secretArb, labelArb, seedArb, fc.integer({ min: 0, max: 200 }), (secret, label, seed, n) => {
      const expect = hex(pHash("sha256", secret, Buffer.concat([Buffer.from(label), seed]), n));
      assert.equal(hex(wasmPrf(TLS12, secret, label, seed, n)), expect);
      assert.equal(hex(nativePrf(TLS12, secret, label, seed, n)), expect);
    }),
    FC,
  );
});

test("SSL 3.0 derivation equals MD5(secret ‖ SHA-1('A'.. ‖ secret ‖ randoms)) built from node:crypto", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 48, maxLength: 48 }),
      fc.uint8Array({ minLength: 64, maxLength: 64 }),
      fc.constantFrom("master secret", "key expansion"),
      fc.integer({ min: 0, max: SSL3_MAX_KEY_BLOCK }),
      (secret, randoms, label, n) => {
        const expect = ssl3Ref(secret, randoms, n);
        assert.equal(hex(wasmPrf(SSL3, secret, label, randoms, n)), expect);
        assert.equal(hex(nativePrf(SSL3, secret, label, randoms, n)), expect);
      },
    ),
    { ...FC, numRuns: 60 },
  );
});

test("wasm and native PRFs agree for every version, label given as bytes or string", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(TLS10, TLS11, TLS12),
      secretArb,
      fc.uint8Array({ minLength: 0, maxLength: 30 }),
      seedArb,
      fc.integer({ min: 0, max: 300 }),
      (version, secret, label, seed, n) => {
        assert.equal(hex(wasmPrf(version, secret, label, seed, n)), hex(nativePrf(version, secret, label, seed, n)));
      },
    ),
    FC,
  );
  const labelBytes = Uint8Array.from(Buffer.from("key expansion"));
  const s = unhex("00112233");
  assert.equal(hex(wasmPrf(TLS12, s, labelBytes, s, 40)), hex(wasmPrf(TLS12, s, "key expansion", s, 40)));
});

test("PRF misuse is refused", () => {
  const s = new Uint8Array(48);
  for (const prf of Object.values(PROVIDERS)) {
    assert.throws(() => prf(SSL3, s, "client finished", s, 12), RangeError, "SSL 3.0 Finished is not a PRF");
    assert.throws(() => prf(SSL3, s, "key expansion", s, SSL3_MAX_KEY_BLOCK + 1), RangeError);
    assert.throws(() => prf(0x0200, s, "master secret", s, 48), RangeError);
    assert.throws(() => prf(TLS12, s, "master secret", s, -1), RangeError);
  }
  assert.throws(() => wasmPrf(TLS12, new Uint8Array(300_000), "x", s, 1), RangeError);
});
