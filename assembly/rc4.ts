// RC4 (the "ARCFOUR" stream cipher of RFC 4345 §1 / draft-kaukonen-cipher-arcfour)
// for the legacy TLS_RSA_WITH_RC4_128_{MD5,SHA} suites.
//
// Place in the data flow: the record layer (record engineer) XORs record
// payloads in place with rc4Process; the failover code exports the flat
// context and, to resume a stream in another node, imports a base state and
// rc4Skips to the wanted absolute offset (SSLACC §5.4: a base every ~1 MiB,
// deltas carry the absolute keystream offset).
//
// NOT constant time, by design of the cipher: the permutation S is indexed by
// secret values (i, j and S[i] + S[j]), so cache timing can leak state. There
// is no table-free RC4. RC4 suites are prohibited by RFC 7465 and are off by
// default in sslacc; they exist only for legacy peers.
//
// Context layout (fixed; the glue and the checkpoint format depend on it):
//   [0, 256)   S, the permutation
//   256        i (u8)
//   257        j (u8)
//   [264, 272) u64 keystream offset: bytes produced since the key schedule
// Exporting the state is a memcpy of these 272 bytes (STYLE.md §6).

const RC4_I: usize = 256;
const RC4_J: usize = 257;
const RC4_OFFSET: usize = 264;
const RC4_CTX_SIZE: i32 = 272;

export function rc4CtxSize(): i32 {
  return RC4_CTX_SIZE;
}

/** Key-scheduling algorithm: S = identity, then 256 swaps driven by the key. */
export function rc4Init(ctx: usize, key: usize, keyLen: i32): void {
  // Keys are 1..256 bytes (RFC 6229 tests 40..256-bit keys); the glue checks.
  for (let k: u32 = 0; k < 256; k += 4) {
    // Little-endian store of k, k+1, k+2, k+3.
    store<u32>(ctx + k, k | ((k + 1) << 8) | ((k + 2) << 16) | ((k + 3) << 24));
  }
  let j: u32 = 0;
  let kk: i32 = 0;
  for (let i: u32 = 0; i < 256; i++) {
    const si = <u32>load<u8>(ctx + i);
    j = (j + si + <u32>load<u8>(key + kk)) & 255;
    store<u8>(ctx + i, load<u8>(ctx + j));
    store<u8>(ctx + j, <u8>si);
    if (++kk == keyLen) kk = 0;
  }
  store<u8>(ctx, 0, RC4_I);
  store<u8>(ctx, 0, RC4_J);
  store<u32>(ctx, 0, 258); // padding, kept zero so exported blocks compare equal
  store<u16>(ctx, 0, 262);
  store<u64>(ctx, 0, RC4_OFFSET);
}

// The swap of one PRGA step and its keystream byte S[S[i] + S[j]], inlined
// into the loops below. The i/j updates stay in the callers so that the
// loop-carried chain is only j += S[i]: folding j into a packed return value
// made j wait on the keystream load and halved the speed.
// @ts-ignore: decorator
@inline
function swapOut(s: usize, i: u32, j: u32, si: u32, sj: u32): u32 {
  store<u8>(s + i, <u8>sj);
  store<u8>(s + j, <u8>si);
  return <u32>load<u8>(s + ((si + sj) & 255));
}

/** XORs `len` bytes at `data` with the keystream, in place. */
export function rc4Process(ctx: usize, data: usize, len: i32): void {
  let i = <u32>load<u8>(ctx, RC4_I);
  let j = <u32>load<u8>(ctx, RC4_J);
  let p = data;
  const end = data + <usize>len;
  let si: u32, sj: u32, lo: u32, hi: u32;
  // Eight bytes per pass, the keystream gathered into two u32 words so that
  // the data is read and written once per four bytes.
  while (p + 8 <= end) {
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    lo = swapOut(ctx, i, j, si, sj);
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    lo |= swapOut(ctx, i, j, si, sj) << 8;
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    lo |= swapOut(ctx, i, j, si, sj) << 16;
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    lo |= swapOut(ctx, i, j, si, sj) << 24;
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    hi = swapOut(ctx, i, j, si, sj);
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    hi |= swapOut(ctx, i, j, si, sj) << 8;
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    hi |= swapOut(ctx, i, j, si, sj) << 16;
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    hi |= swapOut(ctx, i, j, si, sj) << 24;
    store<u32>(p, load<u32>(p) ^ lo);
    store<u32>(p, load<u32>(p, 4) ^ hi, 4);
    p += 8;
  }
  while (p < end) {
    i = (i + 1) & 255; si = load<u8>(ctx + i); j = (j + si) & 255; sj = load<u8>(ctx + j);
    store<u8>(p, load<u8>(p) ^ <u8>swapOut(ctx, i, j, si, sj));
    p++;
  }
  store<u8>(ctx, <u8>i, RC4_I);
  store<u8>(ctx, <u8>j, RC4_J);
  store<u64>(ctx, load<u64>(ctx, RC4_OFFSET) + <u64>len, RC4_OFFSET);
}

/**
 * Advances the keystream by `n` bytes without data: the seek primitive
 * (RFC 6229 lists keystream at offsets up to 4096; SSLACC §5.4 resumes a
 * stream from a base state by skipping the delta). Cost is linear in n.
 */
export function rc4Skip(ctx: usize, n: u64): void {
  let i = <u32>load<u8>(ctx, RC4_I);
  let j = <u32>load<u8>(ctx, RC4_J);
  for (let k: u64 = 0; k < n; k++) {
    i = (i + 1) & 255;
    const si = <u32>load<u8>(ctx + i);
    j = (j + si) & 255;
    store<u8>(ctx + i, load<u8>(ctx + j));
    store<u8>(ctx + j, <u8>si);
  }
  store<u8>(ctx, <u8>i, RC4_I);
  store<u8>(ctx, <u8>j, RC4_J);
  store<u64>(ctx, load<u64>(ctx, RC4_OFFSET) + n, RC4_OFFSET);
}
