// HMAC (RFC 2104) of the WASM core (assembly/hmac.ts via
// src/crypto/wasm/hash.ts) and of the native provider: RFC 2202 / RFC 4231
// known answers, differential tests against node:crypto with random keys and
// splits, and the raw inner/outer state exports the record MAC builds on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { HASH_LENGTH, type HashAlg } from "../../src/crypto/types.js";
import {
  HASH_ALG_ID,
  HMAC_STATE_LENGTH,
  wasmHashDigest,
  wasmHashInit,
  wasmHashUpdate,
  wasmHmac,
  wasmHmacDigest,
  wasmHmacInit,
  wasmHmacUpdate,
} from "../../src/crypto/wasm/hash.js";
import { nativeHmac } from "../../src/crypto/native/hash.js";
import { loadCore } from "../../src/crypto/wasm/load.js";
import { HMAC_MD5_VECTORS, HMAC_SHA1_VECTORS, HMAC_SHA256_VECTORS, type HmacVector } from "../vectors/hmac-vectors.js";

const ALGS: readonly HashAlg[] = ["md5", "sha1", "sha256"];
const VECTORS: Record<HashAlg, readonly HmacVector[]> = { md5: HMAC_MD5_VECTORS, sha1: HMAC_SHA1_VECTORS, sha256: HMAC_SHA256_VECTORS };
const FC = { seed: 0x4d4143, numRuns: 200 };

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
const ref = (alg: HashAlg, key: Uint8Array, data: Uint8Array): string => createHmac(alg, key).update(data).digest("hex");

for (const alg of ALGS) {
  test(`HMAC-${alg}: RFC known answers (wasm, native, streamed)`, () => {
    for (const v of VECTORS[alg]) {
      const key = unhex(v.key);
      const data = unhex(v.data);
      const cut = (m: Uint8Array) => hex(m).slice(0, 2 * (v.truncate ?? HASH_LENGTH[alg]));
      assert.equal(cut(wasmHmac(alg, key, data)), v.digest, `wasm ${v.source}`);
      assert.equal(cut(nativeHmac(alg, key, data)), v.digest, `native ${v.source}`);
      const state = wasmHmacInit(alg, key);
      for (let i = 0; i < data.length; i += 7) wasmHmacUpdate(alg, state, data.subarray(i, i + 7));
      assert.equal(cut(wasmHmacDigest(alg, state)), v.digest, `streamed ${v.source}`);
    }
  });

  test(`HMAC-${alg}: random keys of 0..200 bytes and random messages equal node:crypto`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.array(fc.nat(3000), { maxLength: 5 }),
        (key, data, cuts) => {
          assert.equal(hex(wasmHmac(alg, key, data)), ref(alg, key, data));
          assert.equal(hex(nativeHmac(alg, key, data)), ref(alg, key, data));
          const state = wasmHmacInit(alg, key);
          let at = 0;
          for (const c of [...cuts].sort((a, b) => a - b).concat(data.length)) {
            const to = Math.min(Math.max(at, c), data.length);
            wasmHmacUpdate(alg, state, data.subarray(at, to));
            at = to;
          }
          assert.equal(hex(wasmHmacDigest(alg, state)), ref(alg, key, data));
        },
      ),
      FC,
    );
  });

  test(`HMAC-${alg}: keys at the block-size edges (63, 64, 65 bytes)`, () => {
    for (const n of [0, 1, 63, 64, 65, 128, 131]) {
      const key = new Uint8Array(n).map((_, i) => i ^ 0x5a);
      const data = Uint8Array.from(Buffer.from("edge"));
      assert.equal(hex(wasmHmac(alg, key, data)), ref(alg, key, data), `key ${n}`);
    }
  });

  test(`HMAC-${alg}: a state is reusable (digest does not spend it) and is exportable by copy`, () => {
    const key = unhex("0123456789abcdef");
    const state = wasmHmacInit(alg, key);
    assert.equal(state.length, HMAC_STATE_LENGTH);
    wasmHmacUpdate(alg, state, unhex("aabbcc"));
    const snapshot = state.slice();
    assert.equal(hex(wasmHmacDigest(alg, state)), ref(alg, key, unhex("aabbcc")));
    assert.deepEqual(state, snapshot);
    wasmHmacUpdate(alg, snapshot, unhex("dd"));
    assert.equal(hex(wasmHmacDigest(alg, snapshot)), ref(alg, key, unhex("aabbccdd")));
  });
}

