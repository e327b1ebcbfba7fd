// Hostile and malformed input: every failure is answered with the alert
// RFC 5246 §7.2 names, followed by a `closed` output, and no exception
// escapes `receive`. A minimal scripted client (codec writers + node:crypto)
// drives the engine directly, without sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, createHash, publicEncrypt, randomBytes } from "node:crypto";
import { nativeProvider } from "../../src/crypto/provider.js";
import { TLS12, type RecordVersion } from "../../src/crypto/types.js";
import {
  AlertDescription, ContentType, encodeHandshake, encodeRecord, HandshakeReassembler, HandshakeType, parseServerHello,
  RecordDeframer, writeAlert, writeClientHello, writeClientKeyExchange, writeFinished, Writer,
  type ClientExtension, type ClientHello,
} from "../../src/tls/codec/index.js";
import { ServerConnection, type EngineOutput } from "../../src/tls/server.js";
import { MemorySessionCache } from "../../src/tls/session-cache.js";
import type { TlsServerConfig } from "../../src/tls/config.js";
import { seededRandom, service, testConfig, testIdentity } from "../helpers/engine-harness.js";
import { deriveRecordStates, tlsPrf } from "../helpers/tls-capture.js";

const keys = new Map([["test", testIdentity().key]]);

class Engine {
  readonly outputs: EngineOutput[] = [];
  private readonly written: Buffer[] = [];
  private taken = 0;
  readonly conn: ServerConnection;
  constructor(config: TlsServerConfig = testConfig(), readonly sessions = new MemorySessionCache({ maxEntries: 10, ttlMs: 1e9, now: () => 0 })) {
    this.conn = ServerConnection.create(config, { provider: nativeProvider, random: seededRandom("hostile"), now: () => 0, sessions });
  }
  feed(bytes: Uint8Array): void {
    this.conn.receive(bytes); // must not throw
    service(this.conn, { outputs: this.outputs, checkpoints: [] }, {
      provider: nativeProvider, keys, app: "none", write: (b) => this.written.push(Buffer.from(b)),
    });
  }
  /** Server bytes not read yet. */
  take(): Buffer {
    const all = Buffer.concat(this.written);
    const out = all.subarray(this.taken);
    this.taken = all.length;
    return out;
  }
  closed(): Extract<EngineOutput, { kind: "closed" }> | undefined {
    return this.outputs.find((o): o is Extract<EngineOutput, { kind: "closed" }> => o.kind === "closed");
  }
}

function alertRecord(version: number, description: number): Buffer {
  return Buffer.from([ContentType.alert, version >> 8, version & 0xff, 0, 2, 2, description]);
}

function expectFatal(e: Engine, alert: keyof typeof AlertDescription, version = 0x0301): void {
  const closed = e.closed();
  assert.ok(closed, "closed output");
  assert.equal(closed.reason, "fatal_alert_sent");
  assert.equal(closed.alert, alert, closed.detail);
  assert.deepEqual(e.take(), alertRecord(version, AlertDescription[alert]), `plaintext ${alert} alert bytes`);
}

function hello(over: Partial<ClientHello> = {}, extra: ClientExtension[] = []): ClientHello {
  return {
    clientVersion: TLS12, random: randomBytes(32), sessionId: new Uint8Array(0), cipherSuites: [0x002f, 0x00ff],
    compressionMethods: [0],
    extensions: [{ type: "extended_master_secret" }, ...extra],
    ...over,
  };
}

function helloRecord(ch: ClientHello): { record: Buffer; raw: Uint8Array } {
  const raw = encodeHandshake(HandshakeType.client_hello, (w) => writeClientHello(w, ch));
  return { record: Buffer.from(encodeRecord(ContentType.handshake, 0x0301, raw)), raw };
}

/** A scripted client up to (and including) its Finished. */
class MiniClient {
  readonly transcript: Uint8Array[] = [];
  readonly ch = hello();
  serverRandom!: Buffer;
  version: RecordVersion = TLS12;
  master!: Buffer;
  writeState: unknown;
  readState: unknown;

  start(e: Engine): void {
    const { record, raw } = helloRecord(this.ch);
    this.transcript.push(raw);
    e.feed(record);
    const flight = e.take();
    const d = new RecordDeframer();
    d.push(flight);
    const r = new HandshakeReassembler();
    for (let rec = d.next(); rec; rec = d.next()) r.push(rec.body);
    for (let m = r.next(); m; m = r.next()) {
      this.transcript.push(m.raw);
      if (m.msgType === HandshakeType.server_hello) this.serverRandom = Buffer.from(parseServerHello(m.body).random);
    }
  }

