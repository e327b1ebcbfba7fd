// AES and AES-CBC of the WASM core (src/crypto/wasm/cipher.ts) and of the
// native provider (src/crypto/native/cipher.ts): FIPS-197 Appendix C and
// SP 800-38A F.2 known answers, an all-S-box-inputs sweep, differential
// tests against node:crypto with random splits (fast-check, fixed seed), the
// chunking path past the 256 KiB scratch region, and export/import of the
// CBC residue mid-stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fc from "fast-check";
import {
  wasmAesDecryptBlock, wasmAesEncryptBlock, wasmAesKey, wasmCbcDecrypt, wasmCbcEncrypt, wasmCbcEncryptMany, wasmCbcExport,
  wasmCbcImport, wasmCbcInit, type CbcState,
} from "../../src/crypto/wasm/cipher.js";
import {
  nativeAesDecryptBlock, nativeAesEncryptBlock, nativeCbcDecrypt, nativeCbcEncrypt, nativeCbcExport,
  nativeCbcImport, nativeCbcInit,
} from "../../src/crypto/native/cipher.js";
import { FIPS197_APPENDIX_C, SP800_38A_CBC } from "../vectors/aes-fips197.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const FC = { seed: 0x5ac1acc, numRuns: 60 };

/** node:crypto one-shot CBC without padding: the reference. */
function nodeCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const alg = key.length === 16 ? "aes-128-cbc" : "aes-256-cbc";
  const c = (encrypt ? createCipheriv : createDecipheriv)(alg, key, iv).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** Runs data through fn in pieces cut at `cuts` (block offsets), concatenated. */
function inPieces(data: Uint8Array, cuts: number[], fn: (piece: Uint8Array) => Uint8Array): Uint8Array {
  const blocks = data.length / 16;
  const at = [...new Set(cuts.map((c) => (c % (blocks + 1)) * 16))].sort((a, b) => a - b);
  const out = new Uint8Array(data.length);
  let prev = 0;
  for (const cut of [...at, data.length]) {
    out.set(fn(data.subarray(prev, cut)), prev);
    prev = cut;
  }
  return out;
}

test("FIPS-197 Appendix C: cipher and inverse cipher, wasm and native", () => {
  for (const v of FIPS197_APPENDIX_C) {
    const key = hex(v.key);
    const k = wasmAesKey(key);
    assert.equal(toHex(wasmAesEncryptBlock(k, hex(v.plaintext))), v.ciphertext, `${v.name} wasm encrypt`);
    assert.equal(toHex(wasmAesDecryptBlock(k, hex(v.ciphertext))), v.plaintext, `${v.name} wasm decrypt`);
    assert.equal(toHex(nativeAesEncryptBlock(key, hex(v.plaintext))), v.ciphertext, `${v.name} native encrypt`);
    assert.equal(toHex(nativeAesDecryptBlock(key, hex(v.ciphertext))), v.plaintext, `${v.name} native decrypt`);
  }
});

test("SP 800-38A F.2: CBC-AES128/256 encrypt and decrypt, residue = last ciphertext block", () => {
  for (const v of SP800_38A_CBC) {
    const pt = hex(v.plaintext.join(""));
    const ct = hex(v.ciphertext.join(""));
    const last = v.ciphertext[v.ciphertext.length - 1]!;
    for (const [name, init, enc, dec] of [
      ["wasm", wasmCbcInit, wasmCbcEncrypt, wasmCbcDecrypt],
      ["native", nativeCbcInit, nativeCbcEncrypt, nativeCbcDecrypt],
    ] as const) {
      const e = init(hex(v.key), hex(v.iv));
      assert.equal(toHex(enc(e as CbcState, pt)), toHex(ct), `${v.name} ${name} encrypt`);
      assert.equal(toHex(e.residue), last, `${v.name} ${name} encrypt residue`);
      const d = init(hex(v.key), hex(v.iv));
      assert.equal(toHex(dec(d as CbcState, ct)), toHex(pt), `${v.name} ${name} decrypt`);
      assert.equal(toHex(d.residue), last, `${v.name} ${name} decrypt residue`);
      // Block by block with the residue carried: the same stream.
      const e2 = init(hex(v.key), hex(v.iv));
      const pieces = v.plaintext.map((p) => toHex(enc(e2 as CbcState, hex(p))));
      assert.deepEqual(pieces, v.ciphertext, `${v.name} ${name} block by block`);
    }
  }
});

