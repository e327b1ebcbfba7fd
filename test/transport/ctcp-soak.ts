// Opt-in long runs of the clustered-TCP simulation (not part of `npm test`):
//
//   npm run sim:ctcp -- [--seeds N] [--first-seed S] [--scenario full|resumed|upload] [--recovery eager|selective]
//       crash the owner at EVERY input of every phase, for N sweeps (different
//       loss, jitter and cluster delay each), both recovery modes;
//   npm run sim:ctcp -- --measure [--json FILE]
//       takeover cost eager vs selective (connections restored, frames, CPU)
//       and the client's recovery time after a crash in the simulation.
import { writeFileSync } from "node:fs";
import type { Recovery } from "../../src/transport/ctcp/node.js";
import { xorshift32 } from "../../src/transport/wire/hub.js";
import { crashSweep, measureTakeover, newTally, runSim, SCENARIOS, type TakeoverCost } from "./ctcp-sim.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function soak(): Promise<number> {
  const seeds = Number(arg("--seeds") ?? 3);
  const first = Number(arg("--first-seed") ?? 1000);
  const scenarios = arg("--scenario") ? [arg("--scenario")!] : Object.keys(SCENARIOS);
  const modes = (arg("--recovery") ? [arg("--recovery")] : ["eager", "selective"]) as Recovery[];
  let failures = 0;
  for (const recovery of modes) {
    for (const name of scenarios) {
      for (let s = 0; s < seeds; s++) {
        const t = newTally();
        const t0 = performance.now();
        await crashSweep(name, recovery, Infinity, first + s, t);
        failures += t.failures.length;
        console.log(`${name}/${recovery} sweep ${s}: ${t.runs} runs, ${t.crashed} crashed ${JSON.stringify(t.phases)}, restored ${JSON.stringify(t.restored)}, partial ACKs ${t.partialAcks}, ${t.failures.length} failures, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        for (const f of t.failures) console.log(`  FAIL ${f}`);
      }
    }
  }
  console.log(failures === 0 ? "all runs passed" : `${failures} failures`);
  return failures === 0 ? 0 : 1;
}

async function measure(): Promise<number> {
  // One real mirrored state from the middle of a download.
  const r = await runSim({ seed: 5, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: SCENARIOS["full"]!, crashAt: { phase: "s2c", nth: 40 } });
  const state = r.mirroredAtTakeover[0];
  if (!state || !r.conns[0]!.ok) throw new Error("measure: no mirrored state from the seeding run");
  const rows: (TakeoverCost & { perConnUs: number })[] = [];
  for (const m of [1, 100, 1000, 5000]) {
    for (const recovery of ["eager", "selective"] as const) {
      // Median of 5: the machine is shared.
      const runs = Array.from({ length: 5 }, () => measureTakeover(state, m, recovery));
      const cpu = median(runs.map((x) => x.takeoverCpuMs));
      const first = median(runs.map((x) => x.firstPacketCpuMs));
      const row = { ...runs[0]!, takeoverCpuMs: cpu, firstPacketCpuMs: first, perConnUs: (cpu * 1000) / m };
      rows.push(row);
    }
  }
  console.log("takeover of M mirrored connections, one of them active (median of 5):");
  console.log("  M      recovery   restored  frames  takeover CPU ms  µs/conn  restored after 1 packet  first packet CPU ms");
  for (const x of rows) {
    console.log(`  ${String(x.connections).padEnd(6)} ${x.recovery.padEnd(10)} ${String(x.restoredAtTakeover).padStart(8)} ${String(x.framesAtTakeover).padStart(7)} ${x.takeoverCpuMs.toFixed(2).padStart(16)} ${x.perConnUs.toFixed(1).padStart(8)} ${String(x.restoredAfterOnePacket).padStart(24)} ${x.firstPacketCpuMs.toFixed(2).padStart(20)}`);
  }
  // Client-visible recovery in the simulation: crash in the download, 0-5 % loss.
  const recovery: Record<Recovery, number[]> = { eager: [], selective: [], "selective-probe": [] };
  const rng = xorshift32(99);
  for (let i = 0; i < 40; i++) {
    const seed = Math.floor(rng() * 0x7fffffff) + 1;
    const loss = Math.round(rng() * 50) / 1000;
    const nth = 1 + Math.floor(rng() * 60);
    for (const mode of ["eager", "selective", "selective-probe"] as const) {
      const x = await runSim({ seed, loss, latencyMs: 1, jitterMs: 2, recovery: mode, conns: SCENARIOS["full"]!, crashAt: { phase: "s2c", nth }, deadMs: 300 });
      if (!x.conns.every((c) => c.ok)) throw new Error(`measure run failed: ${x.conns.map((c) => c.why).join(" ")}`);
      if (x.recoveryMs !== null) recovery[mode].push(x.recoveryMs);
    }
  }
  console.log("client recovery after a crash in the download (simulated ms from takeover to the client's next progress; dead interval 300 ms, RTO ≥ 100 ms):");
  const summary: Record<string, { runs: number; median: number; p90: number; max: number }> = {};
  for (const mode of ["eager", "selective", "selective-probe"] as const) {
    const xs = recovery[mode];
    summary[mode] = { runs: xs.length, median: median(xs), p90: pct(xs, 0.9), max: Math.max(...xs) };
    console.log(`  ${mode.padEnd(15)} runs ${xs.length}  median ${median(xs).toFixed(1)}  p90 ${pct(xs, 0.9).toFixed(1)}  max ${Math.max(...xs).toFixed(1)}`);
  }
  const json = arg("--json");
  if (json) writeFileSync(json, JSON.stringify({ takeover: rows, recoveryMs: summary }, null, 2));
  return 0;
}

process.exitCode = process.argv.includes("--measure") ? await measure() : await soak();
