// MD5, SHA-1 and SHA-256 of the WASM core (src/crypto/wasm/hash.ts over
// assembly/md5.ts, sha1.ts, sha256.ts) and of the native provider:
// known answers, differential tests against node:crypto with random splits,
// export/import of the flat state mid-stream, and the raw compression exports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { HASH_LENGTH, type HashAlg } from "../../src/crypto/types.js";
import {
  HASH_ALG_ID,
  HASH_STATE_LENGTH,
  exportHashState,
  hashStateByteCount,
  importHashState,
  wasmHash,
  wasmHashDigest,
  wasmHashInit,
  wasmHashUpdate,
} from "../../src/crypto/wasm/hash.js";
import { nativeHash } from "../../src/crypto/native/hash.js";
import { WasmAbort, loadCore } from "../../src/crypto/wasm/load.js";
import { MD5_VECTORS, SHA1_VECTORS, SHA256_VECTORS, type HashVector } from "../vectors/hash-vectors.js";

const ALGS: readonly HashAlg[] = ["md5", "sha1", "sha256"];
const VECTORS: Record<HashAlg, readonly HashVector[]> = { md5: MD5_VECTORS, sha1: SHA1_VECTORS, sha256: SHA256_VECTORS };
const FC = { seed: 0x5ca1ab1e, numRuns: 200 };

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const ref = (alg: HashAlg, data: Uint8Array): string => createHash(alg).update(data).digest("hex");
const message = (v: HashVector): Uint8Array => Buffer.from(v.message.repeat(v.repeat ?? 1), "latin1");

/** Feeds `data` to a fresh streaming state, cut at the given points. */
function streamed(alg: HashAlg, data: Uint8Array, cuts: readonly number[]): Uint8Array {
  const state = wasmHashInit(alg);
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b).concat(data.length)) {
    wasmHashUpdate(alg, state, data.subarray(at, Math.max(at, cut)));
    at = Math.max(at, cut);
  }
  return wasmHashDigest(alg, state);
}

/** Random message lengths 0..5000 biased to the padding boundaries 55, 56, 63, 64, 65 (and one block later). */
const lengthArb = fc.oneof(
  fc.constantFrom(0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129),
  fc.integer({ min: 0, max: 5000 }),
);
const messageArb = lengthArb.chain((n) =>
  fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.array(fc.integer({ min: 0, max: n }), { maxLength: 8 })),
);

for (const alg of ALGS) {
  test(`${alg}: known answers (one-shot, wasm and native)`, () => {
    for (const v of VECTORS[alg]) {
      const m = message(v);
      assert.equal(hex(wasmHash(alg, m)), v.digest, `wasm ${v.source}`);
      assert.equal(hex(nativeHash(alg, m)), v.digest, `native ${v.source}`);
    }
  });

  test(`${alg}: known answers, streamed in odd-sized pieces`, () => {
    for (const v of VECTORS[alg]) {
      const m = message(v);
      const state = wasmHashInit(alg);
      for (let at = 0, step = 1; at < m.length; at += step, step = (step * 7 + 3) % 9973) {
        wasmHashUpdate(alg, state, m.subarray(at, at + step));
      }
      assert.equal(hex(wasmHashDigest(alg, state)), v.digest, v.source);
    }
  });

  test(`${alg}: random messages in random splits equal node:crypto`, () => {
    fc.assert(
      fc.property(messageArb, ([data, cuts]) => {
        assert.equal(hex(streamed(alg, data, cuts)), ref(alg, data));
        assert.equal(hex(wasmHash(alg, data)), ref(alg, data));
      }),
      FC,
    );
  });

  test(`${alg}: export at a random point, import into a fresh block, continue`, () => {
    fc.assert(
      fc.property(messageArb, fc.integer({ min: 0, max: 5000 }), ([data], where) => {
        const cut = Math.min(where, data.length);
        const whole = wasmHashInit(alg);
        wasmHashUpdate(alg, whole, data);

        const first = wasmHashInit(alg);
        wasmHashUpdate(alg, first, data.subarray(0, cut));
        const exported = exportHashState(alg, first);
        // Digesting must not spend the state it is given.
        wasmHashDigest(alg, first);
        assert.deepEqual(first, exported);
        const resumed = importHashState(alg, Uint8Array.from(exported));
        assert.equal(hashStateByteCount(alg, resumed), BigInt(cut));
        wasmHashUpdate(alg, resumed, data.subarray(cut));

        assert.deepEqual(resumed, whole, "the state itself, byte for byte");
        assert.equal(hex(wasmHashDigest(alg, resumed)), ref(alg, data));
      }),
      FC,
    );
  });

  test(`${alg}: messages longer than the scratch region are chunked`, () => {
    const data = new Uint8Array(600_000).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
    assert.equal(hex(wasmHash(alg, data)), ref(alg, data));
    assert.equal(hex(streamed(alg, data, [1, 300_001])), ref(alg, data));
  });

  test(`${alg}: state length is checked`, () => {
    assert.equal(wasmHashInit(alg).length, HASH_STATE_LENGTH[alg]);
    assert.throws(() => wasmHashUpdate(alg, new Uint8Array(HASH_STATE_LENGTH[alg] - 1), new Uint8Array(1)), RangeError);
    assert.throws(() => importHashState(alg, new Uint8Array(HASH_STATE_LENGTH[alg] + 1)), RangeError);
  });
}

