// Whole-record protection for TLS 1.0-1.2 CBC and RC4 suites: one call into
// WASM per record (DESIGN.md "WASM crypto core").
//
// Data flow: src/crypto/wasm/record.ts keeps one flat state block per
// direction (layout below), copies it and the record into scratch, calls
// recordSeal / recordOpen, and copies the block back only on success (so a
// failed open never advances the state). The block has no pointers, so it is
// also what a checkpoint is exported from (STYLE.md §6).
//
// Seal (RFC 5246 §6.2.3.1-2): MAC-then-encrypt; minimal CBC padding; the
// TLS 1.1+ explicit IV is AES_K(0^8 ‖ seq_num), the forward cipher under the
// encryption key applied to a unique nonce (NIST SP 800-38A Appendix C), so
// the output is deterministic and a node restoring a checkpoint reproduces it
// (DESIGN.md law 0). TLS 1.0 chains the IV from the previous record (RFC 2246
// §6.2.3.2).
//
// Open: constant time in the (secret) padding length, after Lucky Thirteen
// (AlFardan & Paterson, IEEE S&P 2013). The padding is checked with masks over
// the whole 256-byte window; the HMAC inner hash runs the same number of
// compression-function calls whatever the padding, selecting the chaining
// value at the real length with masks; the received MAC is extracted from its
// secret offset without secret-dependent addresses; padding-ok and MAC-ok are
// combined with masks and there is one failure exit. What remains
// data-dependent is only public: the record length.
import { ALG_MD5, BLOCK_LEN, MAX_DIGEST, MAX_HASH_CTX } from "./hash-common";
import {
  hashCompress, hashCtxSize, hashDigestLen, hashFinal, hashUpdate,
  hmacCtxSize, hmacFinal, hmacInit, hmacInnerState, hmacOuterState, hmacUpdate,
} from "./hmac";
import { aesCtxSize, aesInit, aesEncryptBlock } from "./aes";
import { cbcEncrypt, cbcDecrypt } from "./cbc";
import { rc4CtxSize, rc4Init, rc4Process } from "./rc4";

// --- State block ---------------------------------------------------------
//   0    u8   cipher: 0 null, 1 AES-128-CBC, 2 AES-256-CBC, 3 RC4-128
//   1    u8   MAC hash id (hash-common.ts: 1 MD5, 2 SHA-1, 3 SHA-256)
//   2    u16  protocol version (0x0301..0x0303)
//   8    u64  sequence number of the next record (little-endian)
//   16   16   CBC residue: the next IV in TLS 1.0; scratch in TLS 1.1+
//   32   240  HMAC context keyed with the MAC key (hmac.ts layout)
//   272  ...  cipher context: AES key schedule (aes.ts) or RC4 (272 bytes)
const ST_CIPHER: usize = 0;
const ST_MAC: usize = 1;
const ST_VERSION: usize = 2;
const ST_SEQ: usize = 8;
const ST_RESIDUE: usize = 16;
const ST_HMAC: usize = 32;
const ST_CIPHER_CTX: usize = 272;

export const CIPHER_NULL: i32 = 0;
export const CIPHER_AES128: i32 = 1;
export const CIPHER_AES256: i32 = 2;
export const CIPHER_RC4: i32 = 3;

const TLS11: i32 = 0x0302;
const MAX_PLAINTEXT: i32 = 1 << 14;          // RFC 5246 §6.2.1
const MAX_CIPHERTEXT: i32 = (1 << 14) + 2048; // RFC 5246 §6.2.3

/** recordOpen / recordSeal results below zero. */
export const ERR_BAD_RECORD_MAC: i32 = -1;
export const ERR_CIPHERTEXT_OVERFLOW: i32 = -2;
export const ERR_PLAINTEXT_OVERFLOW: i32 = -3;
export const ERR_SEQ_EXHAUSTED: i32 = -4;
export const ERR_FRAGMENT_TOO_LONG: i32 = -5;

