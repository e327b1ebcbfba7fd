// The two AES engines of the WASM core, each on its own: the vector-permute
// engine (assembly/aes-vperm.ts: wasmAesEncryptBlock, single-chain
// wasmCbcEncrypt) and the bitsliced one (assembly/aes-core.ts: multi-chain
// wasmCbcEncryptMany, every decryption). Known answers (FIPS-197 Appendix C,
// SP 800-38A F.2) through every path, all 256 S-box inputs through both
// forward engines, random keys and blocks against node:crypto, the context
// layout, and the reproducibility of the generated nibble tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  AES_CTX_LENGTH, wasmAesDecryptBlock, wasmAesEncryptBlock, wasmAesKey, wasmCbcDecrypt, wasmCbcEncrypt, wasmCbcEncryptMany,
  wasmCbcInit,
} from "../../src/crypto/wasm/cipher.js";
import { FIPS197_APPENDIX_C, SP800_38A_CBC } from "../vectors/aes-fips197.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const FC = { seed: 0x7e4a5, numRuns: 200 };

function nodeEcb(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv(key.length === 16 ? "aes-128-ecb" : "aes-256-ecb", key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

/** One block of the forward cipher through the bitsliced engine: CBC with a zero IV, one chain of the multi-chain path. */
function bitslicedEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return wasmCbcEncryptMany(wasmAesKey(key), [{ iv: new Uint8Array(16), data: block }])[0]!;
}

test("FIPS-197 Appendix C through every path: vperm block and CBC, bitsliced multi-chain and decryption", () => {
  for (const v of FIPS197_APPENDIX_C) {
    const key = hex(v.key), pt = hex(v.plaintext);
    assert.equal(toHex(wasmAesEncryptBlock(wasmAesKey(key), pt)), v.ciphertext, `${v.name} vperm block`);
    assert.equal(toHex(wasmCbcEncrypt(wasmCbcInit(key, new Uint8Array(16)), pt)), v.ciphertext, `${v.name} vperm CBC`);
    assert.equal(toHex(bitslicedEncryptBlock(key, pt)), v.ciphertext, `${v.name} bitsliced encrypt`);
    assert.equal(toHex(wasmAesDecryptBlock(wasmAesKey(key), hex(v.ciphertext))), v.plaintext, `${v.name} bitsliced decrypt`);
  }
});

test("SP 800-38A F.2 through the vperm chain and the bitsliced multi-chain path, residue = last block", () => {
  for (const v of SP800_38A_CBC) {
    const key = hex(v.key), iv = hex(v.iv);
    const pt = hex(v.plaintext.join("")), ct = v.ciphertext.join("");
    const e = wasmCbcInit(key, iv);
    assert.equal(toHex(wasmCbcEncrypt(e, pt)), ct, `${v.name} vperm`);
    assert.equal(toHex(e.residue), v.ciphertext[v.ciphertext.length - 1], `${v.name} vperm residue`);
    // The same stream as three of eight lanes of one multi-chain call.
    const outs = wasmCbcEncryptMany(wasmAesKey(key), [{ iv, data: pt }, { iv, data: pt.subarray(0, 16) }, { iv, data: pt }]);
    assert.deepEqual(outs.map(toHex), [ct, v.ciphertext[0], ct], `${v.name} bitsliced`);
    assert.equal(toHex(wasmCbcDecrypt(wasmCbcInit(key, iv), hex(ct))), toHex(pt), `${v.name} decrypt`);
  }
});

test("every S-box input through both forward engines (zero key: round 1 substitutes the plaintext bytes)", () => {
  for (const keyLen of [16, 32]) {
    const key = new Uint8Array(keyLen);
    const k = wasmAesKey(key);
    for (let m = 0; m < 16; m++) {
      const block = new Uint8Array(16).map((_, i) => 16 * m + i);
      const ref = toHex(nodeEcb(key, block));
      assert.equal(toHex(wasmAesEncryptBlock(k, block)), ref, `AES-${keyLen * 8} vperm block ${m}`);
      assert.equal(toHex(bitslicedEncryptBlock(key, block)), ref, `AES-${keyLen * 8} bitsliced block ${m}`);
    }
  }
});

test("vperm block cipher vs node:crypto: random AES-128 and AES-256 keys and blocks", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 32),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 8 }),
      (keyLen, keyBytes, blocks) => {
        const key = keyBytes.slice(0, keyLen);
        const k = wasmAesKey(key);
        for (const b of blocks) assert.equal(toHex(wasmAesEncryptBlock(k, b)), toHex(nodeEcb(key, b)));
        // The vperm CBC chain over the same blocks (core-basis chaining between blocks).
        const data = new Uint8Array(16 * blocks.length);
        blocks.forEach((b, n) => data.set(b, 16 * n));
        const iv = keyBytes.slice(0, 16).reverse();
        const ref = createCipheriv(keyLen === 16 ? "aes-128-cbc" : "aes-256-cbc", key, iv).setAutoPadding(false);
        assert.equal(toHex(wasmCbcEncrypt(wasmCbcInit(key, iv), data)), toHex(Buffer.concat([ref.update(data), ref.final()])));
      },
    ),
    FC,
  );
});

test("key schedule: both engines in one flat context, deterministic, unused AES-128 slots zero", () => {
  const key = new Uint8Array(16).map((_, i) => i * 37 + 5);
  const a = wasmAesKey(key).schedule, b = wasmAesKey(key).schedule;
  assert.equal(a.length, AES_CTX_LENGTH);
  assert.deepEqual(a, b);
  // assembly/aes-core.ts layout: bit-plane keys 11..14 at [16 + 11*128, 1936),
  // vperm slots 11..14 at [1936 + 11*16, 1936 + 15*16).
  assert.ok(a.subarray(16 + 11 * 128, 1936).every((x) => x === 0), "bit-plane slots 11..14");
  assert.ok(a.subarray(1936 + 11 * 16, 1936 + 15 * 16).every((x) => x === 0), "vperm slots 11..14");
  assert.ok(a.subarray(1936 + 15 * 16, AES_CTX_LENGTH).some((x) => x !== 0), "vperm last key, core basis");
});

test("scripts/gen-aes-vperm.mjs --check: the tables in aes-vperm.ts are the generated ones, S-box verified", () => {
  const script = fileURLToPath(new URL("../../../scripts/gen-aes-vperm.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /S-box verified for all 256 inputs/);
});
