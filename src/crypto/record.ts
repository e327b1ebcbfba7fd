// Record protection for TLS 1.0-1.2 CBC and RC4 suites: the types every
// provider shares, the portable per-direction state a checkpoint carries
// (SSLACC §5.4, DESIGN.md "Checkpoints"), and its versioned binary encoding.
//
// Data flow: the TLS engine (src/tls/) frames records; for each record it
// calls a provider's seal/open once (one call into WASM per record for the
// wasm provider, src/crypto/wasm/record.ts; node:crypto for the native one,
// src/crypto/native/record.ts). After every record the engine may export the
// state, encode it and ship it to the mirrors; a mirror decodes and imports
// it and continues producing the very same bytes (DESIGN.md law 0).
//
// Determinism (law 0): nothing in record protection draws randomness. CBC
// padding is minimal (RFC 5246 §6.2.3.2), and the TLS 1.1+ explicit IV is
// IV = AES_K(0^8 ‖ seq_num) — the forward cipher under the record encryption
// key applied to a unique nonce, which NIST SP 800-38A Appendix C allows for
// generating unpredictable IVs. A node that restores a checkpoint therefore
// reproduces the same records byte for byte.
import { HASH_LENGTH, SSL3, TLS10, TLS11, TLS12, type HashAlg, type RecordVersion } from "./types.js";

export type RecordCipher = "aes128-cbc" | "aes256-cbc" | "rc4-128" | "null";
export type RecordMac = HashAlg;

/** RFC 5246 §6.2.1: TLSPlaintext.length MUST NOT exceed 2^14. */
export const MAX_PLAINTEXT = 1 << 14;
/** RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048. */
export const MAX_CIPHERTEXT = (1 << 14) + 2048;
/** RFC 5246 §6.1: sequence numbers never wrap; we refuse to use 2^64-1. */
export const SEQ_LIMIT = (1n << 64n) - 1n;
/** Bytes of an RC4 base: S[256], i, j. */
export const RC4_BASE_LEN = 258;
/**
 * SSLACC §5.4 / DESIGN.md: an RC4 base (full key schedule) is refreshed every
 * ~1 MiB of keystream; in between a checkpoint only moves the offset, and a
 * restore skips at most this much keystream (plus one record).
 */
export const RC4_BASE_INTERVAL = 1 << 20;
export const AES_BLOCK = 16;

/** Where an RC4 keystream is: a base snapshot plus the absolute offset. */
export interface Rc4Position {
  /** S[0..255], i, j at keystream offset `baseOffset` (258 bytes). */
  readonly base: Uint8Array;
  readonly baseOffset: number;
  /** Absolute keystream offset now (bytes consumed since the key schedule). */
  readonly offset: number;
}

/** What a checkpoint carries for one direction of one connection. */
export interface RecordState {
  readonly version: RecordVersion;
  readonly cipher: RecordCipher;
  readonly mac: RecordMac;
  readonly encKey: Uint8Array;
  readonly macKey: Uint8Array;
  /** Sequence number of the next record (RFC 5246 §6.1), u64. */
  readonly seq: bigint;
  /**
   * TLS 1.0 CBC only (RFC 2246 §6.2.3.2): the IV for the next record, i.e. the
   * last ciphertext block of the previous one (initially the key-block IV).
   * TLS 1.1+ sends an explicit IV per record, so only the key matters.
   */
  readonly cbcResidue?: Uint8Array;
  /** RC4 only. Omitted at connection start: providers run the key schedule. */
  readonly rc4?: Rc4Position;
}

export type RecordAlert = "bad_record_mac" | "record_overflow";

export type OpenResult =
  | { readonly ok: true; readonly contentType: number; readonly plaintext: Uint8Array }
  | { readonly ok: false; readonly alert: RecordAlert; readonly description: string };

/**
 * One provider's record protection (STYLE.md §5). `S` is the provider's live,
 * mutable per-direction state. seal/open advance it by one record on
 * success; a failed open leaves it untouched (see openRecord's doc).
 */