// Static scratch (no run-time allocation; the module is single-threaded).
const HDR: usize = memory.data(16, 16);          // seq ‖ type ‖ version ‖ length
const BLK: usize = memory.data(BLOCK_LEN, 16);   // a hash block built with masks
const H: usize = memory.data(MAX_DIGEST, 16);    // running inner chaining value
const SEL: usize = memory.data(MAX_DIGEST, 16);  // chaining value at the real length
const DIG: usize = memory.data(MAX_DIGEST, 16);  // inner digest, then the MAC
const ROT: usize = memory.data(MAX_DIGEST, 16);  // received MAC, rotated
const OUTCTX: usize = memory.data(MAX_HASH_CTX, 16);

export function recordStateSize(): i32 {
  const c = aesCtxSize() > rc4CtxSize() ? aesCtxSize() : rc4CtxSize();
  return <i32>ST_CIPHER_CTX + c;
}

/**
 * Keys a fresh state block: cipher context from `encKey`, HMAC from `macKey`,
 * sequence number 0, residue zero. The glue then writes the sequence number,
 * the TLS 1.0 residue or the RC4 position it restores.
 */
export function recordInit(st: usize, cipher: i32, macAlg: i32, version: i32,
  encKey: usize, encKeyLen: i32, macKey: usize, macKeyLen: i32): void {
  memory.fill(st, 0, <usize>recordStateSize());
  store<u8>(st + ST_CIPHER, <u8>cipher);
  store<u8>(st + ST_MAC, <u8>macAlg);
  store<u16>(st + ST_VERSION, <u16>version);
  hmacInit(macAlg, st + ST_HMAC, macKey, macKeyLen);
  if (cipher == CIPHER_AES128 || cipher == CIPHER_AES256) aesInit(st + ST_CIPHER_CTX, encKey, encKeyLen);
  else if (cipher == CIPHER_RC4) rc4Init(st + ST_CIPHER_CTX, encKey, encKeyLen);
}

/** Offset of the cipher context (RC4 position export/import by the glue). */
export function recordCipherCtxOffset(): i32 {
  return <i32>ST_CIPHER_CTX;
}

// --- Constant-time helpers (operands are non-negative and < 2^30) ----------

// @ts-ignore: decorator
@inline function ctLt(a: i32, b: i32): i32 { return (a - b) >> 31; }
// @ts-ignore: decorator
@inline function ctEq(a: i32, b: i32): i32 { const d = a ^ b; return ~((d | -d) >> 31); }

function isCbc(cipher: i32): bool {
  return cipher == CIPHER_AES128 || cipher == CIPHER_AES256;
}

/** RFC 5246 §6.2.3.1: seq_num ‖ type ‖ version ‖ length into HDR. */
function writeMacHeader(seq: u64, type: i32, version: i32, length: i32): void {
  store<u64>(HDR, bswap<u64>(seq));
  store<u8>(HDR, <u8>type, 8);
  store<u8>(HDR, <u8>(version >> 8), 9);
  store<u8>(HDR, <u8>version, 10);
  store<u8>(HDR, <u8>(length >> 8), 11);
  store<u8>(HDR, <u8>length, 12);
}

function writeRecordHeader(out: usize, type: i32, version: i32, bodyLen: i32): void {
  store<u8>(out, <u8>type);
  store<u8>(out, <u8>(version >> 8), 1);
  store<u8>(out, <u8>version, 2);
  store<u8>(out, <u8>(bodyLen >> 8), 3);
  store<u8>(out, <u8>bodyLen, 4);
}

/** Streaming HMAC over HDR ‖ data (public length): seal and stream-cipher open. */
function macPublic(st: usize, data: usize, len: i32, out: usize): void {
  const alg = <i32>load<u8>(st + ST_MAC);
  hmacUpdate(alg, st + ST_HMAC, HDR, 13);
  hmacUpdate(alg, st + ST_HMAC, data, len);
  hmacFinal(alg, st + ST_HMAC, out);
}

// --- Seal -------------------------------------------------------------------

