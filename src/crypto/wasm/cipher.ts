// AES (FIPS-197), AES-CBC (SP 800-38A §6.2) and RC4 of the WASM core
// (build/sym.wasm; assembly/aes.ts, cbc.ts, rc4.ts), as plain functions over
// flat, exportable states.
//
// Data flow: the wasm provider and the record layer call these; every call
// copies its context and data into the core's scratch region, calls one
// export per chunk, and copies the context and data back. Nothing is cached
// between calls (the scratch region is shared with the other glue modules).
//
// State (STYLE.md §6):
// - CBC is key plus residue. CbcState also holds the expanded key schedule
//   (the core's flat context) so it is not recomputed per record; a
//   checkpoint carries only {key, residue} and import re-expands.
// - RC4 is the core's 272-byte context: S[256], i, j, the u64 keystream
//   offset. A checkpoint carries a 258-byte snapshot {S, i, j} with the
//   offset it was taken at; wasmRc4Seek resumes from such a base at any later
//   offset (SSLACC §5.4).
import { loadCore, type CoreModule } from "./load.js";

interface CipherExports {
  aesCtxSize(): number;
  aesInit(ctx: number, key: number, keyLen: number): void;
  aesEncryptBlock(ctx: number, inp: number, out: number): void;
  aesDecryptBlock(ctx: number, inp: number, out: number): void;
  cbcEncrypt(ctx: number, iv: number, data: number, len: number): void;
  cbcDecrypt(ctx: number, iv: number, data: number, len: number): void;
  cbcEncryptMulti(ctx: number, desc: number, n: number): void;
  rc4CtxSize(): number;
  rc4Init(ctx: number, key: number, keyLen: number): void;
  rc4Process(ctx: number, data: number, len: number): void;
  rc4Skip(ctx: number, n: bigint): void;
}

export const AES_BLOCK_LENGTH = 16;
/**
 * Bytes of the core's AES context (assembly/aes-core.ts): Nr, 15 round keys as
 * bit planes (bitsliced engine), 16 key slots of the vector-permute engine.
 */
export const AES_CTX_LENGTH = 2192;
/** Bytes of the core's RC4 context (assembly/rc4.ts). */
export const RC4_CTX_LENGTH = 272;
/** Bytes of an RC4 snapshot: S[256], i, j (the context without its offset). */
export const RC4_SNAPSHOT_LENGTH = 258;
const RC4_OFFSET_AT = 264;

/**
 * Scratch layout of this module:
 * [context CTX_SLOT][8 IVs/residues 128][8 lane descriptors 128][key 256][data ...].
 */
const CTX_SLOT = Math.ceil(Math.max(AES_CTX_LENGTH, RC4_CTX_LENGTH) / 128) * 128;
interface Bound {
  x: CipherExports;
  heap: Uint8Array;
  view: DataView;
  ctx: number;
  /** IV/residue slot of lane 0 (lane l at iv + 16 l); cbcEncrypt/cbcDecrypt use lane 0. */
  iv: number;
  desc: number;
  key: number;
  data: number;
  /** Largest chunk: a multiple of 128 so decryption runs full 8-block passes. */
  chunk: number;
}

let bound: Bound | undefined;

function core(): Bound {
  if (bound) return bound;
  const c: CoreModule<CipherExports> = loadCore<CipherExports>("sym");
  if (c.exports.aesCtxSize() !== AES_CTX_LENGTH) throw new Error("sym.wasm: AES context size changed; update AES_CTX_LENGTH");
  if (c.exports.rc4CtxSize() !== RC4_CTX_LENGTH) throw new Error("sym.wasm: RC4 context size changed; update RC4_CTX_LENGTH");
  const data = c.scratch + CTX_SLOT + 128 + 128 + 256;
  bound = {
    x: c.exports,
    heap: c.heap,
    view: new DataView(c.memory.buffer),
    ctx: c.scratch,
    iv: c.scratch + CTX_SLOT,
    desc: c.scratch + CTX_SLOT + 128,
    key: c.scratch + CTX_SLOT + 256,
    data,
    chunk: Math.floor((c.scratchSize - (data - c.scratch)) / 128) * 128,
  };
  return bound;
}

