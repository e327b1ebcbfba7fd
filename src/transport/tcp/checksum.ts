// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
// complement sum of the data taken as big-endian 16-bit words, an odd final
// byte padded with zero. IPv4 headers (RFC 791) and TCP segments with their
// pseudo-header (RFC 9293 §3.1) both use it. The kernel of a real client
// validates ours (no offload on TAP frames, NOTES.md), so it must be exact.

/** One's complement sum (not yet complemented) of `data`, added to `acc`. */
export function onesSum(data: Uint8Array, acc = 0): number {
  let sum = acc;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length & 1) sum += data[data.length - 1]! << 8;
  // Fold the carries back in (end-around carry).
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for `data` (with its checksum field zeroed). */
export function internetChecksum(data: Uint8Array, acc = 0): number {
  return ~onesSum(data, acc) & 0xffff;
}
