// Record protection against real OpenSSL traffic (Node `tls` on both ends).
//
// A relay between the two peers (test/helpers/tls-capture.ts) derives both
// directions' keys from the key log and the hello randoms, then for every
// protected record: opens it with the WASM and the native provider (the
// Finished message, application data, close_notify), checks both agree with
// what the application wrote, and forwards a record *we* sealed instead —
// application data upper-cased, so the peer's read proves it decrypted our
// bytes, not OpenSSL's. Client→server records are resealed by the native
// provider, server→client by the WASM one. For TLS 1.0, whose IV chains from
// the previous record, a shadow state also reseals OpenSSL's own plaintext and
// must reproduce OpenSSL's record byte for byte (minimal padding on both
// sides); TLS 1.1+ IVs are random in OpenSSL, so there the resealing is the
// check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TLS10, TLS12, type ProtocolVersion } from "../../src/crypto/types.js";
import type { RecordProvider } from "../../src/crypto/record.js";
import { wasmRecordProvider } from "../../src/crypto/wasm/record.js";
import { nativeRecordProvider } from "../../src/crypto/native/record.js";
import { deriveRecordStates, interceptTlsSession, type Direction, type Suite } from "../helpers/tls-capture.js";
import type { SecureVersion } from "node:tls";

type AnyProvider = RecordProvider<unknown>;
const wasm = wasmRecordProvider as unknown as AnyProvider;
const native = nativeRecordProvider as unknown as AnyProvider;

interface Case {
  readonly name: string;
  readonly tlsVersion: SecureVersion;
  readonly version: ProtocolVersion;
  readonly ciphers: string;
  readonly openssl: string;
  readonly suite: Suite;
}

const CASES: readonly Case[] = [
  { name: "TLS 1.2 AES128-SHA", tlsVersion: "TLSv1.2", version: TLS12, ciphers: "AES128-SHA", openssl: "AES128-SHA", suite: { cipher: "aes128-cbc", mac: "sha1" } },
  { name: "TLS 1.2 AES256-SHA256", tlsVersion: "TLSv1.2", version: TLS12, ciphers: "AES256-SHA256", openssl: "AES256-SHA256", suite: { cipher: "aes256-cbc", mac: "sha256" } },
  { name: "TLS 1.0 AES128-SHA", tlsVersion: "TLSv1", version: TLS10, ciphers: "AES128-SHA:@SECLEVEL=0", openssl: "AES128-SHA", suite: { cipher: "aes128-cbc", mac: "sha1" } },
];

function text(n: number, seed: string): Buffer {
  const words = `${seed} lorem ipsum dolor sit amet record layer checkpoint failover `;
  return Buffer.from(words.repeat(Math.ceil(n / words.length)).slice(0, n), "latin1");
}

const upper = (b: Uint8Array) => Buffer.from(Buffer.from(b).toString("latin1").toUpperCase(), "latin1");

for (const c of CASES) {
  test(`interop with OpenSSL: ${c.name} — open every record with both providers, reseal, peer reads ours`, async () => {
    // Several full-size records and a short tail in each direction.
    const clientData = text(40_000, "client");
    const serverData = text(33_000, "server");
    const opened: Record<Direction, { type: number; plaintext: Buffer }[]> = { c2s: [], s2c: [] };
    let exactMatches = 0;
    let live: Record<Direction, { openers: unknown[]; sealer: unknown; resealer: AnyProvider; shadow: unknown; shadowProvider: AnyProvider }> | undefined;

    const result = await interceptTlsSession({
      minVersion: c.tlsVersion, maxVersion: c.tlsVersion, ciphers: c.ciphers,
      clientData, serverData, serverExpects: clientData.length, clientExpects: serverData.length,
      onProtected(dir, rec, secrets) {
        if (!live) {
          const states = deriveRecordStates(c.version, c.suite, secrets);
          const mk = (d: Direction, resealer: AnyProvider, shadowProvider: AnyProvider) => ({
            openers: [wasm.init(states[d]), native.init(states[d])],
            sealer: resealer.init(states[d]), resealer,
            shadow: shadowProvider.init(states[d]), shadowProvider,
          });
          live = { c2s: mk("c2s", native, wasm), s2c: mk("s2c", wasm, native) };
        }
        const l = live[dir];
        const results = [wasm, native].map((pr, i) => pr.open(l.openers[i], rec.type, rec.version, rec.body));
        for (const [i, r] of results.entries()) {
          assert.ok(r.ok, `${dir} record ${opened[dir].length} (type ${rec.type}): ${i ? "native" : "wasm"} open failed: ${!r.ok && r.description}`);
        }
        const pt = Buffer.from((results[0] as { plaintext: Uint8Array }).plaintext);
        assert.equal(pt.toString("hex"), Buffer.from((results[1] as { plaintext: Uint8Array }).plaintext).toString("hex"));
        opened[dir].push({ type: rec.type, plaintext: pt });

        const shadowRec = l.shadowProvider.seal(l.shadow, rec.type, rec.version, pt);
        if (c.version === TLS10) {
          assert.equal(Buffer.from(shadowRec).toString("hex"), rec.raw.toString("hex"),
            `${dir} record ${opened[dir].length - 1}: our TLS 1.0 seal differs from OpenSSL's`);
          exactMatches++;
        } else {
          assert.equal(shadowRec.length, rec.raw.length, "same minimal padding as OpenSSL");
        }
        return l.resealer.seal(l.sealer, rec.type, rec.version, rec.type === 23 ? upper(pt) : pt);
      },
    });

    assert.equal(result.negotiated.protocol, c.tlsVersion);
    assert.equal(result.negotiated.cipher, c.openssl);
    // The peers read the records we sealed.
    assert.equal(result.serverReceived.toString("latin1"), upper(clientData).toString("latin1"));
    assert.equal(result.clientReceived.toString("latin1"), upper(serverData).toString("latin1"));
    for (const dir of ["c2s", "s2c"] as const) {
      const recs = opened[dir];
      // RFC 5246 §7.4.9: the first protected record is Finished (type 20, 12-byte verify_data).
      assert.equal(recs[0]?.type, 22, `${dir}: first protected record is a handshake record`);
      assert.equal(recs[0]!.plaintext[0], 20, `${dir}: ... holding Finished`);
      assert.equal(recs[0]!.plaintext.length, 16);
      const app = Buffer.concat(recs.filter((r) => r.type === 23).map((r) => r.plaintext));
      assert.equal(app.toString("latin1"), (dir === "c2s" ? clientData : serverData).toString("latin1"),
        `${dir}: application data we opened equals what the application wrote`);
      assert.ok(recs.filter((r) => r.type === 23).length >= 3, `${dir}: several application records`);
    }
    if (c.version === TLS10) assert.ok(exactMatches >= 8, `exact TLS 1.0 matches: ${exactMatches}`);
  });
}
