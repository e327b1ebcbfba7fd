// The extensions block of ClientHello and ServerHello (RFC 5246 §7.4.1.4):
//
//   struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } Extension;
//   Extension extensions<0..2^16-1>;
//
// One table per direction maps each known extension type to its parser and
// writer (one file each in this directory); unknown types are kept as raw
// {code, data} so the engine can ignore them (RFC 5246 §7.4.1.4: a server
// MUST ignore extensions it does not understand) and the list round-trips.
// Adding an extension is a new file plus one row here: the mapped types make
// the compiler insist on a parser and writer for every member of the union.

import { ExtensionType, extensionTypeName } from "../constants.js";
import { duplicate } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { parseEcPointFormats, writeEcPointFormats, type EcPointFormats } from "./ec-point-formats.js";
import { parseEncryptThenMac, writeEncryptThenMac, type EncryptThenMac } from "./encrypt-then-mac.js";
import {
  parseExtendedMasterSecret,
  writeExtendedMasterSecret,
  type ExtendedMasterSecret,
} from "./extended-master-secret.js";
import { parseRenegotiationInfo, writeRenegotiationInfo, type RenegotiationInfo } from "./renegotiation-info.js";
import {
  parseServerNameAck,
  parseServerNameList,
  writeServerNameAck,
  writeServerNameList,
  type ServerNameAck,
  type ServerNameList,
} from "./server-name.js";
import { parseSessionTicket, writeSessionTicket, type SessionTicket } from "./session-ticket.js";
import {
  parseSignatureAlgorithms,
  writeSignatureAlgorithms,
  type SignatureAlgorithms,
} from "./signature-algorithms.js";
import { parseSupportedGroups, writeSupportedGroups, type SupportedGroups } from "./supported-groups.js";
import {
  parseSupportedVersionsList,
  parseSupportedVersionsSelected,
  writeSupportedVersionsList,
  writeSupportedVersionsSelected,
  type SupportedVersionsList,
  type SupportedVersionsSelected,
} from "./supported-versions.js";

export type { EcPointFormats, EncryptThenMac, ExtendedMasterSecret, RenegotiationInfo, ServerNameAck, ServerNameList };
export type { SessionTicket, SignatureAlgorithms, SupportedGroups, SupportedVersionsList, SupportedVersionsSelected };

/** An extension this codec does not interpret, kept verbatim. */
export interface UnknownExtension {
  readonly type: "unknown";
  readonly code: number;
  readonly data: Uint8Array;
}

/** Extensions as they appear in a ClientHello. */
export type ClientExtension =
  | ServerNameList
  | SupportedGroups
  | EcPointFormats
  | SignatureAlgorithms
  | EncryptThenMac
  | ExtendedMasterSecret
  | SessionTicket
  | SupportedVersionsList
  | RenegotiationInfo
  | UnknownExtension;

/** Extensions as they appear in a ServerHello. */
export type ServerExtension =
  | ServerNameAck
  | EcPointFormats
  | EncryptThenMac
  | ExtendedMasterSecret
  | SessionTicket
  | SupportedVersionsSelected
  | RenegotiationInfo
  | UnknownExtension;

interface Codec<E> {
  readonly code: number;
  readonly parse: (r: Reader) => E;
  readonly write: (w: Writer, ext: E) => void;
}

type Codecs<U extends { type: string }> = {
  readonly [K in Exclude<U["type"], "unknown">]: Codec<Extract<U, { type: K }>>;
};

const T = ExtensionType;

const CLIENT_CODECS: Codecs<ClientExtension> = {
  server_name: { code: T.server_name, parse: parseServerNameList, write: writeServerNameList },
  supported_groups: { code: T.supported_groups, parse: parseSupportedGroups, write: writeSupportedGroups },
  ec_point_formats: { code: T.ec_point_formats, parse: parseEcPointFormats, write: writeEcPointFormats },
  signature_algorithms: {
    code: T.signature_algorithms,
    parse: parseSignatureAlgorithms,
    write: writeSignatureAlgorithms,
  },
  encrypt_then_mac: { code: T.encrypt_then_mac, parse: parseEncryptThenMac, write: writeEncryptThenMac },
  extended_master_secret: {
    code: T.extended_master_secret,
    parse: parseExtendedMasterSecret,
    write: writeExtendedMasterSecret,
  },
  session_ticket: { code: T.session_ticket, parse: parseSessionTicket, write: writeSessionTicket },
  supported_versions: {
    code: T.supported_versions,
    parse: parseSupportedVersionsList,
    write: writeSupportedVersionsList,
  },
  renegotiation_info: { code: T.renegotiation_info, parse: parseRenegotiationInfo, write: writeRenegotiationInfo },
};

