// extended_master_secret (RFC 7627): the master secret is derived from the
// session hash rather than the randoms, closing the triple-handshake attack.
// Both hellos carry it as a flag.

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { parseEmpty } from "./empty.js";

export interface ExtendedMasterSecret {
  readonly type: "extended_master_secret";
}

export function parseExtendedMasterSecret(r: Reader): ExtendedMasterSecret {
  // RFC 7627 §5.1: 'The "extension_data" field of this extension is empty.'
  parseEmpty(r, "RFC 7627 §5.1");
  return { type: "extended_master_secret" };
}

export function writeExtendedMasterSecret(_w: Writer, _ext: ExtendedMasterSecret): void {}
