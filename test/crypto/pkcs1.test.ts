// TLS pre-master recovery, RFC 5246 §7.4.7.1: the constant-time unpadding on
// hand-made blocks (each malformation must yield exactly client_version ||
// random46), a differential check against a plain reference on mutated
// blocks, and the fused decrypt+unpad of both providers on real PKCS#1 v1.5
// encryptions made by node:crypto.
import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, publicEncrypt, randomBytes } from "node:crypto";
import type { RsaPrivateKey } from "../../src/crypto/types.js";
import { generateRsaKey, rsaPublicOf } from "../../src/crypto/rsa-key.js";
import { tlsPremasterUnpad, wasmRsaDecryptPremaster, wasmRsaPublic, RsaError } from "../../src/crypto/wasm/rsa.js";
import { nativeRsaDecryptPremaster, rsaPublicKeyObject } from "../../src/crypto/native/rsa.js";

const TLS12 = 0x0303;
const TLS10 = 0x0301;
const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

function nonzero(n: number): Uint8Array {
  const out = new Uint8Array(randomBytes(n));
  for (let i = 0; i < n; i++) while (out[i] === 0) out[i] = randomBytes(1)[0]!;
  return out;
}

function premaster(version: number): Uint8Array {
  const pm = new Uint8Array(randomBytes(48));
  pm[0] = version >> 8;
  pm[1] = version & 0xff;
  return pm;
}

/** 00 02 PS 00 M with |PS| = k - 3 - |M| (RFC 8017 §7.2.1 step 2). */
function block(k: number, m: Uint8Array): Uint8Array {
  const out = new Uint8Array(k);
  out[1] = 2;
  out.set(nonzero(k - 3 - m.length), 2);
  out.set(m, k - m.length);
  return out;
}

function fallback(version: number, random46: Uint8Array): string {
  return hex(Uint8Array.of(version >> 8, version & 0xff, ...random46));
}

/** Plain, variable-time statement of the rule, for the differential test. */
function reference(blk: Uint8Array, version: number, random46: Uint8Array): string {
  const ok = (() => {
    if (blk[0] !== 0 || blk[1] !== 2) return false;
    const sep = blk.indexOf(0, 2);
    if (sep < 0 || sep - 2 < 8) return false;
    const m = blk.subarray(sep + 1);
    return m.length === 48 && m[0] === version >> 8 && m[1] === (version & 0xff);
  })();
  return ok ? hex(blk.subarray(blk.length - 48)) : fallback(version, random46);
}

test("a well-formed block yields its 48-byte pre-master, for every modulus size", () => {
  for (const k of [59, 64, 128, 256, 384, 512]) {
    const pm = premaster(TLS12);
    const r46 = randomBytes(46);
    assert.equal(hex(tlsPremasterUnpad(block(k, pm), TLS12, r46)), hex(pm), `k = ${k}`);
  }
});

test("each malformed block yields exactly client_version || random46", () => {
  const k = 256;
  const r46 = new Uint8Array(randomBytes(46));
  const want = fallback(TLS12, r46);
  const good = () => block(k, premaster(TLS12));
  const cases: Record<string, () => Uint8Array> = {
    "first byte not 0": () => {
      const b = good();
      b[0] = 0x01;
      return b;
    },
    "second byte 1 (signature block type)": () => {
      const b = good();
      b[1] = 0x01;
      return b;
    },
    "second byte 0": () => {
      const b = good();
      b[1] = 0x00;
      return b;
    },
    "no zero separator": () => {
      const b = good();
      b[k - 49] = 0x5a;
      // ...and no zero anywhere in M either.
      for (let i = k - 48; i < k; i++) if (b[i] === 0) b[i] = 1;
      return b;
    },
    "empty PS (separator right after 00 02)": () => {
      const b = good();
      b[2] = 0;
      return b;
    },
    "M one byte too long (49)": () => block(k, Uint8Array.of(0x03, ...premaster(TLS12))),
    "M one byte too short (47)": () => block(k, premaster(TLS12).subarray(0, 47)),
    "M empty": () => block(k, new Uint8Array(0)),
    "zero byte inside PS (M would be longer than 48)": () => {
      const b = good();
      b[100] = 0;
      return b;
    },
    "wrong major version": () => block(k, premaster(0x0403)),
    "wrong minor version (the negotiated TLS 1.0, not the offered TLS 1.2)": () => block(k, premaster(TLS10)),
    "all zeros": () => new Uint8Array(k),
    "all ones": () => new Uint8Array(k).fill(0xff),
  };
  for (const [name, make] of Object.entries(cases)) {
    assert.equal(hex(tlsPremasterUnpad(make(), TLS12, r46)), want, name);
  }
});