/**
 * Seals `len` bytes at `data` (≤ 2^14) into a whole record at `out` (header
 * included; `out` may equal `data + 5 + ivLen`, the glue's layout). Returns
 * the record length, or ERR_SEQ_EXHAUSTED / ERR_FRAGMENT_TOO_LONG.
 */
export function recordSeal(st: usize, type: i32, version: i32, data: usize, len: i32, out: usize): i32 {
  const seq = load<u64>(st + ST_SEQ);
  // RFC 5246 §6.1: sequence numbers do not wrap.
  if (seq == U64.MAX_VALUE) return ERR_SEQ_EXHAUSTED;
  if (len < 0 || len > MAX_PLAINTEXT) return ERR_FRAGMENT_TOO_LONG;
  const cipher = <i32>load<u8>(st + ST_CIPHER);
  const alg = <i32>load<u8>(st + ST_MAC);
  const macLen = hashDigestLen(alg);
  const cbc = isCbc(cipher);
  const ivLen: i32 = cbc && <i32>load<u16>(st + ST_VERSION) >= TLS11 ? 16 : 0;
  const body = out + 5;
  const pt = body + <usize>ivLen;
  if (pt != data) memory.copy(pt, data, <usize>len);
  // RFC 5246 §6.2.3.1: MAC over seq ‖ type ‖ version ‖ length ‖ fragment.
  writeMacHeader(seq, type, version, len);
  macPublic(st, pt, len, pt + <usize>len);
  let bodyLen = len + macLen;
  if (cbc) {
    // RFC 5246 §6.2.3.2: padding_length + 1 bytes of value padding_length;
    // the minimum, so the record is deterministic.
    const padded = (len + macLen + 1 + 15) & ~15;
    const padLen = padded - len - macLen - 1;
    memory.fill(pt + <usize>(len + macLen), <u8>padLen, <usize>(padLen + 1));
    const ctx = st + ST_CIPHER_CTX;
    if (ivLen) {
      // Deterministic explicit IV (see the file header): AES_K(0^8 ‖ seq).
      store<u64>(body, 0);
      store<u64>(body, bswap<u64>(seq), 8);
      aesEncryptBlock(ctx, body, body);
      memory.copy(st + ST_RESIDUE, body, 16);
    }
    cbcEncrypt(ctx, st + ST_RESIDUE, pt, padded);
    bodyLen = ivLen + padded;
  } else if (cipher == CIPHER_RC4) {
    rc4Process(st + ST_CIPHER_CTX, pt, bodyLen);
  }
  writeRecordHeader(out, type, version, bodyLen);
  store<u64>(st + ST_SEQ, seq + 1);
  return 5 + bodyLen;
}

// --- Open -------------------------------------------------------------------

/** Byte p of the MAC input HDR(13) ‖ data; p is public. */
// @ts-ignore: decorator
@inline function inputByte(data: usize, p: i32): i32 {
  return p < 13 ? <i32>load<u8>(HDR + <usize>p) : <i32>load<u8>(data + <usize>(p - 13));
}

/**
 * HMAC over HDR ‖ data[0, dataLen) into DIG, where dataLen is secret and lies
 * in [minData, maxData] (public). The inner hash always runs the compressions
 * needed for maxData; the chaining value after the block that carries the
 * length field of the real message is kept with a mask (Lucky 13 §5
 * countermeasure: the number of compression calls must not depend on the
 * padding). HDR must already hold the length field dataLen.
 */
