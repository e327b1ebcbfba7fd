// server_name (RFC 6066 §3), "SNI": the host name the client wants, read
// from the ClientHello to pick a certificate; the ServerHello answers with an
// empty server_name extension when the name was used.
//
//   struct {
//       NameType name_type;
//       select (name_type) {
//           case host_name: HostName;
//       } name;
//   } ServerName;
//   enum { host_name(0), (255) } NameType;
//   opaque HostName<1..2^16-1>;
//   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
//
// Host names: RFC 6066 §3 says HostName is "a byte string using ASCII
// encoding without a trailing dot". We refuse non-ASCII, control characters
// and spaces (illegal_parameter: they cannot be a DNS name and an embedded
// NUL is a classic certificate-matching trick), but accept a trailing dot,
// which some clients send for fully-qualified names, and keep the name
// exactly as sent; canonicalHostName() gives the lookup form (lower case, no
// trailing dot). IP literals, also not permitted by §3, are passed through
// for the certificate selector to ignore.

import { illegalValue, undecodable, duplicate } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { parseEmpty } from "./empty.js";

export const NameType = { host_name: 0 } as const;

/** ClientHello form: the list holds at most one name per type, and only host_name is defined. */
export interface ServerNameList {
  readonly type: "server_name";
  readonly hostName: string;
}

/** ServerHello form: empty extension_data, "I used your name". */
export interface ServerNameAck {
  readonly type: "server_name";
}

export function parseServerNameList(r: Reader): ServerNameList {
  const list = r.vector16("server_name_list", { min: 1, max: 0xffff });
  let hostName: string | undefined;
  while (!list.atEnd()) {
    const nameType = list.u8("name_type");
    if (nameType !== NameType.host_name) {
      // The select has no other arm, so the entry's length is unknowable.
      throw undecodable(`${list.where}.name_type`, `unknown name_type ${nameType} (RFC 6066 §3 defines host_name(0) only)`);
    }
    const name = list.opaque16("host_name", { min: 1, max: 0xffff });
    // RFC 6066 §3: "The ServerNameList MUST NOT contain more than one name
    // of the same name_type."
    if (hostName !== undefined) throw duplicate(list.where, "host_name");
    hostName = decodeHostName(name, `${list.where}.host_name`);
  }
  return { type: "server_name", hostName: hostName! };
}

export function writeServerNameList(w: Writer, ext: ServerNameList): void {
  w.vector16((w) => {
    w.u8(NameType.host_name).opaque16(encodeAscii(ext.hostName));
  });
}

export function parseServerNameAck(r: Reader): ServerNameAck {
  // RFC 6066 §3: the server's "extension_data" field "SHALL be empty".
  parseEmpty(r, "RFC 6066 §3");
  return { type: "server_name" };
}

export function writeServerNameAck(_w: Writer, _ext: ServerNameAck): void {}

/** Lower case without one trailing dot: the form to look certificates up by. */
export function canonicalHostName(name: string): string {
  return (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
}

function decodeHostName(bytes: Uint8Array, field: string): string {
  for (const b of bytes) {
    if (b <= 0x20 || b >= 0x7f) throw illegalValue(field, `byte 0x${b.toString(16).padStart(2, "0")} is not printable ASCII`);
  }
  const name = String.fromCharCode(...bytes);
  if (name.startsWith(".") || name.includes("..")) throw illegalValue(field, `empty label in "${name}"`);
  return name;
}

function encodeAscii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`host name ${JSON.stringify(s)} is not ASCII`);
    out[i] = c;
  }
  return out;
}
