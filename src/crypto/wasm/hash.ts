// Hashes, HMAC and the TLS PRFs of the WASM core (build/sym.wasm), as plain
// functions over Uint8Array.
//
// Data flow: the handshake (PRF, Finished hashes) and the providers call
// these; each call copies its inputs into the core's scratch region, calls
// one or a few exports (assembly/md5.ts, sha1.ts, sha256.ts, hmac.ts,
// prf.ts), and copies the result out. Nothing here keeps per-call state: the
// streaming functions take and return flat state blocks the caller owns.
//
// Hash state (STYLE.md §6): a streaming hash *is* its context block, exactly
// the bytes the core works on (assembly/hash-common.ts):
//   0          chaining value, u32 words little-endian (4 for MD5, 5 for SHA-1, 8 for SHA-256)
//   4*words    total bytes absorbed, u64 little-endian
//   4*words+8  64-byte partial block (first count mod 64 bytes valid)
// so exporting it is a copy, and importing is a length check and a copy.
import { HASH_LENGTH, SSL3, TLS10, TLS12, type HashAlg } from "../types.js";
import { loadCore, type CoreModule } from "./load.js";
import { concatBytes } from "../../bytes.js";

/** The core's algorithm ids (assembly/hash-common.ts). */
export const HASH_ALG_ID: Readonly<Record<HashAlg, number>> = { md5: 1, sha1: 2, sha256: 3 };

/** Bytes of a streaming hash state, per algorithm (fixed by the core's layout). */
export const HASH_STATE_LENGTH: Readonly<Record<HashAlg, number>> = { md5: 88, sha1: 92, sha256: 104 };

/** Bytes of a streaming HMAC state (any algorithm; assembly/hmac.ts). Holds key-derived secrets. */
export const HMAC_STATE_LENGTH = 240;

/** RFC 6101 §6.2.2: 26 rounds ('A' to 'Z') of 16 bytes. */
export const SSL3_MAX_KEY_BLOCK = 26 * 16;

interface HashExports {
  hashCtxSize(alg: number): number;
  hashInit(alg: number, ctx: number): void;
  hashUpdate(alg: number, ctx: number, data: number, len: number): void;
  hashFinal(alg: number, ctx: number, out: number): void;
  hmacCtxSize(): number;
  hmacInit(alg: number, ctx: number, key: number, keyLen: number): void;
  hmacUpdate(alg: number, ctx: number, data: number, len: number): void;
  hmacFinal(alg: number, ctx: number, out: number): void;
  prfTls12(hashAlg: number, secret: number, secretLen: number, labelSeed: number, labelSeedLen: number, out: number, outLen: number): void;
  prfTls10(secret: number, secretLen: number, labelSeed: number, labelSeedLen: number, out: number, outLen: number): void;
  ssl3KeyBlock(secret: number, secretLen: number, randoms: number, randomsLen: number, out: number, outLen: number): void;
}

/** Scratch layout of this module: [context 256][output 256][data ...]. */
interface Bound {
  x: HashExports;
  heap: Uint8Array;
  ctx: number;
  out: number;
  data: number;
  dataMax: number;
}

let bound: Bound | undefined;

/** Loads sym.wasm on first use and checks the layout constants above against it. */
function core(): Bound {
  if (bound) return bound;
  const c: CoreModule<HashExports> = loadCore<HashExports>("sym");
  for (const alg of Object.keys(HASH_ALG_ID) as HashAlg[]) {
    if (c.exports.hashCtxSize(HASH_ALG_ID[alg]) !== HASH_STATE_LENGTH[alg]) {
      throw new Error(`sym.wasm: ${alg} context size changed; update HASH_STATE_LENGTH`);
    }
  }
  if (c.exports.hmacCtxSize() !== HMAC_STATE_LENGTH) throw new Error("sym.wasm: HMAC context size changed");
  bound = { x: c.exports, heap: c.heap, ctx: c.scratch, out: c.scratch + 256, data: c.scratch + 512, dataMax: c.scratchSize - 512 };
  return bound;
}

function algId(alg: HashAlg): number {
  const id = HASH_ALG_ID[alg];
  if (id === undefined) throw new TypeError(`unknown hash algorithm ${String(alg)}`);
  return id;
}

function checkState(alg: HashAlg, state: Uint8Array): void {
  if (state.length !== HASH_STATE_LENGTH[alg]) {
    throw new RangeError(`${alg} state must be ${HASH_STATE_LENGTH[alg]} bytes, got ${state.length}`);
  }
}

