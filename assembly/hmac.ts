// HMAC (RFC 2104) over MD5, SHA-1 and SHA-256, plus the algorithm-id
// dispatch every caller above the single hashes uses.
//
// Data flow: the TLS PRFs (prf.ts) key one HMAC context per P_hash; the
// record code (seal/open) keys one per direction at ChangeCipherSpec and, for
// its constant-time MAC, starts from hmacInnerState / hmacOuterState and runs
// the compressions itself; the TS glue (src/crypto/wasm/hash.ts) offers
// one-shot and streaming HMAC.
//
// Algorithm ids (hash-common.ts): 1 = MD5, 2 = SHA-1, 3 = SHA-256. An unknown
// id aborts (the glue checks first, so that is a bug in the caller).
//
// HMAC context layout (HMAC_CTX_SIZE = 240 bytes, the same for every
// algorithm; stable, exportable like the hash contexts):
//   ctx + 0    inner hash context (room for the largest, 104 bytes): after
//              hmacInit / hmacReset / hmacFinal it holds exactly the state
//              after the block K0 ⊕ ipad (byte count 64, empty buffer)
//   ctx + 104  outer hash context: the state after K0 ⊕ opad (byte count
//              64); hmacFinal works on a copy, so it never changes
//   ctx + 208  chaining value after K0 ⊕ ipad (up to 32 bytes), kept so the
//              context can be reset for the next message under the same key
// The context layout of each hash is in hash-common.ts.
//
// Constant-time record MAC (the record code, Lucky13): copy the inner hash
// context out of hmacInnerState(ctx) (chaining value first, byte count 64),
// absorb header and data, finish the padding itself while running the same
// number of <hash>Compress calls whatever the data length (the length field
// counts the 64 key bytes too), take the digest from the chaining value, then
// hash it on a copy of hmacOuterState(ctx) (one compression of
// digest ‖ padding, byte count 64 + digest length).
import {
  ALG_MD5, ALG_SHA1, ALG_SHA256, BLOCK_LEN, MAX_HASH_CTX, MAX_DIGEST, countOffset, bufferOffset,
} from "./hash-common";
import { md5CtxSize, md5Init, md5Update, md5Final, md5Compress } from "./md5";
import { sha1CtxSize, sha1Init, sha1Update, sha1Final, sha1Compress } from "./sha1";
import { sha256CtxSize, sha256Init, sha256Update, sha256Final, sha256Compress } from "./sha256";

const INNER: usize = 0;
const OUTER: usize = <usize>MAX_HASH_CTX;
const INNER_CV: usize = OUTER + <usize>MAX_HASH_CTX;
const HMAC_CTX_SIZE: i32 = <i32>INNER_CV + MAX_DIGEST;

// Static scratch (no run-time allocation): the padded key block and, in
// hmacFinal, the inner digest and a copy of the outer context. Key-dependent
// ones are wiped before returning.
const PAD: usize = memory.data(BLOCK_LEN, 16);
const DIGEST: usize = memory.data(MAX_DIGEST, 16);
const OUTER_COPY: usize = memory.data(MAX_HASH_CTX, 16);

function unknownAlg(): void {
  abort("unknown hash algorithm id");
}

// --- Algorithm-id dispatch --------------------------------------------------

export function hashCtxSize(alg: i32): i32 {
  if (alg == ALG_MD5) return md5CtxSize();
  if (alg == ALG_SHA1) return sha1CtxSize();
  if (alg == ALG_SHA256) return sha256CtxSize();
  unknownAlg();
  return 0;
}

export function hashDigestLen(alg: i32): i32 {
  if (alg == ALG_MD5) return 16;
  if (alg == ALG_SHA1) return 20;
  if (alg == ALG_SHA256) return 32;
  unknownAlg();
  return 0;
}

/** Words in the chaining value; the byte count follows it (hash-common.ts). */
function cvWords(alg: i32): i32 {
  return hashDigestLen(alg) >> 2;
}

export function hashInit(alg: i32, ctx: usize): void {
  if (alg == ALG_MD5) md5Init(ctx);
  else if (alg == ALG_SHA1) sha1Init(ctx);
  else if (alg == ALG_SHA256) sha256Init(ctx);
  else unknownAlg();
}

export function hashUpdate(alg: i32, ctx: usize, data: usize, len: i32): void {
  if (alg == ALG_MD5) md5Update(ctx, data, len);
  else if (alg == ALG_SHA1) sha1Update(ctx, data, len);
  else if (alg == ALG_SHA256) sha256Update(ctx, data, len);
  else unknownAlg();
}

