import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Reader,
  encode,
  parseClientExtensions,
  parseServerExtensions,
  writeClientExtensions,
  writeServerExtensions,
  type ClientExtension,
  type ServerExtension,
} from "../../src/tls/codec/index.js";
import { hex, throwsDecode, toHex } from "./helpers.js";

/** Parses one ClientHello extension given its type and data (hex). */
function client(type: number, data: string): ClientExtension {
  const d = hex(data);
  const bytes = encode((w) => w.u16(type).opaque16(d));
  const list = parseClientExtensions(new Reader(bytes, "ClientHello.extensions"));
  assert.equal(list.length, 1);
  return list[0]!;
}

function roundTripClient(ext: ClientExtension): void {
  const bytes = encode((w) => writeClientExtensions(w, [ext]));
  assert.deepEqual(parseClientExtensions(new Reader(bytes, "X")), [ext]);
}

function roundTripServer(ext: ServerExtension, expectedHex?: string): void {
  const bytes = encode((w) => writeServerExtensions(w, [ext]));
  if (expectedHex !== undefined) assert.equal(toHex(bytes), expectedHex.replace(/\s+/g, ""));
  assert.deepEqual(parseServerExtensions(new Reader(bytes, "X")), [ext]);
}

const SNI = 0;
const at = (name: string) => `ClientHello.extensions.${name}`;

test("server_name (RFC 6066 §3)", () => {
  assert.deepEqual(client(SNI, "000e 00 000b 6578616d706c652e636f6d"), { type: "server_name", hostName: "example.com" });
  roundTripClient({ type: "server_name", hostName: "a.b-c_d.example." });
  roundTripServer({ type: "server_name" }, "0000 0000");
  throwsDecode(() => client(SNI, "0000"), "decode_error", at("server_name.server_name_list"), /outside <1\.\./);
  throwsDecode(() => client(SNI, "0003 00 0000"), "decode_error", at("server_name.server_name_list.host_name"), /length 0 outside/);
  throwsDecode(() => client(SNI, "0006 01 0003 616263"), "decode_error", at("server_name.server_name_list.name_type"), /unknown name_type 1/);
  throwsDecode(() => client(SNI, "000c 00 0003 616263 00 0003 646566"), "illegal_parameter", at("server_name.server_name_list"), /duplicate host_name/);
  throwsDecode(() => client(SNI, "0006 00 0003 61 00 63"), "illegal_parameter", at("server_name.server_name_list.host_name"), /byte 0x00/);
  throwsDecode(() => client(SNI, "0006 00 0003 61 c3 a9"), "illegal_parameter", at("server_name.server_name_list.host_name"), /byte 0xc3/);
  throwsDecode(() => client(SNI, "0004 00 0001 2e"), "illegal_parameter", at("server_name.server_name_list.host_name"), /empty label/);
  throwsDecode(() => client(SNI, "0006 00 0003 61 2e 2e"), "illegal_parameter", at("server_name.server_name_list.host_name"), /empty label/);
  throwsDecode(() => client(SNI, "0006 00 0003 616263 00"), "decode_error", at("server_name"), /1 trailing byte/);
  throwsDecode(
    () => parseServerExtensions(new Reader(hex("0000 0001 00"), "ServerHello.extensions")),
    "decode_error",
    "ServerHello.extensions.server_name",
    /must be empty \(RFC 6066 §3\)/,
  );
});

test("renegotiation_info (RFC 5746 §3.2)", () => {
  assert.deepEqual(client(0xff01, "00"), { type: "renegotiation_info", renegotiatedConnection: new Uint8Array(0) });
  roundTripClient({ type: "renegotiation_info", renegotiatedConnection: new Uint8Array(12).fill(9) });
  roundTripServer({ type: "renegotiation_info", renegotiatedConnection: new Uint8Array(24).fill(8) });
  roundTripServer({ type: "renegotiation_info", renegotiatedConnection: new Uint8Array(0) }, "ff01 0001 00");
  throwsDecode(() => client(0xff01, ""), "decode_error", at("renegotiation_info.renegotiated_connection"), /truncated/);
  throwsDecode(() => client(0xff01, "05 0102"), "decode_error", at("renegotiation_info.renegotiated_connection"), /exceeds/);
});

test("extended_master_secret and encrypt_then_mac are empty flags", () => {
  assert.deepEqual(client(23, ""), { type: "extended_master_secret" });
  assert.deepEqual(client(22, ""), { type: "encrypt_then_mac" });
  roundTripServer({ type: "extended_master_secret" }, "0017 0000");
  roundTripServer({ type: "encrypt_then_mac" }, "0016 0000");
  throwsDecode(() => client(23, "00"), "decode_error", at("extended_master_secret"), /must be empty \(RFC 7627 §5\.1\), has 1 bytes/);
  throwsDecode(() => client(22, "0000"), "decode_error", at("encrypt_then_mac"), /RFC 7366 §2/);
});

test("signature_algorithms (RFC 5246 §7.4.1.4.1)", () => {
  assert.deepEqual(client(13, "0004 0401 0201"), {
    type: "signature_algorithms",
    algorithms: [{ hash: 4, signature: 1 }, { hash: 2, signature: 1 }],
  });
  roundTripClient({ type: "signature_algorithms", algorithms: [{ hash: 8, signature: 4 }] });
  throwsDecode(() => client(13, "0003 040102"), "decode_error", at("signature_algorithms.supported_signature_algorithms"), /odd length 3/);
  throwsDecode(() => client(13, "0000"), "decode_error", at("signature_algorithms.supported_signature_algorithms"), /outside <2\.\./);
});

test("supported_versions (RFC 8446 §4.2.1)", () => {
  assert.deepEqual(client(43, "04 0304 0303"), { type: "supported_versions", versions: [0x0304, 0x0303] });
  roundTripServer({ type: "supported_versions", selectedVersion: 0x0304 }, "002b 0002 0304");
  throwsDecode(() => client(43, "03 030403"), "decode_error", at("supported_versions.versions"), /odd length 3/);
  throwsDecode(() => client(43, "00"), "decode_error", at("supported_versions.versions"), /outside <2\.\.254>/);
});

test("session_ticket (RFC 5077 §3.2) keeps the ticket verbatim", () => {
  assert.deepEqual(client(35, ""), { type: "session_ticket", ticket: new Uint8Array(0) });
  assert.deepEqual(client(35, "010203"), { type: "session_ticket", ticket: hex("010203") });
  roundTripServer({ type: "session_ticket", ticket: new Uint8Array(0) }, "0023 0000");
});

test("ec_point_formats and supported_groups (RFC 8422 §5.1)", () => {
  assert.deepEqual(client(11, "03 000102"), { type: "ec_point_formats", formats: [0, 1, 2] });
  assert.deepEqual(client(10, "0004 001d 0017"), { type: "supported_groups", groups: [29, 23] });
  roundTripServer({ type: "ec_point_formats", formats: [0] });
  throwsDecode(() => client(11, "00"), "decode_error", at("ec_point_formats.ec_point_format_list"));
  throwsDecode(() => client(10, "0003 001d00"), "decode_error", at("supported_groups.named_group_list"), /odd length 3/);
});

test("unknown extensions are kept raw, in order", () => {
  const list: ClientExtension[] = [
    { type: "unknown", code: 0xfe0d, data: hex("aabbcc") },
    { type: "extended_master_secret" },
    { type: "unknown", code: 5, data: hex("0100000000") },
  ];
  const bytes = encode((w) => writeClientExtensions(w, list));
  assert.deepEqual(parseClientExtensions(new Reader(bytes, "X")), list);
});