  hash(): Buffer {
    return createHash("sha256").update(Buffer.concat(this.transcript)).digest();
  }

  /** ClientKeyExchange with a good (or a deliberately bad) RSA ciphertext. */
  keyExchange(badPadding = false): Buffer {
    const pm = Buffer.concat([Buffer.from([3, 3]), randomBytes(46)]);
    const ct = badPadding
      ? randomBytes(256)
      : publicEncrypt({ key: testIdentity().cert.certPem, padding: constants.RSA_PKCS1_PADDING }, pm);
    const raw = encodeHandshake(HandshakeType.client_key_exchange, (w) => writeClientKeyExchange(w, { keyExchange: "rsa", encryptedPreMasterSecret: ct }, TLS12));
    this.transcript.push(raw);
    this.master = tlsPrf(TLS12, pm, "extended master secret", this.hash(), 48);
    const states = deriveRecordStates(TLS12, { cipher: "aes128-cbc", mac: "sha1" }, {
      clientRandom: Buffer.from(this.ch.random), serverRandom: this.serverRandom, masterSecret: this.master,
    });
    this.writeState = nativeProvider.record.init(states.c2s);
    this.readState = nativeProvider.record.init(states.s2c);
    return Buffer.from(encodeRecord(ContentType.handshake, TLS12, raw));
  }

  ccs(): Buffer {
    return Buffer.from(encodeRecord(ContentType.change_cipher_spec, TLS12, Uint8Array.of(1)));
  }

  finished(corrupt = false): Buffer {
    const vd = tlsPrf(TLS12, this.master, "client finished", this.hash(), 12);
    if (corrupt) vd[0]! ^= 1;
    const raw = encodeHandshake(HandshakeType.finished, (w) => writeFinished(w, { verifyData: vd }));
    this.transcript.push(raw);
    return this.seal(ContentType.handshake, raw);
  }

  seal(type: number, body: Uint8Array): Buffer {
    return Buffer.from(nativeProvider.record.seal(this.writeState, type, TLS12, body));
  }

  /** Opens every record in `bytes` with the server's (active) keys. */
  openKeyed(bytes: Buffer): { type: number; body: Uint8Array }[] {
    const d = new RecordDeframer();
    d.push(bytes);
    const out = [];
    for (let rec = d.next(); rec; rec = d.next()) {
      const r = nativeProvider.record.open(this.readState, rec.type, rec.version, rec.body);
      assert.ok(r.ok, "server record opens");
      out.push({ type: rec.type, body: r.plaintext });
    }
    return out;
  }

  /** Opens every record in `bytes` with the server's keys (after its CCS). */
  open(bytes: Buffer): { type: number; body: Uint8Array }[] {
    const d = new RecordDeframer();
    d.push(bytes);
    const out = [];
    let keyed = false;
    for (let rec = d.next(); rec; rec = d.next()) {
      if (!keyed) {
        if (rec.type === ContentType.change_cipher_spec) keyed = true;
        out.push({ type: rec.type, body: rec.body });
        continue;
      }
      const r = nativeProvider.record.open(this.readState, rec.type, rec.version, rec.body);
      assert.ok(r.ok, "server record opens");
      out.push({ type: rec.type, body: r.plaintext });
    }
    return out;
  }
}

test("a scripted client completes a handshake and exchanges data (baseline)", () => {
  const e = new Engine();
  const c = new MiniClient();
  c.start(e);
  e.feed(Buffer.concat([c.keyExchange(), c.ccs(), c.finished()]));
  const recs = c.open(e.take());
  assert.deepEqual(recs.map((r) => r.type), [ContentType.change_cipher_spec, ContentType.handshake]);
  assert.equal(e.conn.stateKind, "Traffic");
  e.feed(c.seal(ContentType.application_data, Buffer.from("ping")));
  const pt = e.outputs.find((o) => o.kind === "plaintext");
  assert.ok(pt && pt.kind === "plaintext");
  assert.equal(Buffer.from(pt.data).toString(), "ping");
});

