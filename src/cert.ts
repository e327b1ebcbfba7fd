// Self-signed certificates for `sslacc cert`, `npm start` and tests.
//
// The RSA key comes from node:crypto (fast, OpenSSL's prime generation); the
// X.509 certificate is assembled and signed with node-forge.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

export interface SelfSignedOptions {
  /** Subject common name and first DNS subjectAltName. */
  readonly commonName?: string;
  /** Extra DNS names; IP addresses are recognised and put in iPAddress entries. */
  readonly altNames?: readonly string[];
  readonly bits?: number;
  readonly days?: number;
  readonly now?: Date;
}

export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

export function selfSignedCertificate(opts: SelfSignedOptions = {}): CertificateAndKey {
  const bits = opts.bits ?? 2048;
  if (![1024, 2048, 3072, 4096].includes(bits)) throw new RangeError(`cert: bits must be 1024, 2048, 3072 or 4096, got ${bits}`);
  const days = opts.days ?? 365;
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`cert: days must be a positive integer, got ${days}`);
  const commonName = opts.commonName ?? "localhost";
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits, publicExponent: 65537 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; clear the top bit.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  cert.serialNumber = serial.toString("hex");
  const now = opts.now ?? new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
  const attrs = [{ name: "commonName", value: commonName }, { name: "organizationName", value: "sslacc" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const names = [commonName, ...(opts.altNames ?? [])];
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