// ---------------------------------------------------------------------------
// AES

/** An expanded AES key: the raw key and the core's key schedule. */
export interface AesKey {
  readonly key: Uint8Array;
  /** The core's flat context (AES_CTX_LENGTH bytes). Secret. */
  readonly schedule: Uint8Array;
}

function checkAesKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 32) {
    throw new RangeError(`AES key must be 16 (AES-128) or 32 (AES-256) bytes, got ${key.length}`);
  }
}

/** FIPS-197 §5.2 key expansion. */
export function wasmAesKey(key: Uint8Array): AesKey {
  checkAesKey(key);
  const b = core();
  b.heap.set(key, b.key);
  b.x.aesInit(b.ctx, b.key, key.length);
  b.heap.fill(0, b.key, b.key + key.length);
  return { key: key.slice(), schedule: b.heap.slice(b.ctx, b.ctx + AES_CTX_LENGTH) };
}

function checkBlock(block: Uint8Array): void {
  if (block.length !== AES_BLOCK_LENGTH) throw new RangeError(`AES block must be 16 bytes, got ${block.length}`);
}

/** One block of the forward cipher (FIPS-197 §5.1), e.g. for TLS 1.1+ explicit IVs. */
export function wasmAesEncryptBlock(k: AesKey, block: Uint8Array): Uint8Array {
  checkBlock(block);
  const b = core();
  b.heap.set(k.schedule, b.ctx);
  b.heap.set(block, b.data);
  b.x.aesEncryptBlock(b.ctx, b.data, b.data);
  return b.heap.slice(b.data, b.data + AES_BLOCK_LENGTH);
}

/** One block of the inverse cipher (FIPS-197 §5.3). */
export function wasmAesDecryptBlock(k: AesKey, block: Uint8Array): Uint8Array {
  checkBlock(block);
  const b = core();
  b.heap.set(k.schedule, b.ctx);
  b.heap.set(block, b.data);
  b.x.aesDecryptBlock(b.ctx, b.data, b.data);
  return b.heap.slice(b.data, b.data + AES_BLOCK_LENGTH);
}

// ---------------------------------------------------------------------------
// CBC

/**
 * One direction of AES-CBC. `residue` is the chaining value: the IV at the
 * start, then the last ciphertext block processed (SP 800-38A §6.2); the
 * encrypt/decrypt calls replace it.
 */
export interface CbcState extends AesKey {
  residue: Uint8Array;
}

/** What a checkpoint carries for CBC: key plus residue. */
export interface CbcSnapshot {
  readonly key: Uint8Array;
  readonly residue: Uint8Array;
}

export function wasmCbcInit(key: Uint8Array, iv: Uint8Array): CbcState {
  if (iv.length !== AES_BLOCK_LENGTH) throw new RangeError(`CBC IV must be 16 bytes, got ${iv.length}`);
  return { ...wasmAesKey(key), residue: iv.slice() };
}

function cbcRun(state: CbcState, data: Uint8Array, encrypt: boolean): Uint8Array {
  if (data.length % AES_BLOCK_LENGTH !== 0) {
    throw new RangeError(`CBC data must be a multiple of 16 bytes, got ${data.length}`);
  }
  const b = core();
  const out = new Uint8Array(data.length);
  b.heap.set(state.schedule, b.ctx);
  b.heap.set(state.residue, b.iv);
  const fn = encrypt ? b.x.cbcEncrypt : b.x.cbcDecrypt;
  for (let off = 0; off < data.length; off += b.chunk) {
    const n = Math.min(b.chunk, data.length - off);
    b.heap.set(data.subarray(off, off + n), b.data);
    fn(b.ctx, b.iv, b.data, n); // the residue stays at b.iv between chunks
    out.set(b.heap.subarray(b.data, b.data + n), off);
  }
  state.residue = b.heap.slice(b.iv, b.iv + AES_BLOCK_LENGTH);
  return out;
}

