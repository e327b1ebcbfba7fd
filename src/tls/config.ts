// TlsServerConfig: what a node's TLS engine may negotiate and with which keys.
//
// Data flow: the CLI / node builds a `TlsServerConfigInput` from the command
// line or a file, `resolveConfig` fills defaults and validates it (every error
// names the field at fault), and the resolved, frozen `TlsServerConfig` is
// handed to every ServerConnection on every shard. Because every node of a
// cluster must produce the same bytes for a connection (DESIGN.md law 0), the
// configuration is part of what a restored connection depends on: nodes of one
// cluster must run the same configuration (same certificate order, same suite
// preference).
//
// Certificates carry the *public* key only as far as the engine is concerned:
// the private key lives with the RSA pool under `keyId` (paper appendix A.1),
// and the engine asks for a decryption by that id.
import type { RsaPublicKey } from "../crypto/types.js";
import { canonicalHostName, defaultRegistry, ProtocolVersion, versionName, type CipherSuiteRegistry } from "./codec/index.js";
import { DEFAULT_MAX_HANDSHAKE_LENGTH } from "./codec/handshake-framing.js";

/** One certificate chain and the names it serves (RFC 6066 §3 server_name). */
export interface CertificateEntry {
  /**
   * DNS names this chain serves: exact names ("www.example.com") or a
   * wildcard for exactly one leftmost label ("*.example.com", RFC 6125 §6.4.3).
   * Matched case-insensitively without a trailing dot.
   */
  readonly names: readonly string[];
  /** DER certificates, leaf first (RFC 5246 §7.4.2). */
  readonly certChainDer: readonly Uint8Array[];
  /** Name of the private key in the RSA pool. */
  readonly keyId: string;
  /** The leaf's RSA public key (a private key record also fits). */
  readonly key: RsaPublicKey;
}

/**
 * What to do when the client's server_name matches no certificate.
 * RFC 6066 §3 leaves two choices: "either abort the handshake by sending a
 * fatal-level unrecognized_name(112) alert or continue the handshake", and
 * says a *warning*-level unrecognized_name is NOT RECOMMENDED (clients react
 * unpredictably). Default "continue": serve the default (first) certificate
 * and do not acknowledge the name, which is what HTTPS servers do.
 */
export type UnrecognizedNamePolicy = "continue" | "fatal";

export interface SessionCacheConfig {
  /** Issue session IDs and resume by them (RFC 5246 §7.4.1.2). */
  readonly enabled: boolean;
  /** RFC 5246 Appendix F.1.4 suggests an upper limit of 24 hours. */
  readonly ttlMs: number;
  readonly maxEntries: number;
}

export interface Limits {
  /** Largest handshake message accepted (bytes of body). */
  readonly maxHandshakeMessage: number;
}

export interface TlsServerConfig {
  readonly certificates: readonly CertificateEntry[];
  readonly minVersion: ProtocolVersion;
  readonly maxVersion: ProtocolVersion;
  /** SSL 3.0 must be enabled explicitly (RFC 7568 §3 forbids it). */
  readonly allowSsl3: boolean;
  /** Enabled suite codes, in server preference order. */
  readonly cipherSuites: readonly number[];
  /** Pick by our order (true) or by the client's (false). */
  readonly preferServerCipherOrder: boolean;
  readonly registry: CipherSuiteRegistry;
  readonly unrecognizedName: UnrecognizedNamePolicy;
  readonly sessionCache: SessionCacheConfig;
  readonly limits: Limits;
}

/** Everything optional except the certificates. */
export interface TlsServerConfigInput {
  readonly certificates: readonly CertificateEntry[];
  readonly minVersion?: number;
  readonly maxVersion?: number;
  readonly allowSsl3?: boolean;
  readonly cipherSuites?: readonly (number | string)[];
  readonly preferServerCipherOrder?: boolean;
  readonly registry?: CipherSuiteRegistry;
  readonly unrecognizedName?: UnrecognizedNamePolicy;
  readonly sessionCache?: Partial<SessionCacheConfig>;
  readonly limits?: Partial<Limits>;
}

