// RC4 of the WASM core (src/crypto/wasm/cipher.ts): the RFC 6229 keystream
// vectors reached three ways (streaming, rc4Skip from the key schedule, seek
// from a base snapshot taken at an earlier offset), a differential test
// against a plain TypeScript RC4 with random splits, and export/import at
// random offsets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { getCiphers } from "node:crypto";
import fc from "fast-check";
import {
  RC4_CTX_LENGTH, RC4_SNAPSHOT_LENGTH, wasmRc4Export, wasmRc4Import, wasmRc4Init, wasmRc4Offset, wasmRc4Process,
  wasmRc4Seek, wasmRc4Skip,
} from "../../src/crypto/wasm/cipher.js";
import { nativeRc4Available, nativeRc4Init } from "../../src/crypto/native/cipher.js";
import { RFC6229 } from "../vectors/rc4-rfc6229.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const FC = { seed: 0x6229, numRuns: 50 };

/** Reference RC4, straight from the algorithm description; for differential tests only. */
function referenceRc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = new Uint8Array(256).map((_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 255;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = new Uint8Array(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 255;
    j = (j + s[i]!) & 255;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 255]!;
  }
  return out;
}

test("RFC 6229 by streaming: keystream rows at offsets 0..4096", () => {
  for (const v of RFC6229) {
    const st = wasmRc4Init(hex(v.key));
    // Odd piece sizes so the 8-byte inner loop and the byte tail both run.
    const ks = new Uint8Array(4112);
    for (let off = 0; off < ks.length; ) {
      const n = Math.min(37 + (off % 11), ks.length - off);
      ks.set(wasmRc4Process(st, new Uint8Array(n)), off);
      off += n;
    }
    assert.equal(wasmRc4Offset(st), 4112);
    for (const [offset, row] of v.keystream) {
      assert.equal(toHex(ks.subarray(offset, offset + 16)), row, `${v.keyBits}-bit key ${v.key} at ${offset}`);
    }
  }
});

test("RFC 6229 by rc4Skip from the key schedule", () => {
  for (const v of RFC6229) {
    for (const [offset, row] of v.keystream) {
      const st = wasmRc4Init(hex(v.key));
      wasmRc4Skip(st, offset);
      assert.equal(wasmRc4Offset(st), offset);
      assert.equal(toHex(wasmRc4Process(st, new Uint8Array(16))), row, `${v.keyBits}-bit key ${v.key} at ${offset}`);
    }
  }
});

test("RFC 6229 by seek from a base snapshot taken at an earlier offset", () => {
  for (const v of RFC6229) {
    let prev = 0;
    for (const [offset, row] of v.keystream) {
      // Bases at the previous row, midway, and exactly at the target.
      for (const b of [prev, (prev + offset) >> 1, offset]) {
        const st = wasmRc4Init(hex(v.key));
        wasmRc4Skip(st, b);
        const base = wasmRc4Export(st);
        assert.equal(base.offset, b);
        assert.equal(base.state.length, RC4_SNAPSHOT_LENGTH);
        const seeked = wasmRc4Seek(base, offset);
        assert.equal(wasmRc4Offset(seeked), offset);
        assert.equal(toHex(wasmRc4Process(seeked, new Uint8Array(16))), row, `${v.key} at ${offset} from base ${b}`);
      }
      prev = offset;
    }
  }
});

test("seek before the base is refused", () => {
  const st = wasmRc4Init(hex("0102030405"));
  wasmRc4Skip(st, 1000);
  const base = wasmRc4Export(st);
  assert.throws(() => wasmRc4Seek(base, 999), /cannot seek RC4 to offset 999: the base was taken later, at offset 1000/);
  assert.throws(() => wasmRc4Seek(base, -1), RangeError);
  assert.throws(() => wasmRc4Import({ state: new Uint8Array(256), offset: 0 }), /258 bytes/);
  assert.throws(() => wasmRc4Init(new Uint8Array(0)), /1\.\.256 bytes/);
});

test("differential vs a reference RC4: random keys, data, random splits", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.uint8Array({ maxLength: 5000 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (key, data, cuts) => {
        const ref = referenceRc4(key, data);
        const st = wasmRc4Init(key);
        const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const out = new Uint8Array(data.length);
        let prev = 0;
        for (const cut of [...at, data.length]) {
          out.set(wasmRc4Process(st, data.subarray(prev, cut)), prev);
          prev = cut;
        }
        assert.equal(toHex(out), toHex(ref));
        assert.equal(wasmRc4Offset(st), data.length);
      },
    ),
    FC,
  );
});

test("export -> import at random offsets equals the uninterrupted stream", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 0, max: 3000 }),
      (key, cut, rest) => {
        const data = new Uint8Array(cut + rest).map((_, i) => (i * 7) & 255);
        const whole = wasmRc4Process(wasmRc4Init(key), data);
        const a = wasmRc4Init(key);
        const first = wasmRc4Process(a, data.subarray(0, cut));
        const snap = wasmRc4Export(a);
        assert.equal(snap.offset, cut);
        const b = wasmRc4Import(snap);
        assert.equal(b.length, RC4_CTX_LENGTH);
        assert.deepEqual(b, a, "imported context is byte-identical");
        assert.equal(toHex(first) + toHex(wasmRc4Process(b, data.subarray(cut))), toHex(whole));
      },
    ),
    FC,
  );
});

test("RC4 offsets past 2^32 survive export and import", () => {
  const st = wasmRc4Init(hex("0102030405"));
  const snap = wasmRc4Export(st);
  const far = wasmRc4Import({ state: snap.state, offset: 2 ** 40 + 3 });
  assert.equal(wasmRc4Offset(far), 2 ** 40 + 3);
  wasmRc4Process(far, new Uint8Array(5));
  assert.equal(wasmRc4Export(far).offset, 2 ** 40 + 8);
});

test("native RC4 availability is reported truthfully, and matches when present", () => {
  assert.equal(nativeRc4Available, getCiphers().includes("rc4"));
  if (!nativeRc4Available) {
    assert.throws(() => nativeRc4Init(hex("0102030405")), /not available/);
    return;
  }
  const v = RFC6229[0]!;
  const n = nativeRc4Init(hex(v.key));
  assert.equal(toHex(n.process(new Uint8Array(16))), v.keystream[0]![1]);
});