/** SP 800-38A §6.2 CBC encryption, no padding; updates the residue. */
export function wasmCbcEncrypt(state: CbcState, data: Uint8Array): Uint8Array {
  return cbcRun(state, data, true);
}

/** SP 800-38A §6.2 CBC decryption, no padding; updates the residue. */
export function wasmCbcDecrypt(state: CbcState, data: Uint8Array): Uint8Array {
  return cbcRun(state, data, false);
}

/** One independent CBC chain of wasmCbcEncryptMany: its IV and its data. */
export interface CbcJob {
  readonly iv: Uint8Array;
  readonly data: Uint8Array;
}

const LANES = 8;

/**
 * CBC-encrypts independent chains under one key, up to eight in parallel
 * (one block of each per pass of the bitsliced core): the TLS 1.1+ case,
 * where every record starts from its own explicit IV. Each output equals
 * wasmCbcEncrypt(wasmCbcInit(key, job.iv), job.data); its last block is that
 * chain's residue.
 */
export function wasmCbcEncryptMany(k: AesKey, jobs: readonly CbcJob[]): Uint8Array[] {
  for (const j of jobs) {
    if (j.iv.length !== AES_BLOCK_LENGTH) throw new RangeError(`CBC IV must be 16 bytes, got ${j.iv.length}`);
    if (j.data.length % AES_BLOCK_LENGTH !== 0) {
      throw new RangeError(`CBC data must be a multiple of 16 bytes, got ${j.data.length}`);
    }
  }
  const b = core();
  const outs = jobs.map((j) => new Uint8Array(j.data.length));
  const perLane = Math.floor(b.chunk / LANES / AES_BLOCK_LENGTH) * AES_BLOCK_LENGTH;
  b.heap.set(k.schedule, b.ctx);
  for (let first = 0; first < jobs.length; first += LANES) {
    const group = jobs.slice(first, first + LANES);
    group.forEach((j, l) => b.heap.set(j.iv, b.iv + 16 * l));
    const longest = Math.max(...group.map((j) => j.data.length));
    // Every lane advances by up to perLane bytes per call; residues stay in
    // their IV slots between calls.
    for (let off = 0; off < longest; off += perLane) {
      group.forEach((j, l) => {
        const n = Math.max(0, Math.min(perLane, j.data.length - off));
        const at = b.data + l * perLane;
        if (n > 0) b.heap.set(j.data.subarray(off, off + n), at);
        const d = b.desc + 16 * l;
        b.view.setUint32(d, b.iv + 16 * l, true);
        b.view.setUint32(d + 4, at, true);
        b.view.setInt32(d + 8, n, true);
        b.view.setUint32(d + 12, 0, true);
      });
      b.x.cbcEncryptMulti(b.ctx, b.desc, group.length);
      group.forEach((j, l) => {
        const n = Math.max(0, Math.min(perLane, j.data.length - off));
        const at = b.data + l * perLane;
        if (n > 0) outs[first + l]!.set(b.heap.subarray(at, at + n), off);
      });
    }
  }
  return outs;
}

export function wasmCbcExport(state: CbcState): CbcSnapshot {
  return { key: state.key.slice(), residue: state.residue.slice() };
}

export function wasmCbcImport(snap: CbcSnapshot): CbcState {
  return wasmCbcInit(snap.key, snap.residue);
}

// ---------------------------------------------------------------------------
// RC4

/** The core's flat RC4 context (RC4_CTX_LENGTH bytes), updated in place. */
export type Rc4State = Uint8Array;

/** RC4 state at a keystream offset, as a checkpoint carries it. */
export interface Rc4Snapshot {
  /** S[0..255], i, j (RC4_SNAPSHOT_LENGTH bytes). */
  readonly state: Uint8Array;
  /** Keystream bytes produced since the key schedule when it was taken. */
  readonly offset: number;
}

