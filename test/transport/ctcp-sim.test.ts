// Issue 7 proof in simulation: three clustered-TCP nodes, Node's TLS client
// (OpenSSL) over our TCP, a backend that records every byte; the node owning
// the client's bucket crashes at its k-th input, for k spread over the whole
// connection (connect, full or resumed handshake, client→server data with
// partial ACKs, server→client data with pre-writes, close), with 0-10 %
// loss and reordering, eager and selective recovery. Every run: the client
// ends with byte-exact data and no error, the backend got the request once
// on one connection, nobody saw a RST.
// More crash points and seeds: `node dist/test/transport/ctcp-soak.js` (npm run sim:ctcp).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Recovery } from "../../src/transport/ctcp/node.js";
import { runSim, type ConnSpec, type Phase, type SimResult } from "./ctcp-sim.js";
import { xorshift32 } from "../../src/transport/wire/hub.js";

export const SCENARIOS: Record<string, readonly ConnSpec[]> = {
  /** Full handshake, a request, a 60 KB answer (four records pre-written and in flight). */
  full: [{ upload: 1500, download: 60_000, resume: false }],
  /** A first connection, then one resuming its session: the crash is in the second. */
  resumed: [{ upload: 300, download: 3000, resume: false }, { upload: 1500, download: 40_000, resume: true }],
  /** A 40 KB upload in 16 KB records: the client's slow start cannot fill a record, so partial ACKs (§5.5). */
  upload: [{ upload: 40_000, download: 2000, resume: false }],
};

export interface Tally {
  runs: number;
  crashed: number;
  phases: Record<Phase, number>;
  restored: { eager: number; "on-packet": number; sweep: number };
  partialAcks: number;
  resumed: number;
  failures: string[];
}

export function newTally(): Tally {
  return { runs: 0, crashed: 0, phases: { connect: 0, handshake: 0, c2s: 0, s2c: 0, close: 0 }, restored: { eager: 0, "on-packet": 0, sweep: 0 }, partialAcks: 0, resumed: 0, failures: [] };
}

export function check(r: SimResult, what: string, t: Tally): void {
  t.runs++;
  if (r.crashed) t.crashed++;
  if (r.crashPhase) t.phases[r.crashPhase]++;
  for (const k of ["eager", "on-packet", "sweep"] as const) t.restored[k] += r.restored[k];
  t.partialAcks += r.partialAcks;
  if (r.conns[r.conns.length - 1]?.resumed) t.resumed++;
  const bad = r.conns.find((c) => !c.ok);
  if (bad) t.failures.push(`${what}: ${bad.why}`);
  else if (r.resetsSeen > 0) t.failures.push(`${what}: ${r.resetsSeen} RSTs on the wire`);
}

const PHASES: readonly Phase[] = ["connect", "handshake", "c2s", "s2c", "close"];

/**
 * Crash points: a probe run without a crash counts the owner's inputs per
 * phase; the points are shared equally among the phases and spread over
 * each phase's inputs (`points` ≥ their total: every input). Seeds and loss
 * drawn from `seed`.
 */
export function crashPoints(probe: SimResult, points: number, rng: () => number): number[] {
  const total = probe.ownerInputs;
  if (points >= total) return Array.from({ length: total }, (_, i) => i + 1);
  const starts = PHASES.map((p) => probe.phaseStarts[p]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const ranges = starts.map((s, i) => [s, i + 1 < starts.length ? starts[i + 1]! : total] as const).filter(([a, b]) => b > a);
  const out: number[] = [];
  ranges.forEach(([a, b], r) => {
    const n = Math.floor(points / ranges.length) + (r < points % ranges.length ? 1 : 0);
    for (let i = 0; i < n; i++) out.push(a + 1 + Math.floor(((i + rng()) * (b - a)) / n));
  });
  return out;
}

export async function crashSweep(name: string, recovery: Recovery, points: number, seed: number, t: Tally): Promise<void> {
  const rng = xorshift32(seed);
  const conns = SCENARIOS[name]!;
  const probe = await runSim({ seed, loss: 0, latencyMs: 1, jitterMs: 0, recovery, conns });
  check(probe, `${name}/${recovery} probe`, t);
  const inputs = probe.ownerInputs;
  for (const k of crashPoints(probe, points, rng)) {
    const s = Math.floor(rng() * 0x7fffffff) + 1;
    const loss = Math.round(rng() * 100) / 1000;
    const jitterMs = Math.floor(rng() * 6);
    const clusterDelayMs = Math.round((0.5 + rng() * 2) * 100) / 100;
    const r = await runSim({ seed: s, loss, latencyMs: 1, jitterMs, recovery, conns, crashAt: k, clusterDelayMs, clusterLoss: 0.05 });
    check(r, `${name}/${recovery} seed=${s} loss=${loss} jitter=${jitterMs} clusterDelayMs=${clusterDelayMs} crashAt=${k}/${inputs} phase=${r.crashPhase}`, t);
  }
}

const POINTS = 25;

if (process.env["CTCP_SIM_ONLY"] === undefined) for (const recovery of ["eager", "selective"] as const) {
  test(`crash the owner at inputs spread over full, resumed and upload connections, 0-10 % loss, ${recovery} recovery: byte-exact, backend once, no RST`, async () => {
    const t = newTally();
    await crashSweep("full", recovery, POINTS, 11, t);
    await crashSweep("resumed", recovery, POINTS, 12, t);
    await crashSweep("upload", recovery, POINTS, 13, t);
    const summary = JSON.stringify({ ...t, failures: t.failures.length });
    console.log(`ctcp-sim ${recovery}: ${summary}`);
    assert.deepEqual(t.failures, [], `${summary}\n${t.failures.join("\n")}`);
    assert.equal(t.runs, 3 * (POINTS + 1));
    assert.ok(t.crashed >= 3 * POINTS - 10, summary);
    for (const p of ["connect", "handshake", "c2s", "s2c", "close"] as const) assert.ok(t.phases[p] >= 2, `phase ${p}: ${summary}`);
    assert.ok(t.resumed >= POINTS, `resumed handshakes: ${summary}`);
    assert.ok(t.partialAcks >= 10, `partial ACKs: ${summary}`);
    if (recovery === "eager") assert.ok(t.restored.eager >= 2 * POINTS && t.restored["on-packet"] === 0, summary);
    else assert.ok(t.restored.eager === 0 && t.restored["on-packet"] >= POINTS, summary);
  });
}
