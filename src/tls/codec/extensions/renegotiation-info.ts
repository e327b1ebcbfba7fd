// renegotiation_info (RFC 5746 §3.2): binds a renegotiation to the previous
// handshake's Finished messages. On an initial handshake the client's is
// empty and the server answers with an empty one; the engine compares the
// contents with the saved verify_data (RFC 5746 §3.6-§3.7).
//
//   struct { opaque renegotiated_connection<0..255>; } RenegotiationInfo;
//
// The same syntax serves both directions: the client sends its last
// verify_data, the server client_verify_data + server_verify_data.

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface RenegotiationInfo {
  readonly type: "renegotiation_info";
  readonly renegotiatedConnection: Uint8Array;
}

export function parseRenegotiationInfo(r: Reader): RenegotiationInfo {
  return { type: "renegotiation_info", renegotiatedConnection: r.opaque8("renegotiated_connection") };
}

export function writeRenegotiationInfo(w: Writer, ext: RenegotiationInfo): void {
  w.opaque8(ext.renegotiatedConnection);
}
