import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ExtensionType,
  SignallingSuite,
  canonicalHostName,
  clientExtension,
  encode,
  offersScsv,
  parseClientHello,
  writeClientHello,
  type ClientHello,
} from "../../src/tls/codec/index.js";
import { concat, hex, throwsDecode } from "./helpers.js";

const random = Uint8Array.from({ length: 32 }, (_, i) => i);

const full: ClientHello = {
  clientVersion: 0x0303,
  random,
  sessionId: new Uint8Array(32).fill(0xee),
  cipherSuites: [0x002f, 0x0035, 0x003c, 0x00ff, 0x5600],
  compressionMethods: [1, 0],
  extensions: [
    { type: "server_name", hostName: "Example.COM." },
    { type: "supported_groups", groups: [29, 23] },
    { type: "ec_point_formats", formats: [0] },
    { type: "signature_algorithms", algorithms: [{ hash: 4, signature: 1 }, { hash: 2, signature: 1 }] },
    { type: "encrypt_then_mac" },
    { type: "extended_master_secret" },
    { type: "session_ticket", ticket: hex("cafe") },
    { type: "supported_versions", versions: [0x0304, 0x0303] },
    { type: "renegotiation_info", renegotiatedConnection: new Uint8Array(0) },
    { type: "unknown", code: 0x3a3a, data: hex("00") },
    { type: "unknown", code: 21, data: new Uint8Array(0) },
  ],
};

const cases: Record<string, ClientHello> = {
  full,
  "no extensions block (RFC 5246 §7.4.1.2)": { ...full, extensions: null, sessionId: new Uint8Array(0) },
  "empty extensions block": { ...full, extensions: [] },
  "single suite, single method": { ...full, cipherSuites: [0x0005], compressionMethods: [0] },
  "ssl3-era hello": { ...full, clientVersion: 0x0300, extensions: null },
};

test("parse(write(x)) == x", () => {
  for (const [name, hello] of Object.entries(cases)) {
    const bytes = encode((w) => writeClientHello(w, hello));
    assert.deepEqual(parseClientHello(bytes), hello, name);
    assert.deepEqual(encode((w) => writeClientHello(w, parseClientHello(bytes))), bytes, name);
  }
});

test("typed access to extensions and signalling suites", () => {
  const hello = parseClientHello(encode((w) => writeClientHello(w, full)));
  assert.equal(clientExtension(hello, "server_name")?.hostName, "Example.COM.");
  assert.equal(canonicalHostName(clientExtension(hello, "server_name")!.hostName), "example.com");
  assert.deepEqual(clientExtension(hello, "supported_versions")?.versions, [0x0304, 0x0303]);
  assert.ok(clientExtension(hello, "extended_master_secret"));
  assert.equal(clientExtension(hello, "encrypt_then_mac")?.type, "encrypt_then_mac");
  assert.ok(offersScsv(hello, SignallingSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV));
  assert.ok(offersScsv(hello, SignallingSuite.TLS_FALLBACK_SCSV));
  const bare = parseClientHello(encode((w) => writeClientHello(w, cases["no extensions block (RFC 5246 §7.4.1.2)"]!)));
  assert.equal(clientExtension(bare, "server_name"), undefined);
});

// --- malformed variants, built by hand so each breaks exactly one rule -----

interface Parts {
  version?: string;
  random?: string;
  sessionId?: string; // with its length byte
  suites?: string; // with its length bytes
  compression?: string; // with its length byte
  extensions?: string | null; // the whole block including its length, or null for none
  trailing?: string;
}

function hello(p: Parts): Uint8Array {
  return hex(
    (p.version ?? "0303") +
      (p.random ?? "00".repeat(32)) +
      (p.sessionId ?? "00") +
      (p.suites ?? "0004 002f 00ff") +
      (p.compression ?? "01 00") +
      (p.extensions === undefined ? "" : p.extensions ?? "") +
      (p.trailing ?? ""),
  );
}

/** An extensions block holding the given (type, data) pairs, hex. */
function block(...exts: [number, string][]): string {
  const body = exts
    .map(([type, data]) => {
      const d = data.replace(/\s+/g, "");
      return type.toString(16).padStart(4, "0") + (d.length / 2).toString(16).padStart(4, "0") + d;
    })
    .join("");
  return (body.length / 2).toString(16).padStart(4, "0") + body;
}

