// supported_versions (RFC 8446 §4.2.1). A TLS 1.2 server never negotiates
// through it, but reads it to recognise TLS 1.3-capable clients, which send
// legacy_version 0x0303 and their real versions here: for logging, and for
// the downgrade sentinel a TLS 1.3-aware server puts in ServerHello.random
// (RFC 8446 §4.1.3).
//
//   ClientHello: ProtocolVersion versions<2..254>;
//   ServerHello: ProtocolVersion selected_version;

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface SupportedVersionsList {
  readonly type: "supported_versions";
  readonly versions: readonly number[];
}

export interface SupportedVersionsSelected {
  readonly type: "supported_versions";
  readonly selectedVersion: number;
}

export function parseSupportedVersionsList(r: Reader): SupportedVersionsList {
  return { type: "supported_versions", versions: r.vector8("versions", { min: 2, max: 254 }).u16List() };
}

export function writeSupportedVersionsList(w: Writer, ext: SupportedVersionsList): void {
  w.vector8((w) => {
    for (const v of ext.versions) w.u16(v);
  });
}

export function parseSupportedVersionsSelected(r: Reader): SupportedVersionsSelected {
  return { type: "supported_versions", selectedVersion: r.u16("selected_version") };
}

export function writeSupportedVersionsSelected(w: Writer, ext: SupportedVersionsSelected): void {
  w.u16(ext.selectedVersion);
}
