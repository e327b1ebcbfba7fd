// SessionTicket (RFC 5077 §3.2). This server resumes from its clustered
// session cache, not from tickets, so it reads the client's ticket (empty
// when the client merely signals support) and ignores it; it would only send
// the empty ServerHello form if tickets were ever issued.
//
// The extension_data is the ticket itself, with no inner length.

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface SessionTicket {
  readonly type: "session_ticket";
  readonly ticket: Uint8Array;
}

export function parseSessionTicket(r: Reader): SessionTicket {
  return { type: "session_ticket", ticket: r.rest() };
}

export function writeSessionTicket(w: Writer, ext: SessionTicket): void {
  w.bytes(ext.ticket);
}
