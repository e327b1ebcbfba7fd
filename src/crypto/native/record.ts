// Record protection on node:crypto: the reference the WASM record code is
// tested against byte for byte, and a provider in its own right
// (RecordProvider, STYLE.md §5). Same portable state, same deterministic
// output as src/crypto/wasm/record.ts (see src/crypto/record.ts).
//
// CBC: one long-lived Cipheriv/Decipheriv per direction with padding off.
// TLS 1.0 chains the IV across records (RFC 2246 §6.2.3.2), which is exactly
// a continuous CBC stream, so the object's own chaining is the residue. For
// TLS 1.1+ the explicit IV must be AES_K(0^8 ‖ seq): feeding the stream the
// block (c_prev ⊕ nonce) first makes it output E_K(c_prev ⊕ c_prev ⊕ nonce) =
// E_K(nonce) = the IV, followed by the CBC encryption of the record under that
// IV — one update() per record, no extra ECB call. Decryption of IV ‖ C with
// any chain value yields garbage ‖ P; the garbage block is dropped.
//
// RC4: this OpenSSL build has no RC4 at all (not even in the legacy
// provider), so the RC4 keystream comes from the WASM core's RC4 (the same
// 272-byte context, see assembly/rc4.ts) while the MAC stays on node:crypto.
//
// Constant time: the padding and MAC checks use masks and no early exit, and
// the amount of data hashed does not depend on the padding length (Lucky 13,
// AlFardan & Paterson 2013). JavaScript gives weaker guarantees than the WASM
// core: the JIT, Buffer slicing at a secret length and node:crypto's per-call
// costs are not under our control. Use the WASM provider where the timing
// side channel matters.
import {
  createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual,
  type Cipher, type Decipher,
} from "node:crypto";
import { HASH_LENGTH, TLS10 } from "../types.js";
import {
  AES_BLOCK, MAX_CIPHERTEXT, MAX_PLAINTEXT, RC4_BASE_INTERVAL, SEQ_LIMIT,
  badRecordMac, badState, ctEq, ctLt, explicitIvLength, fragmentTooLong, isCbc, ivNonce, macHeader,
  recordOverflow, seqExhausted, validateRecordState,
  type OpenResult, type RecordProvider, type RecordState,
} from "../record.js";
import { rc4CtxFromPosition, rc4CtxPosition, rc4Run } from "../wasm/record.js";

export interface NativeRecordState {
  readonly portable: Omit<RecordState, "seq" | "cbcResidue" | "rc4">;
  seq: bigint;
  readonly macLen: number;
  readonly ipad: Buffer;
  readonly opad: Buffer;
  readonly cbcName?: string;
  /** CBC: chain value of the live cipher object = last ciphertext block. */
  residue: Buffer;
  enc?: Cipher;
  dec?: Decipher;
  /** A state protects one direction: it seals or it opens, never both (CBC chaining). */
  role?: "seal" | "open";
  /** RC4: the 272-byte WASM context plus the last base snapshot. */
  rc4?: { ctx: Uint8Array; base: Uint8Array; baseOffset: number };
}

function hmacPads(key: Uint8Array): { ipad: Buffer; opad: Buffer } {
  // RFC 2104 §2: key zero-padded to the 64-byte block; TLS MAC keys are ≤ 32 bytes.
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < key.length; i++) {
    ipad[i]! ^= key[i]!;
    opad[i]! ^= key[i]!;
  }
  return { ipad, opad };
}

export function nativeRecordInit(s: RecordState): NativeRecordState {
  validateRecordState(s);
  const st: NativeRecordState = {
    portable: { version: s.version, cipher: s.cipher, mac: s.mac, encKey: s.encKey.slice(), macKey: s.macKey.slice() },
    seq: s.seq,
    macLen: HASH_LENGTH[s.mac],
    ...hmacPads(s.macKey),
    residue: Buffer.from(s.cbcResidue ?? new Uint8Array(AES_BLOCK)),
  };
  if (isCbc(s.cipher)) (st as { cbcName: string }).cbcName = s.cipher === "aes128-cbc" ? "aes-128-cbc" : "aes-256-cbc";
  if (s.cipher === "rc4-128") {
    const ctx = rc4CtxFromPosition(s.encKey, s.rc4);
    const pos = rc4CtxPosition(ctx);
    st.rc4 = s.rc4
      ? { ctx, base: s.rc4.base.slice(), baseOffset: s.rc4.baseOffset }
      : { ctx, base: pos.base, baseOffset: pos.offset };
  }
  return st;
}

export function nativeExportRecordState(st: NativeRecordState): RecordState {
  const p = st.portable;
  const out: { -readonly [K in keyof RecordState]: RecordState[K] } = {
    version: p.version, cipher: p.cipher, mac: p.mac, encKey: p.encKey.slice(), macKey: p.macKey.slice(), seq: st.seq,
  };
  if (isCbc(p.cipher) && p.version === TLS10) out.cbcResidue = new Uint8Array(st.residue);
  if (st.rc4) {
    out.rc4 = { base: st.rc4.base.slice(), baseOffset: st.rc4.baseOffset, offset: rc4CtxPosition(st.rc4.ctx).offset };
  }
  return out;
}