test("every S-box input: with a zero key the first SubBytes sees the plaintext bytes 0..255", () => {
  // Round 1 of the cipher substitutes state = plaintext ^ 0; the last round
  // of the inverse cipher outputs all 256 values, so its InvSubBytes saw all
  // 256 inputs as well. Ciphertext checked against node:crypto.
  for (const keyLen of [16, 32]) {
    const key = new Uint8Array(keyLen);
    const k = wasmAesKey(key);
    for (let m = 0; m < 16; m++) {
      const block = new Uint8Array(16).map((_, i) => 16 * m + i);
      const ct = wasmAesEncryptBlock(k, block);
      assert.equal(toHex(ct), toHex(nativeAesEncryptBlock(key, block)), `AES-${keyLen * 8} block ${m}`);
      assert.equal(toHex(wasmAesDecryptBlock(k, ct)), toHex(block), `AES-${keyLen * 8} inverse ${m}`);
    }
    // The same through the 8-block decryption path: the ECB ciphertexts of
    // the 16 blocks, decrypted as one CBC stream, so D(C_m) is block m.
    const ecb = new Uint8Array(256);
    for (let m = 0; m < 16; m++) ecb.set(nativeAesEncryptBlock(key, new Uint8Array(16).map((_, i) => 16 * m + i)), 16 * m);
    const iv = new Uint8Array(16);
    assert.equal(toHex(wasmCbcDecrypt(wasmCbcInit(key, iv), ecb)), toHex(nodeCbc(false, key, iv, ecb)));
  }
});

test("differential vs node:crypto: random keys, IVs, data up to 40 KiB, random splits", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 32),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 0, max: 2560 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.integer({ min: 0, max: 0x7fffffff }),
      (keyLen, seedBytes, blocks, cuts, dataSeed) => {
        const key = seedBytes.slice(0, keyLen);
        const iv = seedBytes.slice(16, 32).map((b) => b ^ 0xa5);
        const data = new Uint8Array(blocks * 16);
        let x = dataSeed | 1;
        for (let i = 0; i < data.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; data[i] = x & 255; }
        const ref = nodeCbc(true, key, iv, data);
        const oneShot = wasmCbcInit(key, iv);
        assert.equal(toHex(wasmCbcEncrypt(oneShot, data)), toHex(ref));
        const w = wasmCbcInit(key, iv);
        assert.equal(toHex(inPieces(data, cuts, (p) => wasmCbcEncrypt(w, p))), toHex(ref));
        const n = nativeCbcInit(key, iv);
        assert.equal(toHex(inPieces(data, cuts, (p) => nativeCbcEncrypt(n, p))), toHex(ref));
        assert.equal(toHex(w.residue), toHex(n.residue));
        assert.equal(toHex(w.residue), toHex(blocks ? ref.subarray(ref.length - 16) : iv));
        const wd = wasmCbcInit(key, iv);
        assert.equal(toHex(inPieces(ref, cuts, (p) => wasmCbcDecrypt(wd, p))), toHex(data));
        const nd = nativeCbcInit(key, iv);
        assert.equal(toHex(inPieces(ref, cuts, (p) => nativeCbcDecrypt(nd, p))), toHex(data));
        assert.equal(toHex(wd.residue), toHex(nd.residue));
      },
    ),
    FC,
  );
});

test("chunking: one call over more than the 256 KiB scratch region", () => {
  for (const keyLen of [16, 32]) {
    const key = randomBytes(keyLen), iv = randomBytes(16);
    const data = new Uint8Array(randomBytes(300 * 1024 + 48));
    const ref = nodeCbc(true, key, iv, data);
    const e = wasmCbcInit(key, iv);
    assert.ok(toHex(wasmCbcEncrypt(e, data)) === toHex(ref), `AES-${keyLen * 8} encrypt`);
    assert.equal(toHex(e.residue), toHex(ref.subarray(ref.length - 16)));
    const d = wasmCbcInit(key, iv);
    assert.ok(toHex(wasmCbcDecrypt(d, ref)) === toHex(data), `AES-${keyLen * 8} decrypt`);
    assert.equal(toHex(d.residue), toHex(e.residue));
  }
});