function macConstantTime(st: usize, data: usize, dataLen: i32, minData: i32, maxData: i32): void {
  const alg = <i32>load<u8>(st + ST_MAC);
  const cvLen = hashDigestLen(alg);
  const hmac = st + ST_HMAC;
  // The inner context starts after K0 ⊕ ipad: one block already absorbed.
  memory.copy(H, hmacInnerState(hmac), <usize>cvLen);
  memory.fill(SEL, 0, MAX_DIGEST);
  const m = 13 + dataLen;
  const mMin = 13 + minData;
  const mMax = 13 + maxData;
  // FIPS 180-4 §5.1.1 / RFC 1321 §3.1-3.2: message, 0x80, zeros, 64-bit bit
  // length (big-endian for SHA, little-endian for MD5) in the last 8 bytes.
  const bits = <u64>(BLOCK_LEN + m) << 3;
  const lenBlock = (m + 8) >> 6;
  const lastBlock = (mMax + 8) >> 6;
  const md5 = alg == ALG_MD5;
  // Blocks wholly inside the shortest possible message hold no secret.
  const fast = mMin >> 6;
  for (let k = 0; k < fast; k++) {
    if (k == 0) {
      memory.copy(BLK, HDR, 13);
      memory.copy(BLK + 13, data, BLOCK_LEN - 13);
      hashCompress(alg, H, BLK);
    } else {
      hashCompress(alg, H, data + <usize>(k * BLOCK_LEN - 13));
    }
  }
  for (let k = fast; k <= lastBlock; k++) {
    const isLen = ctEq(k, lenBlock);
    const base = k * BLOCK_LEN;
    for (let j = 0; j < BLOCK_LEN; j++) {
      const p = base + j;
      let b = p < mMax ? inputByte(data, p) : 0;
      b &= ctLt(p, m);
      b |= 0x80 & ctEq(p, m);
      if (j >= 56) {
        const shift = md5 ? (j - 56) << 3 : (63 - j) << 3;
        const lb = <i32>(bits >> <u64>shift) & 0xff;
        b = (b & ~isLen) | (lb & isLen);
      }
      store<u8>(BLK + <usize>j, <u8>b);
    }
    hashCompress(alg, H, BLK);
    for (let w = 0; w < cvLen; w += 4) {
      store<i32>(SEL + <usize>w, load<i32>(SEL + <usize>w) | (load<i32>(H + <usize>w) & isLen));
    }
  }
  // Digest bytes: MD5 words are little-endian (RFC 1321 §3.5), SHA big-endian.
  for (let w = 0; w < cvLen; w += 4) {
    const v = load<u32>(SEL + <usize>w);
    store<u32>(DIG + <usize>w, md5 ? v : bswap<u32>(v));
  }
  // Outer hash: fixed-length input, nothing secret-dependent in its timing.
  memory.copy(OUTCTX, hmacOuterState(hmac), <usize>hashCtxSize(alg));
  hashUpdate(alg, OUTCTX, DIG, cvLen);
  hashFinal(alg, OUTCTX, DIG);
}

/**
 * RFC 5246 §6.2.3.2 check of a decrypted CBC fragment `pt` of L bytes (L a
 * multiple of 16, L ≥ macLen + 1), in constant time. Returns the data length,
 * or -1. Every failure looks the same.
 */
function cbcCheck(st: usize, type: i32, version: i32, pt: usize, L: i32): i32 {
  const alg = <i32>load<u8>(st + ST_MAC);
  const macLen = hashDigestLen(alg);
  let padLen = <i32>load<u8>(pt + <usize>(L - 1));
  // The padding and its length byte must fit after the MAC.
  let good = ~ctLt(L - macLen - 1, padLen);
  // Check every byte that could be padding (up to 256), masking by i ≤ padLen.
  const window = L < 256 ? L : 256;
  let acc = 0;
  for (let i = 0; i < window; i++) {
    const inPad = ~ctLt(padLen, i);
    acc |= inPad & (<i32>load<u8>(pt + <usize>(L - 1 - i)) ^ padLen);
  }
  good &= ctEq(acc, 0);
  // RFC 5246 §6.2.3.2 note: with bad padding, MAC as if there were none.
  padLen &= good;
  const dataLen = L - macLen - 1 - padLen;
  const maxData = L - macLen - 1;
  const minData = maxData > 255 ? maxData - 255 : 0;

  writeMacHeader(load<u64>(st + ST_SEQ), type, version, dataLen);
  macConstantTime(st, pt, dataLen, minData, maxData);

  // Collect the received MAC from its secret offset dataLen: scan every
  // possible position, store into ROT at the public index (p - scanStart) mod
  // macLen, remember the rotation at p == dataLen, then undo it with a full
  // macLen × macLen masked pass.
  memory.fill(ROT, 0, MAX_DIGEST);
  const scanStart = L - 256 - macLen > 0 ? L - 256 - macLen : 0;
  let rotate = 0;
  let j = 0;
  const macEnd = dataLen + macLen;
  for (let p = scanStart; p < L - 1; p++) {
    rotate |= j & ctEq(p, dataLen);
    const inMac = ~ctLt(p, dataLen) & ctLt(p, macEnd);
    const r = ROT + <usize>j;
    store<u8>(r, <u8>(<i32>load<u8>(r) | (<i32>load<u8>(pt + <usize>p) & inMac)));
    j = (j + 1) & ~ctEq(j + 1, macLen);
  }
  let diff = 0;
  for (let k = 0; k < macLen; k++) {
    let idx = rotate + k;
    idx -= macLen & ~ctLt(idx, macLen);
    let b = 0;
    for (let i = 0; i < macLen; i++) b |= <i32>load<u8>(ROT + <usize>i) & ctEq(i, idx);
    diff |= b ^ <i32>load<u8>(DIG + <usize>k);
  }
  good &= ctEq(diff, 0);
  return (dataLen & good) | ~good;
}

