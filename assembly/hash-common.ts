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

/** One compression of a 64-byte block into the chaining value at `h`. */
export type Compress = (h: usize, block: usize) => void;

/**
 * Merkle–Damgård buffering shared by the three hashes: absorbs `len` bytes
 * at `data` (any alignment) into the context laid out as above. Lengths are
 * public, so branching on them is fine. Whole blocks are compressed straight
 * from the caller's memory; the indirect call costs a few cycles per 64-byte
 * block, nothing beside a compression.
 */
export function mdUpdate(ctx: usize, cvWords: i32, compress: Compress, data: usize, len: i32): void {
  if (len <= 0) return;
  const countAt = ctx + countOffset(cvWords);
  const buf = ctx + bufferOffset(cvWords);
  const count = load<u64>(countAt);
  store<u64>(countAt, count + <u64>len);
  const used = <i32>(count & 63);
  if (used != 0) {
    const take = min(BLOCK_LEN - used, len);
    memory.copy(buf + used, data, take);
    data += take;
    len -= take;
    if (used + take < BLOCK_LEN) return;
    compress(ctx, buf);
    // Keep the block canonical: buffer bytes past count mod 64 are zero, so
    // equal streams export equal bytes however they were split.
    memory.fill(buf, 0, BLOCK_LEN);
  }
  while (len >= BLOCK_LEN) {
    compress(ctx, data);
    data += BLOCK_LEN;
    len -= BLOCK_LEN;
  }
  if (len > 0) memory.copy(buf, data, len);
}

/**
 * The final padding all three share (RFC 1321 §3.1-3.2, FIPS 180-4 §5.1.1):
 * 0x80, zeros to 56 mod 64, then the 64-bit message length in bits — little-
 * endian for MD5, big-endian for SHA. Leaves the final chaining value in the
 * context; the context is spent afterwards.
 */
export function mdPad(ctx: usize, cvWords: i32, compress: Compress, bigEndianLength: bool): void {
  const count = load<u64>(ctx + countOffset(cvWords));
  const buf = ctx + bufferOffset(cvWords);
  let used = <i32>(count & 63);
  store<u8>(buf + used, 0x80);
  used++;
  if (used > 56) {
    memory.fill(buf + used, 0, BLOCK_LEN - used);
    compress(ctx, buf);
    used = 0;
  }
  memory.fill(buf + used, 0, 56 - used);
  const bits = count << 3;
  store<u64>(buf, bigEndianLength ? bswap<u64>(bits) : bits, 56);
  compress(ctx, buf);
}

/** The chaining value as a big-endian digest of `words` words (SHA-1, SHA-256). */
export function storeBigEndianWords(ctx: usize, out: usize, words: i32): void {
  for (let i: usize = 0; i < <usize>(words << 2); i += 4) {
    store<u32>(out + i, bswap<u32>(load<u32>(ctx + i)));
  }
}
