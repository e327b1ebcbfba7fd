// encrypt_then_mac (RFC 7366): CBC records MAC the ciphertext instead of the
// plaintext, removing padding-oracle attacks. Both hellos carry it as a flag;
// it only means something with a block cipher (RFC 7366 §3).

import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { parseEmpty } from "./empty.js";

export interface EncryptThenMac {
  readonly type: "encrypt_then_mac";
}

export function parseEncryptThenMac(r: Reader): EncryptThenMac {
  // RFC 7366 §2: 'The "extension_data" field of this extension SHALL be empty.'
  parseEmpty(r, "RFC 7366 §2");
  return { type: "encrypt_then_mac" };
}

export function writeEncryptThenMac(_w: Writer, _ext: EncryptThenMac): void {}
