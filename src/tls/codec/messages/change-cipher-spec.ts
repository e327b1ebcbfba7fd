// ChangeCipherSpec (RFC 5246 §7.1): its own content type, not a handshake
// message; it switches the read (or write) side to the pending keys. The
// engine must call HandshakeReassembler.checkInterleaving first, so that no
// handshake message spans the key change.
//
//   struct { enum { change_cipher_spec(1), (255) } type; } ChangeCipherSpec;

import { illegalValue, wrongLength } from "../errors.js";
import type { Writer } from "../writer.js";

export interface ChangeCipherSpec {
  readonly kind: "change_cipher_spec";
}

export const CHANGE_CIPHER_SPEC_VALUE = 1;

export function parseChangeCipherSpec(body: Uint8Array): ChangeCipherSpec {
  // RFC 5246 §7.1: "The message consists of a single byte of value 1."
  if (body.length !== 1) throw wrongLength("ChangeCipherSpec", body.length, 1);
  if (body[0] !== CHANGE_CIPHER_SPEC_VALUE) throw illegalValue("ChangeCipherSpec.type", `value ${body[0]}, expected 1`);
  return { kind: "change_cipher_spec" };
}

export function writeChangeCipherSpec(w: Writer, _m: ChangeCipherSpec): void {
  w.u8(CHANGE_CIPHER_SPEC_VALUE);
}