test("client-initiated renegotiation: no_renegotiation warning, connection stays usable (RFC 5746 §4.4)", () => {
  const e = new Engine();
  const c = new MiniClient();
  c.start(e);
  e.feed(Buffer.concat([c.keyExchange(), c.ccs(), c.finished()]));
  c.open(e.take());
  const reneg = encodeHandshake(HandshakeType.client_hello, (w) => writeClientHello(w, hello()));
  e.feed(c.seal(ContentType.handshake, reneg));
  const recs = c.openKeyed(e.take());
  assert.deepEqual(recs, [{ type: ContentType.alert, body: Uint8Array.of(1, AlertDescription.no_renegotiation) }], "a warning no_renegotiation alert");
  assert.equal(e.closed(), undefined);
  e.feed(c.seal(ContentType.application_data, Buffer.from("still here")));
  const pts = e.outputs.filter((o) => o.kind === "plaintext");
  assert.equal(pts.length, 1);
});

test("truncated ClientHello (cipher_suites overruns the message) → decode_error", () => {
  const e = new Engine();
  const { raw } = helloRecord(hello());
  // client_version, random, empty session_id, then cipher_suites announcing 256 bytes that are not there.
  const body = Buffer.from(raw.subarray(4, 4 + 37));
  body.writeUInt16BE(0x0100, 35);
  const msg = Buffer.concat([Buffer.from([1, 0, 0, body.length]), body]);
  e.feed(encodeRecord(ContentType.handshake, 0x0301, msg));
  expectFatal(e, "decode_error");
});

test("oversized ClientHello (header announces more than the limit) → illegal_parameter, before the body arrives", () => {
  const e = new Engine();
  e.feed(encodeRecord(ContentType.handshake, 0x0301, Uint8Array.of(1, 0x10, 0, 0, 3, 3)));
  expectFatal(e, "illegal_parameter");
});

test("record longer than 2^14 + 2048 → record_overflow", () => {
  const e = new Engine();
  e.feed(Uint8Array.of(ContentType.handshake, 3, 1, 0x48, 0x01));
  expectFatal(e, "record_overflow");
});

