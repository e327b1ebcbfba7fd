// Types shared by every crypto provider (wasm, native, forge).
//
// The TLS engine imports plain functions through a provider record
// (src/crypto/provider.ts), never a WASM module or node:crypto directly
// (STYLE.md §5), so providers are interchangeable in tests and benches.

/** Hash algorithms used by TLS 1.0-1.2 with static RSA and CBC/RC4 suites. */
export type HashAlg = "md5" | "sha1" | "sha256";

export const HASH_LENGTH: Readonly<Record<HashAlg, number>> = { md5: 16, sha1: 20, sha256: 32 };

/**
 * The protocol versions whose record protection and PRFs the providers
 * implement, as wire values. (The codec's `ProtocolVersion` in
 * src/tls/codec/constants.ts is the wider set of values a peer may send,
 * TLS 1.3 included.)
 */
export const SSL3 = 0x0300;
export const TLS10 = 0x0301;
export const TLS11 = 0x0302;
export const TLS12 = 0x0303;
export type RecordVersion = typeof SSL3 | typeof TLS10 | typeof TLS11 | typeof TLS12;

/** RSA public key; integers are big-endian unsigned, no leading zero bytes. */
export interface RsaPublicKey {
  readonly n: Uint8Array;
  readonly e: Uint8Array;
  /** Modulus length in bits. */
  readonly bits: number;
}

/** RSA private key in CRT form. */
export interface RsaPrivateKey extends RsaPublicKey {
  readonly d: Uint8Array;
  readonly p: Uint8Array;
  readonly q: Uint8Array;
  readonly dp: Uint8Array;
  readonly dq: Uint8Array;
  readonly qinv: Uint8Array;
}
