// Random bytes for the TLS engine (server random, session id, the RFC 5246
// §7.4.7.1 substitute pre-master) drawn from a block refilled from the OS
// CSPRNG, not one node:crypto call per value: each call costs a binding
// crossing and OpenSSL's fork check (a getpid(2)); a handshake draws three
// values, ~110 bytes, so one 4 KiB refill serves ~35 handshakes.
//
// Every value is a fresh copy and its bytes are zeroed in the block when
// handed out, so no value is handed out twice nor left behind.
import { randomFillSync } from "node:crypto";

export type RandomSource = (n: number) => Uint8Array;

export function pooledRandom(blockSize = 4096): RandomSource {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`random pool: block size must be a positive integer, got ${blockSize}`);
  const block = new Uint8Array(blockSize);
  let at = blockSize;
  return (n: number): Uint8Array => {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`random pool: byte count must be a non-negative integer, got ${n}`);
    if (n > blockSize) return randomFillSync(new Uint8Array(n));
    if (blockSize - at < n) {
      randomFillSync(block);
      at = 0;
    }
    const out = block.slice(at, at + n);
    block.fill(0, at, at + n);
    at += n;
    return out;
  };
}