export interface RecordProvider<S> {
  readonly name: string;
  init(state: RecordState): S;
  /**
   * RFC 5246 §6.2.3.1-2: MAC-then-encrypt `fragment` (≤ 2^14 bytes) and return
   * the whole record, 5-byte header first. Throws a RecordError on misuse
   * (fragment too long, sequence number exhausted).
   */
  seal(state: S, contentType: number, version: number, fragment: Uint8Array): Uint8Array;
  /**
   * Check and decrypt a record body (the bytes after the 5-byte header).
   * Every decryption/padding/MAC failure gives the same `bad_record_mac`
   * result (RFC 5246 §7.2.2), computed in constant time in the padding length.
   * On failure the state is not advanced: the failure is fatal in TLS (the
   * connection must be closed), and leaving the state as it was keeps it
   * equal to the last checkpointable state. Throws a RecordError only when
   * the sequence number is exhausted (RFC 5246 §6.1).
   */
  open(state: S, contentType: number, version: number, body: Uint8Array): OpenResult;
  exportState(state: S): RecordState;
}

export type RecordErrorCode = "seq_exhausted" | "fragment_too_long" | "bad_state" | "unsupported";

/** Local misuse or an unsupported configuration (never the peer's bytes). */
export class RecordError extends Error {
  override readonly name = "RecordError";
  constructor(readonly code: RecordErrorCode, message: string) {
    super(message);
  }
}

export function seqExhausted(seq: bigint): RecordError {
  return new RecordError(
    "seq_exhausted",
    `record sequence number ${seq} reached 2^64-1: RFC 5246 §6.1 forbids wrapping; renegotiate or close the connection`,
  );
}

export function fragmentTooLong(len: number): RecordError {
  return new RecordError("fragment_too_long", `plaintext fragment of ${len} bytes exceeds 2^14 (RFC 5246 §6.2.1)`);
}

export function badState(what: string): RecordError {
  return new RecordError("bad_state", `invalid record state: ${what}`);
}

export function unsupported(what: string): RecordError {
  return new RecordError("unsupported", what);
}

export const badRecordMac: OpenResult = Object.freeze({
  ok: false,
  alert: "bad_record_mac",
  description: "record failed decryption, padding or MAC check",
});

export function recordOverflow(what: string): OpenResult {
  return { ok: false, alert: "record_overflow", description: what };
}

export function encKeyLength(cipher: RecordCipher): number {
  switch (cipher) {
    case "aes128-cbc": return 16;
    case "aes256-cbc": return 32;
    case "rc4-128": return 16;
    case "null": return 0;
    default: return exhaustive(cipher);
  }
}

export function isCbc(cipher: RecordCipher): boolean {
  return cipher === "aes128-cbc" || cipher === "aes256-cbc";
}

/** TLS 1.0 (and SSL 3.0) chain the CBC IV across records; TLS 1.1+ send it. */
export function explicitIvLength(state: Pick<RecordState, "cipher" | "version">): number {
  return isCbc(state.cipher) && state.version >= TLS11 ? AES_BLOCK : 0;
}

function exhaustive(x: never): never {
  throw badState(`unexpected value ${String(x)}`);
}

