// Hashes, HMAC and the TLS PRFs on node:crypto: the native provider's
// counterpart of src/crypto/wasm/hash.ts, same signatures and semantics, and
// the reference the WASM core is tested against.
//
// node:crypto cannot export a hash's internal state, so there is no streaming
// with export/import here, only one-shot functions.
import { createHash, createHmac } from "node:crypto";
import { HASH_LENGTH, SSL3, TLS10, TLS12, type HashAlg } from "../types.js";

/** RFC 6101 §6.2.2: 26 rounds ('A' to 'Z') of 16 bytes. */
const SSL3_MAX_KEY_BLOCK = 26 * 16;
const SSL3_LABELS = new Set(["master secret", "key expansion"]);

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

export function nativeHash(alg: HashAlg, data: Uint8Array): Uint8Array {
  return bytes(createHash(alg).update(data).digest());
}

export function nativeHmac(alg: HashAlg, key: Uint8Array, data: Uint8Array): Uint8Array {
  return bytes(createHmac(alg, key).update(data).digest());
}

/**
 * RFC 5246 §5 P_hash: A(0) = seed, A(i) = HMAC(secret, A(i-1)),
 * output HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ ...
 */
function pHash(alg: HashAlg, secret: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let a: Uint8Array = createHmac(alg, secret).update(seed).digest();
  for (let done = 0; done < length; done += HASH_LENGTH[alg]) {
    const block = createHmac(alg, secret).update(a).update(seed).digest();
    out.set(block.subarray(0, Math.min(block.length, length - done)), done);
    a = createHmac(alg, secret).update(a).digest();
  }
  return out;
}

/** RFC 6101 §6.1/§6.2.2: MD5(secret ‖ SHA-1("A" ‖ secret ‖ randoms)) ‖ MD5(secret ‖ SHA-1("BB" ‖ ...)) ‖ ... */
function ssl3KeyBlock(secret: Uint8Array, randoms: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i * 16 < length; i++) {
    const letters = new Uint8Array(i + 1).fill(0x41 + i);
    const inner = createHash("sha1").update(letters).update(secret).update(randoms).digest();
    const block = createHash("md5").update(secret).update(inner).digest();
    out.set(block.subarray(0, Math.min(16, length - i * 16)), i * 16);
  }
  return out;
}

/** Same contract as wasmPrf (src/crypto/wasm/hash.ts), including the SSL 3.0 label rule. */
export function nativePrf(version: number, secret: Uint8Array, label: string | Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`PRF length ${length}`);
  const lab = typeof label === "string" ? new TextEncoder().encode(label) : label;
  if (version === SSL3) {
    if (!SSL3_LABELS.has(new TextDecoder().decode(lab))) throw new RangeError("SSL 3.0 derives only the master secret and the key block");
    if (length > SSL3_MAX_KEY_BLOCK) throw new RangeError(`SSL 3.0 key block is at most ${SSL3_MAX_KEY_BLOCK} bytes`);
    return ssl3KeyBlock(secret, seed, length);
  }
  if (version < TLS10) throw new RangeError(`no PRF for protocol version 0x${version.toString(16)}`);
  const labelSeed = new Uint8Array(lab.length + seed.length);
  labelSeed.set(lab, 0);
  labelSeed.set(seed, lab.length);
  if (version >= TLS12) return pHash("sha256", secret, labelSeed, length);
  // RFC 2246 §5: S1 and S2 are the two halves, sharing the middle byte when the length is odd.
  const half = (secret.length + 1) >> 1;
  const out = pHash("md5", secret.subarray(0, half), labelSeed, length);
  const sha = pHash("sha1", secret.subarray(secret.length - half), labelSeed, length);
  for (let i = 0; i < length; i++) out[i]! ^= sha[i]!;
  return out;
}
