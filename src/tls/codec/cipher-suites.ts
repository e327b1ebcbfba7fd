// The cipher-suite registry: what each suite code means, as data.
//
// The handshake looks a client's offered codes up here to pick a suite; the
// key schedule and record protection read the lengths and algorithms from the
// chosen entry. Nothing else in the codebase should switch on a suite code.
//
// Adding a suite family later (ECDHE key exchange, AEAD ciphers, TLS 1.3
// suites; DESIGN.md "Coming later") means widening the KeyExchange /
// CipherName / MacAlgorithm unions and adding rows - the unions make every
// switch over them fail to compile until it handles the new member.

import { assertNever } from "./assert-never.js";
import { ProtocolVersion } from "./constants.js";

/** How the premaster secret is established. */
export type KeyExchange = "rsa";

/** Bulk cipher, named as the crypto providers name them. */
export type CipherName = "aes128-cbc" | "aes256-cbc" | "rc4-128";

/** RFC 5246 §6.1 SecurityParameters.cipher_type. */
export type CipherType = "block" | "stream";

/** Record MAC hash (HMAC for TLS, the SSL 3.0 MAC for SSL 3.0). */
export type MacAlgorithm = "md5" | "sha1" | "sha256";

/** Hash of the TLS 1.2 PRF (RFC 5246 §5). TLS 1.0/1.1 always use MD5 + SHA-1 (RFC 4346 §5). */
export type PrfHash = "sha256";

export interface CipherSuite {
  readonly code: number;
  /** IANA name. */
  readonly name: string;
  readonly keyExchange: KeyExchange;
  readonly cipher: CipherName;
  readonly cipherType: CipherType;
  /** Encryption key length in bytes (RFC 5246 Appendix C "Key Material"). */
  readonly keyLength: number;
  /**
   * RFC 5246 Appendix C "IV Size": the cipher's block size for CBC, 0 for
   * stream ciphers. Whether the IV comes from the key block (TLS 1.0) or
   * travels in each record (TLS 1.1+) depends on the version: see
   * keyBlockIvLength().
   */
  readonly ivLength: number;
  readonly mac: MacAlgorithm;
  /** MAC output length = MAC key length (RFC 5246 Appendix C "Mac Key Length"). */
  readonly macLength: number;
  /** Lowest protocol version the suite is defined for. */
  readonly minVersion: ProtocolVersion;
  /** Highest protocol version the suite is defined for. */
  readonly maxVersion: ProtocolVersion;
  readonly prfHash: PrfHash;
  /** Offered/accepted unless configuration says otherwise. */
  readonly defaultEnabled: boolean;
}

const AES128_CBC = { cipher: "aes128-cbc", cipherType: "block", keyLength: 16, ivLength: 16 } as const;
const AES256_CBC = { cipher: "aes256-cbc", cipherType: "block", keyLength: 32, ivLength: 16 } as const;
const RC4_128 = { cipher: "rc4-128", cipherType: "stream", keyLength: 16, ivLength: 0 } as const;
const MD5 = { mac: "md5", macLength: 16 } as const;
const SHA1 = { mac: "sha1", macLength: 20 } as const;
const SHA256 = { mac: "sha256", macLength: 32 } as const;
const { SSL3, TLS10, TLS12 } = ProtocolVersion;

/**
 * The static-RSA suites this server implements. None exists in TLS 1.3
 * (RFC 8446 §4.1.2 removes static RSA), hence maxVersion TLS 1.2 throughout.
 */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  {
    // RFC 3268 §3 (defined for TLS 1.0), RFC 5246 Appendix A.5.
    code: 0x002f,
    name: "TLS_RSA_WITH_AES_128_CBC_SHA",
    keyExchange: "rsa",
    ...AES128_CBC,
    ...SHA1,
    minVersion: TLS10,
    maxVersion: TLS12,
    prfHash: "sha256",
    defaultEnabled: true,
  },
  {
    code: 0x0035,
    name: "TLS_RSA_WITH_AES_256_CBC_SHA",
    keyExchange: "rsa",
    ...AES256_CBC,
    ...SHA1,
    minVersion: TLS10,
    maxVersion: TLS12,
    prfHash: "sha256",
    defaultEnabled: true,
  },
  {
    // RFC 5246 Appendix A.5: new in TLS 1.2, which is the first version
    // whose PRF and MAC negotiation can carry SHA-256.
    code: 0x003c,
    name: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    keyExchange: "rsa",
    ...AES128_CBC,
    ...SHA256,
    minVersion: TLS12,
    maxVersion: TLS12,
    prfHash: "sha256",
    defaultEnabled: true,
  },
  {
    code: 0x003d,
    name: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    keyExchange: "rsa",
    ...AES256_CBC,
    ...SHA256,
    minVersion: TLS12,
    maxVersion: TLS12,
    prfHash: "sha256",
    defaultEnabled: true,
  },
  {
    // RFC 7465 §2: RC4 suites MUST NOT be negotiated; kept for legacy
    // clients behind an explicit opt-in.
    code: 0x0005,
    name: "TLS_RSA_WITH_RC4_128_SHA",
    keyExchange: "rsa",
    ...RC4_128,
    ...SHA1,
    minVersion: SSL3,
    maxVersion: TLS12,
    prfHash: "sha256",
    defaultEnabled: false,
  },
  {
    code: 0x0004,
    name: "TLS_RSA_WITH_RC4_128_MD5",
    keyExchange: "rsa",
    ...RC4_128,
    ...MD5,
    minVersion: SSL3,
    maxVersion: TLS12,
    prfHash: "sha256",
    defaultEnabled: false,
  },
];

/** A set of suites indexed by code. Build another one to plug in more suites. */
export class CipherSuiteRegistry {
  private readonly byCode = new Map<number, CipherSuite>();

  constructor(readonly suites: readonly CipherSuite[]) {
    for (const s of suites) {
      if (this.byCode.has(s.code)) throw new Error(`cipher suite 0x${s.code.toString(16)} registered twice`);
      this.byCode.set(s.code, s);
    }
  }

  get(code: number): CipherSuite | undefined {
    return this.byCode.get(code);
  }

  /** A registry with more suites added, e.g. `defaultRegistry.with(ECDHE_SUITES)`. */
  with(extra: readonly CipherSuite[]): CipherSuiteRegistry {
    return new CipherSuiteRegistry([...this.suites, ...extra]);
  }
}

export const defaultRegistry = new CipherSuiteRegistry(CIPHER_SUITES);

/** Whether `suite` may be negotiated at `version`. */
export function suiteAllowedAt(suite: CipherSuite, version: number): boolean {
  return version >= suite.minVersion && version <= suite.maxVersion;
}

/**
 * Bytes of IV each direction takes from the key block. TLS 1.0 (and SSL 3.0)
 * chain CBC IVs from the key block (RFC 2246 §6.3); TLS 1.1 sends an explicit
 * IV per record instead (RFC 4346 §6.2.3.2), and TLS 1.2 generates key-block
 * IVs only for AEAD implicit nonces (RFC 5246 §6.3).
 */
export function keyBlockIvLength(suite: CipherSuite, version: number): number {
  switch (suite.cipherType) {
    case "stream":
      return 0;
    case "block":
      return version <= ProtocolVersion.TLS10 ? suite.ivLength : 0;
    default:
      return assertNever(suite.cipherType, "cipher type");
  }
}