function claim(st: NativeRecordState, role: "seal" | "open"): void {
  if (st.role && st.role !== role) throw badState(`a state used to ${st.role} records cannot ${role} them`);
  st.role = role;
}

function header(contentType: number, version: number, bodyLen: number): Buffer {
  return Buffer.from([contentType, version >> 8, version & 0xff, bodyLen >> 8, bodyLen & 0xff]);
}

function refreshRc4Base(rc4: NonNullable<NativeRecordState["rc4"]>): void {
  const pos = rc4CtxPosition(rc4.ctx);
  if (pos.offset - rc4.baseOffset >= RC4_BASE_INTERVAL) {
    rc4.base = pos.base;
    rc4.baseOffset = pos.offset;
  }
}

export function nativeSealRecord(st: NativeRecordState, contentType: number, version: number, fragment: Uint8Array): Uint8Array {
  if (st.seq >= SEQ_LIMIT) throw seqExhausted(st.seq);
  if (fragment.length > MAX_PLAINTEXT) throw fragmentTooLong(fragment.length);
  claim(st, "seal");
  const len = fragment.length;
  const macLen = st.macLen;
  // RFC 5246 §6.2.3.1: MAC(MAC_write_key, seq_num ‖ type ‖ version ‖ length ‖ fragment).
  const mac = createHmac(st.portable.mac, st.portable.macKey)
    .update(macHeader(st.seq, contentType, version, len)).update(fragment).digest();
  let record: Buffer;
  if (st.cbcName) {
    const ivLen = explicitIvLength(st.portable);
    // RFC 5246 §6.2.3.2: padding_length + 1 bytes of value padding_length;
    // we always pick the minimum so the output is deterministic.
    const padded = (len + macLen + 1 + 15) & ~15;
    const padLen = padded - len - macLen - 1;
    const bodyLen = ivLen + padded;
    record = Buffer.allocUnsafe(5 + bodyLen);
    header(contentType, version, bodyLen).copy(record, 0);
    const input = Buffer.allocUnsafe(bodyLen);
    if (ivLen) {
      // First block c_prev ⊕ (0^8 ‖ seq): the stream emits E_K(nonce), the IV.
      const nonce = ivNonce(st.seq);
      for (let i = 0; i < AES_BLOCK; i++) input[i] = st.residue[i]! ^ nonce[i]!;
    }
    input.set(fragment, ivLen);
    mac.copy(input, ivLen + len);
    input.fill(padLen, ivLen + len + macLen);
    st.enc ??= createCipheriv(st.cbcName, st.portable.encKey, st.residue).setAutoPadding(false);
    const ct = st.enc.update(input);
    if (ct.length !== bodyLen) throw badState("CBC stream returned a partial block");
    ct.copy(record, 5);
    st.residue = Buffer.from(ct.subarray(bodyLen - AES_BLOCK));
  } else {
    const bodyLen = len + macLen;
    record = Buffer.allocUnsafe(5 + bodyLen);
    header(contentType, version, bodyLen).copy(record, 0);
    record.set(fragment, 5);
    mac.copy(record, 5 + len);
    if (st.rc4) {
      rc4Run(st.rc4.ctx, record.subarray(5));
      refreshRc4Base(st.rc4);
    }
  }
  st.seq += 1n;
  return new Uint8Array(record.buffer, record.byteOffset, record.length);
}

/**
 * Constant-time CBC padding and MAC check on the decrypted `pt` (L bytes,
 * L a multiple of 16 and ≥ macLen + 1). Returns dataLen, or -1 on failure.
 */
