// node:crypto (OpenSSL) counterpart of src/crypto/wasm/rsa.ts, for the
// native provider and as the reference in differential tests and benches.
//
// Raw RSA goes through privateDecrypt/publicEncrypt with RSA_NO_PADDING
// (OpenSSL blinds and fault-checks internally). PKCS#1 v1.5 decryption is
// refused by Node 20 (CVE-2023-46809, the Marvin attack), so the TLS
// pre-master is recovered by a raw decryption followed by the WASM
// constant-time unpadding, tlsPremasterUnpad (RFC 5246 §7.4.7.1).
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, type KeyObject } from "node:crypto";
import type { RsaPrivateKey, RsaPublicKey } from "../types.js";
import { tlsPremasterUnpad, rsaInputRangeError, RsaError } from "../wasm/rsa.js";

const privateObjects = new WeakMap<RsaPrivateKey, KeyObject>();
const publicObjects = new WeakMap<RsaPublicKey, KeyObject>();

const b64u = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64url");

/** The KeyObject of a key record, built once (RFC 7518 §6.3 JWK import). */
export function rsaPrivateKeyObject(key: RsaPrivateKey): KeyObject {
  let ko = privateObjects.get(key);
  if (!ko) {
    ko = createPrivateKey({
      format: "jwk",
      key: {
        kty: "RSA",
        n: b64u(key.n),
        e: b64u(key.e),
        d: b64u(key.d),
        p: b64u(key.p),
        q: b64u(key.q),
        dp: b64u(key.dp),
        dq: b64u(key.dq),
        qi: b64u(key.qinv),
      },
    });
    privateObjects.set(key, ko);
  }
  return ko;
}

export function rsaPublicKeyObject(key: RsaPublicKey): KeyObject {
  let ko = publicObjects.get(key);
  if (!ko) {
    ko = createPublicKey({ format: "jwk", key: { kty: "RSA", n: b64u(key.n), e: b64u(key.e) } });
    publicObjects.set(key, ko);
  }
  return ko;
}

/** k, the modulus length in bytes (RFC 8017 §2), from n itself. */
function modulusBytes(key: RsaPublicKey): number {
  let i = 0;
  while (i < key.n.length && key.n[i] === 0) i++;
  return key.n.length - i;
}

/** Left-pads to k bytes (OpenSSL's RSA_NO_PADDING wants exactly k). */
function toLength(input: Uint8Array, k: number, what: string): Buffer {
  let start = 0;
  while (input.length - start > k && input[start] === 0) start++;
  if (input.length - start > k) throw rsaInputRangeError(what);
  const out = Buffer.alloc(k);
  out.set(input.subarray(start), k - (input.length - start));
  return out;
}

/** Node reports an input >= n as an OpenSSL error; map it to ours. */
function rawOp(op: () => Buffer, what: string): Uint8Array {
  try {
    return new Uint8Array(op());
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    const msg = (err as Error).message ?? "";
    if (/TOO_LARGE|too large/i.test(code + msg)) throw rsaInputRangeError(what);
    throw err;
  }
}

/** RSADP via OpenSSL: input^d mod n, k bytes. */
export function nativeRsaPrivate(key: RsaPrivateKey, input: Uint8Array): Uint8Array {
  const buf = toLength(input, modulusBytes(key), "ciphertext");
  const ko = rsaPrivateKeyObject(key);
  return rawOp(() => privateDecrypt({ key: ko, padding: constants.RSA_NO_PADDING }, buf), "ciphertext");
}

/** RSAEP via OpenSSL: input^e mod n, k bytes. */
export function nativeRsaPublic(key: RsaPublicKey, input: Uint8Array): Uint8Array {
  const buf = toLength(input, modulusBytes(key), "message");
  const ko = rsaPublicKeyObject(key);
  return rawOp(() => publicEncrypt({ key: ko, padding: constants.RSA_NO_PADDING }, buf), "message");
}

/**
 * RFC 5246 §7.4.7.1 with OpenSSL for the exponentiation: a ciphertext that
 * cannot be decrypted (wrong length, >= n) yields the random pre-master,
 * like a bad padding.
 */
export function nativeRsaDecryptPremaster(
  key: RsaPrivateKey,
  ciphertext: Uint8Array,
  clientVersion: number,
  random46: Uint8Array,
): Uint8Array {
  const k = modulusBytes(key);
  let block: Uint8Array = new Uint8Array(k); // all zeros: fails the 00 02 check
  if (ciphertext.length <= k) {
    try {
      block = nativeRsaPrivate(key, ciphertext);
    } catch (err) {
      if (!(err instanceof RsaError && err.reason === "input-range")) throw err;
    }
  }
  const out = tlsPremasterUnpad(block, clientVersion, random46);
  block.fill(0);
  return out;
}