/** Checks a portable state before a provider builds on it; throws a RecordError. */
export function validateRecordState(s: RecordState): void {
  if (s.version === SSL3) {
    // RFC 6101 §5.2.3.1: the SSL 3.0 MAC is not HMAC (pad_1/pad_2 around the
    // secret, no version field). Not implemented.
    throw unsupported("SSL 3.0 record protection (RFC 6101 §5.2.3.1 MAC) is not supported; negotiate TLS 1.0 or later");
  }
  if (s.version !== TLS10 && s.version !== TLS11 && s.version !== TLS12) {
    throw badState(`protocol version 0x${Number(s.version).toString(16)}`);
  }
  if (!(s.mac in HASH_LENGTH)) throw badState(`MAC algorithm ${String(s.mac)}`);
  if (s.mac === "sha256" && s.version !== TLS12) {
    // RFC 5246 App. A.5: the *_SHA256 suites are defined for TLS 1.2 only.
    throw badState("HMAC-SHA256 suites exist only in TLS 1.2");
  }
  const keyLen = encKeyLength(s.cipher);
  if (s.encKey.length !== keyLen) throw badState(`${s.cipher} needs a ${keyLen}-byte key, got ${s.encKey.length}`);
  if (s.macKey.length !== HASH_LENGTH[s.mac]) {
    throw badState(`HMAC-${s.mac} key must be ${HASH_LENGTH[s.mac]} bytes, got ${s.macKey.length}`);
  }
  if (typeof s.seq !== "bigint" || s.seq < 0n || s.seq > SEQ_LIMIT) throw badState(`sequence number ${String(s.seq)}`);
  if (isCbc(s.cipher) && s.version === TLS10) {
    if (!s.cbcResidue || s.cbcResidue.length !== AES_BLOCK) throw badState("TLS 1.0 CBC needs a 16-byte IV residue");
  }
  if (s.cipher === "rc4-128" && s.rc4) {
    const r = s.rc4;
    if (r.base.length !== RC4_BASE_LEN) throw badState(`RC4 base must be ${RC4_BASE_LEN} bytes`);
    if (!Number.isSafeInteger(r.baseOffset) || !Number.isSafeInteger(r.offset) || r.baseOffset < 0 || r.offset < r.baseOffset) {
      throw badState(`RC4 offsets base=${r.baseOffset} now=${r.offset}`);
    }
  }
}

/** RFC 5246 §6.2.3.1: seq_num(8) ‖ type(1) ‖ version(2) ‖ length(2). */
export function macHeader(seq: bigint, contentType: number, version: number, length: number): Uint8Array {
  const h = new Uint8Array(13);
  new DataView(h.buffer).setBigUint64(0, seq);
  h[8] = contentType;
  h[9] = version >> 8;
  h[10] = version & 0xff;
  h[11] = length >> 8;
  h[12] = length & 0xff;
  return h;
}

/** 16-byte nonce for the deterministic explicit IV: 0^8 ‖ seq_num (big-endian). */
export function ivNonce(seq: bigint): Uint8Array {
  const n = new Uint8Array(AES_BLOCK);
  new DataView(n.buffer).setBigUint64(8, seq);
  return n;
}

/** Length of the protected body (after the header) for a fragment of `len` bytes. */
export function sealedBodyLength(state: Pick<RecordState, "cipher" | "version" | "mac">, len: number): number {
  const macLen = HASH_LENGTH[state.mac];
  if (!isCbc(state.cipher)) return len + macLen;
  // RFC 5246 §6.2.3.2: minimal padding, 1..16 bytes including the length byte.
  const padded = (len + macLen + 1 + 15) & ~15;
  return explicitIvLength(state) + padded;
}

// ---------------------------------------------------------------------------
// Binary encoding of a RecordState (STYLE.md §7): version byte first.
//
//   u8  format (1)
//   u16 protocol version
//   u8  cipher   0 null, 1 aes128-cbc, 2 aes256-cbc, 3 rc4-128
//   u8  mac      1 md5, 2 sha1, 3 sha256 (the WASM core's ids)
//   u64 seq
//   u8  encKey length, encKey
//   u8  macKey length, macKey
//   u8  flags    bit 0: CBC residue follows, bit 1: RC4 position follows
//   [16 residue]
//   [258 base, u64 baseOffset, u64 offset]
// All integers big-endian.

export const RECORD_STATE_FORMAT = 1;
const CIPHER_IDS: readonly RecordCipher[] = ["null", "aes128-cbc", "aes256-cbc", "rc4-128"];
const MAC_IDS: readonly (RecordMac | undefined)[] = [undefined, "md5", "sha1", "sha256"];

