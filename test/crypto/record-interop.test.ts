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
import { TLS10, TLS11, TLS12, type RecordVersion } from "../../src/crypto/types.js";
import type { RecordProvider } from "../../src/crypto/record.js";
import { wasmRecordProvider } from "../../src/crypto/wasm/record.js";
import { nativeRecordProvider } from "../../src/crypto/native/record.js";
import {
  deriveRecordStates, interceptGnutlsSession, interceptTlsSession,
  type Direction, type SessionSecrets, type Suite, type TlsRecord,
} from "../helpers/tls-capture.js";
import { spawnSync } from "node:child_process";
import type { SecureVersion } from "node:tls";

type AnyProvider = RecordProvider<unknown>;
const wasm = wasmRecordProvider as unknown as AnyProvider;
const native = nativeRecordProvider as unknown as AnyProvider;

interface Case {
  readonly name: string;
  readonly tlsVersion: SecureVersion;
  readonly version: RecordVersion;
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

type Opened = Record<Direction, { type: number; plaintext: Buffer }[]>;

/**
 * The relay callback: open with both providers, check they agree, reseal with
 * one provider (c2s native, s2c wasm) after `transform[dir]` on application
 * data. `deterministic`: the peer's records are reproducible (TLS 1.0 CBC with
 * minimal padding, or RC4), so a shadow state sealing the same plaintext must
 * give the peer's exact bytes.
 */
function recordChecker(version: RecordVersion, suite: Suite, deterministic: boolean,
  transform: Record<Direction, (b: Uint8Array) => Buffer>) {
  const opened: Opened = { c2s: [], s2c: [] };
  const stats = { exactMatches: 0 };
  let live: Record<Direction, { openers: unknown[]; sealer: unknown; resealer: AnyProvider; shadow: unknown; shadowProvider: AnyProvider }> | undefined;
  const onProtected = (dir: Direction, rec: TlsRecord, secrets: SessionSecrets): Uint8Array => {
    if (!live) {
      const states = deriveRecordStates(version, suite, secrets);
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
    if (deterministic) {
      assert.equal(Buffer.from(shadowRec).toString("hex"), rec.raw.toString("hex"),
        `${dir} record ${opened[dir].length - 1}: our seal of the peer's plaintext differs from the peer's record`);
      stats.exactMatches++;
    }
    return l.resealer.seal(l.sealer, rec.type, rec.version, rec.type === 23 ? transform[dir](pt) : pt);
  };
  return { onProtected, opened, stats };
}

function checkFinishedFirst(opened: Opened): void {
  for (const dir of ["c2s", "s2c"] as const) {
    // RFC 5246 §7.4.9: the first protected record is Finished (type 20, 12-byte verify_data).
    assert.equal(opened[dir][0]?.type, 22, `${dir}: first protected record is a handshake record`);
    assert.equal(opened[dir][0]!.plaintext[0], 20, `${dir}: ... holding Finished`);
    assert.equal(opened[dir][0]!.plaintext.length, 16);
  }
}

const appData = (opened: Opened, dir: Direction) =>
  Buffer.concat(opened[dir].filter((r) => r.type === 23).map((r) => r.plaintext)).toString("latin1");

for (const c of CASES) {
  test(`interop with OpenSSL: ${c.name} — open every record with both providers, reseal, peer reads ours`, async () => {
    // Several full-size records and a short tail in each direction.
    const clientData = text(40_000, "client");
    const serverData = text(33_000, "server");
    const { onProtected, opened, stats } = recordChecker(c.version, c.suite, c.version === TLS10, { c2s: upper, s2c: upper });
    const result = await interceptTlsSession({
      minVersion: c.tlsVersion, maxVersion: c.tlsVersion, ciphers: c.ciphers,
      clientData, serverData, serverExpects: clientData.length, clientExpects: serverData.length, onProtected,
    });
    assert.equal(result.negotiated.protocol, c.tlsVersion);
    assert.equal(result.negotiated.cipher, c.openssl);
    // The peers read the records we sealed.
    assert.equal(result.serverReceived.toString("latin1"), upper(clientData).toString("latin1"));
    assert.equal(result.clientReceived.toString("latin1"), upper(serverData).toString("latin1"));
    checkFinishedFirst(opened);
    assert.equal(appData(opened, "c2s"), clientData.toString("latin1"), "c2s: what we opened is what the client wrote");
    assert.equal(appData(opened, "s2c"), serverData.toString("latin1"), "s2c: what we opened is what the server wrote");
    for (const dir of ["c2s", "s2c"] as const) {
      assert.ok(opened[dir].filter((r) => r.type === 23).length >= 3, `${dir}: several application records`);
    }
    if (c.version === TLS10) {
      assert.equal(stats.exactMatches, opened.c2s.length + opened.s2c.length, "every record reproduced exactly");
      assert.ok(stats.exactMatches >= 8, `exact TLS 1.0 matches: ${stats.exactMatches}`);
    }
  });
}

// GnuTLS still implements RC4 (RFC 7465 notwithstanding) and TLS 1.1; it sends
// encrypt_then_mac for CBC unless told %NO_ETM.
const GNUTLS: readonly { name: string; version: RecordVersion; priority: string; suite: Suite; deterministic: boolean }[] = [
  { name: "TLS 1.0 RC4-128-SHA", version: TLS10, suite: { cipher: "rc4-128", mac: "sha1" }, deterministic: true,
    priority: "NORMAL:-VERS-ALL:+VERS-TLS1.0:-KX-ALL:+RSA:-CIPHER-ALL:+ARCFOUR-128:-MAC-ALL:+SHA1" },
  { name: "TLS 1.2 RC4-128-MD5", version: TLS12, suite: { cipher: "rc4-128", mac: "md5" }, deterministic: true,
    priority: "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA:-CIPHER-ALL:+ARCFOUR-128:-MAC-ALL:+MD5" },
  { name: "TLS 1.1 AES-256-CBC-SHA", version: TLS11, suite: { cipher: "aes256-cbc", mac: "sha1" }, deterministic: false,
    priority: "NORMAL:-VERS-ALL:+VERS-TLS1.1:-KX-ALL:+RSA:-CIPHER-ALL:+AES-256-CBC:-MAC-ALL:+SHA1:%NO_ETM" },
];
// GnuTLS is the only client here that still speaks RC4 (NOTES.md). The test
// needs it: .ci/run installs gnutls-bin, and a missing tool is a failure, not a skip.
const haveGnutls = spawnSync("gnutls-cli", ["--version"]).status === 0;

for (const g of GNUTLS) {
  test(`interop with GnuTLS: ${g.name} — open, reseal, peer reads ours`, async () => {
    assert.ok(haveGnutls, "gnutls-cli not found: install Debian's gnutls-bin (.ci/run does)");
    const lines = Array.from({ length: 40 }, (_, i) => text(200 + 37 * i, `line ${i}`).toString("latin1"));
    // c2s upper-cased by us; the echo server returns that; s2c we turn O into 0.
    const zero = (b: Uint8Array) => Buffer.from(Buffer.from(b).toString("latin1").replaceAll("O", "0"), "latin1");
    const { onProtected, opened, stats } = recordChecker(g.version, g.suite, g.deterministic, { c2s: upper, s2c: zero });
    const last = zero(upper(Buffer.from(lines.at(-1)!, "latin1"))).toString("latin1");
    const { clientOutput } = await interceptGnutlsSession({ priority: g.priority, lines, until: last, onProtected });
    checkFinishedFirst(opened);
    const sent = lines.map((l) => l + "\n").join("");
    assert.equal(appData(opened, "c2s"), sent, "c2s: what we opened is what gnutls-cli sent");
    // The server echoed our upper-cased records: it read what we sealed.
    assert.equal(appData(opened, "s2c"), upper(Buffer.from(sent, "latin1")).toString("latin1"));
    // The client printed our O→0 version: it read what we sealed.
    for (const l of lines) assert.ok(clientOutput.includes(zero(upper(Buffer.from(l, "latin1"))).toString("latin1")));
    if (g.deterministic) {
      assert.equal(stats.exactMatches, opened.c2s.length + opened.s2c.length, "every record reproduced exactly");
      assert.ok(stats.exactMatches >= 8, `exact matches: ${stats.exactMatches}`);
    }
  });
}