/** A configuration mistake; `field` is the dotted path of the offending setting. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

export const DEFAULT_SESSION_CACHE: SessionCacheConfig = { enabled: true, ttlMs: 2 * 3600_000, maxEntries: 20_000 };
export const DEFAULT_LIMITS: Limits = { maxHandshakeMessage: DEFAULT_MAX_HANDSHAKE_LENGTH };

const KNOWN_VERSIONS: readonly number[] = [ProtocolVersion.SSL3, ProtocolVersion.TLS10, ProtocolVersion.TLS11, ProtocolVersion.TLS12];

/** Fills defaults and validates; throws ConfigError naming the field. */
export function resolveConfig(input: TlsServerConfigInput): TlsServerConfig {
  const registry = input.registry ?? defaultRegistry;
  const cipherSuites = (input.cipherSuites ?? registry.suites.filter((s) => s.defaultEnabled).map((s) => s.code)).map((s, i) => {
    if (typeof s === "number") return s;
    const found = registry.suites.find((x) => x.name === s || x.name === `TLS_${s}`);
    if (!found) throw new ConfigError(`cipherSuites[${i}]`, `unknown suite name ${JSON.stringify(s)}`);
    return found.code;
  });
  const config: TlsServerConfig = {
    certificates: input.certificates,
    minVersion: (input.minVersion ?? ProtocolVersion.TLS10) as ProtocolVersion,
    maxVersion: (input.maxVersion ?? ProtocolVersion.TLS12) as ProtocolVersion,
    allowSsl3: input.allowSsl3 ?? false,
    cipherSuites,
    preferServerCipherOrder: input.preferServerCipherOrder ?? true,
    registry,
    unrecognizedName: input.unrecognizedName ?? "continue",
    sessionCache: { ...DEFAULT_SESSION_CACHE, ...input.sessionCache },
    limits: { ...DEFAULT_LIMITS, ...input.limits },
  };
  validateConfig(config);
  return Object.freeze(config);
}

/** Throws ConfigError for the first problem found. */
export function validateConfig(c: TlsServerConfig): void {
  if (!Array.isArray(c.certificates) || c.certificates.length === 0) {
    throw new ConfigError("certificates", "at least one certificate is needed (static RSA key exchange)");
  }
  c.certificates.forEach((cert, i) => validateCertificate(cert, `certificates[${i}]`));

  for (const [field, v] of [["minVersion", c.minVersion], ["maxVersion", c.maxVersion]] as const) {
    if (!KNOWN_VERSIONS.includes(v)) throw new ConfigError(field, `${versionName(v)} is not SSL 3.0 or TLS 1.0-1.2`);
  }
  if (c.minVersion > c.maxVersion) {
    throw new ConfigError("minVersion", `${versionName(c.minVersion)} is above maxVersion ${versionName(c.maxVersion)}`);
  }
  if (c.minVersion === ProtocolVersion.SSL3) {
    // RFC 7568 §3: "SSLv3 MUST NOT be used". Only an explicit opt-in may
    // list it, and even then the record layer has no SSL 3.0 MAC
    // (src/crypto/record.ts validateRecordState), so it cannot be served yet.
    if (!c.allowSsl3) throw new ConfigError("minVersion", "SSL 3.0 is prohibited (RFC 7568); set allowSsl3 to opt in");
    throw new ConfigError("minVersion", "SSL 3.0 is not implemented by the record layer (RFC 6101 §5.2.3.1 MAC)");
  }
  if (c.maxVersion === ProtocolVersion.SSL3) throw new ConfigError("maxVersion", "SSL 3.0 cannot be the highest version");

  if (c.cipherSuites.length === 0) throw new ConfigError("cipherSuites", "no suite enabled");
  const seen = new Set<number>();
  c.cipherSuites.forEach((code, i) => {
    const suite = c.registry.get(code);
    if (!suite) throw new ConfigError(`cipherSuites[${i}]`, `0x${code.toString(16).padStart(4, "0")} is not in the suite registry`);
    if (seen.has(code)) throw new ConfigError(`cipherSuites[${i}]`, `${suite.name} listed twice`);
    seen.add(code);
    if (suite.minVersion > c.maxVersion || suite.maxVersion < c.minVersion) {
      throw new ConfigError(`cipherSuites[${i}]`, `${suite.name} exists only in ${versionName(suite.minVersion)}..${versionName(suite.maxVersion)}, outside the enabled versions`);
    }
  });

  if (c.unrecognizedName !== "continue" && c.unrecognizedName !== "fatal") {
    throw new ConfigError("unrecognizedName", `expected "continue" or "fatal", got ${JSON.stringify(c.unrecognizedName)}`);
  }
  const sc = c.sessionCache;
  if (typeof sc.enabled !== "boolean") throw new ConfigError("sessionCache.enabled", "expected a boolean");
  if (!(Number.isFinite(sc.ttlMs) && sc.ttlMs > 0)) throw new ConfigError("sessionCache.ttlMs", `expected a positive number, got ${sc.ttlMs}`);
  if (!(Number.isInteger(sc.maxEntries) && sc.maxEntries > 0)) {
    throw new ConfigError("sessionCache.maxEntries", `expected a positive integer, got ${sc.maxEntries}`);
  }
  const m = c.limits.maxHandshakeMessage;
  // A ClientHello must fit; 2^24-1 is the uint24 ceiling of the header (RFC 5246 §7.4).
  if (!(Number.isInteger(m) && m >= 512 && m <= 0xffffff)) {
    throw new ConfigError("limits.maxHandshakeMessage", `expected an integer in 512..16777215, got ${m}`);
  }
}

