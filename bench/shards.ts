// Handshakes per second against the shard count inside one node:
//
//   npm run bench:shards -- [--shards 1-4] [--json F] [--plot F] [--ms N] [--repeats N] [--per-node N] [--threads N]
//
// One `sslacc` process per shard count (RSA in the shards, no pool), all
// started at once and measured in turn, round-robin over --repeats (the
// machine is shared and noisy: bench/harness.ts), with the scaling bench's
// load generator (full handshakes, never resumed, + a 100-byte GET). Uncapped:
// the question is what more worker threads buy on this machine's cores.
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { benchIdentity, startBackendProc, tempDir } from "./servers.js";
import { machine, median, printRows, progress, round, writeJson } from "./harness.js";
import { cgroupSet } from "./cgroup.js";
import { LoadGen } from "./loadgen.js";
import { Cleanup, delta, snapshot, startAlone, type Node } from "./nodes.js";
import { lineChartSpec, writePlot } from "./plot.js";

const WARM_UP_MS = 1000;

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${flag}: a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function parseShards(v: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(v);
  const ns = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : v.split(",").map(Number);
  if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new RangeError(`--shards: a range or list of shard counts (1-64), got ${JSON.stringify(v)}`);
  return [...new Set(ns)].sort((a, b) => a - b);
}

interface Sample {
  readonly shards: number;
  readonly handshakesPerSec: number;
  readonly cpuMsPerHandshake: number;
  readonly errors: number;
  readonly resumed: number;
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      shards: { type: "string", default: "1-4" }, json: { type: "string" }, plot: { type: "string" }, quick: { type: "boolean", default: false },
      ms: { type: "string" }, repeats: { type: "string" }, "per-node": { type: "string" }, threads: { type: "string" },
    },
  });
  const o = {
    shards: parseShards(v.quick ? "1-2" : v.shards),
    ms: positive("--ms", v.ms, v.quick ? 1500 : 3000),
    repeats: positive("--repeats", v.repeats, v.quick ? 1 : 3),
    perNode: positive("--per-node", v["per-node"], 16),
    threads: positive("--threads", v.threads, 2),
  };
  const dir = tempDir();
  const uncapped = cgroupSet("sslacc-shards", null);
  const cleanup = new Cleanup(uncapped);
  const samples: Sample[] = [];
  const bar = progress("shards", o.shards.length * (o.repeats + 1));
  try {
    const backend = cleanup.add(await startBackendProc());
    const setup = { id: benchIdentity(dir), backendPort: backend.port, dir, cgroups: uncapped, cleanup };
    const nodes: Node[] = [];
    for (const s of o.shards) nodes.push(await startAlone(setup, `shards-${s}`, s));
    const gens = await Promise.all(nodes.map((n) => LoadGen.start([{ host: "127.0.0.1", port: n.proc.port }], o)));
    try {
      for (const [i, s] of o.shards.entries()) {
        await gens[i]!.run(WARM_UP_MS);
        bar.step(`${s} shards warm-up`);
      }
      for (let r = 0; r < o.repeats; r++) {
        for (const [i, s] of o.shards.entries()) {
          const before = await snapshot(nodes[i]!);
          const res = await gens[i]!.run(o.ms);
          const d = delta(before, await snapshot(nodes[i]!));
          const total = res.handshakes[0]!;
          samples.push({ shards: s, handshakesPerSec: total / res.seconds, cpuMsPerHandshake: d.cpuMs / Math.max(1, d.handshakes), errors: res.errors, resumed: d.resumed });
          bar.step(`${s} shards run ${r + 1}: ${(total / res.seconds).toFixed(0)}/s`);
        }
      }
    } finally {
      await Promise.all(gens.map((g) => g.close()));
    }
  } finally {
    bar.stop();
    await cleanup.all();
  }
  const results = o.shards.map((s) => {
    const xs = samples.filter((x) => x.shards === s);
    return {
      shards: s,
      handshakesPerSec: round(median(xs.map((x) => x.handshakesPerSec))),
      cpuMsPerHandshake: round(median(xs.map((x) => x.cpuMsPerHandshake)), 3),
      errors: xs.reduce((a, x) => a + x.errors, 0),
      resumed: xs.reduce((a, x) => a + x.resumed, 0),
      samples: xs.map((x) => round(x.handshakesPerSec)),
    };
  });
  const one = results[0]!.handshakesPerSec;
  console.log("");
  printRows(["shards", "handshakes/s", "CPU-ms/hs", `vs ${results[0]!.shards} shard(s)`, "errors", "resumed", "runs"], results.map((r) => [
    String(r.shards), r.handshakesPerSec.toFixed(0), r.cpuMsPerHandshake.toFixed(2), (r.handshakesPerSec / one).toFixed(2), String(r.errors), String(r.resumed), r.samples.join(" "),
  ]));
  console.log(`${o.ms} ms per run, median of ${o.repeats}, ${o.perNode} connections in flight, RSA in the shards; ${cpus().length} cores shared with the load generator`);
  const mach = machine();
  if (v.json !== undefined) writeJson(v.json, { machine: mach, msPerRun: o.ms, repeats: o.repeats, perNode: o.perNode, results });
  if (v.plot !== undefined) {
    const out = await writePlot(v.plot, lineChartSpec({
      title: "Full TLS handshakes/s against shards in one node",
      subtitle: `${mach.cpu}, ${mach.cores} cores (load generator on the same cores); median of ${o.repeats}`,
      xTitle: "shards (worker threads)", yTitle: "handshakes/s",
      points: results.map((r) => ({ x: r.shards, y: r.handshakesPerSec, series: "sslacc (RSA in the shards)" })),
    }));
    console.log(`plots: ${out.svg} ${out.png}`);
  }
}

await main();
