// The daemon's certificates: PEM pairs (from files named on the command line
// or in the config file) checked in the main thread, then split in two —
// private keys for the RSA pool, chains + names + key ids for the shards,
// which build their TLS configuration from them (src/tls/config.ts, SNI
// selection by RFC 6066 §3 there).
//
//   files ──cli.ts──> CertificateSource[] ──prepareCertificates──> { keys → RsaPool, shard → ShardCertificate[] }
//   shard: ShardCertificate[] ──tlsConfigOf──> TlsServerConfig (the same on every shard: law 0)
//
// Everything a shard could reject is rejected here first, with the field
// at fault named, so a bad reload is refused before any shard sees it.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { rsaKeyFromKeyObject, rsaPublicKeyFromPem } from "../crypto/rsa-key.js";
import type { RsaPrivateKey } from "../crypto/types.js";
import { ConfigError, resolveConfig, type TlsServerConfig } from "../tls/config.js";

/** One certificate as given: PEM text, and where it came from (for error messages). */
export interface CertificateSource {
  /** PEM chain, leaf first. */
  readonly certPem: string;
  /** PEM RSA private key of the leaf (PKCS#1 or PKCS#8). */
  readonly keyPem: string;
  /** DNS names served (exact or "*.domain"); default: the leaf's subjectAltName DNS entries. */
  readonly names?: readonly string[];
  /** How errors name this entry's parts; default `certificates[i].cert` / `.key` / `.names`. */
  readonly fields?: { readonly cert: string; readonly key: string; readonly names: string };
}

/** What a shard gets: no private key (it stays with the RSA pool, SSLACC appendix A.1). */
export interface ShardCertificate {
  readonly certPem: string;
  readonly keyId: string;
  readonly names: readonly string[];
}

export interface PreparedCertificates {
  readonly shard: readonly ShardCertificate[];
  readonly keys: Readonly<Record<string, RsaPrivateKey>>;
  /** For logs and /status: names and validity of each certificate. */
  readonly summary: readonly { readonly names: readonly string[]; readonly subject: string; readonly validTo: string; readonly fingerprint256: string }[];
}

export class CertificateError extends Error {
  override readonly name = "CertificateError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemCertificates(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}

/** The DNS entries of a certificate's subjectAltName (IP entries are not names SNI can carry: RFC 6066 §3). */
export function subjectAltDnsNames(x509: X509Certificate): string[] {
  return (x509.subjectAltName ?? "").split(",").map((s) => s.trim()).filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
}

/**
 * Checks every source and gives key ids `${keyPrefix}/${i}`. The first
 * certificate is the default (served when the client sends no name or an
 * unknown one), so only it may serve no names. Throws CertificateError.
 */
export function prepareCertificates(sources: readonly CertificateSource[], keyPrefix: string): PreparedCertificates {
  if (sources.length === 0) throw new CertificateError("certificates", "at least one certificate is needed");
  const shard: ShardCertificate[] = [];
  const keys: Record<string, RsaPrivateKey> = {};
  const summary: PreparedCertificates["summary"][number][] = [];
  sources.forEach((src, i) => {
    const f = src.fields ?? { cert: `certificates[${i}].cert`, key: `certificates[${i}].key`, names: `certificates[${i}].names` };
    const pems = splitPemCertificates(src.certPem);
    if (pems.length === 0) throw new CertificateError(f.cert, "no PEM certificate (-----BEGIN CERTIFICATE-----) found");
    const chain = pems.map((p, j) => {
      try {
        return new X509Certificate(p);
      } catch (e) {
        throw new CertificateError(f.cert, `certificate ${j + 1} of the chain does not parse: ${(e as Error).message}`);
      }
    });
    const leaf = chain[0]!;
    // Static RSA key exchange only (the engine's suites): the leaf must carry an RSA key.
    if (leaf.publicKey.asymmetricKeyType !== "rsa") {
      throw new CertificateError(f.cert, `the leaf has a ${leaf.publicKey.asymmetricKeyType} key; only RSA certificates are supported (static RSA key exchange)`);
    }
    let keyObject: KeyObject;
    try {
      keyObject = createPrivateKey(src.keyPem);
    } catch (e) {
      throw new CertificateError(f.key, `not a PEM private key: ${(e as Error).message}`);
    }
    if (keyObject.asymmetricKeyType !== "rsa") throw new CertificateError(f.key, `a ${keyObject.asymmetricKeyType} key; expected RSA`);
    // A key that does not match would fail every handshake at the client's Finished; fail here instead.
    if (!leaf.checkPrivateKey(keyObject)) throw new CertificateError(f.key, `does not match the certificate (${leaf.subject.replace(/\n/g, ", ")})`);
    let names: readonly string[];
    if (src.names !== undefined) {
      if (!Array.isArray(src.names) || src.names.some((n) => typeof n !== "string" || n === "")) {
        throw new CertificateError(f.names, `expected an array of DNS names, got ${JSON.stringify(src.names)}`);
      }
      names = src.names;
    } else {
      names = subjectAltDnsNames(leaf);
      if (names.length === 0 && i > 0) {
        throw new CertificateError(f.names, "the certificate has no DNS subjectAltName and only the first (default) certificate may serve no names; list the names it serves");
      }
    }
    const entry: ShardCertificate = { certPem: pems.join("\n"), keyId: `${keyPrefix}/${i}`, names };
    // The engine's own checks (names syntax, key size), with the field renamed to this source's.
    try {
      tlsConfigOf([entry]);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const m = /^certificates\[0\]\.names(.*)$/.exec(e.field);
      throw new CertificateError(m ? `${f.names}${m[1]}` : f.cert, e.message.slice(e.field.length + 2));
    }
    shard.push(entry);
    keys[entry.keyId] = rsaKeyFromKeyObject(keyObject);
    summary.push({ names, subject: leaf.subject.replace(/\n/g, ", "), validTo: leaf.validTo, fingerprint256: leaf.fingerprint256 });
  });
  return { shard, keys, summary };
}

/** The TLS configuration a shard builds from its certificates; every shard builds the same one. */
export function tlsConfigOf(certs: readonly ShardCertificate[]): TlsServerConfig {
  return resolveConfig({
    certificates: certs.map((c) => ({
      names: c.names,
      certChainDer: splitPemCertificates(c.certPem).map((p) => new Uint8Array(new X509Certificate(p).raw)),
      keyId: c.keyId,
      key: rsaPublicKeyFromPem(c.certPem),
    })),
  });
}