test("PS must be at least 8 bytes: 7 is refused, 8 accepted (k = 58 and 59)", () => {
  const r46 = randomBytes(46);
  const pm = premaster(TLS12);
  assert.equal(hex(tlsPremasterUnpad(block(58, pm), TLS12, r46)), fallback(TLS12, r46));
  assert.equal(hex(tlsPremasterUnpad(block(59, pm), TLS12, r46)), hex(pm));
});

test("differential vs a plain reference on randomly mutated blocks", () => {
  for (let i = 0; i < 3000; i++) {
    const k = [64, 128, 256][i % 3]!;
    const version = i % 5 === 0 ? TLS10 : TLS12;
    const b = block(k, premaster(i % 7 === 0 ? TLS10 : TLS12));
    const flips = i % 4;
    for (let j = 0; j < flips; j++) {
      const at = (randomBytes(1)[0]! * k) >> 8;
      // Bias mutations toward the bytes that matter.
      const pos = j === 0 ? [0, 1, 2, 9, 10, k - 49, k - 48, k - 47][i % 8]! : at;
      b[pos] = [0, 1, 2, 3, randomBytes(1)[0]!][(i + j) % 5]!;
    }
    const r46 = randomBytes(46);
    assert.equal(hex(tlsPremasterUnpad(b, version, r46)), reference(b, version, r46), `case ${i}`);
  }
});

const keys: RsaPrivateKey[] = [generateRsaKey(1024), generateRsaKey(2048)];

function encryptPkcs1(key: RsaPrivateKey, m: Uint8Array): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: rsaPublicKeyObject(rsaPublicOf(key)), padding: constants.RSA_PKCS1_PADDING }, m));
}

for (const [name, decrypt] of [
  ["wasm", wasmRsaDecryptPremaster],
  ["native", nativeRsaDecryptPremaster],
] as const) {
  test(`${name}: fused RSA decrypt + unpad of node:crypto PKCS#1 v1.5 encryptions`, () => {
    for (const key of keys) {
      const k = key.n.length;
      const r46 = new Uint8Array(randomBytes(46));
      for (let i = 0; i < 4; i++) {
        const pm = premaster(TLS12);
        assert.equal(hex(decrypt(key, encryptPkcs1(key, pm), TLS12, r46)), hex(pm), `${k * 8}-bit, valid`);
      }
      const want = fallback(TLS12, r46);
      // Version rollback: the pre-master carries TLS 1.0 but the client offered TLS 1.2.
      assert.equal(hex(decrypt(key, encryptPkcs1(key, premaster(TLS10)), TLS12, r46)), want, "version");
      assert.equal(hex(decrypt(key, encryptPkcs1(key, randomBytes(47)), TLS12, r46)), want, "47 bytes");
      assert.equal(hex(decrypt(key, encryptPkcs1(key, randomBytes(49)), TLS12, r46)), want, "49 bytes");
      // A raw block that is not PKCS#1 at all.
      const raw = new Uint8Array(randomBytes(k));
      raw[0] = 0;
      raw[1] = 1;
      assert.equal(hex(decrypt(key, wasmRsaPublic(rsaPublicOf(key), raw), TLS12, r46)), want, "block type 1");
      // Ciphertexts that cannot be decrypted still yield the random pre-master.
      assert.equal(hex(decrypt(key, key.n, TLS12, r46)), want, "c = n");
      assert.equal(hex(decrypt(key, new Uint8Array(k).fill(0xff), TLS12, r46)), want, "c > n");
      assert.equal(hex(decrypt(key, new Uint8Array(k + 1).fill(0x11), TLS12, r46)), want, "k + 1 bytes");
    }
  });
}

test("wasm: the fused call throws on a fault instead of returning a pre-master", () => {
  const good = keys[1]!;
  const dp = good.dp.slice();
  dp[5]! ^= 0x10;
  const bad = { ...good, dp };
  const ct = encryptPkcs1(good, premaster(TLS12));
  assert.throws(
    () => wasmRsaDecryptPremaster(bad, ct, TLS12, randomBytes(46)),
    (e: unknown) => e instanceof RsaError && e.reason === "fault",
  );
});
