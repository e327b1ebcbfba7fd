// Micro-bench for tuning the WASM RSA core: private-key operations per second
// of wasmRsaPrivate against node:crypto privateDecrypt (RSA_NO_PADDING on a
// KeyObject) in the same run, interleaved round-robin, median of repeats.
// Rates are per second of this process's CPU time (process.cpuUsage), so a
// busy shared machine distorts them less than wall-clock rates would.
//
//   node dist/bench/rsa-micro.js [bits,...] [ms-per-sample] [repeats]
import { constants, privateDecrypt, randomBytes } from "node:crypto";
import { generateRsaKey, rsaPublicOf } from "../src/crypto/rsa-key.js";
import { wasmRsaPrivate, wasmRsaPublic, wasmRsaDecryptPremaster } from "../src/crypto/wasm/rsa.js";
import { rsaPrivateKeyObject } from "../src/crypto/native/rsa.js";
import { median } from "./harness.js";

const sizes = (process.argv[2] ?? "1024,2048,3072,4096").split(",").map(Number);
const sampleMs = Number(process.argv[3] ?? 300);
const repeats = Number(process.argv[4] ?? 5);

function opsPerSec(fn: () => void): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < sampleMs) {
    fn();
    n++;
  }
  const c = process.cpuUsage(c0);
  return (n * 1e6) / (c.user + c.system);
}

for (const bits of sizes) {
  const key = generateRsaKey(bits);
  const ko = rsaPrivateKeyObject(key);
  const m = new Uint8Array(randomBytes(key.n.length));
  m[0] = 0;
  const pub = rsaPublicOf(key);
  const c = wasmRsaPublic(pub, m);
  const cBuf = Buffer.from(c);
  const r46 = randomBytes(46);
  const cands: Record<string, () => void> = {
    "wasm private": () => void wasmRsaPrivate(key, c),
    "wasm premaster": () => void wasmRsaDecryptPremaster(key, c, 0x0303, r46),
    "wasm public": () => void wasmRsaPublic(pub, m),
    "native private": () => void privateDecrypt({ key: ko, padding: constants.RSA_NO_PADDING }, cBuf),
  };
  const samples: Record<string, number[]> = {};
  for (const f of Object.values(cands)) for (let i = 0; i < 5; i++) f(); // warm up
  for (let r = 0; r < repeats; r++) {
    for (const [name, f] of Object.entries(cands)) (samples[name] ??= []).push(opsPerSec(f));
  }
  const native = median(samples["native private"]!);
  for (const [name, xs] of Object.entries(samples)) {
    const med = median(xs);
    const ratio = name.endsWith("private") || name.endsWith("premaster") ? ` (${(med / native).toFixed(2)}x native)` : "";
    console.log(`rsa-${bits} ${name.padEnd(15)} ${med.toFixed(0).padStart(7)} ops/s${ratio}`);
  }
}