// --- The raw core exports the record code uses ---------------------------------

interface RawHash {
  md5Compress(h: number, block: number): void;
  sha1Compress(h: number, block: number): void;
  sha256Compress(h: number, block: number): void;
  md5CtxSize(): number;
  sha1CtxSize(): number;
  sha256CtxSize(): number;
  hashInit(alg: number, ctx: number): void;
}

/** One padded block by hand (RFC 1321 §3.1-3.2, FIPS 180-4 §5.1.1): MD5 puts the bit length little-endian. */
function padOneBlock(alg: HashAlg, msg: Uint8Array): Uint8Array {
  assert.ok(msg.length <= 55);
  const block = new Uint8Array(64);
  block.set(msg);
  block[msg.length] = 0x80;
  const view = new DataView(block.buffer);
  view.setBigUint64(56, BigInt(msg.length * 8), alg === "md5");
  return block;
}

/** The chaining value as the digest's bytes: words are little-endian in WASM memory; SHA digests are big-endian. */
function cvAsDigest(alg: HashAlg, heap: Uint8Array, at: number): string {
  const words = new DataView(heap.buffer, at, HASH_LENGTH[alg]);
  const out = new DataView(new ArrayBuffer(HASH_LENGTH[alg]));
  for (let i = 0; i < HASH_LENGTH[alg]; i += 4) out.setUint32(i, words.getUint32(i, true), alg === "md5");
  return Buffer.from(out.buffer).toString("hex");
}

test("xxxCompress: one hand-padded block from the initial value gives the digest", () => {
  const core = loadCore<RawHash>("sym");
  const x = core.exports;
  const ctx = core.scratch + 1024;
  const block = core.scratch + 2048 + 3; // deliberately unaligned
  const compress = { md5: x.md5Compress, sha1: x.sha1Compress, sha256: x.sha256Compress };
  for (const alg of ALGS) {
    for (const msg of ["", "abc", "x".repeat(55)]) {
      const m = Buffer.from(msg, "latin1");
      x.hashInit(HASH_ALG_ID[alg], ctx);
      core.heap.set(padOneBlock(alg, m), block);
      compress[alg](ctx, block);
      assert.equal(cvAsDigest(alg, core.heap, ctx), ref(alg, m), `${alg} "${msg.slice(0, 8)}"`);
    }
  }
});

test("xxxCompress agrees with the streaming chaining value after whole blocks", () => {
  const core = loadCore<RawHash>("sym");
  const x = core.exports;
  const compress = { md5: x.md5Compress, sha1: x.sha1Compress, sha256: x.sha256Compress };
  const h = core.scratch + 1024;
  const block = core.scratch + 2048;
  const data = new Uint8Array(192).map((_, i) => i * 7);
  for (const alg of ALGS) {
    const state = wasmHashInit(alg);
    wasmHashUpdate(alg, state, data);
    core.heap.set(wasmHashInit(alg).subarray(0, HASH_LENGTH[alg]), h);
    for (let i = 0; i < data.length; i += 64) {
      core.heap.set(data.subarray(i, i + 64), block);
      compress[alg](h, block);
    }
    assert.deepEqual(core.heap.slice(h, h + HASH_LENGTH[alg]), state.subarray(0, HASH_LENGTH[alg]), alg);
  }
});

test("context sizes and layout match the documented constants", () => {
  const x = loadCore<RawHash>("sym").exports;
  assert.deepEqual(
    { md5: x.md5CtxSize(), sha1: x.sha1CtxSize(), sha256: x.sha256CtxSize() },
    { md5: 88, sha1: 92, sha256: 104 },
  );
  for (const alg of ALGS) {
    const state = wasmHashInit(alg);
    wasmHashUpdate(alg, state, new Uint8Array(70).fill(0x61));
    assert.equal(hashStateByteCount(alg, state), 70n, alg);
    // The partial block holds bytes 64..69 of the message.
    const buf = HASH_LENGTH[alg] + 8;
    assert.deepEqual(state.subarray(buf, buf + 6), new Uint8Array(6).fill(0x61), alg);
  }
});

test("an unknown algorithm id aborts instead of hashing with garbage", () => {
  const core = loadCore<RawHash>("sym");
  assert.throws(() => core.exports.hashInit(4, core.scratch + 1024), WasmAbort);
  assert.throws(() => core.exports.hashInit(0, core.scratch + 1024), WasmAbort);
  assert.throws(() => wasmHash("sha512" as HashAlg, new Uint8Array(1)), TypeError);
});
