// Micro-benchmark: WASM AES-CBC and RC4 (src/crypto/wasm/cipher.ts, including
// the copies into and out of scratch) against node:crypto (AES-NI) on 16 KiB
// messages (and eight 16 KiB chains at once for the multi-chain encryption),
// interleaved in one process so all see the same machine load. Single-chain
// CBC encryption (the vector-permute engine, assembly/aes-vperm.ts) is also
// set against node-forge (pure-JS T-table AES), the baseline of the "10x
// node-forge" target. Reports the median of several rounds. RC4 has no
// node:crypto counterpart in this OpenSSL build, so it is reported alone
// unless the build has it.
// Run: npm run build && node dist/bench/cipher-micro.js
import { createCipheriv, createDecipheriv } from "node:crypto";
import forge from "node-forge";
import {
  wasmAesKey, wasmCbcDecrypt, wasmCbcEncrypt, wasmCbcEncryptMany, wasmCbcInit, wasmRc4Init, wasmRc4Process,
} from "../src/crypto/wasm/cipher.js";
import { nativeRc4Available, nativeRc4Init } from "../src/crypto/native/cipher.js";

const SIZE = 16 * 1024;
const ROUNDS = 7;
const SLICE_MS = 150;
const data = new Uint8Array(SIZE).map((_, i) => (i * 131) & 0xff);
const iv = new Uint8Array(16).fill(3);

/** MB/s of `fn` over one time slice. */
function rate(fn: () => void, bytes = SIZE): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < SLICE_MS) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    t = performance.now();
  }
  return (n * bytes) / ((t - t0) / 1000) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function compare(name: string, wasm: () => void, node?: () => void, bytes = SIZE, forgeRun?: () => void): void {
  rate(wasm, bytes);
  if (node) rate(node, bytes); // warm-up
  if (forgeRun) rate(forgeRun, bytes);
  const w: number[] = [];
  const n: number[] = [];
  const f: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    w.push(rate(wasm, bytes));
    if (node) n.push(rate(node, bytes));
    if (forgeRun) f.push(rate(forgeRun, bytes));
  }
  const nodePart = node ? `  node ${median(n).toFixed(0).padStart(5)} MB/s  ratio ${(median(w) / median(n)).toFixed(2)}` : "  node    n/a";
  const forgePart = forgeRun ? `  forge ${median(f).toFixed(0).padStart(4)} MB/s  wasm/forge ${(median(w) / median(f)).toFixed(1)}` : "";
  console.log(`${name.padEnd(28)} wasm ${median(w).toFixed(0).padStart(5)} MB/s${nodePart}${forgePart}`);
}

/** node-forge CBC encryption of whole blocks (no padding), as bench/crypto.ts runs it. */
function forgeCbcEncrypt(key: Uint8Array, ivBytes: Uint8Array, msg: Uint8Array): () => void {
  const raw = forge.util.binary.raw;
  const fkey = raw.encode(key), fiv = raw.encode(ivBytes), fdata = raw.encode(msg);
  return () => {
    const c = forge.cipher.createCipher("AES-CBC", fkey);
    c.start({ iv: fiv });
    c.update(forge.util.createBuffer(fdata));
    // finish(pad) takes a padding function (the typings omit it); true = none.
    (c.finish as unknown as (pad: () => boolean) => boolean)(() => true);
  };
}

for (const bits of [128, 256] as const) {
  const key = new Uint8Array(bits / 8).map((_, i) => i * 7 + 1);
  const alg = `aes-${bits}-cbc`;
  const enc = wasmCbcInit(key, iv);
  const ct = wasmCbcEncrypt(wasmCbcInit(key, iv), data);
  const dec = wasmCbcInit(key, iv);
  compare(`${alg} encrypt`, () => void wasmCbcEncrypt(enc, data), () => {
    const c = createCipheriv(alg, key, iv).setAutoPadding(false);
    c.update(data);
    c.final();
  }, SIZE, forgeCbcEncrypt(key, iv, data));
  compare(`${alg} decrypt`, () => void wasmCbcDecrypt(dec, ct), () => {
    const d = createDecipheriv(alg, key, iv).setAutoPadding(false);
    d.update(ct);
    d.final();
  });
  // Eight independent 16 KiB chains (TLS 1.1+ records) in one call.
  const k = wasmAesKey(key);
  const jobs = Array.from({ length: 8 }, (_, n) => ({ iv: iv.map((x) => x ^ n), data }));
  compare(`${alg} encrypt 8 chains`, () => void wasmCbcEncryptMany(k, jobs), () => {
    for (const j of jobs) {
      const c = createCipheriv(alg, key, j.iv).setAutoPadding(false);
      c.update(j.data);
      c.final();
    }
  }, 8 * SIZE);
}

const rc4 = wasmRc4Init(new Uint8Array(16).fill(9));
const nrc4 = nativeRc4Available ? nativeRc4Init(new Uint8Array(16).fill(9)) : undefined;
compare("rc4-128", () => void wasmRc4Process(rc4, data), nrc4 && (() => void nrc4.process(data)));
