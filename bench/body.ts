// Deterministic HTTP body bytes, their SHA-256 without the bytes: what the
// test and bench backends serve (test/node/helpers.ts startBackend,
// bench/wire/backend.mjs) and what a client's download is checked against.
import { createHash } from "node:crypto";

/** 1 MiB of SHA-256 output, computed once. */
let base: Buffer | undefined;
function baseBytes(): Buffer {
  if (!base) {
    base = Buffer.alloc(1 << 20);
    for (let j = 0; j < base.length; j += 32) createHash("sha256").update(`base/${j}`).digest().copy(base, j);
  }
  return base;
}

/** Deterministic body bytes in 64 KiB blocks: a window of the base, shifted per block, stamped with the block number. */
export function* bodyBlocks(total: number): Generator<Buffer> {
  const b = baseBytes();
  for (let at = 0, i = 0; at < total; i++) {
    const n = Math.min(65536, total - at);
    const start = (i * 4099) % (b.length - 65536);
    const block = Buffer.from(b.subarray(start, start + n));
    if (n >= 8) block.writeUInt32BE(i, 0);
    at += n;
    yield block;
  }
}

export function bodySha(total: number): string {
  const h = createHash("sha256");
  for (const b of bodyBlocks(total)) h.update(b);
  return h.digest("hex");
}