test("export -> import mid-stream equals the uninterrupted stream, also across providers", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 32),
      fc.uint8Array({ minLength: 48, maxLength: 48 }),
      fc.integer({ min: 1, max: 64 }),
      fc.nat(),
      (keyLen, seed, blocks, cutAt) => {
        const key = seed.slice(0, keyLen), iv = seed.slice(32, 48);
        const data = new Uint8Array(blocks * 16).map((_, i) => (i * 131 + seed[i % 48]!) & 255);
        const cut = (cutAt % (blocks + 1)) * 16;
        const whole = nodeCbc(true, key, iv, data);
        const a = wasmCbcInit(key, iv);
        const first = wasmCbcEncrypt(a, data.subarray(0, cut));
        const snap = wasmCbcExport(a);
        const rest = wasmCbcEncrypt(wasmCbcImport(snap), data.subarray(cut));
        assert.equal(toHex(first) + toHex(rest), toHex(whole));
        // A WASM checkpoint restored on the native provider, and back.
        const restNative = nativeCbcEncrypt(nativeCbcImport(snap), data.subarray(cut));
        assert.equal(toHex(restNative), toHex(rest));
        const b = nativeCbcInit(key, iv);
        nativeCbcDecrypt(b, whole.subarray(0, cut));
        assert.equal(toHex(wasmCbcDecrypt(wasmCbcImport(nativeCbcExport(b)), whole.subarray(cut))), toHex(data.subarray(cut)));
      },
    ),
    FC,
  );
});

test("a snapshot is a copy: later use of the state does not change it", () => {
  const s = wasmCbcInit(new Uint8Array(16).fill(7), new Uint8Array(16));
  const snap = wasmCbcExport(s);
  wasmCbcEncrypt(s, new Uint8Array(32));
  assert.equal(toHex(snap.residue), "00".repeat(16));
});

test("misuse is refused with a precise error", () => {
  assert.throws(() => wasmAesKey(new Uint8Array(24)), /16 \(AES-128\) or 32 \(AES-256\) bytes, got 24/);
  assert.throws(() => wasmCbcInit(new Uint8Array(16), new Uint8Array(8)), /IV must be 16 bytes/);
  assert.throws(() => wasmCbcEncrypt(wasmCbcInit(new Uint8Array(16), new Uint8Array(16)), new Uint8Array(17)), /multiple of 16/);
  assert.throws(() => nativeCbcInit(new Uint8Array(15), new Uint8Array(16)), /got 15/);
  assert.throws(() => nativeCbcDecrypt(nativeCbcInit(new Uint8Array(32), new Uint8Array(16)), new Uint8Array(20)), /multiple of 16/);
});

test("many independent chains under one key (cbcEncryptMulti) equal one-at-a-time CBC", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 32),
      fc.array(fc.record({ iv: fc.uint8Array({ minLength: 16, maxLength: 16 }), blocks: fc.integer({ min: 0, max: 80 }) }), {
        maxLength: 19,
      }),
      (keyLen, specs) => {
        const key = new Uint8Array(keyLen).map((_, i) => i * 29 + specs.length);
        const jobs = specs.map((s, n) => ({ iv: s.iv, data: new Uint8Array(s.blocks * 16).map((_, i) => (i * 7 + n) & 255) }));
        const outs = wasmCbcEncryptMany(wasmAesKey(key), jobs);
        assert.equal(outs.length, jobs.length);
        jobs.forEach((j, n) => assert.equal(toHex(outs[n]!), toHex(nodeCbc(true, key, j.iv, j.data)), `chain ${n}`));
      },
    ),
    FC,
  );
  // Lanes longer than their share of the scratch region (chunked per lane).
  const key = randomBytes(16);
  const jobs = [0, 1, 2].map((n) => ({ iv: randomBytes(16), data: new Uint8Array(randomBytes(40 * 1024 + 16 * n)) }));
  wasmCbcEncryptMany(wasmAesKey(key), jobs).forEach((out, n) =>
    assert.ok(toHex(out) === toHex(nodeCbc(true, key, jobs[n]!.iv, jobs[n]!.data)), `long chain ${n}`),
  );
});
