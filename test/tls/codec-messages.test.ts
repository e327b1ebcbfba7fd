import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AlertDescription,
  AlertLevel,
  ProtocolVersion,
  encode,
  encodeHandshake,
  HandshakeType,
  parseAlert,
  parseCertificate,
  parseChangeCipherSpec,
  parseClientKeyExchange,
  parseFinished,
  parseHelloRequest,
  parseServerHello,
  parseServerHelloDone,
  verifyDataLength,
  writeAlert,
  writeCertificate,
  writeChangeCipherSpec,
  writeClientKeyExchange,
  writeFinished,
  writeHelloRequest,
  writeServerHello,
  writeServerHelloDone,
  type ServerHello,
} from "../../src/tls/codec/index.js";
import { hex, throwsDecode, toHex } from "./helpers.js";

test("ServerHello round-trips, with and without extensions", () => {
  const base: ServerHello = {
    serverVersion: 0x0303,
    random: new Uint8Array(32).fill(0x42),
    sessionId: new Uint8Array(32).fill(7),
    cipherSuite: 0x002f,
    compressionMethod: 0,
    extensions: [
      { type: "renegotiation_info", renegotiatedConnection: new Uint8Array(0) },
      { type: "extended_master_secret" },
      { type: "server_name" },
    ],
  };
  for (const m of [base, { ...base, extensions: null }, { ...base, extensions: [] }, { ...base, sessionId: new Uint8Array(0) }]) {
    const bytes = encode((w) => writeServerHello(w, m));
    assert.deepEqual(parseServerHello(bytes), m);
  }
  const bytes = encode((w) => writeServerHello(w, { ...base, extensions: null }));
  assert.equal(toHex(bytes.subarray(0, 2)), "0303");
  assert.equal(bytes.length, 2 + 32 + 1 + 32 + 2 + 1);
  throwsDecode(() => parseServerHello(bytes.subarray(0, bytes.length - 1)), "decode_error", "ServerHello.compression_method");
  assert.throws(() => encode((w) => writeServerHello(w, { ...base, random: new Uint8Array(31) })), RangeError);
});

test("Certificate chain round-trips; empty certificates are refused", () => {
  const chain = { certificateList: [hex("308201aa"), new Uint8Array(3000).fill(1)] };
  const bytes = encode((w) => writeCertificate(w, chain));
  assert.equal(toHex(bytes.subarray(0, 3)), (3 + 4 + 3 + 3000).toString(16).padStart(6, "0"));
  assert.deepEqual(parseCertificate(bytes), chain);
  assert.deepEqual(parseCertificate(hex("000000")), { certificateList: [] });
  throwsDecode(() => parseCertificate(hex("000003 000000")), "decode_error", "Certificate.certificate_list[0]", /length 0 outside <1\.\./);
  throwsDecode(() => parseCertificate(hex("000005 000001 aa 0000")), "decode_error", "Certificate.certificate_list[1]");
  throwsDecode(() => parseCertificate(hex("000000 00")), "decode_error", "Certificate", /1 trailing byte/);
});

test("ServerHelloDone and HelloRequest are empty", () => {
  assert.equal(toHex(encodeHandshake(HandshakeType.server_hello_done, (w) => writeServerHelloDone(w, { kind: "server_hello_done" }))), "0e000000");
  assert.equal(toHex(encodeHandshake(HandshakeType.hello_request, (w) => writeHelloRequest(w, { kind: "hello_request" }))), "00000000");
  assert.deepEqual(parseServerHelloDone(new Uint8Array(0)), { kind: "server_hello_done" });
  assert.deepEqual(parseHelloRequest(new Uint8Array(0)), { kind: "hello_request" });
  throwsDecode(() => parseServerHelloDone(hex("00")), "decode_error", "ServerHelloDone", /1 trailing byte/);
  throwsDecode(() => parseHelloRequest(hex("0000")), "decode_error", "HelloRequest");
});

