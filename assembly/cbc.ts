// CBC mode over AES (NIST SP 800-38A §6.2), in place, for the TLS CBC suites.
//
// Place in the data flow: the record layer encrypts/decrypts whole padded
// record fragments (len a multiple of 16) with these two calls. The 16 bytes
// at `iv` are the chaining value in and the CBC residue out: the last
// ciphertext block of the call. TLS 1.0 chains that residue into the next
// record (RFC 2246 §6.2.3.2), so it is exportable state: a checkpoint is the
// key plus the residue (STYLE.md §6).
//
// Encryption is serial (C_i = E(P_i ^ C_(i-1))): it runs on the
// vector-permute engine (aes-vperm.ts), one block at a time with the whole
// SIMD width on that block. Decryption is parallel (P_i = D(C_i) ^ C_(i-1)):
// eight blocks per pass of the bitsliced engine (aes-core.ts). cbcEncryptMulti recovers the parallelism for encryption
// across independent chains under one key (TLS 1.1+ records each start from
// their own explicit IV, RFC 4346 §6.2.3.2): one block of each of up to eight
// chains per pass.

import { encrypt8, decrypt8, wipe } from "./aes-core";
import { vpermCbcEncrypt } from "./aes-vperm";

/** Room for eight blocks: the tail of a decryption and its output. */
const TAIL: usize = memory.data(128, 16);
const OUT: usize = memory.data(128, 16);

/**
 * SP 800-38A §6.2 CBC encryption of `len` bytes at `data`, in place. The
 * vector-permute engine keeps no secret in static memory: nothing to wipe.
 */
export function cbcEncrypt(ctx: usize, iv: usize, data: usize, len: i32): void {
  vpermCbcEncrypt(ctx, iv, data, len);
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

/** Lane blocks of cbcEncryptMulti. */
const LANES: usize = memory.data(128, 16);

/** Bytes per descriptor of cbcEncryptMulti. */
const DESC_SIZE: usize = 16;

/**
 * CBC-encrypts n <= 8 independent chains under one key, in place. `desc`
 * holds n descriptors of 16 bytes: u32 iv pointer, u32 data pointer, i32 len
 * (a multiple of 16), u32 zero. Each chain behaves exactly as cbcEncrypt on
 * it alone (its iv slot ends holding its residue); chains may differ in
 * length. The loop bounds depend on the lengths only, which are public.
 */
export function cbcEncryptMulti(ctx: usize, desc: usize, n: i32): void {
  const lanes = <usize>min(max(n, 0), 8);
  let passes: usize = 0;
  for (let l: usize = 0; l < lanes; l++) {
    const blocks = <usize>(load<i32>(desc + l * DESC_SIZE, 8) >> 4);
    if (blocks > passes) passes = blocks;
  }
  memory.fill(LANES, 0, 128);
  for (let b: usize = 0; b < passes; b++) {
    const off = b << 4;
    for (let l: usize = 0; l < lanes; l++) {
      const d = desc + l * DESC_SIZE;
      if (b < <usize>(load<i32>(d, 8) >> 4)) {
        const x = v128.xor(v128.load(<usize>load<u32>(d)), v128.load(<usize>load<u32>(d, 4) + off));
        v128.store(LANES + (l << 4), x);
      }
    }
    encrypt8(ctx, LANES, LANES);
    for (let l: usize = 0; l < lanes; l++) {
      const d = desc + l * DESC_SIZE;
      if (b < <usize>(load<i32>(d, 8) >> 4)) {
        const c = v128.load(LANES + (l << 4));
        v128.store(<usize>load<u32>(d, 4) + off, c);
        v128.store(<usize>load<u32>(d), c);
      }
    }
  }
  memory.fill(LANES, 0, 128);
  wipe();
}
