// ec_point_formats (RFC 8422 §5.1.2). Parsed and ignored while only static
// RSA suites exist; ECDHE suites will need it (DESIGN.md "Coming later").
//
//   enum { uncompressed(0), deprecated(1..2), reserved(248..255) } ECPointFormat;
//   struct { ECPointFormat ec_point_format_list<1..2^8-1> } ECPointFormatList;

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface EcPointFormats {
  readonly type: "ec_point_formats";
  readonly formats: readonly number[];
}

export function parseEcPointFormats(r: Reader): EcPointFormats {
  return { type: "ec_point_formats", formats: r.vector8("ec_point_format_list", { min: 1, max: 0xff }).u8List() };
}

export function writeEcPointFormats(w: Writer, ext: EcPointFormats): void {
  w.opaque8(Uint8Array.from(ext.formats));
}