test("ClientKeyExchange (RSA): TLS has a 2-byte length, SSL 3.0 does not (RFC 5246 §7.4.7.1)", () => {
  const epms = new Uint8Array(256).fill(0xab);
  const tls = encode((w) => writeClientKeyExchange(w, { keyExchange: "rsa", encryptedPreMasterSecret: epms }, ProtocolVersion.TLS12));
  const ssl3 = encode((w) => writeClientKeyExchange(w, { keyExchange: "rsa", encryptedPreMasterSecret: epms }, ProtocolVersion.SSL3));
  assert.equal(toHex(tls.subarray(0, 2)), "0100");
  assert.equal(tls.length, 258);
  assert.equal(ssl3.length, 256);
  for (const version of [ProtocolVersion.TLS10, ProtocolVersion.TLS11, ProtocolVersion.TLS12]) {
    assert.deepEqual(parseClientKeyExchange(tls, { keyExchange: "rsa", version }).encryptedPreMasterSecret, epms);
  }
  assert.deepEqual(parseClientKeyExchange(ssl3, { keyExchange: "rsa", version: ProtocolVersion.SSL3 }).encryptedPreMasterSecret, epms);
  const p = { keyExchange: "rsa", version: ProtocolVersion.TLS12 } as const;
  throwsDecode(() => parseClientKeyExchange(ssl3, p), "decode_error", "ClientKeyExchange.exchange_keys.pre_master_secret", /exceeds/);
  throwsDecode(() => parseClientKeyExchange(hex("01"), p), "decode_error", "ClientKeyExchange.exchange_keys.pre_master_secret", /truncated/);
  throwsDecode(() => parseClientKeyExchange(hex("0001 aa bb"), p), "decode_error", "ClientKeyExchange", /1 trailing byte/);
});

test("Finished: 12 bytes of verify_data in TLS, 36 in SSL 3.0", () => {
  assert.equal(verifyDataLength(ProtocolVersion.TLS10), 12);
  assert.equal(verifyDataLength(ProtocolVersion.TLS12), 12);
  assert.equal(verifyDataLength(ProtocolVersion.SSL3), 36);
  const vd = new Uint8Array(12).fill(5);
  assert.deepEqual(parseFinished(encode((w) => writeFinished(w, { verifyData: vd })), 12), { verifyData: vd });
  assert.equal(parseFinished(new Uint8Array(36), 36).verifyData.length, 36);
  throwsDecode(() => parseFinished(new Uint8Array(13), 12), "decode_error", "Finished.verify_data", /length 13, expected 12/);
  throwsDecode(() => parseFinished(new Uint8Array(12), 36), "decode_error", "Finished.verify_data");
});

test("ChangeCipherSpec is the single byte 1 (RFC 5246 §7.1)", () => {
  assert.equal(toHex(encode((w) => writeChangeCipherSpec(w, { kind: "change_cipher_spec" }))), "01");
  assert.deepEqual(parseChangeCipherSpec(hex("01")), { kind: "change_cipher_spec" });
  throwsDecode(() => parseChangeCipherSpec(hex("02")), "illegal_parameter", "ChangeCipherSpec.type", /value 2, expected 1/);
  throwsDecode(() => parseChangeCipherSpec(hex("0101")), "decode_error", "ChangeCipherSpec", /length 2, expected 1/);
  throwsDecode(() => parseChangeCipherSpec(hex("")), "decode_error", "ChangeCipherSpec");
});

test("Alert is two bytes, level then description (RFC 5246 §7.2)", () => {
  const a = { level: AlertLevel.fatal, description: AlertDescription.decode_error };
  assert.equal(toHex(encode((w) => writeAlert(w, a))), "0232");
  assert.deepEqual(parseAlert(hex("0232")), a);
  assert.deepEqual(parseAlert(hex("01ee")), { level: 1, description: 0xee });
  throwsDecode(() => parseAlert(hex("0332")), "illegal_parameter", "Alert.level", /unknown level 3/);
  throwsDecode(() => parseAlert(hex("02")), "decode_error", "Alert", /length 1, expected 2/);
  throwsDecode(() => parseAlert(hex("02320100")), "decode_error", "Alert");
});

test("alert table has RFC 5246 §7.2's values and later additions", () => {
  assert.equal(AlertDescription.close_notify, 0);
  assert.equal(AlertDescription.record_overflow, 22);
  assert.equal(AlertDescription.decode_error, 50);
  assert.equal(AlertDescription.protocol_version, 70);
  assert.equal(AlertDescription.inappropriate_fallback, 86);
  assert.equal(AlertDescription.no_renegotiation, 100);
  assert.equal(AlertDescription.unsupported_extension, 110);
  assert.equal(AlertDescription.unrecognized_name, 112);
  assert.equal(Object.keys(AlertDescription).length, 27);
});