/** Feeds `data` through `update` in scratch-sized chunks (the core never sees more than dataMax at once). */
function feed(b: Bound, data: Uint8Array, update: (ptr: number, len: number) => void): void {
  for (let off = 0; off < data.length; off += b.dataMax) {
    const n = Math.min(b.dataMax, data.length - off);
    b.heap.set(data.subarray(off, off + n), b.data);
    update(b.data, n);
  }
}

function readOut(b: Bound, len: number): Uint8Array {
  return b.heap.slice(b.out, b.out + len);
}

// --- Hashes -------------------------------------------------------------------

export function wasmHash(alg: HashAlg, data: Uint8Array): Uint8Array {
  const b = core();
  const id = algId(alg);
  b.x.hashInit(id, b.ctx);
  feed(b, data, (p, n) => b.x.hashUpdate(id, b.ctx, p, n));
  b.x.hashFinal(id, b.ctx, b.out);
  return readOut(b, HASH_LENGTH[alg]);
}

/** A fresh streaming state (the context block right after init). */
export function wasmHashInit(alg: HashAlg): Uint8Array {
  const b = core();
  b.x.hashInit(algId(alg), b.ctx);
  return b.heap.slice(b.ctx, b.ctx + HASH_STATE_LENGTH[alg]);
}

/** Absorbs `data` into `state`, which is updated in place. */
export function wasmHashUpdate(alg: HashAlg, state: Uint8Array, data: Uint8Array): void {
  checkState(alg, state);
  const b = core();
  const id = algId(alg);
  b.heap.set(state, b.ctx);
  feed(b, data, (p, n) => b.x.hashUpdate(id, b.ctx, p, n));
  state.set(b.heap.subarray(b.ctx, b.ctx + state.length));
}

/** The digest of everything absorbed so far. `state` is not spent: hashing can go on. */
export function wasmHashDigest(alg: HashAlg, state: Uint8Array): Uint8Array {
  checkState(alg, state);
  const b = core();
  b.heap.set(state, b.ctx);
  b.x.hashFinal(algId(alg), b.ctx, b.out);
  return readOut(b, HASH_LENGTH[alg]);
}

/** The state is its block: exporting is a copy (a snapshot the caller may store or ship). */
export function exportHashState(alg: HashAlg, state: Uint8Array): Uint8Array {
  checkState(alg, state);
  return state.slice();
}

/**
 * A state to continue from, made from exported bytes. Only the length can be
 * checked: every bit pattern is a valid (if unrelated) hash state.
 */
export function importHashState(alg: HashAlg, bytes: Uint8Array): Uint8Array {
  checkState(alg, bytes);
  return bytes.slice();
}

/** Total bytes absorbed by a state (the u64 after the chaining value). */
export function hashStateByteCount(alg: HashAlg, state: Uint8Array): bigint {
  checkState(alg, state);
  return new DataView(state.buffer, state.byteOffset, state.length).getBigUint64(HASH_LENGTH[alg], true);
}

// --- HMAC (RFC 2104) ------------------------------------------------------------

/** RFC 2104 §2: a key longer than the block is replaced by its hash; doing that here keeps huge keys out of scratch. */
function hmacKey(alg: HashAlg, key: Uint8Array): Uint8Array {
  return key.length > 64 ? wasmHash(alg, key) : key;
}

/** Keys an HMAC context at the scratch context slot. */
function hmacInitInScratch(b: Bound, alg: HashAlg, key: Uint8Array): void {
  const k = hmacKey(alg, key);
  b.heap.set(k, b.data);
  b.x.hmacInit(algId(alg), b.ctx, b.data, k.length);
  b.heap.fill(0, b.data, b.data + k.length);
}

export function wasmHmac(alg: HashAlg, key: Uint8Array, data: Uint8Array): Uint8Array {
  const b = core();
  const id = algId(alg);
  hmacInitInScratch(b, alg, key);
  feed(b, data, (p, n) => b.x.hmacUpdate(id, b.ctx, p, n));
  b.x.hmacFinal(id, b.ctx, b.out);
  b.heap.fill(0, b.ctx, b.ctx + HMAC_STATE_LENGTH);
  return readOut(b, HASH_LENGTH[alg]);
}

/**
 * A keyed streaming HMAC state (assembly/hmac.ts layout: inner context,
 * outer context, keyed inner chaining value). It is key material: treat it
 * like the key.
 */
export function wasmHmacInit(alg: HashAlg, key: Uint8Array): Uint8Array {
  const b = core();
  hmacInitInScratch(b, alg, key);
  const state = b.heap.slice(b.ctx, b.ctx + HMAC_STATE_LENGTH);
  b.heap.fill(0, b.ctx, b.ctx + HMAC_STATE_LENGTH);
  return state;
}

