// Real ClientHellos from OpenSSL, Node, curl, GnuTLS and NSS (captured by
// scripts/capture-client-hellos.mjs) must parse, and say what each client
// was asked to send.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ContentType,
  HandshakeReassembler,
  HandshakeType,
  RecordDeframer,
  SignallingSuite,
  clientExtension,
  encode,
  offersScsv,
  parseClientHello,
  writeClientHello,
  type ClientHello,
  type HandshakeMessage,
} from "../../src/tls/codec/index.js";
import { loadFixtures, type Fixture } from "./client-hello-fixtures.js";

interface Expect {
  clientVersion: number;
  /** supported_versions lists TLS 1.3. */
  tls13: boolean;
  sni?: string;
  ems: boolean;
  /** renegotiation_info extension (RFC 5746 §3.2) and/or the SCSV (§3.3). */
  renegotiationInfo: boolean;
  scsv: boolean;
  signatureAlgorithms: boolean;
  /** Exactly these suites, in order, or at least these. */
  suites?: number[];
  includes?: number[];
  excludes?: number[];
}

const AES128_SHA = 0x002f, AES256_SHA = 0x0035, AES128_SHA256 = 0x003c, AES256_SHA256 = 0x003d;
const RC4_SHA = 0x0005, RC4_MD5 = 0x0004, SCSV = SignallingSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV;
const ALL_OURS = [AES128_SHA, AES256_SHA, AES128_SHA256, AES256_SHA256];
const NO_RC4 = [RC4_SHA, RC4_MD5];

// OpenSSL (and curl/Node, built on it) signal secure renegotiation with the
// SCSV; GnuTLS and NSS with the empty extension. OpenSSL 3 sends EMS and ETM
// always, signature_algorithms only when offering TLS 1.2.
const expectations: Record<string, Expect> = {
  "openssl-default-sni": {
    clientVersion: 0x0303, tls13: true, sni: "openssl.example", ems: true,
    renegotiationInfo: false, scsv: true, signatureAlgorithms: true, includes: ALL_OURS, excludes: NO_RC4,
  },
  "openssl-tls12-sni": {
    clientVersion: 0x0303, tls13: false, sni: "example.com", ems: true,
    renegotiationInfo: false, scsv: true, signatureAlgorithms: true, includes: ALL_OURS, excludes: NO_RC4,
  },
  "openssl-tls11": {
    // TLS 1.2-only suites are not offered at 1.1.
    clientVersion: 0x0302, tls13: false, ems: true, renegotiationInfo: false, scsv: true,
    signatureAlgorithms: false, includes: [AES128_SHA, AES256_SHA], excludes: [AES128_SHA256, AES256_SHA256, ...NO_RC4],
  },
  "openssl-tls1-aes128": {
    clientVersion: 0x0301, tls13: false, ems: true, renegotiationInfo: false, scsv: true,
    signatureAlgorithms: false, suites: [AES128_SHA, SCSV],
  },
  "node-default": {
    clientVersion: 0x0303, tls13: true, sni: "node.example", ems: true,
    renegotiationInfo: false, scsv: true, signatureAlgorithms: true, includes: ALL_OURS, excludes: NO_RC4,
  },
  "node-tls1": {
    clientVersion: 0x0301, tls13: false, sni: "node.example", ems: true,
    renegotiationInfo: false, scsv: true, signatureAlgorithms: false, suites: [AES128_SHA, SCSV],
  },
  "curl-default": {
    clientVersion: 0x0303, tls13: true, sni: "curl.example", ems: true,
    renegotiationInfo: false, scsv: true, signatureAlgorithms: true, includes: ALL_OURS, excludes: NO_RC4,
  },
  "curl-tls12": {
    clientVersion: 0x0303, tls13: false, sni: "curl.example", ems: true,
    renegotiationInfo: false, scsv: true, signatureAlgorithms: true, includes: ALL_OURS, excludes: NO_RC4,
  },
  "gnutls-default": {
    // GnuTLS's NORMAL priority has no CBC-SHA256 suites.
    clientVersion: 0x0303, tls13: true, sni: "gnutls.example", ems: true,
    renegotiationInfo: true, scsv: false, signatureAlgorithms: true,
    includes: [AES128_SHA, AES256_SHA], excludes: [AES128_SHA256, AES256_SHA256, ...NO_RC4],
  },
  "gnutls-rc4-tls1": {
    // The NOTES.md priority string: TLS 1.0, RSA, RC4-128, SHA-1 only.
    clientVersion: 0x0301, tls13: false, sni: "gnutls.example", ems: true,
    renegotiationInfo: true, scsv: false, signatureAlgorithms: false, suites: [RC4_SHA],
  },
  "nss-tstclnt-tls10-12": {
    // -V tls1.0:tls1.2 -G (EMS); NSS 3.87 still offers RC4 by default.
    clientVersion: 0x0303, tls13: false, sni: "nss.example", ems: true,
    renegotiationInfo: true, scsv: false, signatureAlgorithms: true, includes: [...ALL_OURS, ...NO_RC4],
  },
};

