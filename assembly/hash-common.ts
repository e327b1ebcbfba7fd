// Shared facts about the three Merkle–Damgård hashes of the core (md5.ts,
// sha1.ts, sha256.ts), for hmac.ts, prf.ts and the record code.
//
// Every hash context is one flat block, and that block *is* the exportable
// state (STYLE.md §6): copy its bytes out to export, copy them back to import.
// Its layout is the same for all three hashes, only the chaining-value width
// differs:
//
//   ctx + 0        chaining value H: CV words of u32, each stored with
//                  store<u32> (so little-endian in memory, whatever the
//                  hash's own byte order is)
//   ctx + 4*CV     total bytes absorbed so far, u64 little-endian
//   ctx + 4*CV + 8 partial block: the first (count mod 64) bytes are the
//                  pending input, the rest zero (Init and Update keep it so:
//                  a block's bytes depend only on what was absorbed, not on
//                  how it was split). Final spends the block.
//
//   hash    CV  count at  buffer at  ctx size  digest
//   md5      4     16        24         88       16
//   sha1     5     20        28         92       20
//   sha256   8     32        40        104       32
//
// No field holds a pointer or depends on where the block lives, so a block
// can be moved, checkpointed and resumed elsewhere. The layout is a stable
// interface: changing it breaks stored checkpoints.

/** Algorithm ids used across the WASM API (hmac.ts, prf.ts, record code). */
export const ALG_MD5: i32 = 1;
export const ALG_SHA1: i32 = 2;
export const ALG_SHA256: i32 = 3;

/** All three hashes work on 64-byte blocks (RFC 1321 §3.4, FIPS 180-4 §5.1.1). */
export const BLOCK_LEN: i32 = 64;

/** Largest context of the three (SHA-256), for callers that reserve room for any. */
export const MAX_HASH_CTX: i32 = 104;
/** Largest digest of the three (SHA-256). */
export const MAX_DIGEST: i32 = 32;

/** Offset of the u64 byte count in a context whose chaining value has `cvWords` words. */
// @ts-ignore: decorator
@inline
export function countOffset(cvWords: i32): usize {
  return <usize>(cvWords << 2);
}

/** Offset of the 64-byte partial-block buffer. */
// @ts-ignore: decorator
@inline
export function bufferOffset(cvWords: i32): usize {
  return <usize>((cvWords << 2) + 8);
}