function validateCertificate(cert: CertificateEntry, field: string): void {
  if (!Array.isArray(cert.certChainDer) || cert.certChainDer.length === 0) {
    throw new ConfigError(`${field}.certChainDer`, "the chain needs at least the leaf certificate");
  }
  cert.certChainDer.forEach((der, i) => {
    // DER SEQUENCE tag; a PEM string or an empty buffer here is the usual mistake.
    if (!(der instanceof Uint8Array) || der.length === 0 || der[0] !== 0x30) {
      throw new ConfigError(`${field}.certChainDer[${i}]`, "expected a DER-encoded certificate (starts with 0x30)");
    }
  });
  if (typeof cert.keyId !== "string" || cert.keyId === "") throw new ConfigError(`${field}.keyId`, "expected a non-empty string");
  if (!cert.key || !(cert.key.n instanceof Uint8Array) || cert.key.bits < 1024) {
    throw new ConfigError(`${field}.key`, "expected an RSA key of at least 1024 bits");
  }
  if (!Array.isArray(cert.names)) throw new ConfigError(`${field}.names`, "expected an array of DNS names");
  cert.names.forEach((name, i) => {
    const n = canonicalHostName(name);
    const labels = n.split(".");
    const bad = n === "" || labels.some((l) => l === "") || labels.slice(1).some((l) => l.includes("*")) ||
      (labels[0]!.includes("*") && (labels[0] !== "*" || labels.length < 3));
    if (bad) throw new ConfigError(`${field}.names[${i}]`, `${JSON.stringify(name)} is not a DNS name or a "*.domain.tld" wildcard`);
  });
}

/**
 * RFC 6066 §3 certificate choice: an exact name wins over a wildcard, a
 * wildcard covers exactly one leftmost label (RFC 6125 §6.4.3); no name or
 * no match gives the default (first) chain and `matched: false`.
 */
export function selectCertificate(config: TlsServerConfig, hostName: string | undefined): { index: number; matched: boolean } {
  if (hostName === undefined) return { index: 0, matched: false };
  const name = canonicalHostName(hostName);
  const certs = config.certificates;
  for (let i = 0; i < certs.length; i++) {
    if (certs[i]!.names.some((n) => canonicalHostName(n) === name)) return { index: i, matched: true };
  }
  const dot = name.indexOf(".");
  if (dot > 0) {
    const wildcard = `*${name.slice(dot)}`;
    for (let i = 0; i < certs.length; i++) {
      if (certs[i]!.names.some((n) => canonicalHostName(n) === wildcard)) return { index: i, matched: true };
    }
  }
  return { index: 0, matched: false };
}