/**
 * Opens a record body of `len` bytes at `data` (the bytes after the 5-byte
 * header), in place. Returns the plaintext length (the plaintext starts at
 * data + 16 for TLS 1.1+ CBC, at data otherwise) or a negative ERR_*.
 * The state block is modified even on failure; the glue discards it then.
 */
export function recordOpen(st: usize, type: i32, version: i32, data: usize, len: i32): i32 {
  const seq = load<u64>(st + ST_SEQ);
  if (seq == U64.MAX_VALUE) return ERR_SEQ_EXHAUSTED;
  // RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048.
  if (len > MAX_CIPHERTEXT) return ERR_CIPHERTEXT_OVERFLOW;
  const cipher = <i32>load<u8>(st + ST_CIPHER);
  const alg = <i32>load<u8>(st + ST_MAC);
  const macLen = hashDigestLen(alg);
  let dataLen: i32;
  if (isCbc(cipher)) {
    const ivLen: i32 = <i32>load<u16>(st + ST_VERSION) >= TLS11 ? 16 : 0;
    const L = len - ivLen;
    // RFC 5246 §6.2.3.2, §7.2.2: not a whole number of blocks, or too short
    // for MAC + padding byte: bad_record_mac (public lengths only).
    if (L < macLen + 1 || (L & 15) != 0) return ERR_BAD_RECORD_MAC;
    const pt = data + <usize>ivLen;
    // TLS 1.1+: the explicit IV is the first block; TLS 1.0: the residue.
    const iv = ivLen ? data : st + ST_RESIDUE;
    cbcDecrypt(st + ST_CIPHER_CTX, iv, pt, L);
    dataLen = cbcCheck(st, type, version, pt, L);
  } else {
    if (len < macLen) return ERR_BAD_RECORD_MAC;
    if (cipher == CIPHER_RC4) rc4Process(st + ST_CIPHER_CTX, data, len);
    dataLen = len - macLen;
    writeMacHeader(seq, type, version, dataLen);
    macPublic(st, data, dataLen, DIG);
    let diff = 0;
    for (let k = 0; k < macLen; k++) {
      diff |= <i32>load<u8>(DIG + <usize>k) ^ <i32>load<u8>(data + <usize>(dataLen + k));
    }
    const good = ctEq(diff, 0);
    dataLen = (dataLen & good) | ~good;
  }
  memory.fill(DIG, 0, MAX_DIGEST);
  if (dataLen < 0) return ERR_BAD_RECORD_MAC;
  // RFC 5246 §6.2.3: a plaintext longer than 2^14 is a record_overflow.
  if (dataLen > MAX_PLAINTEXT) return ERR_PLAINTEXT_OVERFLOW;
  store<u64>(st + ST_SEQ, seq + 1);
  return dataLen;
}
