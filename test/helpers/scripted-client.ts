// A scripted TLS 1.0-1.2 client for engine tests without sockets: codec
// writers for its messages, node:crypto for RSA and the handshake hashes,
// the test PRF (tls-capture.ts) for its keys, and the WASM record layer to
// seal its records. It can fragment and coalesce handshake messages across
// records at will (RFC 5246 §6.2.1), which real clients rarely do.
import { constants, createHash, publicEncrypt } from "node:crypto";
import { wasmProvider } from "../../src/crypto/provider.js";
import { TLS12, type RecordVersion } from "../../src/crypto/types.js";
import type { RecordCipher, RecordMac } from "../../src/crypto/record.js";
import {
  ContentType, encodeHandshake, encodeRecord, HandshakeReassembler, HandshakeType, parseServerHello, RecordDeframer,
  writeClientHello, writeClientKeyExchange, writeFinished, type ClientExtension,
} from "../../src/tls/codec/index.js";
import { deriveRecordStates, tlsPrf } from "./tls-capture.js";
import { seededRandom, testIdentity } from "./engine-harness.js";

export interface ScriptedSuite {
  readonly code: number;
  readonly cipher: RecordCipher;
  readonly mac: RecordMac;
}

export const SCRIPTED_SUITES = {
  AES128_SHA: { code: 0x002f, cipher: "aes128-cbc", mac: "sha1" },
  AES256_SHA256: { code: 0x003d, cipher: "aes256-cbc", mac: "sha256" },
  RC4_SHA: { code: 0x0005, cipher: "rc4-128", mac: "sha1" },
} as const satisfies Record<string, ScriptedSuite>;

export class ScriptedClient {
  private readonly messages: Uint8Array[] = [];
  private readonly rnd: (n: number) => Uint8Array;
  readonly random: Uint8Array;
  serverRandom: Uint8Array | undefined;
  master: Buffer | undefined;
  private write: unknown;

  constructor(
    readonly version: RecordVersion,
    readonly suite: ScriptedSuite,
    seed: string,
    readonly extensions: ClientExtension[] = [{ type: "extended_master_secret" }],
  ) {
    this.rnd = seededRandom(`client-${seed}`);
    this.random = this.rnd(32);
  }

  /** The ClientHello handshake message (type, length, body). */
  hello(): Uint8Array {
    const m = encodeHandshake(HandshakeType.client_hello, (w) => writeClientHello(w, {
      clientVersion: this.version, random: this.random, sessionId: new Uint8Array(0), cipherSuites: [this.suite.code, 0x00ff],
      compressionMethods: [0], extensions: this.extensions,
    }));
    this.messages.push(m);
    return m;
  }

  /** Reads the server's first flight (plaintext records): ServerHello … ServerHelloDone. */
  serverFlight(bytes: Uint8Array): void {
    const d = new RecordDeframer();
    d.push(bytes);
    const r = new HandshakeReassembler();
    for (let rec = d.next(); rec; rec = d.next()) if (rec.type === ContentType.handshake) r.push(rec.body);
    for (let m = r.next(); m; m = r.next()) {
      this.messages.push(m.raw);
      if (m.msgType === HandshakeType.server_hello) this.serverRandom = parseServerHello(m.body).random;
    }
    if (!this.serverRandom) throw new Error("no ServerHello in the server flight");
  }

  private hash(): Buffer {
    const all = Buffer.concat(this.messages);
    // RFC 5246 §7.4.9 (TLS 1.2 with a SHA-256 PRF) / RFC 2246 §7.4.9: MD5 ‖ SHA-1.
    return this.version === TLS12
      ? createHash("sha256").update(all).digest()
      : Buffer.concat([createHash("md5").update(all).digest(), createHash("sha1").update(all).digest()]);
  }

  /** ClientKeyExchange (RSA, RFC 5246 §7.4.7.1); derives the master secret and keys. */
  keyExchange(): Uint8Array {
    const pm = Buffer.concat([Buffer.from([this.version >> 8, this.version & 0xff]), this.rnd(46)]);
    const ct = publicEncrypt({ key: testIdentity().cert.certPem, padding: constants.RSA_PKCS1_PADDING }, pm);
    const m = encodeHandshake(HandshakeType.client_key_exchange, (w) =>
      writeClientKeyExchange(w, { keyExchange: "rsa", encryptedPreMasterSecret: ct }, this.version));
    this.messages.push(m);
    const ems = this.extensions.some((e) => e.type === "extended_master_secret");
    this.master = ems
      ? tlsPrf(this.version, pm, "extended master secret", this.hash(), 48)
      : tlsPrf(this.version, pm, "master secret", Buffer.concat([this.random, this.serverRandom!]), 48);
    const states = deriveRecordStates(this.version, this.suite, {
      clientRandom: Buffer.from(this.random), serverRandom: Buffer.from(this.serverRandom!), masterSecret: this.master,
    });
    this.write = wasmProvider.record.init(states.c2s);
    return m;
  }

  /** The Finished handshake message (RFC 5246 §7.4.9). */
  finished(): Uint8Array {
    const vd = tlsPrf(this.version, this.master!, "client finished", this.hash(), 12);
    const m = encodeHandshake(HandshakeType.finished, (w) => writeFinished(w, { verifyData: vd }));
    this.messages.push(m);
    return m;
  }

  plain(type: ContentType, body: Uint8Array, version: number = this.version): Uint8Array {
    return encodeRecord(type, version, body);
  }

  ccs(): Uint8Array {
    return encodeRecord(ContentType.change_cipher_spec, this.version, Uint8Array.of(1));
  }

  /** A record sealed under the client's write keys (after its ChangeCipherSpec). */
  seal(type: ContentType, body: Uint8Array): Uint8Array {
    return wasmProvider.record.seal(this.write, type, this.version, body);
  }
}
