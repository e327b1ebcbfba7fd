// Known-answer vectors for MD5, SHA-1 and SHA-256, transcribed from:
// - RFC 1321 Appendix A.5 ("Test suite") for MD5;
// - NIST's FIPS 180 example computations (csrc.nist.gov "Examples with
//   intermediate values", SHA1.pdf and SHA256.pdf, also listed in FIPS 180-2
//   Appendices A and B and RFC 6234 §8.5) for SHA-1 and SHA-256: "abc", the
//   448-bit two-block message, and one million repetitions of "a".
// Messages are ASCII; `repeat` repeats the message that many times.

export interface HashVector {
  readonly source: string;
  readonly message: string;
  readonly repeat?: number;
  readonly digest: string;
}

export const MD5_VECTORS: readonly HashVector[] = [
  { source: "RFC 1321 A.5", message: "", digest: "d41d8cd98f00b204e9800998ecf8427e" },
  { source: "RFC 1321 A.5", message: "a", digest: "0cc175b9c0f1b6a831c399e269772661" },
  { source: "RFC 1321 A.5", message: "abc", digest: "900150983cd24fb0d6963f7d28e17f72" },
  { source: "RFC 1321 A.5", message: "message digest", digest: "f96b697d7cb7938d525a2f31aaf161d0" },
  { source: "RFC 1321 A.5", message: "abcdefghijklmnopqrstuvwxyz", digest: "c3fcd3d76192e4007dfb496cca67e13b" },
  {
    source: "RFC 1321 A.5",
    message: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    digest: "d174ab98d277d9f5a5611c2c9f419d9f",
  },
  {
    source: "RFC 1321 A.5",
    message: "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
    digest: "57edf4a22be3c955ac49da2e2107b67a",
  },
];

export const SHA1_VECTORS: readonly HashVector[] = [
  { source: "FIPS 180 example SHA1 one block", message: "abc", digest: "a9993e364706816aba3e25717850c26c9cd0d89d" },
  {
    source: "FIPS 180 example SHA1 two blocks",
    message: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    digest: "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  },
  { source: "FIPS 180-2 A.3 long message", message: "a", repeat: 1_000_000, digest: "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
];

export const SHA256_VECTORS: readonly HashVector[] = [
  {
    source: "FIPS 180 example SHA256 one block",
    message: "abc",
    digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  },
  {
    source: "FIPS 180 example SHA256 two blocks",
    message: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  },
  {
    source: "FIPS 180-2 B.3 long message",
    message: "a",
    repeat: 1_000_000,
    digest: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  },
];
