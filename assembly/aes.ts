// AES-128 and AES-256 block cipher (FIPS-197): the exported context API.
//
// Place in the data flow: the record layer (src/tls record code, through the
// glue src/crypto/wasm/cipher.ts) expands a key once per connection direction
// with aesInit and then calls cbc.ts; aesEncryptBlock also derives the
// deterministic explicit IVs of TLS 1.1+ records. Two constant-time engines
// share the context: the bitsliced one (aes-core.ts, aes-sbox.ts; eight blocks
// per pass: decryption, multi-chain encryption) and the vector-permute one
// (aes-vperm.ts; one block at a time: single-chain CBC encryption and
// aesEncryptBlock, about 3x faster there than a bitsliced pass using one of
// its eight lanes).
//
// The context is a flat block of aesCtxSize() bytes holding both engines' key
// schedules (layout in aes-core.ts); it holds no pointers and can be copied
// anywhere. A checkpoint carries the raw key instead (it re-expands).

import { AES_CTX_SIZE, expandKey, decrypt8, wipe } from "./aes-core";
import { vpermEncrypt, vpermExpandKey } from "./aes-vperm";

const BLOCKS: usize = memory.data(128, 16);

export function aesCtxSize(): i32 {
  return AES_CTX_SIZE;
}

/** FIPS-197 §5.2 key expansion into both schedules; keyLen is 16 (AES-128) or 32 (AES-256). */
export function aesInit(ctx: usize, key: usize, keyLen: i32): void {
  expandKey(ctx, key, keyLen);
  vpermExpandKey(ctx, key, keyLen);
}

/**
 * Encrypts the 16 bytes at inp into out (FIPS-197 §5.1); inp may equal out.
 * Vector-permute engine: no static buffer holds secrets, nothing to wipe.
 */
export function aesEncryptBlock(ctx: usize, inp: usize, out: usize): void {
  v128.store(out, vpermEncrypt(ctx, v128.load(inp)));
}

/** Decrypts the 16 bytes at inp into out (FIPS-197 §5.3); inp may equal out. */
export function aesDecryptBlock(ctx: usize, inp: usize, out: usize): void {
  memory.fill(BLOCKS, 0, 128);
  v128.store(BLOCKS, v128.load(inp));
  decrypt8(ctx, BLOCKS, BLOCKS);
  v128.store(out, v128.load(BLOCKS));
  memory.fill(BLOCKS, 0, 128);
  wipe();
}
