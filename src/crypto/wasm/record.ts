// Glue over assembly/record.ts: whole-record seal/open in one WASM call.
//
// A live state is the flat block the core works on (assembly/record.ts
// documents its layout) held in JS memory. Each call copies the block and the
// record into scratch, runs, and copies the block back only on success, so a
// failed open leaves the state as it was. Export turns the block back into
// the portable RecordState of src/crypto/record.ts (what a checkpoint holds);
// import is wasmRecordInit.
//
// Also the RC4 helpers the native provider borrows (OpenSSL here has no RC4).
import { loadCore, type CoreModule } from "./load.js";
import { TLS10 } from "../types.js";
import {
  AES_BLOCK, MAX_CIPHERTEXT, MAX_PLAINTEXT, RC4_BASE_INTERVAL, RC4_BASE_LEN,
  badRecordMac, badState, explicitIvLength, fragmentTooLong, isCbc, recordOverflow, seqExhausted,
  validateRecordState, type OpenResult, type RecordCipher, type RecordProvider, type RecordState,
} from "../record.js";

interface RecordExports {
  recordStateSize(): number;
  recordCipherCtxOffset(): number;
  recordInit(st: number, cipher: number, macAlg: number, version: number,
    encKey: number, encKeyLen: number, macKey: number, macKeyLen: number): void;
  recordSeal(st: number, type: number, version: number, data: number, len: number, out: number): number;
  recordOpen(st: number, type: number, version: number, data: number, len: number): number;
  rc4Init(ctx: number, key: number, keyLen: number): void;
  rc4Process(ctx: number, data: number, len: number): void;
  rc4Skip(ctx: number, n: bigint): void;
}

const CIPHER_ID: Readonly<Record<RecordCipher, number>> = { "null": 0, "aes128-cbc": 1, "aes256-cbc": 2, "rc4-128": 3 };
const MAC_ID = { md5: 1, sha1: 2, sha256: 3 } as const;

/** Bytes of the core's RC4 context (assembly/rc4.ts): S, i, j, pad, u64 offset. */
export const RC4_CTX_LEN = 272;
const RC4_OFFSET = 264;

// Scratch layout (assembly/io.ts, 256 KiB): state block, keys, record buffer.
const ST = 0;
const KEYS = 4096;
const REC = 8192; // record buffer: 5 + 16 + 2^14 + 2048 bytes
const ST_SEQ = 8;
const ST_RESIDUE = 16;

let core: CoreModule<RecordExports> | undefined;
let stateSize = 0;
let ctxOffset = 0;

function sym(): CoreModule<RecordExports> {
  if (!core) {
    core = loadCore<RecordExports>("sym");
    stateSize = core.exports.recordStateSize();
    ctxOffset = core.exports.recordCipherCtxOffset();
    if (KEYS < stateSize || REC + 5 + AES_BLOCK + MAX_CIPHERTEXT > core.scratchSize) {
      throw badState("record scratch layout does not fit the core");
    }
  }
  return core;
}

export interface WasmRecordState {
  readonly portable: Omit<RecordState, "seq" | "cbcResidue" | "rc4">;
  /** The core's state block (assembly/record.ts layout). */
  readonly block: Uint8Array;
  /** RC4: the last base snapshot (S, i, j) and its keystream offset. */
  rc4Base?: { base: Uint8Array; baseOffset: number };
}

function u64le(buf: Uint8Array, at: number): bigint {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(at, true);
}

function setU64le(buf: Uint8Array, at: number, v: bigint): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setBigUint64(at, v, true);
}

export function wasmRecordInit(s: RecordState): WasmRecordState {
  validateRecordState(s);
  const c = sym();
  const { heap, scratch, exports: x } = c;
  const st = scratch + ST;
  heap.set(s.encKey, scratch + KEYS);
  heap.set(s.macKey, scratch + KEYS + 64);
  x.recordInit(st, CIPHER_ID[s.cipher], MAC_ID[s.mac], s.version,
    scratch + KEYS, s.encKey.length, scratch + KEYS + 64, s.macKey.length);
  heap.fill(0, scratch + KEYS, scratch + KEYS + 128);
  const view = heap.subarray(st, st + stateSize);
  setU64le(view, ST_SEQ, s.seq);
  if (s.cbcResidue) view.set(s.cbcResidue, ST_RESIDUE);
  let rc4Base: WasmRecordState["rc4Base"];
  if (s.cipher === "rc4-128") {
    const ctx = st + ctxOffset;
    if (s.rc4) {
      // SSLACC §5.4: import the base, then skip to the absolute offset.
      heap.set(s.rc4.base, ctx);
      setU64le(heap, ctx + RC4_OFFSET, BigInt(s.rc4.baseOffset));
      x.rc4Skip(ctx, BigInt(s.rc4.offset - s.rc4.baseOffset));
      rc4Base = { base: s.rc4.base.slice(), baseOffset: s.rc4.baseOffset };
    } else {
      rc4Base = { base: heap.slice(ctx, ctx + RC4_BASE_LEN), baseOffset: 0 };
    }
  }
  const out: WasmRecordState = {
    portable: { version: s.version, cipher: s.cipher, mac: s.mac, encKey: s.encKey.slice(), macKey: s.macKey.slice() },
    block: view.slice(),
  };
  view.fill(0);
  if (rc4Base) out.rc4Base = rc4Base;
  return out;
}