// --- The raw exports the record engineer's constant-time MAC uses ----------------

interface RawHmac {
  hmacCtxSize(): number;
  hmacInit(alg: number, ctx: number, key: number, keyLen: number): void;
  hmacUpdate(alg: number, ctx: number, data: number, len: number): void;
  hmacFinal(alg: number, ctx: number, out: number): void;
  hmacReset(alg: number, ctx: number): void;
  hmacInnerState(ctx: number): number;
  hmacOuterState(ctx: number): number;
  hashCtxSize(alg: number): number;
}

test("hmacInnerState / hmacOuterState hold the hash states after K0 ⊕ ipad and K0 ⊕ opad", () => {
  const core = loadCore<RawHmac>("sym");
  const x = core.exports;
  assert.equal(x.hmacCtxSize(), 240);
  const ctx = core.scratch + 4096;
  const keyAt = core.scratch + 8192;
  for (const alg of ALGS) {
    for (const keyLen of [5, 64, 100]) {
      const key = new Uint8Array(keyLen).map((_, i) => 3 * i + 1);
      core.heap.set(key, keyAt);
      x.hmacInit(HASH_ALG_ID[alg], ctx, keyAt, keyLen);
      // RFC 2104 §2 by hand: K0 is the key (or its hash) zero-padded to 64 bytes.
      const k0 = new Uint8Array(64);
      k0.set(keyLen > 64 ? createHash(alg).update(key).digest() : key);
      const expect = (pad: number) => {
        const s = wasmHashInit(alg);
        wasmHashUpdate(alg, s, k0.map((b) => b ^ pad));
        return s;
      };
      const size = x.hashCtxSize(HASH_ALG_ID[alg]);
      const inner = x.hmacInnerState(ctx);
      const outer = x.hmacOuterState(ctx);
      assert.deepEqual(core.heap.slice(inner, inner + size), expect(0x36), `${alg} inner, key ${keyLen}`);
      assert.deepEqual(core.heap.slice(outer, outer + size), expect(0x5c), `${alg} outer, key ${keyLen}`);

      // The documented way to finish by hand: inner state + message, then the
      // outer state + inner digest.
      const msg = Uint8Array.from(Buffer.from("record header and data"));
      const innerState = core.heap.slice(inner, inner + size);
      wasmHashUpdate(alg, innerState, msg);
      const outerState = core.heap.slice(outer, outer + size);
      wasmHashUpdate(alg, outerState, wasmHashDigest(alg, innerState));
      assert.equal(hex(wasmHashDigest(alg, outerState)), ref(alg, key, msg), `${alg} by hand`);

      // hmacFinal leaves the context keyed and rewound: a second message needs no new key setup.
      const out = core.scratch + 12288;
      const data = core.scratch + 16384;
      core.heap.set(msg, data);
      x.hmacUpdate(HASH_ALG_ID[alg], ctx, data, msg.length);
      x.hmacFinal(HASH_ALG_ID[alg], ctx, out);
      assert.equal(hex(core.heap.slice(out, out + HASH_LENGTH[alg])), ref(alg, key, msg));
      assert.deepEqual(core.heap.slice(inner, inner + size), expect(0x36), `${alg} rewound after final`);
      x.hmacUpdate(HASH_ALG_ID[alg], ctx, data, 6);
      x.hmacReset(HASH_ALG_ID[alg], ctx);
      assert.deepEqual(core.heap.slice(inner, inner + size), expect(0x36), `${alg} hmacReset`);
    }
  }
});