const SERVER_CODECS: Codecs<ServerExtension> = {
  server_name: { code: T.server_name, parse: parseServerNameAck, write: writeServerNameAck },
  ec_point_formats: { code: T.ec_point_formats, parse: parseEcPointFormats, write: writeEcPointFormats },
  encrypt_then_mac: { code: T.encrypt_then_mac, parse: parseEncryptThenMac, write: writeEncryptThenMac },
  extended_master_secret: {
    code: T.extended_master_secret,
    parse: parseExtendedMasterSecret,
    write: writeExtendedMasterSecret,
  },
  session_ticket: { code: T.session_ticket, parse: parseSessionTicket, write: writeSessionTicket },
  supported_versions: {
    code: T.supported_versions,
    parse: parseSupportedVersionsSelected,
    write: writeSupportedVersionsSelected,
  },
  renegotiation_info: { code: T.renegotiation_info, parse: parseRenegotiationInfo, write: writeRenegotiationInfo },
};

const CLIENT_BY_CODE = codecsByCode(CLIENT_CODECS);
const SERVER_BY_CODE = codecsByCode(SERVER_CODECS);

/** Reads the contents of an extensions vector (the sub-reader vector16 returned). */
export function parseClientExtensions(r: Reader): ClientExtension[] {
  return parseBlock(r, CLIENT_BY_CODE);
}

export function writeClientExtensions(w: Writer, list: readonly ClientExtension[]): void {
  writeBlock(w, list, CLIENT_CODECS);
}

export function parseServerExtensions(r: Reader): ServerExtension[] {
  return parseBlock(r, SERVER_BY_CODE);
}

export function writeServerExtensions(w: Writer, list: readonly ServerExtension[]): void {
  writeBlock(w, list, SERVER_CODECS);
}

/** The extension of the given type, typed accordingly, if present. */
export function findExtension<E extends { type: string }, K extends Exclude<E["type"], "unknown">>(
  list: readonly E[] | null,
  type: K,
): Extract<E, { type: K }> | undefined {
  return list?.find((e): e is Extract<E, { type: K }> => e.type === type);
}

function parseBlock<E extends { type: string }>(r: Reader, byCode: Map<number, Codec<E>>): (E | UnknownExtension)[] {
  const seen = new Set<number>();
  const out: (E | UnknownExtension)[] = [];
  while (!r.atEnd()) {
    const code = r.u16("extension_type");
    const name = extensionTypeName(code);
    // RFC 5246 §7.4.1.4: "There MUST NOT be more than one extension of the
    // same type." The RFC names no alert; the bytes parse, the content is
    // forbidden, so illegal_parameter (see errors.ts).
    if (seen.has(code)) throw duplicate(r.where, `extension ${name} (${code})`);
    seen.add(code);
    const data = r.vector16(name);
    const codec = byCode.get(code);
    if (codec === undefined) {
      out.push({ type: "unknown", code, data: data.rest() });
      continue;
    }
    out.push(codec.parse(data));
    // Every extension_data has a defined end; bytes after it are malformed.
    data.expectEnd();
  }
  return out;
}

function writeBlock<E extends { type: string }>(w: Writer, list: readonly (E | UnknownExtension)[], codecs: Codecs<E>): void {
  const table = codecs as unknown as Record<string, Codec<E>>;
  for (const ext of list) {
    if (isUnknown(ext)) {
      w.u16(ext.code).opaque16(ext.data);
      continue;
    }
    const codec = table[ext.type]!;
    w.u16(codec.code).vector16((w) => codec.write(w, ext));
  }
}

function isUnknown(ext: { type: string }): ext is UnknownExtension {
  return ext.type === "unknown";
}

function codecsByCode<E extends { type: string }>(codecs: Codecs<E>): Map<number, Codec<E>> {
  const map = new Map<number, Codec<E>>();
  for (const codec of Object.values(codecs) as Codec<E>[]) map.set(codec.code, codec);
  return map;
}
