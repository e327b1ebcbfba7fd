// TLS pre-master secret recovery from an RSA-decrypted block, RFC 5246
// §7.4.7.1, in constant time. Called by rsa.ts after the private operation
// (the fused rsaDecryptPremaster) and on its own by the native provider,
// which decrypts with node:crypto and unpads here.
//
// RFC 5246 §7.4.7.1: on any formatting error, or if the version in the
// pre-master does not match the ClientHello version, the server must carry
// on with a random 48-byte pre-master (client_version || 46 random bytes)
// so that Bleichenbacher's oracle (CRYPTO '98) and the Klima-Pokorny-Rosa
// version oracle (CHES 2003) learn nothing. So the whole block is always
// scanned, every check yields a mask, and the output is a mask select: no
// branch and no memory index depends on the block's contents.
//
// A valid block is 00 02 PS 00 M with PS >= 8 nonzero bytes and |M| = 48
// (RFC 8017 §7.2.2 step 3). Since |M| must be exactly 48, the separator must
// be the first zero byte after the 00 02 and must sit at index k-49: the
// position being checked is public, which keeps the scan simple.

import { ctIsZero, ctEq } from "./bigint";

export const PREMASTER_LENGTH: i32 = 48;

/**
 * out48 = M if block (k bytes) is 00 02 PS 00 M, |PS| >= 8 nonzero bytes,
 * |M| = 48 and M[0..2) = clientVersion; otherwise clientVersion || random46.
 */
export function tlsPremasterUnpad(block: usize, k: i32, clientVersion: u32, random46: usize, out48: usize): void {
  // Public: a modulus shorter than 2 + 8 + 1 + 48 bytes cannot carry a
  // valid block (and the indexes below would leave it).
  const longEnough = k >= 11 + PREMASTER_LENGTH;
  const sep = k - PREMASTER_LENGTH - 1;
  let good: u32 = 0;
  if (longEnough) {
    good = ctEq(load<u8>(block), 0x00);
    good &= ctEq(load<u8>(block + 1), 0x02);
    // PS: every byte from index 2 up to the separator is nonzero.
    let anyZero: u32 = 0;
    for (let i = 2; i < sep; i++) anyZero |= ctIsZero(load<u8>(block + <usize>i));
    good &= ~anyZero;
    good &= ctIsZero(load<u8>(block + <usize>sep));
    // The version check, RFC 5246 §7.4.7.1 (no TLS 1.0 "negotiated version" quirk).
    good &= ctEq(load<u8>(block + <usize>(sep + 1)), (clientVersion >> 8) & 0xff);
    good &= ctEq(load<u8>(block + <usize>(sep + 2)), clientVersion & 0xff);
  }
  // When good, M starts with the client version (checked above), so the
  // first two bytes are the client version either way.
  store<u8>(out48, <u8>(clientVersion >> 8));
  store<u8>(out48 + 1, <u8>clientVersion);
  const m = block + <usize>(sep + 1);
  const mask = <u8>good;
  for (let i = 2; i < PREMASTER_LENGTH; i++) {
    const fromBlock: u8 = longEnough ? load<u8>(m + <usize>i) : 0;
    const r = load<u8>(random46 + <usize>(i - 2));
    store<u8>(out48 + <usize>i, r ^ ((r ^ fromBlock) & mask));
  }
}
