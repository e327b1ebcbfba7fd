// The size-switching record provider (src/crypto/sized-record.ts): for every
// CBC suite and version, a stream of records whose sizes cross the threshold
// both ways is sealed byte for byte as node:crypto alone seals it, opens
// node:crypto's records, exports the same state, and a failed open changes
// nothing; RC4 and null never switch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { TLS10, TLS11, TLS12, type RecordVersion } from "../../src/crypto/types.js";
import { encKeyLength, type RecordCipher, type RecordMac, type RecordProvider, type RecordState } from "../../src/crypto/record.js";
import { wasmRecordProvider } from "../../src/crypto/wasm/record.js";
import { nativeRecordProvider } from "../../src/crypto/native/record.js";
import { sizedRecordProvider, type SizedRecordState } from "../../src/crypto/sized-record.js";
import { composeProvider, defaultProvider, SIZED_RECORD_THRESHOLD } from "../../src/crypto/provider.js";

type AnyProvider = RecordProvider<unknown>;
const native = nativeRecordProvider as AnyProvider;
const sized = sizedRecordProvider(wasmRecordProvider as AnyProvider, native, 2048);
const SIZES = [0, 100, 2047, 2048, 16384, 5, 3000, 1, 2047, 16384, 16384, 40];

function state(version: RecordVersion, cipher: RecordCipher, mac: RecordMac): RecordState {
  const macLen = mac === "md5" ? 16 : mac === "sha1" ? 20 : 32;
  return {
    version, cipher, mac, seq: 3n,
    encKey: new Uint8Array(randomBytes(encKeyLength(cipher))), macKey: new Uint8Array(randomBytes(macLen)),
    ...(cipher.endsWith("cbc") && version === TLS10 && { cbcResidue: new Uint8Array(randomBytes(16)) }),
  };
}

const SUITES: readonly [RecordCipher, RecordMac][] = [["aes128-cbc", "sha1"], ["aes256-cbc", "sha256"], ["rc4-128", "sha1"], ["null", "sha1"]];

for (const [cipher, mac] of SUITES) {
  for (const version of [TLS10, TLS11, TLS12] as const) {
    if (mac === "sha256" && version !== TLS12) continue; // HMAC-SHA256 suites exist only in TLS 1.2
    test(`sized records ${cipher}/${mac} v${version.toString(16)}: same bytes as node:crypto across the threshold, both ways`, () => {
      const s = state(version, cipher, mac);
      const [sealA, sealB] = [sized.init(s), native.init(s)];
      const [openA, openB] = [sized.init(s), native.init(s)];
      for (const size of SIZES) {
        const frag = new Uint8Array(randomBytes(size));
        const a = sized.seal(sealA, 23, version, frag);
        const b = native.seal(sealB, 23, version, frag);
        assert.deepEqual(a, b, `record of ${size} bytes`);
        // Each opens what the other sealed.
        const byA = sized.open(openA, 23, version, b.subarray(5));
        const byB = native.open(openB, 23, version, a.subarray(5));
        assert.ok(byA.ok && byB.ok, `open of ${size} bytes`);
        if (byA.ok) assert.deepEqual(byA.plaintext, frag);
        const switched = (sealA as SizedRecordState).small;
        assert.equal(switched, cipher.endsWith("cbc") && size < 2048, `${size} bytes on the ${switched ? "small" : "large"}-record provider`);
      }
      assert.deepEqual(sized.exportState(sealA), native.exportState(sealB));
      assert.deepEqual(sized.exportState(openA), native.exportState(openB));
    });
  }
}

test("sized records: a tampered record fails as bad_record_mac and leaves the state as it was", () => {
  const s = state(TLS12, "aes128-cbc", "sha1");
  const sealer = native.init(s);
  const opener = sized.init(s);
  const big = native.seal(sealer, 23, TLS12, new Uint8Array(4000));
  const before = sized.exportState(opener);
  const bad = big.slice(5);
  bad[bad.length - 1]! ^= 1;
  const r = sized.open(opener, 23, TLS12, bad);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.alert, "bad_record_mac");
  assert.deepEqual(sized.exportState(opener), before);
  assert.ok(sized.open(opener, 23, TLS12, big.subarray(5)).ok, "the genuine record still opens");
});

test("sized records: the default provider uses them; a bad threshold and a bad choice are refused by name", () => {
  assert.match(defaultProvider.record.name, new RegExp(`^sized\\(wasm below ${SIZED_RECORD_THRESHOLD} bytes, else native\\)$`));
  assert.equal(composeProvider({ record: "native" }).record.name, "native");
  assert.throws(() => sizedRecordProvider(native, native, 0), /threshold must be a positive integer, got 0/);
  assert.throws(() => composeProvider({ record: "fast" as "native" }), /crypto provider for record: expected wasm or native or sized, got "fast"/);
});
