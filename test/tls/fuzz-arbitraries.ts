// fast-check arbitraries for fuzzing the TLS codec (STYLE.md §11: a fuzz
// target per parser). Structure-aware: valid values first, then mutations
// that keep most of the structure (truncation, byte flips, corrupted length
// fields, duplicated extensions), plus raw bytes and the real captured
// ClientHellos as seeds.
import fc from "fast-check";
import {
  ContentType,
  ExtensionType,
  encode,
  encodeHandshake,
  encodeRecord,
  writeClientHello,
  type ClientExtension,
  type ClientHello,
} from "../../src/tls/codec/index.js";
import { loadFixtures } from "./client-hello-fixtures.js";

const KNOWN_EXTENSION_CODES = new Set<number>(Object.values(ExtensionType));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const bytes = (maxLength: number, minLength = 0) => fc.uint8Array({ minLength, maxLength });

const hostName = fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}(\.[a-zA-Z0-9-]{1,12}){0,3}\.?$/);

/** One extension of each kind, valid. */
const extensionArbs: Record<ClientExtension["type"], fc.Arbitrary<ClientExtension>> = {
  server_name: hostName.map((h) => ({ type: "server_name", hostName: h })),
  supported_groups: fc.array(u16, { minLength: 1, maxLength: 8 }).map((groups) => ({ type: "supported_groups", groups })),
  ec_point_formats: fc.array(u8, { minLength: 1, maxLength: 4 }).map((formats) => ({ type: "ec_point_formats", formats })),
  signature_algorithms: fc
    .array(fc.record({ hash: u8, signature: u8 }), { minLength: 1, maxLength: 12 })
    .map((algorithms) => ({ type: "signature_algorithms", algorithms })),
  encrypt_then_mac: fc.constant({ type: "encrypt_then_mac" }),
  extended_master_secret: fc.constant({ type: "extended_master_secret" }),
  session_ticket: bytes(64).map((ticket) => ({ type: "session_ticket", ticket })),
  supported_versions: fc
    .array(fc.constantFrom(0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f1c, 0x0a0a), { minLength: 1, maxLength: 6 })
    .map((versions) => ({ type: "supported_versions", versions })),
  renegotiation_info: bytes(36).map((r) => ({ type: "renegotiation_info", renegotiatedConnection: r })),
  unknown: fc
    .record({ code: u16.filter((c) => !KNOWN_EXTENSION_CODES.has(c)), data: bytes(40) })
    .map(({ code, data }) => ({ type: "unknown", code, data })),
};

function extensionCode(e: ClientExtension): number {
  return e.type === "unknown" ? e.code : ExtensionType[e.type];
}

/** Valid ClientHello values: every one must parse back to itself. */
export const clientHelloArb: fc.Arbitrary<ClientHello> = fc.record({
  clientVersion: fc.oneof(fc.constantFrom(0x0300, 0x0301, 0x0302, 0x0303), u16),
  random: bytes(32, 32),
  sessionId: bytes(32),
  cipherSuites: fc.array(fc.oneof(fc.constantFrom(0x002f, 0x0035, 0x003c, 0x003d, 0x0005, 0x0004, 0x00ff, 0x5600), u16), {
    minLength: 1,
    maxLength: 40,
  }),
  compressionMethods: fc.array(u8, { maxLength: 3 }).chain((others) =>
    fc.nat({ max: others.length }).map((at) => [...others.slice(0, at), 0, ...others.slice(at)]),
  ),
  extensions: fc.option(
    fc.uniqueArray(fc.oneof(...Object.values(extensionArbs)), { selector: extensionCode, maxLength: 12 }),
    { nil: null, freq: 5 },
  ),
});

/** A valid hello with one of its extensions repeated (RFC 5246 §7.4.1.4 forbids that). */
export const duplicatedExtensionArb: fc.Arbitrary<Uint8Array> = clientHelloArb
  .filter((h) => h.extensions !== null && h.extensions.length > 0)
  .chain((h) => {
    const list = h.extensions!;
    return fc.tuple(fc.nat({ max: list.length - 1 }), fc.nat({ max: list.length })).map(([pick, at]) => {
      const dup = [...list.slice(0, at), list[pick]!, ...list.slice(at)];
      return encode((w) => writeClientHello(w, { ...h, extensions: dup }));
    });
  });

/** Offsets and sizes of the length fields in a written ClientHello. */
function lengthFields(h: ClientHello): { at: number; size: 1 | 2 }[] {
  const out: { at: number; size: 1 | 2 }[] = [];
  let at = 2 + 32;
  out.push({ at, size: 1 });
  at += 1 + h.sessionId.length;
  out.push({ at, size: 2 });
  at += 2 + 2 * h.cipherSuites.length;
  out.push({ at, size: 1 });
  at += 1 + h.compressionMethods.length;
  if (h.extensions === null) return out;
  out.push({ at, size: 2 });
  const block = encode((w) => writeClientHello(w, h)).subarray(at + 2);
  // Walk the extensions block: type(2) length(2) data.
  for (let p = 0; p + 4 <= block.length; ) {
    out.push({ at: at + 2 + p + 2, size: 2 });
    p += 4 + ((block[p + 2]! << 8) | block[p + 3]!);
  }
  return out;
}

