// The fuzz properties, shared by the bounded runs in `npm test`
// (fuzz-*.test.ts, fixed seed) and the long runs of scripts/fuzz.mjs
// (random seed). The common property: a parser returns a value or throws
// DecodeError carrying a real alert and a message naming a field - never any
// other exception. Framing layers must also give the same result however the
// input is split.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DecodeError,
  HandshakeReassembler,
  ProtocolVersion,
  Reader,
  RecordDeframer,
  encode,
  isKnownAlertDescription,
  parseAlert,
  parseCertificate,
  parseChangeCipherSpec,
  parseClientExtensions,
  parseClientHello,
  parseClientKeyExchange,
  parseFinished,
  parseHelloRequest,
  parseServerExtensions,
  parseServerHello,
  parseServerHelloDone,
  writeClientHello,
  AlertDescription,
  type HandshakeMessage,
  type TlsRecord,
} from "../../src/tls/codec/index.js";
import {
  clientHelloArb,
  clientHelloBodyArb,
  duplicatedExtensionArb,
  handshakeStreamArb,
  recordStreamArb,
  smallBodyArb,
  split,
  splitsArb,
} from "./fuzz-arbitraries.js";

/** Runs fn; a DecodeError is a fine outcome, anything else fails the property. */
export function valueOrDecodeError<T>(fn: () => T): T | DecodeError {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    assert.ok(isKnownAlertDescription(e.alert), `alert ${e.alert}`);
    assert.ok(e.field.length > 0 && e.message.startsWith(`${e.field}: `), e.message);
    return e;
  }
}

/** The outcome of deframing a stream: records until the end or the first error. */
function deframe(chunks: Uint8Array[], maxRecordLength?: number) {
  const d = new RecordDeframer(maxRecordLength === undefined ? {} : { maxRecordLength });
  const records: TlsRecord[] = [];
  let error: string | undefined;
  try {
    for (const c of chunks) {
      d.push(c);
      for (let r = d.next(); r; r = d.next()) records.push(r);
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    error = `${e.alert} ${e.message}`;
  }
  return { records, error, buffered: error ? -1 : d.bufferedBytes, consumed: d.consumedBytes };
}

function reassemble(chunks: Uint8Array[], maxMessageLength: number) {
  const h = new HandshakeReassembler({ maxMessageLength });
  const messages: HandshakeMessage[] = [];
  let error: string | undefined;
  try {
    for (const c of chunks) {
      h.push(c);
      for (let m = h.next(); m; m = h.next()) messages.push(m);
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    error = `${e.alert} ${e.message}`;
  }
  return { messages, error, buffered: error ? -1 : h.bufferedBytes };
}

export interface FuzzTarget {
  readonly name: string;
  /** Runs per `npm test`; keeps each target well under 5 s. */
  readonly testRuns: number;
  readonly property: fc.IPropertyWithHooks<never> | fc.IProperty<never>;
}

function target<Ts extends [unknown, ...unknown[]]>(
  name: string,
  testRuns: number,
  arbs: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  check: (...args: Ts) => void,
): FuzzTarget {
  const property = fc.property(...arbs, (...args: Ts) => {
    check(...args);
  });
  return { name, testRuns, property: property as unknown as fc.IProperty<never> };
}

export const targets: readonly FuzzTarget[] = [
  target("ClientHello: parse(write(x)) == x", 500, [clientHelloArb], (hello) => {
    const bytes = encode((w) => writeClientHello(w, hello));
    // structuredClone: fc.record builds null-prototype objects.
    assert.deepEqual(parseClientHello(bytes), structuredClone(hello));
  }),
  target("ClientHello: value or DecodeError on mutated and raw input", 3000, [clientHelloBodyArb], (body) => {
    const out = valueOrDecodeError(() => parseClientHello(body));
    // Whatever parses must re-encode to exactly the bytes it came from.
    if (!(out instanceof DecodeError)) assert.deepEqual(encode((w) => writeClientHello(w, out)), body);
  }),
  target("ClientHello: a repeated extension is illegal_parameter", 300, [duplicatedExtensionArb], (body) => {
    const out = valueOrDecodeError(() => parseClientHello(body));
    assert.ok(out instanceof DecodeError && out.alert === AlertDescription.illegal_parameter, String(out));
  }),
  target("other messages and extension blocks: value or DecodeError", 2000, [smallBodyArb], (body) => {
    valueOrDecodeError(() => parseServerHello(body));
    valueOrDecodeError(() => parseCertificate(body));
    valueOrDecodeError(() => parseClientKeyExchange(body, { keyExchange: "rsa", version: ProtocolVersion.TLS12 }));
    valueOrDecodeError(() => parseClientKeyExchange(body, { keyExchange: "rsa", version: ProtocolVersion.SSL3 }));
    valueOrDecodeError(() => parseFinished(body, 12));
    valueOrDecodeError(() => parseAlert(body));
    valueOrDecodeError(() => parseChangeCipherSpec(body));
    valueOrDecodeError(() => parseServerHelloDone(body));
    valueOrDecodeError(() => parseHelloRequest(body));
    valueOrDecodeError(() => parseClientExtensions(new Reader(body, "ClientHello.extensions")));
    valueOrDecodeError(() => parseServerExtensions(new Reader(body, "ServerHello.extensions")));
  }),
  target(
    "record deframer: DecodeError only, same result for any split",
    1500,
    [recordStreamArb, splitsArb, fc.constantFrom(undefined, 300)],
    (stream, sizes, maxRecordLength) => {
      const whole = deframe([stream], maxRecordLength);
      const pieces = deframe(split(stream, sizes), maxRecordLength);
      assert.deepEqual(pieces, whole);
      assert.equal(whole.consumed + Math.max(whole.buffered, 0) <= stream.length, true);
    },
  ),
  target(
    "handshake reassembler: DecodeError only, same result for any split",
    1500,
    [handshakeStreamArb, splitsArb, fc.constantFrom(65536, 200)],
    (stream, sizes, max) => {
      const whole = reassemble(stream.length === 0 ? [] : [stream], max);
      const pieces = reassemble(split(stream, sizes), max);
      assert.deepEqual(pieces, whole);
      for (const m of whole.messages) assert.deepEqual(m.body, m.raw.subarray(4));
    },
  ),
  target(
    "records -> handshake -> ClientHello: DecodeError only",
    1000,
    [recordStreamArb, splitsArb],
    (stream, sizes) => {
      valueOrDecodeError(() => {
        const d = new RecordDeframer();
        const h = new HandshakeReassembler();
        for (const c of split(stream, sizes)) {
          d.push(c);
          for (let r = d.next(); r; r = d.next()) {
            if (r.type !== 22) {
              h.checkInterleaving(r.type);
              continue;
            }
            h.push(r.body);
            for (let m = h.next(); m; m = h.next()) if (m.msgType === 1) parseClientHello(m.body);
          }
        }
      });
    },
  ),
];
