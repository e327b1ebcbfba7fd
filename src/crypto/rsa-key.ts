// RSA keys from PEM and fresh test keys, as the plain byte records of
// src/crypto/types.ts that every provider takes.
//
// Parsing goes through node:crypto (createPrivateKey, then a JWK export,
// RFC 7518 §6.3) so this module carries no ASN.1 code of its own; the JWK
// members are base64url big-endian integers, exactly the fields we need.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { RsaPrivateKey, RsaPublicKey } from "./types.js";

/** base64url (RFC 4648 §5) to bytes, leading zero bytes stripped. */
function b64uInt(s: string | undefined, member: string): Uint8Array {
  if (s === undefined) throw new Error(`RSA JWK lacks member "${member}"`);
  const bytes = new Uint8Array(Buffer.from(s, "base64url"));
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i).slice();
}

function bitLength(n: Uint8Array): number {
  if (n.length === 0) return 0;
  return (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
}

/** The private key of a node:crypto KeyObject. */
export function rsaKeyFromKeyObject(key: KeyObject): RsaPrivateKey {
  if (key.asymmetricKeyType !== "rsa") throw new Error(`not an RSA key: ${key.asymmetricKeyType}`);
  const jwk = key.export({ format: "jwk" });
  const n = b64uInt(jwk.n, "n");
  return {
    n,
    e: b64uInt(jwk.e, "e"),
    bits: bitLength(n),
    d: b64uInt(jwk.d, "d"),
    p: b64uInt(jwk.p, "p"),
    q: b64uInt(jwk.q, "q"),
    dp: b64uInt(jwk.dp, "dp"),
    dq: b64uInt(jwk.dq, "dq"),
    qinv: b64uInt(jwk.qi, "qi"),
  };
}

/** A PKCS#1 or PKCS#8 PEM RSA private key. */
export function rsaKeyFromPem(pem: string): RsaPrivateKey {
  return rsaKeyFromKeyObject(createPrivateKey(pem));
}

/** The public half of a PEM key: SPKI/PKCS#1 public keys, certificates' keys, or a private key. */
export function rsaPublicKeyFromPem(pem: string): RsaPublicKey {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "rsa") throw new Error(`not an RSA key: ${key.asymmetricKeyType}`);
  const jwk = key.export({ format: "jwk" });
  const n = b64uInt(jwk.n, "n");
  return { n, e: b64uInt(jwk.e, "e"), bits: bitLength(n) };
}

export function rsaPublicOf(key: RsaPrivateKey): RsaPublicKey {
  return { n: key.n, e: key.e, bits: key.bits };
}

/** A fresh key for tests and benches (slow for 4096 bits: seconds). */
export function generateRsaKey(bits: number, publicExponent = 65537): RsaPrivateKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: bits, publicExponent });
  return rsaKeyFromKeyObject(privateKey);
}