function checkRc4(state: Rc4State): void {
  if (state.length !== RC4_CTX_LENGTH) throw new RangeError(`RC4 state must be ${RC4_CTX_LENGTH} bytes, got ${state.length}`);
}

/** RC4 key schedule. Keys of 1..256 bytes (TLS uses 16). */
export function wasmRc4Init(key: Uint8Array): Rc4State {
  if (key.length < 1 || key.length > 256) throw new RangeError(`RC4 key must be 1..256 bytes, got ${key.length}`);
  const b = core();
  b.heap.set(key, b.key);
  b.x.rc4Init(b.ctx, b.key, key.length);
  b.heap.fill(0, b.key, b.key + key.length);
  return b.heap.slice(b.ctx, b.ctx + RC4_CTX_LENGTH);
}

/** XORs data with the next keystream bytes (encrypts or decrypts) and advances the state. */
export function wasmRc4Process(state: Rc4State, data: Uint8Array): Uint8Array {
  checkRc4(state);
  const b = core();
  const out = new Uint8Array(data.length);
  b.heap.set(state, b.ctx);
  for (let off = 0; off < data.length; off += b.chunk) {
    const n = Math.min(b.chunk, data.length - off);
    b.heap.set(data.subarray(off, off + n), b.data);
    b.x.rc4Process(b.ctx, b.data, n);
    out.set(b.heap.subarray(b.data, b.data + n), off);
  }
  state.set(b.heap.subarray(b.ctx, b.ctx + RC4_CTX_LENGTH));
  return out;
}

function checkOffset(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

/** Advances the keystream by n bytes without data. */
export function wasmRc4Skip(state: Rc4State, n: number): void {
  checkRc4(state);
  checkOffset(n, "RC4 skip length");
  const b = core();
  b.heap.set(state, b.ctx);
  b.x.rc4Skip(b.ctx, BigInt(n));
  state.set(b.heap.subarray(b.ctx, b.ctx + RC4_CTX_LENGTH));
}

/** Keystream bytes produced since the key schedule. */
export function wasmRc4Offset(state: Rc4State): number {
  checkRc4(state);
  return Number(new DataView(state.buffer, state.byteOffset, state.byteLength).getBigUint64(RC4_OFFSET_AT, true));
}

export function wasmRc4Export(state: Rc4State): Rc4Snapshot {
  checkRc4(state);
  return { state: state.slice(0, RC4_SNAPSHOT_LENGTH), offset: wasmRc4Offset(state) };
}

export function wasmRc4Import(snap: Rc4Snapshot): Rc4State {
  if (snap.state.length !== RC4_SNAPSHOT_LENGTH) {
    throw new RangeError(`RC4 snapshot must be ${RC4_SNAPSHOT_LENGTH} bytes (S, i, j), got ${snap.state.length}`);
  }
  checkOffset(snap.offset, "RC4 snapshot offset");
  const state = new Uint8Array(RC4_CTX_LENGTH);
  state.set(snap.state);
  new DataView(state.buffer).setBigUint64(RC4_OFFSET_AT, BigInt(snap.offset), true);
  return state;
}

/**
 * The state at absolute keystream offset `offset`, from a base snapshot
 * taken at base.offset <= offset (SSLACC §5.4: bases every ~1 MiB, deltas
 * carry the absolute offset). RC4 cannot run backwards.
 */
export function wasmRc4Seek(base: Rc4Snapshot, offset: number): Rc4State {
  checkOffset(offset, "RC4 seek offset");
  if (offset < base.offset) {
    throw new RangeError(`cannot seek RC4 to offset ${offset}: the base was taken later, at offset ${base.offset}`);
  }
  const state = wasmRc4Import(base);
  wasmRc4Skip(state, offset - base.offset);
  return state;
}