export function wasmHmacUpdate(alg: HashAlg, state: Uint8Array, data: Uint8Array): void {
  if (state.length !== HMAC_STATE_LENGTH) throw new RangeError(`HMAC state must be ${HMAC_STATE_LENGTH} bytes`);
  const b = core();
  const id = algId(alg);
  b.heap.set(state, b.ctx);
  feed(b, data, (p, n) => b.x.hmacUpdate(id, b.ctx, p, n));
  state.set(b.heap.subarray(b.ctx, b.ctx + HMAC_STATE_LENGTH));
  b.heap.fill(0, b.ctx, b.ctx + HMAC_STATE_LENGTH);
}

/** The MAC of everything absorbed so far; `state` is not spent. */
export function wasmHmacDigest(alg: HashAlg, state: Uint8Array): Uint8Array {
  if (state.length !== HMAC_STATE_LENGTH) throw new RangeError(`HMAC state must be ${HMAC_STATE_LENGTH} bytes`);
  const b = core();
  b.heap.set(state, b.ctx);
  b.x.hmacFinal(algId(alg), b.ctx, b.out);
  b.heap.fill(0, b.ctx, b.ctx + HMAC_STATE_LENGTH);
  return readOut(b, HASH_LENGTH[alg]);
}

// --- PRFs -----------------------------------------------------------------------

const encoder = new TextEncoder();

/** The two uses of key derivation SSL 3.0 has (RFC 6101 §6.1, §6.2.2); see wasmPrf. */
const SSL3_LABELS = new Set(["master secret", "key expansion"]);

function labelBytes(label: string | Uint8Array): Uint8Array {
  return typeof label === "string" ? encoder.encode(label) : label;
}

/**
 * The key-derivation function of `version`:
 * - TLS 1.2 (and above): RFC 5246 §5, P_SHA256(secret, label ‖ seed). All our
 *   TLS 1.2 suites use the SHA-256 PRF.
 * - TLS 1.0 and 1.1: RFC 2246 §5, P_MD5(S1, label ‖ seed) ⊕ P_SHA-1(S2, label ‖ seed).
 * - SSL 3.0: RFC 6101 §6.1/§6.2.2, MD5(secret ‖ SHA-1("A" ‖ secret ‖ seed)) ‖
 *   MD5(secret ‖ SHA-1("BB" ‖ ...)) ‖ ... The label only selects the use and
 *   must be "master secret" or "key expansion": TLS passes the same seeds
 *   (client ‖ server randoms for the master secret, server ‖ client for the
 *   key block) that SSL 3.0 hashes, so the handshake code needs no special
 *   case. SSL 3.0's Finished is not a PRF (RFC 6101 §5.6.9); asking for any
 *   other label throws rather than derive something meaningless. At most
 *   SSL3_MAX_KEY_BLOCK bytes.
 */
export function wasmPrf(version: number, secret: Uint8Array, label: string | Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`PRF length ${length}`);
  const b = core();
  const lab = labelBytes(label);
  const ssl3 = version === SSL3;
  if (ssl3) {
    if (!SSL3_LABELS.has(new TextDecoder().decode(lab))) throw new RangeError("SSL 3.0 derives only the master secret and the key block");
    if (length > SSL3_MAX_KEY_BLOCK) throw new RangeError(`SSL 3.0 key block is at most ${SSL3_MAX_KEY_BLOCK} bytes`);
  } else if (version < TLS10) {
    throw new RangeError(`no PRF for protocol version 0x${version.toString(16)}`);
  }
  const ls = ssl3 ? seed : concatBytes(lab, seed);
  const secretAt = b.data;
  const lsAt = secretAt + secret.length;
  const outAt = lsAt + ls.length;
  if (outAt + length > b.data + b.dataMax) throw new RangeError("PRF inputs and output exceed the scratch region");
  b.heap.set(secret, secretAt);
  b.heap.set(ls, lsAt);
  if (ssl3) b.x.ssl3KeyBlock(secretAt, secret.length, lsAt, ls.length, outAt, length);
  else if (version >= TLS12) b.x.prfTls12(HASH_ALG_ID.sha256, secretAt, secret.length, lsAt, ls.length, outAt, length);
  else b.x.prfTls10(secretAt, secret.length, lsAt, ls.length, outAt, length);
  const out = b.heap.slice(outAt, outAt + length);
  b.heap.fill(0, secretAt, outAt + length);
  return out;
}