export function wasmExportRecordState(st: WasmRecordState): RecordState {
  const p = st.portable;
  const out: { -readonly [K in keyof RecordState]: RecordState[K] } = {
    version: p.version, cipher: p.cipher, mac: p.mac, encKey: p.encKey.slice(), macKey: p.macKey.slice(),
    seq: u64le(st.block, ST_SEQ),
  };
  if (isCbc(p.cipher) && p.version === TLS10) out.cbcResidue = st.block.slice(ST_RESIDUE, ST_RESIDUE + AES_BLOCK);
  if (st.rc4Base) {
    out.rc4 = {
      base: st.rc4Base.base.slice(), baseOffset: st.rc4Base.baseOffset,
      offset: Number(u64le(st.block, ctxOffset + RC4_OFFSET)),
    };
  }
  return out;
}

/** After a record: refresh the RC4 base every RC4_BASE_INTERVAL bytes of keystream. */
function maybeRefreshBase(st: WasmRecordState): void {
  const b = st.rc4Base;
  if (!b) return;
  const offset = Number(u64le(st.block, ctxOffset + RC4_OFFSET));
  if (offset - b.baseOffset >= RC4_BASE_INTERVAL) {
    b.base = st.block.slice(ctxOffset, ctxOffset + RC4_BASE_LEN);
    b.baseOffset = offset;
  }
}

export function wasmSealRecord(st: WasmRecordState, contentType: number, version: number, fragment: Uint8Array): Uint8Array {
  if (fragment.length > MAX_PLAINTEXT) throw fragmentTooLong(fragment.length);
  const { heap, scratch, exports: x } = sym();
  const sp = scratch + ST;
  heap.set(st.block, sp);
  // Put the fragment where the record's plaintext goes, so the core's copy is a no-op.
  const out = scratch + REC;
  const data = out + 5 + explicitIvLength(st.portable);
  heap.set(fragment, data);
  const n = x.recordSeal(sp, contentType, version, data, fragment.length, out);
  if (n < 0) {
    if (n === -4) throw seqExhausted(u64le(st.block, ST_SEQ));
    throw fragmentTooLong(fragment.length);
  }
  st.block.set(heap.subarray(sp, sp + stateSize));
  maybeRefreshBase(st);
  return heap.slice(out, out + n);
}

export function wasmOpenRecord(st: WasmRecordState, contentType: number, version: number, body: Uint8Array): OpenResult {
  if (body.length > MAX_CIPHERTEXT) return recordOverflow(`record body of ${body.length} bytes exceeds 2^14+2048`);
  const { heap, scratch, exports: x } = sym();
  const sp = scratch + ST;
  heap.set(st.block, sp);
  const data = scratch + REC;
  heap.set(body, data);
  const n = x.recordOpen(sp, contentType, version, data, body.length);
  if (n < 0) {
    if (n === -4) throw seqExhausted(u64le(st.block, ST_SEQ));
    if (n === -2) return recordOverflow(`record body of ${body.length} bytes exceeds 2^14+2048`);
    if (n === -3) return recordOverflow("decrypted fragment exceeds 2^14 bytes (RFC 5246 §6.2.3)");
    return badRecordMac;
  }
  st.block.set(heap.subarray(sp, sp + stateSize));
  maybeRefreshBase(st);
  const pt = data + explicitIvLength(st.portable);
  return { ok: true, contentType, plaintext: heap.slice(pt, pt + n) };
}

/** Import is init: a checkpoint's RecordState is a complete description. */
export const wasmImportRecordState = wasmRecordInit;

export const wasmRecordProvider: RecordProvider<WasmRecordState> = {
  name: "wasm",
  init: wasmRecordInit,
  seal: wasmSealRecord,
  open: wasmOpenRecord,
  exportState: wasmExportRecordState,
};


// --- RC4 for the native provider -------------------------------------------

/** A fresh RC4 context for `key`, or one restored at `pos` (base + skip). */
export function rc4CtxFromPosition(key: Uint8Array, pos?: { base: Uint8Array; baseOffset: number; offset: number }): Uint8Array {
  const { heap, scratch, exports: x } = sym();
  const ctx = scratch + REC;
  if (pos) {
    heap.fill(0, ctx, ctx + RC4_CTX_LEN);
    heap.set(pos.base, ctx);
    setU64le(heap, ctx + RC4_OFFSET, BigInt(pos.baseOffset));
    x.rc4Skip(ctx, BigInt(pos.offset - pos.baseOffset));
  } else {
    heap.set(key, scratch + KEYS);
    x.rc4Init(ctx, scratch + KEYS, key.length);
    heap.fill(0, scratch + KEYS, scratch + KEYS + key.length);
  }
  return heap.slice(ctx, ctx + RC4_CTX_LEN);
}

export function rc4CtxPosition(ctx: Uint8Array): { base: Uint8Array; offset: number } {
  return { base: ctx.slice(0, RC4_BASE_LEN), offset: Number(u64le(ctx, RC4_OFFSET)) };
}

/** XORs `data` with the keystream in place, advancing `ctx`. */
export function rc4Run(ctx: Uint8Array, data: Uint8Array): void {
  const { heap, scratch, exports: x } = sym();
  const c = scratch + ST;
  const d = scratch + REC;
  heap.set(ctx, c);
  heap.set(data, d);
  x.rc4Process(c, d, data.length);
  data.set(heap.subarray(d, d + data.length));
  ctx.set(heap.subarray(c, c + RC4_CTX_LEN));
}
