// Byte-array helpers shared by the crypto glue, the TLS engine and the relay.
// Pure functions: safe to import from the sans-I/O modules.

/** The parts, one after the other, in a new array (a lone part is copied too). */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  return concatList(parts);
}

/** concatBytes for a list of any length (a spread call is bounded by the stack). */
export function concatList(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
