import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ContentType,
  HandshakeReassembler,
  HandshakeType,
  encodeHandshake,
  type HandshakeMessage,
} from "../../src/tls/codec/index.js";
import { concat, hex, throwsDecode, toHex } from "./helpers.js";

function drain(h: HandshakeReassembler): HandshakeMessage[] {
  const out: HandshakeMessage[] = [];
  for (let m = h.next(); m; m = h.next()) out.push(m);
  return out;
}

const messages = [
  encodeHandshake(HandshakeType.client_hello, (w) => w.bytes(new Uint8Array(300).fill(1))),
  encodeHandshake(HandshakeType.server_hello_done, () => {}),
  encodeHandshake(HandshakeType.client_key_exchange, (w) => w.opaque16(new Uint8Array(256).fill(2))),
  encodeHandshake(HandshakeType.finished, (w) => w.bytes(new Uint8Array(12).fill(3))),
];
const flight = concat(...messages);

test("encodeHandshake writes the 4-byte header", () => {
  assert.equal(toHex(encodeHandshake(HandshakeType.finished, (w) => w.bytes(hex("aabb")))), "14000002aabb");
});

test("messages come out whole for any fragmentation, with raw bytes for the hash", () => {
  for (const step of [1, 2, 3, 4, 5, 13, 299, 304, flight.length]) {
    const h = new HandshakeReassembler();
    const got: HandshakeMessage[] = [];
    for (let at = 0; at < flight.length; at += step) {
      h.push(flight.subarray(at, at + step));
      got.push(...drain(h));
    }
    assert.equal(got.length, messages.length, `step ${step}`);
    got.forEach((m, i) => {
      assert.deepEqual(m.raw, messages[i], `step ${step} message ${i}`);
      assert.equal(m.msgType, messages[i]![0]);
      assert.deepEqual(m.body, messages[i]!.subarray(4));
    });
    assert.equal(h.bufferedBytes, 0);
  }
});

test("an oversized message is refused from its header alone", () => {
  const h = new HandshakeReassembler({ maxMessageLength: 1000 });
  h.push(hex("01 0003e9"));
  throwsDecode(() => h.next(), "illegal_parameter", "Handshake(client_hello).length", /1001 exceeds the limit of 1000/);
  const d = new HandshakeReassembler();
  d.push(hex("01 010001"));
  throwsDecode(() => d.next(), "illegal_parameter", "Handshake(client_hello).length", /65537/);
});

test("empty handshake records are refused (RFC 5246 §6.2.1)", () => {
  throwsDecode(() => new HandshakeReassembler().push(new Uint8Array(0)), "unexpected_message", "record.plaintext");
});

test("TLS 1.2 interleaving: alerts and application data may split a message, a key change may not", () => {
  const h = new HandshakeReassembler();
  h.checkInterleaving(ContentType.change_cipher_spec); // nothing pending: fine
  h.push(messages[2]!.subarray(0, 10));
  h.checkInterleaving(ContentType.application_data);
  h.checkInterleaving(ContentType.alert);
  throwsDecode(
    () => h.checkInterleaving(ContentType.change_cipher_spec),
    "unexpected_message",
    "record.type",
    /change_cipher_spec record while 10 handshake bytes are pending/,
  );
});

test("TLS 1.3 interleaving: nothing may split a message", () => {
  const h = new HandshakeReassembler({ interleaving: "tls13" });
  h.push(messages[0]!.subarray(0, 3));
  throwsDecode(() => h.checkInterleaving(ContentType.application_data), "unexpected_message", "record.type", /RFC 8446/);
});