export function hashFinal(alg: i32, ctx: usize, out: usize): void {
  if (alg == ALG_MD5) md5Final(ctx, out);
  else if (alg == ALG_SHA1) sha1Final(ctx, out);
  else if (alg == ALG_SHA256) sha256Final(ctx, out);
  else unknownAlg();
}

export function hashCompress(alg: i32, h: usize, block: usize): void {
  if (alg == ALG_MD5) md5Compress(h, block);
  else if (alg == ALG_SHA1) sha1Compress(h, block);
  else if (alg == ALG_SHA256) sha256Compress(h, block);
  else unknownAlg();
}

// --- HMAC -------------------------------------------------------------------

export function hmacCtxSize(): i32 {
  return HMAC_CTX_SIZE;
}

/** The inner hash context inside an HMAC context (see the layout above). */
export function hmacInnerState(ctx: usize): usize {
  return ctx + INNER;
}

/** The outer hash context (state after K0 ⊕ opad) inside an HMAC context. */
export function hmacOuterState(ctx: usize): usize {
  return ctx + OUTER;
}

/**
 * RFC 2104 §2 key setup. K0 is the key, or H(key) when longer than the
 * 64-byte block, zero-padded to 64 bytes; the inner context absorbs
 * K0 ⊕ 0x36..., the outer K0 ⊕ 0x5c.... Any key length, including 0.
 */
export function hmacInit(alg: i32, ctx: usize, key: usize, keyLen: i32): void {
  const dlen = hashDigestLen(alg);
  memory.fill(PAD, 0, BLOCK_LEN);
  if (keyLen > BLOCK_LEN) {
    // The inner slot is free yet: use it to hash the long key.
    hashInit(alg, ctx + INNER);
    hashUpdate(alg, ctx + INNER, key, keyLen);
    hashFinal(alg, ctx + INNER, PAD);
  } else if (keyLen > 0) {
    memory.copy(PAD, key, keyLen);
  }
  for (let i: usize = 0; i < <usize>BLOCK_LEN; i += 4) store<u32>(PAD + i, load<u32>(PAD + i) ^ 0x36363636);
  hashInit(alg, ctx + INNER);
  hashUpdate(alg, ctx + INNER, PAD, BLOCK_LEN);
  memory.copy(ctx + INNER_CV, ctx + INNER, dlen);
  // ipad ⊕ opad = 0x36 ⊕ 0x5c = 0x6a: turn the ipad block into the opad block.
  for (let i: usize = 0; i < <usize>BLOCK_LEN; i += 4) store<u32>(PAD + i, load<u32>(PAD + i) ^ 0x6a6a6a6a);
  hashInit(alg, ctx + OUTER);
  hashUpdate(alg, ctx + OUTER, PAD, BLOCK_LEN);
  memory.fill(PAD, 0, BLOCK_LEN);
}

/** Rewinds the inner context to the state right after K0 ⊕ ipad. */
export function hmacReset(alg: i32, ctx: usize): void {
  const words = cvWords(alg);
  memory.copy(ctx + INNER, ctx + INNER_CV, <usize>(words << 2));
  store<u64>(ctx + INNER + countOffset(words), <u64>BLOCK_LEN);
  memory.fill(ctx + INNER + bufferOffset(words), 0, BLOCK_LEN);
}

export function hmacUpdate(alg: i32, ctx: usize, data: usize, len: i32): void {
  hashUpdate(alg, ctx + INNER, data, len);
}

/**
 * RFC 2104 §2: H(K0 ⊕ opad ‖ H(K0 ⊕ ipad ‖ text)), digest-length bytes at
 * `out`. Unlike the hashes' Final, this leaves the context ready for the next
 * message under the same key (it resets the inner context).
 */
export function hmacFinal(alg: i32, ctx: usize, out: usize): void {
  const dlen = hashDigestLen(alg);
  hashFinal(alg, ctx + INNER, DIGEST);
  memory.copy(OUTER_COPY, ctx + OUTER, <usize>hashCtxSize(alg));
  hashUpdate(alg, OUTER_COPY, DIGEST, dlen);
  hashFinal(alg, OUTER_COPY, out);
  memory.fill(OUTER_COPY, 0, MAX_HASH_CTX);
  memory.fill(DIGEST, 0, MAX_DIGEST);
  hmacReset(alg, ctx);
}
