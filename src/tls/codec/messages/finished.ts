// Finished (RFC 5246 §7.4.9): the first message under the new keys, proving
// both sides saw the same handshake. The codec only frames verify_data; the
// engine computes the expected value with the PRF and compares in constant
// time.
//
//   struct { opaque verify_data[verify_data_length]; } Finished;
//
// verify_data_length is 12 for every TLS suite defined so far (RFC 5246
// §7.4.9); SSL 3.0 sends md5_hash[16] + sha_hash[20] = 36 bytes (RFC 6101
// §5.6.9).

import { ProtocolVersion, SSL3_VERIFY_DATA_LENGTH, TLS_VERIFY_DATA_LENGTH } from "../constants.js";
import { wrongLength } from "../errors.js";
import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface Finished {
  readonly verifyData: Uint8Array;
}

/** Expected verify_data length at a version. */
export function verifyDataLength(version: number): number {
  return version === ProtocolVersion.SSL3 ? SSL3_VERIFY_DATA_LENGTH : TLS_VERIFY_DATA_LENGTH;
}

/** `expectedLength` is verifyDataLength(negotiated version). */
export function parseFinished(body: Uint8Array, expectedLength: number): Finished {
  // The whole body is verify_data; a wrong length is a wrong-length message
  // (decode_error), not a wrong value (that is decrypt_error, RFC 5246
  // §7.4.9, and the engine's call).
  if (body.length !== expectedLength) throw wrongLength("Finished.verify_data", body.length, expectedLength);
  return { verifyData: new Reader(body, "Finished").rest() };
}

export function writeFinished(w: Writer, m: Finished): void {
  w.bytes(m.verifyData);
}