export function encodeRecordState(s: RecordState): Uint8Array {
  validateRecordState(s);
  const size = 1 + 2 + 1 + 1 + 8 + 1 + s.encKey.length + 1 + s.macKey.length + 1 +
    (s.cbcResidue ? AES_BLOCK : 0) + (s.rc4 ? RC4_BASE_LEN + 16 : 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let p = 0;
  out[p++] = RECORD_STATE_FORMAT;
  v.setUint16(p, s.version); p += 2;
  out[p++] = CIPHER_IDS.indexOf(s.cipher);
  out[p++] = MAC_IDS.indexOf(s.mac);
  v.setBigUint64(p, s.seq); p += 8;
  out[p++] = s.encKey.length; out.set(s.encKey, p); p += s.encKey.length;
  out[p++] = s.macKey.length; out.set(s.macKey, p); p += s.macKey.length;
  out[p++] = (s.cbcResidue ? 1 : 0) | (s.rc4 ? 2 : 0);
  if (s.cbcResidue) { out.set(s.cbcResidue, p); p += AES_BLOCK; }
  if (s.rc4) {
    out.set(s.rc4.base, p); p += RC4_BASE_LEN;
    v.setBigUint64(p, BigInt(s.rc4.baseOffset)); p += 8;
    v.setBigUint64(p, BigInt(s.rc4.offset)); p += 8;
  }
  return out;
}

export function decodeRecordState(buf: Uint8Array): RecordState {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  const need = (n: number, what: string) => {
    if (p + n > buf.length) throw badState(`encoded record state truncated in ${what}`);
  };
  const bytes = (n: number, what: string) => { need(n, what); const b = buf.slice(p, p + n); p += n; return b; };
  need(1, "format");
  if (buf[p] !== RECORD_STATE_FORMAT) throw badState(`unknown record state format ${buf[p]}`);
  p++;
  need(5 + 8, "header");
  const version = v.getUint16(p) as RecordVersion; p += 2;
  const cipher = CIPHER_IDS[buf[p++]!];
  const mac = MAC_IDS[buf[p++]!];
  if (!cipher) throw badState(`unknown cipher id ${buf[p - 2]}`);
  if (!mac) throw badState(`unknown MAC id ${buf[p - 1]}`);
  const seq = v.getBigUint64(p); p += 8;
  need(1, "encKey"); const encKey = bytes(buf[p++]!, "encKey");
  need(1, "macKey"); const macKey = bytes(buf[p++]!, "macKey");
  need(1, "flags"); const flags = buf[p++]!;
  if (flags & ~3) throw badState(`unknown record state flags ${flags}`);
  let cbcResidue: Uint8Array | undefined;
  let rc4: Rc4Position | undefined;
  if (flags & 1) cbcResidue = bytes(AES_BLOCK, "residue");
  if (flags & 2) {
    const base = bytes(RC4_BASE_LEN, "rc4 base");
    need(16, "rc4 offsets");
    const baseOffset = Number(v.getBigUint64(p)); p += 8;
    const offset = Number(v.getBigUint64(p)); p += 8;
    rc4 = { base, baseOffset, offset };
  }
  if (p !== buf.length) throw badState(`${buf.length - p} trailing bytes after encoded record state`);
  const s: RecordState = { version, cipher, mac, encKey, macKey, seq, ...(cbcResidue && { cbcResidue }), ...(rc4 && { rc4 }) };
  validateRecordState(s);
  return s;
}

// ---------------------------------------------------------------------------
// Constant-time helpers for the JS side (native provider). Operands are
// non-negative and below 2^30, so the subtraction's sign bit is the answer.

/** All ones (-1) if a < b, else 0. */
export function ctLt(a: number, b: number): number {
  return (a - b) >> 31;
}
/** All ones if a === b, else 0. */
export function ctEq(a: number, b: number): number {
  const d = a ^ b;
  return ~((d | -d) >> 31);
}
