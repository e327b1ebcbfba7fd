// Micro-benchmark: WASM hashes/HMAC (src/crypto/wasm/hash.ts, including the
// copy into scratch) against node:crypto on 16 KiB messages, interleaved in
// one process so both see the same machine load. Reports the median of
// several rounds. Run: npm run build && node dist/bench/hash-micro.js
import { createHash, createHmac } from "node:crypto";
import type { HashAlg } from "../src/crypto/types.js";
import { wasmHash, wasmHmac } from "../src/crypto/wasm/hash.js";

const SIZE = 16 * 1024;
const ROUNDS = 7;
const SLICE_MS = 150;
const data = new Uint8Array(SIZE).map((_, i) => (i * 131) & 0xff);
const key = new Uint8Array(32).fill(7);

/** MB/s of `fn` over one time slice. */
function rate(fn: () => void): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < SLICE_MS) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    t = performance.now();
  }
  return (n * SIZE) / ((t - t0) / 1000) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const alg of ["md5", "sha1", "sha256"] as HashAlg[]) {
  for (const kind of ["hash", "hmac"] as const) {
    const wasm = kind === "hash" ? () => void wasmHash(alg, data) : () => void wasmHmac(alg, key, data);
    const node =
      kind === "hash" ? () => void createHash(alg).update(data).digest() : () => void createHmac(alg, key).update(data).digest();
    rate(wasm);
    rate(node); // warm-up
    const w: number[] = [];
    const n: number[] = [];
    const ratio: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const a = rate(wasm);
      const b = rate(node);
      w.push(a);
      n.push(b);
      ratio.push(a / b);
    }
    console.log(
      `${(kind + "-" + alg).padEnd(12)} 16KiB  wasm ${median(w).toFixed(0).padStart(5)} MB/s  node ${median(n).toFixed(0).padStart(5)} MB/s  ratio ${median(ratio).toFixed(2)}`,
    );
  }
}
