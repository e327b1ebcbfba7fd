// ClientHello (RFC 5246 §7.4.1.2): the first message of every handshake and
// the one the engine learns the most from - version, suites, session to
// resume, SNI, EMS, secure-renegotiation support. Input is the body from
// handshake-framing; field names follow RFC 5246 (RFC 8446 renames
// client_version to legacy_version).
//
//   struct {
//       ProtocolVersion client_version;
//       Random random;
//       SessionID session_id;
//       CipherSuite cipher_suites<2..2^16-2>;
//       CompressionMethod compression_methods<1..2^8-1>;
//       select (extensions_present) {
//           case false: struct {};
//           case true:  Extension extensions<0..2^16-1>;
//       };
//   } ClientHello;

import { CompressionMethod, MAX_SESSION_ID_LENGTH, RANDOM_LENGTH, SignallingSuite } from "../constants.js";
import { illegalValue } from "../errors.js";
import {
  parseClientExtensions,
  writeClientExtensions,
  findExtension,
  type ClientExtension,
} from "../extensions/index.js";
import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface ClientHello {
  readonly clientVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  /**
   * The extensions in the order sent, or null when the block is absent
   * (legal: SSL 3.0 clients and some TLS clients send none).
   */
  readonly extensions: readonly ClientExtension[] | null;
}

export function parseClientHello(body: Uint8Array): ClientHello {
  const r = new Reader(body, "ClientHello");
  const clientVersion = r.u16("client_version");
  const random = r.bytes(RANDOM_LENGTH, "random");
  // RFC 5246 §7.4.1.2: opaque SessionID<0..32>.
  const sessionId = r.opaque8("session_id", { min: 0, max: MAX_SESSION_ID_LENGTH });
  const cipherSuites = r.vector16("cipher_suites", { min: 2, max: 0xfffe }).u16List();
  const methods = r.vector8("compression_methods", { min: 1, max: 0xff });
  const compressionMethods = methods.u8List();
  // RFC 5246 §7.4.1.2: "this vector MUST contain, and all implementations
  // MUST support, CompressionMethod.null".
  if (!compressionMethods.includes(CompressionMethod.null)) {
    throw illegalValue(methods.where, `null (0) missing from [${compressionMethods.join(", ")}]`);
  }
  // RFC 5246 §7.4.1.2: "the presence of extensions can be detected by
  // determining whether there are bytes following the compression_methods
  // at the end of the ClientHello", and a server MUST accept both forms.
  let extensions: ClientExtension[] | null = null;
  if (!r.atEnd()) extensions = parseClientExtensions(r.vector16("extensions"));
  r.expectEnd();
  return { clientVersion, random, sessionId, cipherSuites, compressionMethods, extensions };
}

export function writeClientHello(w: Writer, m: ClientHello): void {
  w.u16(m.clientVersion).bytes(m.random).opaque8(m.sessionId);
  w.vector16((w) => {
    for (const s of m.cipherSuites) w.u16(s);
  });
  w.opaque8(Uint8Array.from(m.compressionMethods));
  if (m.extensions !== null) {
    const list = m.extensions;
    w.vector16((w) => writeClientExtensions(w, list));
  }
}

/** RFC 5746 §3.3 / RFC 7507 §2: signalling values in cipher_suites. */
export function offersScsv(m: ClientHello, scsv: (typeof SignallingSuite)[keyof typeof SignallingSuite]): boolean {
  return m.cipherSuites.includes(scsv);
}

/** The typed extension of the given kind, if the client sent it. */
export function clientExtension<K extends Exclude<ClientExtension["type"], "unknown">>(
  m: ClientHello,
  type: K,
): Extract<ClientExtension, { type: K }> | undefined {
  return findExtension(m.extensions, type);
}
