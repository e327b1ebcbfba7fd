// CBC mode over AES (NIST SP 800-38A §6.2), in place, for the TLS CBC suites.
//
// Place in the data flow: the record layer encrypts/decrypts whole padded
// record fragments (len a multiple of 16) with these two calls. The 16 bytes
// at `iv` are the chaining value in and the CBC residue out: the last
// ciphertext block of the call. TLS 1.0 chains that residue into the next
// record (RFC 2246 §6.2.3.2), so it is exportable state: a checkpoint is the
// key plus the residue (STYLE.md §6).
//
// Encryption is serial (C_i = E(P_i ^ C_(i-1))): one block per pass of the
// bitsliced engine. Decryption is parallel (P_i = D(C_i) ^ C_(i-1)): eight
// blocks per pass.

import { encrypt1, decrypt8, wipe } from "./aes-core";

/** Room for eight blocks: the tail of a decryption and its output. */
const TAIL: usize = memory.data(128, 16);
const OUT: usize = memory.data(128, 16);

/** SP 800-38A §6.2 CBC encryption of `len` bytes at `data`, in place. */
export function cbcEncrypt(ctx: usize, iv: usize, data: usize, len: i32): void {
  let chain = v128.load(iv);
  const end = data + <usize>(len & ~15);
  for (let p = data; p < end; p += 16) {
    chain = encrypt1(ctx, v128.xor(chain, v128.load(p)));
    v128.store(p, chain);
  }
  v128.store(iv, chain);
  wipe();
}

/**
 * P_i = D(C_i) ^ C_(i-1) for the n <= 8 blocks at p, whose decryptions are at
 * OUT. Written from the last block down so that each C_(i-1) is still
 * ciphertext when it is read. Returns the new chaining value C_(n-1).
 */
// @ts-ignore: decorator
@inline
function unchain(p: usize, n: usize, chain: v128): v128 {
  const next = v128.load(p + ((n - 1) << 4));
  for (let m = n - 1; m > 0; m--) {
    const q = p + (m << 4);
    v128.store(q, v128.xor(v128.load(OUT + (m << 4)), v128.load(q - 16)));
  }
  v128.store(p, v128.xor(v128.load(OUT), chain));
  return next;
}

/** SP 800-38A §6.2 CBC decryption of `len` bytes at `data`, in place. */
export function cbcDecrypt(ctx: usize, iv: usize, data: usize, len: i32): void {
  let chain = v128.load(iv);
  let p = data;
  const end = data + <usize>(len & ~15);
  while (p + 128 <= end) {
    decrypt8(ctx, p, OUT);
    chain = unchain(p, 8, chain);
    p += 128;
  }
  if (p < end) {
    const n = (end - p) >> 4;
    memory.fill(TAIL, 0, 128);
    memory.copy(TAIL, p, end - p);
    decrypt8(ctx, TAIL, OUT);
    chain = unchain(p, n, chain);
    memory.fill(TAIL, 0, 128);
  }
  v128.store(iv, chain);
  memory.fill(OUT, 0, 128);
  wipe();
}
