// Transcript and key schedule: differential against a straightforward
// node:crypto computation (HMAC-based P_hash written out in the test helper),
// structural checks of the key-block partition, and export/import of the
// transcript state at every split. The real-world known answer — our master
// secret equals the one OpenSSL logs through `keylog` — is in
// engine-interop.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { nativeProvider, wasmProvider } from "../../src/crypto/provider.js";
import { CIPHER_SUITES, ProtocolVersion } from "../../src/tls/codec/index.js";
import { Transcript } from "../../src/tls/transcript.js";
import {
  constantTimeEqual, extendedMasterSecret, initialRecordState, keyBlock, masterSecret, verifyData,
} from "../../src/tls/key-schedule.js";
import { tlsPrf } from "../helpers/tls-capture.js";

const { TLS10, TLS11, TLS12 } = ProtocolVersion;
const VERSIONS = [TLS10, TLS11, TLS12] as const;
const b = (u: Uint8Array) => Buffer.from(u);

function refHash(version: number, data: Buffer): Buffer {
  if (version >= TLS12) return createHash("sha256").update(data).digest();
  return Buffer.concat([createHash("md5").update(data).digest(), createHash("sha1").update(data).digest()]);
}

test("transcript digest equals node:crypto over the concatenation, whatever the split and export/import points", () => {
  for (const v of VERSIONS) {
    const msgs = Array.from({ length: 8 }, (_, i) => randomBytes(1 + ((i * 97) % 300)));
    let t = Transcript.create(v);
    for (let i = 0; i < msgs.length; i++) {
      t.update(msgs[i]!);
      if (i % 3 === 1) t = Transcript.import(v, t.exportState()); // a checkpoint and restore
      assert.deepEqual(b(t.digest()), refHash(v, Buffer.concat(msgs.slice(0, i + 1))), `version ${v} after ${i + 1}`);
    }
    assert.equal(t.digest().length, v >= TLS12 ? 32 : 36);
  }
});

test("transcript import refuses a state of the wrong size", () => {
  assert.throws(() => Transcript.import(TLS12, new Uint8Array(10)), /truncated/);
  const s = Transcript.create(TLS10).exportState();
  assert.throws(() => Transcript.import(TLS10, Buffer.concat([s, Buffer.alloc(1)])), /trailing/);
});

for (const provider of [wasmProvider, nativeProvider]) {
  test(`master secret, EMS, key block, verify_data match node:crypto (${provider.name})`, () => {
    for (const v of VERSIONS) {
      const pm = randomBytes(48);
      const cr = randomBytes(32);
      const sr = randomBytes(32);
      const ms = masterSecret(provider, v, pm, cr, sr);
      assert.deepEqual(b(ms), tlsPrf(v, pm, "master secret", Buffer.concat([cr, sr]), 48));
      const sh = refHash(v, randomBytes(500));
      assert.deepEqual(b(extendedMasterSecret(provider, v, pm, sh)), tlsPrf(v, pm, "extended master secret", sh, 48));
      for (const label of ["client finished", "server finished"] as const) {
        assert.deepEqual(b(verifyData(provider, v, ms, label, sh)), tlsPrf(v, b(ms), label, sh, 12));
      }
      for (const suite of CIPHER_SUITES) {
        if (v < suite.minVersion) continue;
        const kb = keyBlock(provider, v, suite, ms, cr, sr);
        const iv = v === TLS10 && suite.cipherType === "block" ? 16 : 0;
        const len = 2 * (suite.macLength + suite.keyLength + iv);
        const ref = tlsPrf(v, b(ms), "key expansion", Buffer.concat([sr, cr]), len);
        // RFC 5246 §6.3 order: client MAC, server MAC, client key, server key, client IV, server IV.
        assert.deepEqual(b(Buffer.concat([kb.clientMacKey, kb.serverMacKey, kb.clientKey, kb.serverKey, kb.clientIv, kb.serverIv])), ref);
        assert.equal(kb.clientMacKey.length, suite.macLength);
        assert.equal(kb.serverKey.length, suite.keyLength);
        assert.equal(kb.clientIv.length, iv);
        const rs = initialRecordState(v, suite, kb, "server");
        assert.equal(rs.seq, 0n);
        assert.deepEqual(rs.encKey, kb.serverKey);
        assert.deepEqual(rs.macKey, kb.serverMacKey);
        assert.equal(rs.cbcResidue !== undefined, iv > 0, `${suite.name} at ${v}: TLS 1.0 CBC IV from the key block`);
        // The record providers accept what we build.
        provider.record.init(rs);
        provider.record.init(initialRecordState(v, suite, kb, "client"));
      }
    }
  });
}

test("constantTimeEqual", () => {
  assert.ok(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  assert.ok(!constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  assert.ok(!constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1)));
});
