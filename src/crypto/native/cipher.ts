// AES and AES-CBC on node:crypto (OpenSSL, AES-NI where the CPU has it): the
// native provider's counterpart of src/crypto/wasm/cipher.ts, with the same
// state convention, and the reference the WASM core is tested against.
//
// CBC state is key plus residue (STYLE.md §6): each call runs a fresh
// Cipheriv/Decipheriv with padding off, seeded with the residue, and the new
// residue is the last ciphertext block of the call (SP 800-38A §6.2), so
// states move freely between this provider and the WASM one.
//
// RC4: absent from this OpenSSL build (OpenSSL 3 keeps it, if at all, in the
// legacy provider, which node does not load). nativeRc4Available reports
// whether getCiphers() lists it; the RC4 functions exist only for builds that
// have it and cannot export their state (OpenSSL hides S, i, j), so state
// export and seek stay with the WASM core.
import { createCipheriv, createDecipheriv, getCiphers, type Cipher } from "node:crypto";

const BLOCK = 16;

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function cbcName(key: Uint8Array): "aes-128-cbc" | "aes-256-cbc" {
  if (key.length === 16) return "aes-128-cbc";
  if (key.length === 32) return "aes-256-cbc";
  throw new RangeError(`AES key must be 16 (AES-128) or 32 (AES-256) bytes, got ${key.length}`);
}

function checkBlock(block: Uint8Array): void {
  if (block.length !== BLOCK) throw new RangeError(`AES block must be 16 bytes, got ${block.length}`);
}

/** One block of the forward cipher (FIPS-197 §5.1): CBC with a zero IV is ECB on one block. */
export function nativeAesEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  checkBlock(block);
  const c = createCipheriv(cbcName(key), key, new Uint8Array(BLOCK)).setAutoPadding(false);
  return bytes(Buffer.concat([c.update(block), c.final()]));
}

/** One block of the inverse cipher (FIPS-197 §5.3). */
export function nativeAesDecryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  checkBlock(block);
  const d = createDecipheriv(cbcName(key), key, new Uint8Array(BLOCK)).setAutoPadding(false);
  return bytes(Buffer.concat([d.update(block), d.final()]));
}

/** One direction of AES-CBC: key plus residue (the IV, then the last ciphertext block). */
export interface NativeCbcState {
  readonly key: Uint8Array;
  residue: Uint8Array;
}

export function nativeCbcInit(key: Uint8Array, iv: Uint8Array): NativeCbcState {
  cbcName(key);
  if (iv.length !== BLOCK) throw new RangeError(`CBC IV must be 16 bytes, got ${iv.length}`);
  return { key: key.slice(), residue: iv.slice() };
}

function checkData(data: Uint8Array): void {
  if (data.length % BLOCK !== 0) throw new RangeError(`CBC data must be a multiple of 16 bytes, got ${data.length}`);
}

/** SP 800-38A §6.2 CBC encryption, no padding; updates the residue. */
export function nativeCbcEncrypt(state: NativeCbcState, data: Uint8Array): Uint8Array {
  checkData(data);
  if (data.length === 0) return new Uint8Array(0);
  const c = createCipheriv(cbcName(state.key), state.key, state.residue).setAutoPadding(false);
  const out = bytes(Buffer.concat([c.update(data), c.final()]));
  state.residue = out.slice(out.length - BLOCK);
  return out;
}

/** SP 800-38A §6.2 CBC decryption, no padding; updates the residue. */
export function nativeCbcDecrypt(state: NativeCbcState, data: Uint8Array): Uint8Array {
  checkData(data);
  if (data.length === 0) return new Uint8Array(0);
  const d = createDecipheriv(cbcName(state.key), state.key, state.residue).setAutoPadding(false);
  const out = bytes(Buffer.concat([d.update(data), d.final()]));
  state.residue = data.slice(data.length - BLOCK);
  return out;
}

export function nativeCbcExport(state: NativeCbcState): { key: Uint8Array; residue: Uint8Array } {
  return { key: state.key.slice(), residue: state.residue.slice() };
}

export function nativeCbcImport(snap: { key: Uint8Array; residue: Uint8Array }): NativeCbcState {
  return nativeCbcInit(snap.key, snap.residue);
}

/** Whether this OpenSSL build offers RC4 (RFC 7465 prohibits it in TLS; builds drop it). */
export const nativeRc4Available: boolean = getCiphers().includes("rc4");

/** A streaming RC4 cipher object; only where nativeRc4Available. No state export. */
export interface NativeRc4 {
  process(data: Uint8Array): Uint8Array;
}

export function nativeRc4Init(key: Uint8Array): NativeRc4 {
  if (!nativeRc4Available) {
    throw new Error("RC4 is not available in this node:crypto/OpenSSL build; use the WASM core (src/crypto/wasm/cipher.ts)");
  }
  const c: Cipher = createCipheriv("rc4", key, null);
  return { process: (data) => bytes(c.update(data)) };
}
