// Scratch memory shared with the TypeScript glue.
//
// Every exported function of the core takes raw pointers into linear memory;
// the glue (src/crypto/wasm/*.ts) copies a context block and its data into
// this region, calls, and copies results back. Nothing is allocated at run
// time (the module is built with --runtime stub), so a context is exactly the
// flat block the caller holds: exporting its state is a memcpy (BearSSL's rule).

// 256 KiB: room for a 2^14+2048-byte TLS record in and out plus contexts.
export const SCRATCH_SIZE: i32 = 256 * 1024;
const SCRATCH: usize = memory.data(SCRATCH_SIZE, 16);

export function scratchPtr(): usize {
  return SCRATCH;
}

export function scratchSize(): i32 {
  return SCRATCH_SIZE;
}
