// Deterministic simulation of the relay with crashes (test/relay/sim.ts):
// for recorded Node TLS clients (TLS 1.2 and TLS 1.0 CBC), an uncrashed run
// gives the reference streams; then many runs with other timings and random
// crash points — each restored from the store's last snapshot with the
// input replayed — must give the client exactly the same bytes, the backend
// each request byte exactly once, and regenerated output identical to what
// was already written (checked at every overlap).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { prng, recordClient, simulate, type Recording } from "./sim.js";

function bytes(seed: number, n: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

/** A response in chunks of 1 B .. 40 KiB (records follow chunks, so sizes vary and some span 2^14). */
function response(seed: number, total: number): Uint8Array[] {
  const r = prng(seed);
  const data = bytes(seed + 1, total);
  const out: Uint8Array[] = [];
  for (let at = 0; at < total; ) {
    const n = Math.min(total - at, r() < 0.2 ? 1 + ((r() * 100) | 0) : 1 + ((r() * 40_000) | 0));
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** More runs for a long sweep: SSLACC_SIM_RUNS=3000 node scripts/run-tests.mjs relay-sim */
const SCALE = Math.max(1, Number(process.env.SSLACC_SIM_RUNS ?? 120) / 120);

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function crashRuns(rec: Recording, runs: number, label: string): Promise<void> {
  const resp = response(7, 300_000);
  const expectedBackend = Buffer.from(rec.request);
  const ref = simulate(rec, { seed: 1, crashAt: [], response: resp });
  assert.equal(ref.restores, 0);
  assert.ok(ref.clientEnded, `${label}: the reference run ends the client side`);
  assert.equal(sha(ref.backend), sha(expectedBackend), `${label}: reference backend stream`);
  assert.ok(ref.client.length > 300_000, `${label}: response went to the client`);
  const phases = new Set<string>();
  let restores = 0;
  let withPreWrites = 0;
  for (let seed = 2; seed < 2 + runs; seed++) {
    const r = prng(seed * 7919);
    // The first runs crash at each early event in turn (every handshake
    // step), then anywhere, up to four times.
    const crashAt = seed < 30
      ? [seed - 1]
      : Array.from({ length: 1 + ((r() * 4) | 0) }, () => 1 + ((r() * ref.events) | 0));
    const res = simulate(rec, { seed, crashAt, response: resp });
    const where = `${label} seed ${seed} crashes at ${crashAt.join(",")} (restored ${res.restoredPhases.join(" ")})`;
    assert.ok(res.client.equals(ref.client), `${where}: client stream differs (${res.client.length} vs ${ref.client.length} bytes)`);
    assert.ok(res.backend.equals(expectedBackend), `${where}: backend stream differs`);
    assert.ok(res.clientEnded, `${where}: client side not ended`);
    restores += res.restores;
    for (const p of res.restoredPhases) {
      phases.add(p.split("/")[0]!);
      if (!p.endsWith("/0") && p !== "none") withPreWrites++;
    }
  }
  // The crash points must actually cover the interesting states.
  for (const p of ["none", "client-hello", "client-key-exchange", "client-finished", "server-finished"]) {
    assert.ok(phases.has(p), `${label}: no restore from ${p} among ${[...phases].join(", ")}`);
  }
  assert.ok(withPreWrites > 5, `${label}: only ${withPreWrites} restores had pre-written records to regenerate`);
  assert.ok(restores >= runs, `${label}: ${restores} restores in ${runs} runs`);
}

test("relay simulation: TLS 1.2 AES128-SHA, 50 KB upload + 300 KB download, random crashes", async () => {
  const rec = await recordClient({
    minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES128-SHA", request: bytes(3, 50_000),
  });
  await crashRuns(rec, Math.round(120 * SCALE), "TLS1.2");
});

test("relay simulation: TLS 1.0 AES128-SHA (CBC residue in the checkpoints), random crashes", async () => {
  const rec = await recordClient({
    minVersion: "TLSv1", maxVersion: "TLSv1", ciphers: "AES128-SHA:@SECLEVEL=0", request: bytes(4, 20_000),
  });
  await crashRuns(rec, Math.round(60 * SCALE), "TLS1.0");
});

test("relay simulation: without crashes, timing does not change the bytes", async () => {
  const rec = await recordClient({
    minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES256-SHA256", request: bytes(5, 1000),
  });
  const resp = response(11, 100_000);
  const a = simulate(rec, { seed: 100, crashAt: [], response: resp });
  for (const seed of [101, 102, 103]) {
    const b = simulate(rec, { seed, crashAt: [], response: resp, maxDelay: 50 });
    assert.ok(b.client.equals(a.client), `seed ${seed}`);
    assert.ok(b.backend.equals(Buffer.from(rec.request)));
  }
});
