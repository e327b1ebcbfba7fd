// supported_groups (RFC 8422 §5.1.1, renamed from elliptic_curves by RFC
// 7919). Parsed and ignored while only static RSA suites exist; ECDHE
// suites will choose their group from it (DESIGN.md "Coming later").
//
//   struct { NamedGroup named_group_list<2..2^16-1> } NamedGroupList;

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface SupportedGroups {
  readonly type: "supported_groups";
  readonly groups: readonly number[];
}

export function parseSupportedGroups(r: Reader): SupportedGroups {
  return { type: "supported_groups", groups: r.vector16("named_group_list", { min: 2, max: 0xffff }).u16List() };
}

export function writeSupportedGroups(w: Writer, ext: SupportedGroups): void {
  w.vector16((w) => {
    for (const g of ext.groups) w.u16(g);
  });
}