function cbcCheck(st: NativeRecordState, contentType: number, version: number, pt: Buffer): number {
  const L = pt.length;
  const macLen = st.macLen;
  // RFC 5246 §6.2.3.2: padding_length is the last byte; padding_length + 1
  // bytes all equal to it; they must fit after the MAC.
  let padLen = pt[L - 1]!;
  let good = ~ctLt(L - macLen - 1, padLen);
  // Scan the largest possible padding window (256 bytes) whatever padLen is.
  const window = Math.min(256, L);
  let acc = 0;
  for (let i = 0; i < window; i++) {
    const inPad = ~ctLt(padLen, i); // i <= padLen
    acc |= inPad & (pt[L - 1 - i]! ^ padLen);
  }
  good &= ctEq(acc, 0);
  // RFC 5246 §6.2.3.2 note: on bad padding compute the MAC as if there were
  // no padding, so the MAC work does not reveal which check failed.
  padLen &= good;
  const dataLen = L - macLen - 1 - padLen;
  const maxData = L - macLen - 1;

  // HMAC (RFC 2104) by hand over createHash so that the same number of bytes
  // is hashed whatever dataLen is: the real inner hash is taken from a copy,
  // then the rest of the maximal input is absorbed and thrown away.
  const inner = createHash(st.portable.mac).update(st.ipad)
    .update(macHeader(st.seq, contentType, version, dataLen)).update(pt.subarray(0, dataLen));
  const innerDigest = inner.copy().digest();
  inner.update(pt.subarray(dataLen, maxData));
  inner.digest();
  const mac = createHash(st.portable.mac).update(st.opad).update(innerDigest).digest();

  // Extract the received MAC at the secret offset dataLen without a
  // secret-dependent index: scan every position it could start at, collect
  // bytes into a rotated copy indexed by the public scan position, note the
  // rotation, then undo it with a full macLen × macLen masked pass.
  const scanStart = Math.max(0, L - 256 - macLen);
  const rot = new Uint8Array(macLen);
  let rotate = 0;
  let j = 0;
  for (let p = scanStart; p < L - 1; p++) {
    rotate |= j & ctEq(p, dataLen);
    const inMac = ~ctLt(p, dataLen) & ctLt(p, dataLen + macLen);
    rot[j] |= pt[p]! & inMac;
    j = (j + 1) & ~ctEq(j + 1, macLen);
  }
  let diff = 0;
  for (let k = 0; k < macLen; k++) {
    let idx = rotate + k;
    idx -= macLen & ~ctLt(idx, macLen);
    let b = 0;
    for (let i = 0; i < macLen; i++) b |= rot[i]! & ctEq(i, idx);
    diff |= b ^ mac[k]!;
  }
  good &= ctEq(diff, 0);
  return (dataLen & good) | ~good;
}

export function nativeOpenRecord(st: NativeRecordState, contentType: number, version: number, body: Uint8Array): OpenResult {
  if (st.seq >= SEQ_LIMIT) throw seqExhausted(st.seq);
  claim(st, "open");
  // RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048.
  if (body.length > MAX_CIPHERTEXT) return recordOverflow(`record body of ${body.length} bytes exceeds 2^14+2048`);
  const macLen = st.macLen;
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  let plaintext: Buffer;
  if (st.cbcName) {
    const ivLen = explicitIvLength(st.portable);
    const L = body.length - ivLen;
    // RFC 5246 §6.2.3.2 / §7.2.2: a length that is not a whole number of
    // blocks or cannot hold MAC + padding byte is a bad_record_mac too.
    if (L < macLen + 1 || L % AES_BLOCK !== 0) return badRecordMac;
    st.dec ??= createDecipheriv(st.cbcName, st.portable.encKey, st.residue).setAutoPadding(false);
    let pt = st.dec.update(buf);
    if (pt.length !== body.length) throw badState("CBC stream returned a partial block");
    if (ivLen) pt = pt.subarray(ivLen);
    const dataLen = cbcCheck(st, contentType, version, pt);
    if (dataLen < 0) {
      st.dec = undefined; // rebuilt from the unchanged residue: the state does not advance
      return badRecordMac;
    }
    if (dataLen > MAX_PLAINTEXT) {
      st.dec = undefined;
      return recordOverflow(`decrypted fragment of ${dataLen} bytes exceeds 2^14 (RFC 5246 §6.2.3)`);
    }
    st.residue = Buffer.from(buf.subarray(body.length - AES_BLOCK));
    plaintext = pt.subarray(0, dataLen);
  } else {
    if (body.length < macLen) return badRecordMac;
    const data = Buffer.from(buf);
    let saved: Uint8Array | undefined;
    if (st.rc4) {
      saved = st.rc4.ctx.slice();
      rc4Run(st.rc4.ctx, data);
    }
    const dataLen = body.length - macLen;
    const mac = createHmac(st.portable.mac, st.portable.macKey)
      .update(macHeader(st.seq, contentType, version, dataLen)).update(data.subarray(0, dataLen)).digest();
    const ok = timingSafeEqual(mac, data.subarray(dataLen));
    if (!ok || dataLen > MAX_PLAINTEXT) {
      if (saved) st.rc4!.ctx.set(saved);
      return ok ? recordOverflow(`decrypted fragment of ${dataLen} bytes exceeds 2^14 (RFC 5246 §6.2.3)`) : badRecordMac;
    }
    if (st.rc4) refreshRc4Base(st.rc4);
    plaintext = data.subarray(0, dataLen);
  }
  st.seq += 1n;
  return { ok: true, contentType, plaintext: new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length) };
}

/** Import is init: a checkpoint's RecordState is a complete description. */
export const nativeImportRecordState = nativeRecordInit;

export const nativeRecordProvider: RecordProvider<NativeRecordState> = {
  name: "native",
  init: nativeRecordInit,
  seal: nativeSealRecord,
  open: nativeOpenRecord,
  exportState: nativeExportRecordState,
};