test("plaintext HTTP on the TLS port → unexpected_message", () => {
  const e = new Engine();
  e.feed(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  expectFatal(e, "unexpected_message");
});

test("ChangeCipherSpec before the key exchange → unexpected_message", () => {
  const e = new Engine();
  const c = new MiniClient();
  c.start(e);
  e.feed(c.ccs());
  expectFatal(e, "unexpected_message", TLS12);
});

test("messages out of order → unexpected_message (Finished first; ClientHello twice; Finished without CCS)", () => {
  {
    const e = new Engine();
    e.feed(encodeRecord(ContentType.handshake, 0x0301, encodeHandshake(HandshakeType.finished, (w) => w.bytes(new Uint8Array(12)))));
    expectFatal(e, "unexpected_message");
  }
  {
    const e = new Engine();
    const c = new MiniClient();
    c.start(e);
    e.feed(helloRecord(hello({})).record.fill(3, 1, 3)); // record version 0x0303 like the negotiated one
    expectFatal(e, "unexpected_message", TLS12);
  }
  {
    const e = new Engine();
    const c = new MiniClient();
    c.start(e);
    e.feed(c.keyExchange());
    const fin = encodeHandshake(HandshakeType.finished, (w) => w.bytes(new Uint8Array(12)));
    e.feed(encodeRecord(ContentType.handshake, TLS12, fin));
    expectFatal(e, "unexpected_message", TLS12);
  }
});

test("application data before the handshake → unexpected_message", () => {
  const e = new Engine();
  e.feed(encodeRecord(ContentType.application_data, 0x0301, Buffer.from("x")));
  expectFatal(e, "unexpected_message");
});

test("Finished with wrong verify_data (good MAC) → decrypt_error (RFC 5246 §7.4.9)", () => {
  const e = new Engine();
  const c = new MiniClient();
  c.start(e);
  e.feed(Buffer.concat([c.keyExchange(), c.ccs(), c.finished(true)]));
  const closed = e.closed();
  assert.equal(closed?.alert, "decrypt_error");
  // The alert goes out in the clear: our write keys are not active yet.
  assert.deepEqual(e.take(), alertRecord(TLS12, AlertDescription.decrypt_error));
});

test("record with a bad MAC → bad_record_mac", () => {
  const e = new Engine();
  const c = new MiniClient();
  c.start(e);
  const fin = c.finished.bind(c);
  const kx = c.keyExchange();
  const f = fin();
  f[f.length - 1]! ^= 0x55;
  e.feed(Buffer.concat([kx, c.ccs(), f]));
  expectFatal(e, "bad_record_mac", TLS12);
});

test("bad RSA padding: no early response, the handshake fails at the Finished (bad_record_mac)", () => {
  const e = new Engine();
  const c = new MiniClient();
  c.start(e);
  e.feed(c.keyExchange(true));
  assert.equal(e.closed(), undefined, "no alert after the ClientKeyExchange");
  assert.equal(e.take().length, 0);
  assert.equal(e.conn.stateKind, "ExpectChangeCipherSpec");
  e.feed(Buffer.concat([c.ccs(), c.finished()]));
  expectFatal(e, "bad_record_mac", TLS12);
});

test("version below our minimum → protocol_version; fallback SCSV below our best → inappropriate_fallback", () => {
  {
    const e = new Engine(testConfig({ minVersion: 0x0303 }));
    e.feed(helloRecord(hello({ clientVersion: 0x0302 })).record);
    expectFatal(e, "protocol_version");
  }
  {
    const e = new Engine();
    e.feed(helloRecord(hello({ clientVersion: 0x0302, cipherSuites: [0x2f, 0x5600] })).record);
    expectFatal(e, "inappropriate_fallback");
  }
  {
    // At our best version the SCSV is harmless (RFC 7507 §3).
    const e = new Engine();
    e.feed(helloRecord(hello({ cipherSuites: [0x2f, 0x5600] })).record);
    assert.equal(e.closed(), undefined);
  }
});

test("no suite in common → handshake_failure; non-empty initial renegotiation_info → handshake_failure", () => {
  {
    const e = new Engine();
    e.feed(helloRecord(hello({ cipherSuites: [0x0005] })).record); // RC4 is off by default
    expectFatal(e, "handshake_failure");
  }
  {
    const e = new Engine();
    e.feed(helloRecord(hello({}, [{ type: "renegotiation_info", renegotiatedConnection: new Uint8Array(12) }])).record);
    expectFatal(e, "handshake_failure");
  }
});

test("unrecognized server_name with the fatal policy → unrecognized_name; default policy continues", () => {
  {
    const e = new Engine(testConfig({ unrecognizedName: "fatal" }));
    e.feed(helloRecord(hello({}, [{ type: "server_name", hostName: "other.example" }])).record);
    expectFatal(e, "unrecognized_name");
  }
  {
    const e = new Engine();
    e.feed(helloRecord(hello({}, [{ type: "server_name", hostName: "other.example" }])).record);
    assert.equal(e.closed(), undefined);
  }
});

test("ClientHello one byte at a time gives the same output as in one piece", () => {
  const { record } = helloRecord(hello());
  const a = new Engine();
  a.feed(record);
  const b = new Engine();
  for (const byte of record) b.feed(Uint8Array.of(byte));
  assert.deepEqual(b.take(), a.take());
});

test("a fatal alert from the client closes and invalidates a resumed session", () => {
  const sessions = new MemorySessionCache({ maxEntries: 10, ttlMs: 1e9, now: () => 0 });
  const e = new Engine(testConfig(), sessions);
  const c = new MiniClient();
  c.start(e);
  e.feed(Buffer.concat([c.keyExchange(), c.ccs(), c.finished()]));
  const done = e.outputs.find((o) => o.kind === "handshake-complete");
  assert.ok(done && done.kind === "handshake-complete");
  assert.ok(sessions.get(done.session.sessionId), "session cached");
  e.feed(c.seal(ContentType.alert, new Writer().u8(2).u8(AlertDescription.internal_error).finish()));
  assert.equal(e.closed()?.reason, "fatal_alert_received");
  assert.ok(e.outputs.some((o) => o.kind === "session-invalidated"));
  assert.equal(sessions.get(done.session.sessionId), undefined, "removed from the cache (RFC 5246 §7.2)");
  void writeAlert;
});

test("random garbage never throws out of receive", () => {
  for (let i = 0; i < 200; i++) {
    const e = new Engine();
    const c = new MiniClient();
    if (i % 2) c.start(e);
    e.feed(randomBytes(1 + (i % 64) * 7));
  }
});
