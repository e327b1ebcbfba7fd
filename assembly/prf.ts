// Key derivation for SSL 3.0 and TLS 1.0-1.2: the PRFs that turn the
// pre-master secret into the master secret, the master secret into the key
// block, and the handshake hash into the Finished verify_data.
//
// Callers pass label ‖ seed already concatenated (the glue
// src/crypto/wasm/hash.ts lays them out in scratch); output goes to `out`.
// Everything here is built from hmac.ts and the hashes; key-dependent static
// scratch is wiped before returning.
import { ALG_MD5, ALG_SHA1, ALG_SHA256, MAX_DIGEST } from "./hash-common";
import { hmacCtxSize, hmacInit, hmacUpdate, hmacFinal, hashDigestLen } from "./hmac";
import { md5Init, md5Update, md5Final } from "./md5";
import { sha1Init, sha1Update, sha1Final } from "./sha1";

const HMAC_CTX: usize = memory.data(256, 16);
const A: usize = memory.data(MAX_DIGEST, 16);
const BLOCK: usize = memory.data(MAX_DIGEST, 16);
const HASH_CTX: usize = memory.data(128, 16);
const LETTERS: usize = memory.data(26, 16);

/**
 * RFC 5246 §5 (same as RFC 2246 §5):
 *   P_hash(secret, seed) = HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ ...
 *   A(0) = seed, A(i) = HMAC(secret, A(i-1)).
 * Writes (or, with `xor`, XORs into) `outLen` bytes at `out`. The key is set
 * up once; hmacFinal leaves the context rewound to it for the next HMAC.
 */
function pHash(alg: i32, secret: usize, secretLen: i32, seed: usize, seedLen: i32, out: usize, outLen: i32, xor: bool): void {
  const dlen = hashDigestLen(alg);
  hmacInit(alg, HMAC_CTX, secret, secretLen);
  hmacUpdate(alg, HMAC_CTX, seed, seedLen);
  hmacFinal(alg, HMAC_CTX, A); // A(1)
  let done: i32 = 0;
  while (done < outLen) {
    hmacUpdate(alg, HMAC_CTX, A, dlen);
    hmacUpdate(alg, HMAC_CTX, seed, seedLen);
    hmacFinal(alg, HMAC_CTX, BLOCK);
    const n = min(dlen, outLen - done);
    const dst = out + <usize>done;
    if (xor) {
      for (let i: usize = 0; i < <usize>n; i++) store<u8>(dst + i, load<u8>(dst + i) ^ load<u8>(BLOCK + i));
    } else {
      memory.copy(dst, BLOCK, n);
    }
    done += n;
    if (done < outLen) {
      hmacUpdate(alg, HMAC_CTX, A, dlen);
      hmacFinal(alg, HMAC_CTX, A); // A(i+1)
    }
  }
  memory.fill(HMAC_CTX, 0, hmacCtxSize());
  memory.fill(A, 0, MAX_DIGEST);
  memory.fill(BLOCK, 0, MAX_DIGEST);
}

/**
 * TLS 1.2 PRF (RFC 5246 §5): PRF(secret, label, seed) = P_<hash>(secret,
 * label ‖ seed). `hashAlg` is the suite's PRF hash; only SHA-256 (3) is
 * supported now (all TLS 1.2 suites we offer use it; SHA-384 would be added
 * here). MD5/SHA-1 are not TLS 1.2 PRF hashes and abort.
 */
export function prfTls12(
  hashAlg: i32, secret: usize, secretLen: i32, labelSeed: usize, labelSeedLen: i32, out: usize, outLen: i32,
): void {
  if (hashAlg != ALG_SHA256) abort("TLS 1.2 PRF: unsupported hash");
  pHash(hashAlg, secret, secretLen, labelSeed, labelSeedLen, out, outLen, false);
}

/**
 * TLS 1.0/1.1 PRF (RFC 2246 §5, unchanged in RFC 4346 §5):
 *   PRF = P_MD5(S1, label ‖ seed) ⊕ P_SHA-1(S2, label ‖ seed)
 * where S1 is the first and S2 the last ceil(len/2) bytes of the secret
 * (they share the middle byte when the length is odd).
 */
export function prfTls10(secret: usize, secretLen: i32, labelSeed: usize, labelSeedLen: i32, out: usize, outLen: i32): void {
  const half = (secretLen + 1) >> 1;
  pHash(ALG_MD5, secret, half, labelSeed, labelSeedLen, out, outLen, false);
  pHash(ALG_SHA1, secret + <usize>(secretLen - half), half, labelSeed, labelSeedLen, out, outLen, true);
}

/** Longest SSL 3.0 derivation output: 26 labels 'A'..'Z' of 16 bytes each. */
const SSL3_MAX_OUT: i32 = 26 * 16;

/**
 * SSL 3.0 key derivation (RFC 6101 §6.1 and §6.2.2): output block i (from 0) is
 *   MD5(secret ‖ SHA-1(L_i ‖ secret ‖ randoms)),  L_i = i+1 copies of 'A'+i
 * ("A", "BB", "CCC", ...), concatenated and truncated to `outLen`.
 *
 * The same construction serves both derivations; only the inputs differ:
 *   master secret: secret = pre_master_secret,
 *                  randoms = ClientHello.random ‖ ServerHello.random, outLen 48
 *   key block:     secret = master_secret,
 *                  randoms = ServerHello.random ‖ ClientHello.random
 * (note the swapped order), which is also the seed order TLS passes to its PRF.
 * `outLen` must be at most SSL3_MAX_OUT (416); more aborts.
 */
export function ssl3KeyBlock(secret: usize, secretLen: i32, randoms: usize, randomsLen: i32, out: usize, outLen: i32): void {
  if (outLen > SSL3_MAX_OUT) abort("SSL 3.0 key block: too long");
  let done: i32 = 0;
  for (let i: i32 = 0; done < outLen; i++) {
    memory.fill(LETTERS, <u8>(0x41 + i), i + 1);
    sha1Init(HASH_CTX);
    sha1Update(HASH_CTX, LETTERS, i + 1);
    sha1Update(HASH_CTX, secret, secretLen);
    sha1Update(HASH_CTX, randoms, randomsLen);
    sha1Final(HASH_CTX, A);
    md5Init(HASH_CTX);
    md5Update(HASH_CTX, secret, secretLen);
    md5Update(HASH_CTX, A, 20);
    md5Final(HASH_CTX, BLOCK);
    const n = min(16, outLen - done);
    memory.copy(out + <usize>done, BLOCK, n);
    done += n;
  }
  memory.fill(HASH_CTX, 0, 128);
  memory.fill(A, 0, MAX_DIGEST);
  memory.fill(BLOCK, 0, MAX_DIGEST);
}
