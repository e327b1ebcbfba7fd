// Shared by the extensions whose extension_data is empty: they are flags
// whose presence is the whole message.

import { notEmpty } from "../errors.js";
import type { Reader } from "../reader.js";

/** Reads an extension_data that must be empty; `rfc` cites the rule. */
export function parseEmpty(r: Reader, rfc: string): void {
  if (!r.atEnd()) throw notEmpty(r.where, r.remaining, rfc);
}
