import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ContentType,
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  RecordDeframer,
  checkPlaintextFragment,
  encodeRecord,
  fragmentPlaintext,
  parseRecordHeader,
  type TlsRecord,
} from "../../src/tls/codec/index.js";
import { concat, hex, throwsDecode, toHex } from "./helpers.js";

function drain(d: RecordDeframer): TlsRecord[] {
  const out: TlsRecord[] = [];
  for (let r = d.next(); r; r = d.next()) out.push(r);
  return out;
}

const stream = concat(
  encodeRecord(ContentType.handshake, 0x0301, hex("0100000401020304")),
  encodeRecord(ContentType.application_data, 0x0303, new Uint8Array(0)),
  encodeRecord(ContentType.alert, 0x0303, hex("0100")),
  encodeRecord(ContentType.application_data, 0x0303, new Uint8Array(MAX_CIPHERTEXT_LENGTH).fill(0x5a)),
);

test("header writer and parser agree", () => {
  const rec = encodeRecord(ContentType.handshake, 0x0303, hex("aabbcc"));
  assert.equal(toHex(rec), "1603030003aabbcc");
  assert.deepEqual(parseRecordHeader(rec.subarray(0, 5), true), { type: 22, version: 0x0303, length: 3 });
});

test("deframer yields the same records for any split, down to one byte at a time", () => {
  const whole = new RecordDeframer();
  whole.push(stream);
  const expected = drain(whole);
  assert.equal(expected.length, 4);
  assert.equal(expected[1]!.body.length, 0, "zero-length application data is allowed");
  assert.equal(whole.consumedBytes, stream.length);
  assert.equal(whole.bufferedBytes, 0);

  for (const step of [1, 2, 3, 5, 7, 4096]) {
    const d = new RecordDeframer();
    const got: TlsRecord[] = [];
    for (let at = 0; at < stream.length; at += step) {
      d.push(stream.subarray(at, at + step));
      got.push(...drain(d));
    }
    assert.deepEqual(got, expected, `step ${step}`);
  }
});

test("record bodies are copies, independent of pushed chunks", () => {
  const chunk = encodeRecord(ContentType.handshake, 0x0301, hex("01020304"));
  const d = new RecordDeframer();
  d.push(chunk);
  const rec = d.next()!;
  chunk.fill(0);
  assert.equal(toHex(rec.body), "01020304");
});

test("unknown content types are unexpected_message", () => {
  const d = new RecordDeframer();
  d.push(encodeRecord(ContentType.handshake, 0x0301, hex("00")));
  d.push(hex("18 0303 0000"));
  d.next();
  throwsDecode(() => d.next(), "unexpected_message", "record.type", /unknown content type 24/);
  // The deframer stays dead.
  throwsDecode(() => d.next(), "unexpected_message", "record.type");
});

test("a bad first byte fails before the rest of the header arrives", () => {
  const d = new RecordDeframer();
  d.push(hex("47"));
  throwsDecode(() => d.next(), "unexpected_message", "record.type", /plaintext, e\.g\. HTTP/);
});

test("records longer than 2^14 + 2048 are record_overflow, announced by the header alone", () => {
  const d = new RecordDeframer();
  d.push(hex("17 0303 4801"));
  throwsDecode(() => d.next(), "record_overflow", "record.length", /18433 exceeds the limit of 18432/);
  const small = new RecordDeframer({ maxRecordLength: 100 });
  small.push(hex("17 0303 0065"));
  throwsDecode(() => small.next(), "record_overflow", "record.length");
});

test("record versions outside 3.x are refused", () => {
  const d = new RecordDeframer();
  d.push(hex("16 0200 0001 00"));
  throwsDecode(() => d.next(), "decode_error", "record.version");
});

test("SSL 2.0 ClientHellos are detected and refused", () => {
  // RFC 5246 Appendix E.2 layout: msg_length with the high bit, msg_type 1,
  // version 3.1, cipher_spec_length 3, session_id_length 0, challenge 16.
  const v2 = hex("801a 01 0301 0003 0000 0010 00002f 000102030405060708090a0b0c0d0e0f");
  const d = new RecordDeframer();
  d.push(v2.subarray(0, 1));
  assert.equal(d.next(), undefined, "waits for msg_type");
  d.push(v2.subarray(1));
  throwsDecode(() => d.next(), "protocol_version", "record", /SSL 2\.0-format ClientHello/);
});

test("a high-bit byte later in the stream is just an unknown content type", () => {
  const d = new RecordDeframer();
  d.push(concat(encodeRecord(ContentType.handshake, 0x0301, hex("00")), hex("80")));
  d.next();
  throwsDecode(() => d.next(), "unexpected_message", "record.type");
});

test("plaintext checks after decryption", () => {
  checkPlaintextFragment(ContentType.application_data, 0);
  checkPlaintextFragment(ContentType.handshake, MAX_PLAINTEXT_LENGTH);
  throwsDecode(() => checkPlaintextFragment(ContentType.application_data, MAX_PLAINTEXT_LENGTH + 1), "record_overflow", "record.plaintext");
  for (const t of [ContentType.handshake, ContentType.alert, ContentType.change_cipher_spec]) {
    throwsDecode(() => checkPlaintextFragment(t, 0), "unexpected_message", "record.plaintext", /empty/);
  }
});

test("fragmentPlaintext cuts at 2^14", () => {
  const parts = fragmentPlaintext(new Uint8Array(2 * MAX_PLAINTEXT_LENGTH + 1));
  assert.deepEqual(parts.map((p) => p.length), [MAX_PLAINTEXT_LENGTH, MAX_PLAINTEXT_LENGTH, 1]);
  assert.deepEqual(fragmentPlaintext(new Uint8Array(0)).map((p) => p.length), [0]);
});
