// Entry of rsa.wasm: big integers, RSA (CRT, blinding, fault check) and the
// constant-time TLS PKCS#1 v1.5 pre-master unpadding.
//
// Every export takes raw pointers into linear memory (normally the scratch
// region); src/crypto/wasm/rsa.ts is the typed glue. A key is prepared once
// into a relocatable block (rsa-core.ts) that the glue keeps and copies in.
export { scratchPtr, scratchSize } from "./io";
import {
  prepare,
  privateOp,
  publicOp,
  blindingRefresh,
  blindingDue,
  mutableLength,
  modulusBytes,
  RSA_ERR_RANGE,
  RSA_OK,
} from "./rsa-core";
import { tlsPremasterUnpad as unpad, PREMASTER_LENGTH } from "./pkcs1";

/** Prepares a key block; returns its length or a negative error code. */
export function rsaPrepare(blk: usize, desc: usize, isPrivate: i32): i32 {
  return prepare(blk, desc, isPrivate != 0);
}

/** Bytes at the front of the block an operation may change. */
export function rsaMutableLength(blk: usize): i32 {
  return mutableLength(blk);
}

export function rsaModulusBytes(blk: usize): i32 {
  return modulusBytes(blk);
}

/** 1 when the blinding pair must be refreshed before the next private op. */
export function rsaBlindingDue(blk: usize): i32 {
  return blindingDue(blk) ? 1 : 0;
}

/** New blinding pair from modulus-length random bytes. */
export function rsaBlindingRefresh(blk: usize, rnd: usize): i32 {
  return blindingRefresh(blk, rnd);
}

/** RSADP (CRT, blinded, fault-checked): k-byte in to k-byte out. */
export function rsaPrivate(blk: usize, inp: usize, outp: usize): i32 {
  return privateOp(blk, inp, outp);
}

/** RSAEP: k-byte in to k-byte out. */
export function rsaPublic(blk: usize, inp: usize, outp: usize): i32 {
  return publicOp(blk, inp, outp);
}

/** RFC 5246 §7.4.7.1 unpadding of a k-byte block into 48 bytes. */
export function tlsPremasterUnpad(block: usize, k: i32, clientVersion: i32, random46: usize, out48: usize): void {
  unpad(block, k, <u32>clientVersion, random46, out48);
}

// Holds the decrypted block inside the fused call; never leaves the module.
const BLOCK: usize = memory.data(512, 16);

/**
 * Private operation then unpadding, one call: the decrypted block never
 * reaches JavaScript. A ciphertext >= n is treated like bad padding (the
 * random pre-master), as RFC 5246 §7.4.7.1 requires no distinguishable
 * failure; a fault-check failure is returned as an error (out48 zeroed).
 */
export function rsaDecryptPremaster(blk: usize, ct: usize, clientVersion: i32, random46: usize, out48: usize): i32 {
  const k = modulusBytes(blk);
  const rc = privateOp(blk, ct, BLOCK);
  if (rc != RSA_OK && rc != RSA_ERR_RANGE) {
    memory.fill(out48, 0, PREMASTER_LENGTH);
    return rc;
  }
  // On RSA_ERR_RANGE the block is all zeros, which fails the 00 02 check.
  unpad(BLOCK, k, <u32>clientVersion, random46, out48);
  memory.fill(BLOCK, 0, k);
  return RSA_OK;
}
