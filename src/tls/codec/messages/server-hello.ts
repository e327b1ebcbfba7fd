// ServerHello (RFC 5246 §7.4.1.3): the server's choices. The engine builds
// it from values drawn before the pre-ServerHello checkpoint (DESIGN.md law
// 0: the random and session id travel in the checkpoint), so writing it is
// pure. The parser exists for tests and for a future client side.
//
//   struct {
//       ProtocolVersion server_version;
//       Random random;
//       SessionID session_id;
//       CipherSuite cipher_suite;
//       CompressionMethod compression_method;
//       select (extensions_present) {
//           case false: struct {};
//           case true:  Extension extensions<0..2^16-1>;
//       };
//   } ServerHello;

import { MAX_SESSION_ID_LENGTH, RANDOM_LENGTH } from "../constants.js";
import { parseServerExtensions, writeServerExtensions, type ServerExtension } from "../extensions/index.js";
import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface ServerHello {
  readonly serverVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  /** null: no extensions block. RFC 5246 §7.4.1.4 forbids an extension the client did not send. */
  readonly extensions: readonly ServerExtension[] | null;
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new Reader(body, "ServerHello");
  const serverVersion = r.u16("server_version");
  const random = r.bytes(RANDOM_LENGTH, "random");
  const sessionId = r.opaque8("session_id", { min: 0, max: MAX_SESSION_ID_LENGTH });
  const cipherSuite = r.u16("cipher_suite");
  const compressionMethod = r.u8("compression_method");
  let extensions: ServerExtension[] | null = null;
  if (!r.atEnd()) extensions = parseServerExtensions(r.vector16("extensions"));
  r.expectEnd();
  return { serverVersion, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function writeServerHello(w: Writer, m: ServerHello): void {
  if (m.random.length !== RANDOM_LENGTH) throw new RangeError(`ServerHello.random must be ${RANDOM_LENGTH} bytes`);
  if (m.sessionId.length > MAX_SESSION_ID_LENGTH) throw new RangeError("ServerHello.session_id longer than 32 bytes");
  w.u16(m.serverVersion).bytes(m.random).opaque8(m.sessionId).u16(m.cipherSuite).u8(m.compressionMethod);
  if (m.extensions !== null) {
    const list = m.extensions;
    w.vector16((w) => writeServerExtensions(w, list));
  }
}