export type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; mask: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: bytes(8, 1) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

export function applyMutation(b: Uint8Array, m: Mutation): Uint8Array {
  const at = b.length === 0 ? 0 : m.at % (b.length + 1);
  switch (m.kind) {
    case "truncate":
      return b.slice(0, at);
    case "flip": {
      if (b.length === 0) return b;
      const out = b.slice();
      out[at % b.length] ^= m.mask;
      return out;
    }
    case "insert":
      return Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    case "delete":
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
  }
}

/** A valid hello whose length fields are pushed off by a little or set to anything. */
const corruptedLengthArb: fc.Arbitrary<Uint8Array> = clientHelloArb.chain((h) => {
  const fields = lengthFields(h);
  const body = encode((w) => writeClientHello(w, h));
  return fc
    .tuple(fc.nat({ max: fields.length - 1 }), fc.oneof(fc.integer({ min: -3, max: 3 }), u16))
    .map(([i, change]) => {
      const { at, size } = fields[i]!;
      const out = body.slice();
      const old = size === 1 ? out[at]! : (out[at]! << 8) | out[at + 1]!;
      const max = size === 1 ? 0xff : 0xffff;
      const value = Math.abs(change) <= 3 ? (old + change + max + 1) % (max + 1) : change & max;
      if (size === 1) out[at] = value;
      else [out[at], out[at + 1]] = [value >> 8, value & 0xff];
      return out;
    });
});

const fixtureBodies = loadFixtures().map((f) => {
  // Records -> the handshake body: every fixture is one ClientHello in
  // handshake records, so strip the record and handshake headers.
  const chunks: Uint8Array[] = [];
  for (let p = 0; p + 5 <= f.bytes.length; ) {
    const len = (f.bytes[p + 3]! << 8) | f.bytes[p + 4]!;
    chunks.push(f.bytes.subarray(p + 5, p + 5 + len));
    p += 5 + len;
  }
  return Uint8Array.from(Buffer.concat(chunks)).subarray(4);
});

/** ClientHello bodies: valid, mutated valid, mutated real, corrupted lengths, duplicates, raw. */
export const clientHelloBodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  clientHelloArb.map((h) => encode((w) => writeClientHello(w, h))),
  fc
    .tuple(clientHelloArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([h, ms]) => ms.reduce(applyMutation, encode((w) => writeClientHello(w, h)))),
  fc
    .tuple(fc.constantFrom(...fixtureBodies), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([b, ms]) => ms.reduce(applyMutation, b)),
  corruptedLengthArb,
  duplicatedExtensionArb,
  bytes(300),
);

/** Raw bodies for the other message parsers: short, mostly structured-looking. */
export const smallBodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(bytes(8), bytes(300));

/** Cut points for splitting a stream: sizes of successive non-empty chunks. */
export const splitsArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 200 });

export function split(b: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const s of sizes) {
    if (at >= b.length) break;
    out.push(b.subarray(at, at + s));
    at += s;
  }
  if (at < b.length) out.push(b.subarray(at));
  return out;
}

const recordArb = fc.record({
  type: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(20, 21, 22, 23) }, { weight: 1, arbitrary: u8 }),
  version: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(0x0300, 0x0301, 0x0302, 0x0303) }, { weight: 1, arbitrary: u16 }),
  body: bytes(400),
});

/** A byte stream of records, sometimes mutated, sometimes a real ClientHello. */
export const recordStreamArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .tuple(fc.array(recordArb, { maxLength: 6 }), fc.array(mutationArb, { maxLength: 2 }))
    .map(([records, ms]) =>
      ms.reduce(
        applyMutation,
        Uint8Array.from(Buffer.concat(records.map((r) => encodeRecord(r.type as ContentType, r.version, r.body)))),
      ),
    ),
  fc
    .tuple(fc.constantFrom(...loadFixtures().map((f) => f.bytes)), fc.array(mutationArb, { maxLength: 2 }))
    .map(([b, ms]) => ms.reduce(applyMutation, b)),
  bytes(64),
);

/** A byte stream of handshake messages, sometimes mutated. */
export const handshakeStreamArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.array(fc.record({ type: u8, body: bytes(300) }), { maxLength: 5 }),
    fc.array(mutationArb, { maxLength: 2 }),
  )
  .map(([msgs, ms]) =>
    ms.reduce(applyMutation, Uint8Array.from(Buffer.concat(msgs.map((m) => encodeHandshake(m.type, (w) => w.bytes(m.body)))))),
  );