function firstMessage(bytes: Uint8Array, step: number): HandshakeMessage {
  const deframer = new RecordDeframer();
  const reassembler = new HandshakeReassembler();
  for (let at = 0; at < bytes.length; at += step) {
    deframer.push(bytes.subarray(at, at + step));
    for (let r = deframer.next(); r; r = deframer.next()) {
      assert.equal(r.type, ContentType.handshake);
      assert.equal(r.version >> 8, 3);
      reassembler.push(r.body);
    }
  }
  assert.equal(deframer.bufferedBytes, 0);
  const m = reassembler.next();
  assert.ok(m, "one whole handshake message");
  assert.equal(reassembler.bufferedBytes, 0);
  assert.equal(m.msgType, HandshakeType.client_hello);
  return m;
}

function check(f: Fixture, hello: ClientHello, e: Expect): void {
  assert.equal(hello.clientVersion, e.clientVersion, "client_version");
  assert.equal(hello.random.length, 32);
  assert.deepEqual(hello.compressionMethods, [0]);
  const versions = clientExtension(hello, "supported_versions")?.versions ?? [];
  assert.equal(versions.includes(0x0304), e.tls13, "offers TLS 1.3");
  assert.equal(clientExtension(hello, "server_name")?.hostName, e.sni, "SNI");
  assert.equal(clientExtension(hello, "extended_master_secret") !== undefined, e.ems, "EMS");
  const ri = clientExtension(hello, "renegotiation_info");
  assert.equal(ri !== undefined, e.renegotiationInfo, "renegotiation_info");
  if (ri) assert.equal(ri.renegotiatedConnection.length, 0, "initial handshake: empty renegotiated_connection");
  assert.equal(offersScsv(hello, SCSV), e.scsv, "SCSV");
  assert.ok(!offersScsv(hello, SignallingSuite.TLS_FALLBACK_SCSV), "no fallback SCSV");
  assert.equal(clientExtension(hello, "signature_algorithms") !== undefined, e.signatureAlgorithms, "signature_algorithms");
  if (e.suites) assert.deepEqual(hello.cipherSuites, e.suites);
  for (const s of e.includes ?? []) assert.ok(hello.cipherSuites.includes(s), `offers 0x${s.toString(16)}`);
  for (const s of e.excludes ?? []) assert.ok(!hello.cipherSuites.includes(s), `does not offer 0x${s.toString(16)}`);
  assert.match(f.header, /# Command: /);
  assert.match(f.header, /# Client: /);
}

const fixtures = loadFixtures();

test("every client in the capture script has a fixture and an expectation", () => {
  assert.deepEqual(fixtures.map((f) => f.name).sort(), Object.keys(expectations).sort());
});

for (const f of fixtures) {
  test(`real ClientHello: ${f.name}`, () => {
    const e = expectations[f.name];
    assert.ok(e, `no expectation for ${f.name}`);
    const whole = firstMessage(f.bytes, f.bytes.length);
    const hello = parseClientHello(whole.body);
    check(f, hello, e);
    // Byte-exact re-encoding: nothing was lost or normalised.
    assert.deepEqual(encode((w) => writeClientHello(w, hello)), whole.body);
    // The same message, fed one byte at a time.
    assert.deepEqual(firstMessage(f.bytes, 1).raw, whole.raw);
  });
}