test("the hand-built baseline parses", () => {
  parseClientHello(hello({}));
  parseClientHello(hello({ extensions: block([ExtensionType.server_name, "0006 00 0003 616263"]) }));
});

test("every truncation is a decode_error, except the one at the end of compression_methods", () => {
  const bytes = encode((w) => writeClientHello(w, full));
  const noExtensionsLength = encode((w) => writeClientHello(w, { ...full, extensions: null })).length;
  for (let n = 0; n < bytes.length; n++) {
    if (n === noExtensionsLength) {
      assert.equal(parseClientHello(bytes.subarray(0, n)).extensions, null);
      continue;
    }
    throwsDecode(() => parseClientHello(bytes.subarray(0, n)), "decode_error", /^ClientHello/);
  }
});

test("header fields", () => {
  throwsDecode(() => parseClientHello(hex("03")), "decode_error", "ClientHello.client_version");
  throwsDecode(() => parseClientHello(hex("0303 0000")), "decode_error", "ClientHello.random", /needs 32 bytes, 2 remain/);
  throwsDecode(
    () => parseClientHello(hello({ sessionId: "21" + "00".repeat(33) })),
    "decode_error",
    "ClientHello.session_id",
    /length 33 outside <0..32>/,
  );
});

test("cipher_suites: even length of at least 2 (RFC 5246 §7.4.1.2)", () => {
  const e = throwsDecode(() => parseClientHello(hello({ suites: "0007 002f0035003c00" })), "decode_error", "ClientHello.cipher_suites");
  assert.equal(e.message, "ClientHello.cipher_suites: odd length 7");
  throwsDecode(() => parseClientHello(hello({ suites: "0000" })), "decode_error", "ClientHello.cipher_suites", /outside <2\.\.65534>/);
  throwsDecode(() => parseClientHello(hello({ suites: "0010 002f" })), "decode_error", "ClientHello.cipher_suites", /exceeds/);
});

test("compression_methods: non-empty and containing null", () => {
  throwsDecode(() => parseClientHello(hello({ compression: "00" })), "decode_error", "ClientHello.compression_methods");
  throwsDecode(
    () => parseClientHello(hello({ compression: "01 01" })),
    "illegal_parameter",
    "ClientHello.compression_methods",
    /null \(0\) missing/,
  );
});

test("extensions block framing", () => {
  throwsDecode(() => parseClientHello(hello({ extensions: "00" })), "decode_error", "ClientHello.extensions");
  throwsDecode(() => parseClientHello(hello({ extensions: "0005 0017 0000" })), "decode_error", "ClientHello.extensions", /length 5 exceeds/);
  throwsDecode(() => parseClientHello(hello({ extensions: "0003 001700" })), "decode_error", "ClientHello.extensions.extended_master_secret");
  throwsDecode(() => parseClientHello(hello({ extensions: block(), trailing: "00" })), "decode_error", "ClientHello", /1 trailing byte$/);
});

test("duplicate extensions are illegal_parameter (RFC 5246 §7.4.1.4)", () => {
  throwsDecode(
    () => parseClientHello(hello({ extensions: block([23, ""], [0x1234, ""], [23, ""]) })),
    "illegal_parameter",
    "ClientHello.extensions",
    /duplicate extension extended_master_secret \(23\)/,
  );
  throwsDecode(
    () => parseClientHello(hello({ extensions: block([0x1234, "00"], [0x1234, "01"]) })),
    "illegal_parameter",
    "ClientHello.extensions",
    /duplicate extension extension_0x1234/,
  );
});

test("bytes after an extension's data are a decode_error naming the extension", () => {
  throwsDecode(
    () => parseClientHello(hello({ extensions: block([0xff01, "00 00"]) })),
    "decode_error",
    "ClientHello.extensions.renegotiation_info",
    /1 trailing byte/,
  );
});

test("sample ClientHello round-trips through the raw layout too", () => {
  const bytes = concat(hello({ extensions: block([0xff01, "00"], [23, ""]) }));
  const parsed = parseClientHello(bytes);
  assert.deepEqual(parsed.cipherSuites, [0x002f, 0x00ff]);
  assert.deepEqual(encode((w) => writeClientHello(w, parsed)), bytes);
});
