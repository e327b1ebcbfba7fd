// Handshakes per second against cluster size (SSLACC §5.8, figures 28-29):
//
//   npm run bench:scaling -- [--nodes 1-7] [--json F] [--plot F] [--quick] [--ms N] [--repeats N]
//                            [--cap CORES|0] [--per-node N] [--threads N] [--dead-after T]
//
// N real `sslacc` nodes (one shard each, RSA in the shard) on loopback, driven
// by the load generator (bench/loadgen.ts: full handshakes, never resumed, +
// a 100-byte GET, spread over the nodes like an L4 balancer). Lines:
//   norm  cluster, aggregation off, replication to all (the paper's "norm")
//   agg   cluster, aggregation on, replication to all (the paper's "agg")
//   k1    cluster, aggregation on, one backup per bucket (ours)
//   proj  N × the one-node rate (the paper's "proj")
// N = 1 is one node without cluster flags: its rate is every line's first point.
// For N ≥ 2 one cluster runs at a time, started afresh for each run, the
// lines interleaved run by run (medians of --repeats).
//
// Emulating N machines: as root each node runs in a cgroup with a CPU quota
// sized so the largest N plus the load generator fit in the cores (--cap
// overrides, --cap 0 runs uncapped), so adding a node adds a fixed slice of
// CPU. Each node's CPU over every run is read from /proc/PID/stat and
// checked against the cap.
//
// Members are declared dead after --dead-after of silence (default 1 s, the
// daemon's is 400 ms): a capped node on a shared machine gets its CPU in
// 10 ms slices and must not lose its buckets mid-run for that; bucket-map
// changes during runs are counted and printed.
//
// Cost model (with the cluster flags): on the N = 2 clusters the load goes to
// node 1 only; node 1's CPU per handshake less the one-node figure is what a
// mirror costs its owner, node 2's CPU per handshake of node 1 is what a
// mirror costs itself. Per node, owning h handshakes/s with R mirrors each and
// mirroring R·h: h·(c0 + R·(own + mirror)) = C, C the CPU one node gets (its
// one-node rate × c0). The projection to 64 nodes is drawn beside the
// measured points (`<plot>-model.svg/.png`).
//
// Outputs: a table; `--json F` (the schema the issue fixes) and F with
// `-detail.json` (every run, per-node CPU and counters, the cost model);
// `--plot F`: F.svg/.png and F-model.svg/.png.
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { benchIdentity, startBackendProc, tempDir } from "./servers.js";
import { machine, median, printRows, progress, round, writeJson } from "./harness.js";
import { cgroupSet, type CapInfo } from "./cgroup.js";
import { LoadGen, type Target } from "./loadgen.js";
import { Cleanup, clusterFlagsAvailable, delta, snapshot, startAlone, startCluster, waitFormed, type ClusterLine, type Node, type NodeSetup, type NodeSnapshot } from "./nodes.js";
import { lineChartSpec, writePlot, type Point } from "./plot.js";

const LINES: readonly ClusterLine[] = ["norm", "agg", "k1"];
/** Cores left to the load generator when sizing the cap: it spends about as much CPU per handshake as a node. */
const LOADGEN_CORES = 0.8;
/** A node may read a little above its quota (accounting granularity); more than this means the cap is not working. */
const CAP_TOLERANCE = 1.1;
/** Before the first measured run of a configuration: JIT, WASM compile, cluster streams. */
const WARM_UP_MS = 2000;

interface Options {
  readonly nodes: number[];
  readonly json: string | undefined;
  readonly plot: string | undefined;
  readonly ms: number;
  readonly repeats: number;
  readonly cap: number | null | undefined;
  readonly perNode: number;
  readonly threads: number;
  readonly deadAfter: string;
}

function optionError(flag: string, value: string, want: string): RangeError {
  return new RangeError(`${flag}: ${want}, got ${JSON.stringify(value)}`);
}

/** "1-7", "1,2,4" or "3". */
function parseNodes(v: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(v);
  const ns = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : v.split(",").map(Number);
  if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 1 || n > 32) || ns[0] !== 1) throw optionError("--nodes", v, "a range or list of node counts from 1 (at most 32), starting at 1");
  return [...new Set(ns)].sort((a, b) => a - b);
}

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw optionError(flag, v, "a positive integer");
  return n;
}

function options(): Options {
  const { values: v } = parseArgs({
    options: {
      nodes: { type: "string" }, json: { type: "string" }, plot: { type: "string" }, quick: { type: "boolean", default: false },
      ms: { type: "string" }, repeats: { type: "string" }, cap: { type: "string" }, "per-node": { type: "string" }, threads: { type: "string" },
      "dead-after": { type: "string", default: "1s" },
    },
  });
  let cap: number | null | undefined;
  if (v.cap !== undefined) {
    cap = Number(v.cap);
    if (!Number.isFinite(cap) || cap < 0 || cap > cpus().length) throw optionError("--cap", v.cap, `cores per node between 0 (uncapped) and ${cpus().length}`);
    if (cap === 0) cap = null;
  }
  return {
    nodes: parseNodes(v.nodes ?? (v.quick ? "1-2" : "1-7")),
    json: v.json, plot: v.plot,
    ms: positive("--ms", v.ms, v.quick ? 1500 : 3000),
    repeats: positive("--repeats", v.repeats, v.quick ? 1 : 2),
    cap,
    perNode: positive("--per-node", v["per-node"], 16),
    threads: positive("--threads", v.threads, 2),
    deadAfter: v["dead-after"],
  };
}

/** One measured run of one configuration. */
interface Run {
  readonly n: number;
  readonly line: ClusterLine | "alone" | `cost-${"norm" | "agg"}`;
  readonly handshakesPerSec: number;
  readonly seconds: number;
  readonly errors: number;
  readonly loadgenCpuMs: number;
  readonly nodes: readonly NodeSnapshot[];
  /** CPU each node used, in cores (its CPU time over the run's wall time). */
  readonly nodeCores: readonly number[];
}

async function measure(o: Options, n: number, line: Run["line"], nodes: readonly Node[], gen: LoadGen): Promise<Run> {
  const before = await Promise.all(nodes.map(snapshot));
  const t0 = performance.now();
  const r = await gen.run(o.ms);
  const wallMs = performance.now() - t0;
  const after = await Promise.all(nodes.map(snapshot));
  const d = nodes.map((_, i) => delta(before[i]!, after[i]!));
  const total = r.handshakes.reduce((a, b) => a + b, 0);
  return {
    n, line, handshakesPerSec: round(total / r.seconds), seconds: round(r.seconds, 2), errors: r.errors, loadgenCpuMs: round(r.cpuMs),
    nodes: d, nodeCores: d.map((x) => round(x.cpuMs / wallMs, 3)),
  };
}

/** Cost-model parameters for one aggregation setting, from a 2-node run with load on node 1 only. */
interface CostParams {
  /** Node 1's CPU per handshake (ms): c0 plus what its one mirror costs it. */
  readonly ownerMsPerHandshake: number;
  /** Node 2's CPU per handshake of node 1 (ms). */
  readonly mirrorMsPerHandshake: number;
  /** Node 2's CPU per checkpoint node 1 sent (µs). */
  readonly mirrorUsPerCheckpoint: number;
  readonly checkpointsPerHandshake: number;
  readonly messagesPerDatagram: number | null;
}

function costParams(r: Run): CostParams {
  const [a, b] = r.nodes as [NodeSnapshot, NodeSnapshot];
  const hs = Math.max(1, a.handshakes);
  return {
    ownerMsPerHandshake: round(a.cpuMs / hs, 3),
    mirrorMsPerHandshake: round(b.cpuMs / hs, 3),
    mirrorUsPerCheckpoint: round((1000 * b.cpuMs) / Math.max(1, a.checkpoints), 1),
    checkpointsPerHandshake: round(a.checkpoints / hs, 2),
    messagesPerDatagram: a.datagrams > 0 ? round(a.messages / a.datagrams, 2) : null,
  };
}

/** hs/s of N nodes each mirroring R others' handshakes (see the header). */
function modelRate(n: number, mirrors: number, c0: number, cpuPerSec: number, p: CostParams): number {
  const extra = Math.max(0, p.ownerMsPerHandshake - c0) + p.mirrorMsPerHandshake;
  return (n * cpuPerSec) / (c0 + mirrors * extra);
}

function mirrorsOf(line: ClusterLine, n: number): number {
  return line === "k1" ? Math.min(1, n - 1) : n - 1;
}

function capFor(o: Options): number | null {
  if (o.cap !== undefined) return o.cap;
  const maxN = o.nodes[o.nodes.length - 1]!;
  return round(Math.min(1, (cpus().length - LOADGEN_CORES) / maxN), 3);
}

async function main(): Promise<void> {
  const o = options();
  const withCluster = clusterFlagsAvailable();
  const cgroups = cgroupSet(`sslacc-bench-${process.pid}`, capFor(o));
  const cap: CapInfo = cgroups.info;
  console.log(cap.mode === "none"
    ? `cap: none (${cap.reason})`
    : `cap: ${cap.coresPerNode} cores per node (${cap.mode}, quota ${cap.quotaUs} µs per ${cap.periodUs} µs), ${cpus().length} cores, load generator ${o.threads} threads uncapped`);
  if (!withCluster) console.log("this build's `sslacc start` has no cluster flags (--peers, --cluster-aggregation ...): only N = 1 and proj are measured");
  const ns = withCluster ? o.nodes : [1];
  const loadBefore = loadavg();
  const dir = tempDir();
  const cleanup = new Cleanup(cgroups);
  const runs: Run[] = [];
  try {
    const backend = cleanup.add(await startBackendProc());
    const setup: NodeSetup = { id: benchIdentity(dir), backendPort: backend.port, dir, cgroups, cleanup, clusterArgs: ["--cluster-dead-after", o.deadAfter] };
    const clusterNs = ns.filter((n) => n > 1);
    const steps = 1 + o.repeats + clusterNs.length * LINES.length * o.repeats + (clusterNs.includes(2) ? 2 : 0);
    const bar = progress("scaling", steps);
    /** Warm-up and one measured run of a formed cluster; on the first N = 2 runs of norm and agg, also the cost model's run. */
    const runCluster = async (n: number, line: ClusterLine, nodes: readonly Node[], targets: readonly Target[], r: number) => {
      const gen = await LoadGen.start(targets, o);
      try {
        await gen.run(WARM_UP_MS);
        runs.push(await measure(o, n, line, nodes, gen));
        bar.step(`N=${n} ${line} run ${r + 1}: ${runs.at(-1)!.handshakesPerSec.toFixed(0)}/s`);
      } finally {
        await gen.close();
      }
      if (n !== 2 || r !== 0 || line === "k1") return;
      // Cost model: all load on node 1; node 2 only mirrors.
      const one = await LoadGen.start([targets[0]!], o);
      try {
        runs.push(await measure(o, 2, `cost-${line}`, nodes, one));
        bar.step(`cost model, aggregation ${line === "agg" ? "on" : "off"}`);
      } finally {
        await one.close();
      }
    };
    try {
      const alone = await startAlone(setup, "alone-1");
      const aloneGen = await LoadGen.start([{ host: "127.0.0.1", port: alone.proc.port }], o);
      await aloneGen.run(WARM_UP_MS);
      bar.step("N=1 warm-up");
      for (let r = 0; r < o.repeats; r++) {
        runs.push(await measure(o, 1, "alone", [alone], aloneGen));
        bar.step(`N=1 run ${r + 1}: ${runs.at(-1)!.handshakesPerSec.toFixed(0)}/s`);
      }
      await aloneGen.close();
      await cleanup.stop([alone.proc]);
      for (const n of clusterNs) {
        for (let r = 0; r < o.repeats; r++) {
          for (const line of LINES) {
            // One cluster at a time, started afresh for each run and interleaved over the lines: an idle
            // 7-member cluster still spends ~0.025 cores per member on keepalives and ticks, taken from the
            // machine the measured cluster runs on.
            const nodes = await startCluster(setup, line, n);
            try {
              const targets = await waitFormed(nodes);
              await runCluster(n, line, nodes, targets, r);
            } finally {
              await cleanup.stop(nodes.map((x) => x.proc));
            }
          }
        }
      }
    } finally {
      bar.stop();
    }
  } finally {
    await cleanup.all();
  }
  report(o, cap, withCluster, runs, loadBefore);
  await plots(o, runs, withCluster);
}

function rateOf(runs: readonly Run[], n: number, line: Run["line"]): number | null {
  const xs = runs.filter((r) => r.n === n && r.line === line).map((r) => r.handshakesPerSec);
  return xs.length > 0 ? round(median(xs)) : null;
}

interface Summary {
  readonly hs1: number;
  readonly lines: Record<ClusterLine | "proj", (number | null)[]>;
  readonly efficiency: Record<ClusterLine, number | null>;
  readonly model: null | {
    readonly c0: number;
    readonly cpuMsPerSecond: number;
    readonly off: CostParams;
    readonly on: CostParams;
    readonly projection: Record<ClusterLine, { n: number; handshakesPerSec: number }[]>;
  };
}

function summarize(o: Options, runs: readonly Run[]): Summary {
  const hs1 = rateOf(runs, 1, "alone")!;
  const lineOf = (line: ClusterLine) => o.nodes.map((n) => (n === 1 ? hs1 : rateOf(runs, n, line)));
  const lines = { norm: lineOf("norm"), agg: lineOf("agg"), k1: lineOf("k1"), proj: o.nodes.map((n) => round(n * hs1)) };
  const nMax = o.nodes[o.nodes.length - 1]!;
  const eff = (line: ClusterLine) => {
    const v = lines[line][o.nodes.length - 1];
    return v === null || v === undefined ? null : round(v / (nMax * hs1), 3);
  };
  const efficiency = { norm: eff("norm"), agg: eff("agg"), k1: eff("k1") };
  const aloneRuns = runs.filter((r) => r.line === "alone");
  const c0 = median(aloneRuns.map((r) => r.nodes[0]!.cpuMs / Math.max(1, r.nodes[0]!.handshakes)));
  const costOff = runs.find((r) => r.line === "cost-norm");
  const costOn = runs.find((r) => r.line === "cost-agg");
  if (costOff === undefined || costOn === undefined) return { hs1, lines, efficiency, model: null };
  const off = costParams(costOff);
  const on = costParams(costOn);
  // The CPU one node got per second at N = 1 (ms/s): the model equals the measured rate there.
  const cpuPerSec = hs1 * c0;
  const upTo64 = Array.from({ length: 64 }, (_, i) => i + 1);
  const proj = (line: ClusterLine, p: CostParams) => upTo64.map((n) => ({ n, handshakesPerSec: round(modelRate(n, mirrorsOf(line, n), c0, cpuPerSec, p)) }));
  return {
    hs1, lines, efficiency,
    model: { c0: round(c0, 3), cpuMsPerSecond: round(cpuPerSec), off, on, projection: { norm: proj("norm", off), agg: proj("agg", on), k1: proj("k1", on) } },
  };
}

function pct(x: number | null): string {
  return x === null ? "-" : `${(100 * x).toFixed(1)} %`;
}

function report(o: Options, cap: CapInfo, withCluster: boolean, runs: readonly Run[], loadBefore: number[]): void {
  const s = summarize(o, runs);
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(0));
  console.log("");
  printRows(["nodes", "norm", "agg", "k1", "proj"], o.nodes.map((n, i) => [String(n), fmt(s.lines.norm[i]), fmt(s.lines.agg[i]), fmt(s.lines.k1[i]), fmt(s.lines.proj[i])]));
  console.log(`efficiency hs(N)/(N·hs(1)) at N = ${o.nodes.at(-1)}: norm ${pct(s.efficiency.norm)}, agg ${pct(s.efficiency.agg)}, k1 ${pct(s.efficiency.k1)}`);
  const maxCores = Math.max(...runs.flatMap((r) => r.nodeCores));
  const overCap = cap.coresPerNode !== null && maxCores > cap.coresPerNode * CAP_TOLERANCE;
  const errors = runs.reduce((a, r) => a + r.errors, 0);
  const resumed = runs.reduce((a, r) => a + r.nodes.reduce((b, x) => b + x.resumed, 0), 0);
  const clusterRuns = runs.filter((r) => r.line !== "alone");
  const unreplicated = clusterRuns.reduce((a, r) => a + r.nodes.reduce((b, x) => b + x.unreplicated, 0), 0);
  const replicated = clusterRuns.reduce((a, r) => a + r.nodes.reduce((b, x) => b + x.replicated, 0), 0);
  if (clusterRuns.length > 0) {
    const mapChanges = clusterRuns.reduce((a, r) => a + Math.max(...r.nodes.map((x) => x.mapVersion)), 0);
    console.log(`cluster connections replicated: ${replicated}, served unreplicated (not on their bucket's owner): ${unreplicated}${unreplicated > 0 ? " — the cluster lines are flattered by these" : ""}; bucket-map changes during runs: ${mapChanges}${mapChanges > 0 ? " (a starved member was declared dead, or buckets moved)" : ""}`);
  }
  console.log(cap.coresPerNode === null
    ? `per-node CPU: at most ${maxCores.toFixed(2)} cores (uncapped)`
    : `per-node CPU: at most ${maxCores.toFixed(3)} cores against a cap of ${cap.coresPerNode}: ${overCap ? "OVER THE CAP — the cap is not holding" : "within the cap"}`);
  console.log(`handshakes resumed: ${resumed} (must be 0); client errors: ${errors}; load average ${loadBefore.map((x) => x.toFixed(1)).join(" ")} before, ${loadavg().map((x) => x.toFixed(1)).join(" ")} after (other work on the machine disturbs the run)`);
  if (s.model !== null) {
    const m = s.model;
    console.log("");
    printRows(["cost model (2 nodes, load on node 1)", "aggregation off", "aggregation on"], [
      ["one-node CPU per handshake c0 (ms)", m.c0.toFixed(3), m.c0.toFixed(3)],
      ["owner CPU per handshake (ms)", m.off.ownerMsPerHandshake.toFixed(3), m.on.ownerMsPerHandshake.toFixed(3)],
      ["mirror CPU per handshake (ms)", m.off.mirrorMsPerHandshake.toFixed(3), m.on.mirrorMsPerHandshake.toFixed(3)],
      ["mirror CPU per checkpoint (µs)", m.off.mirrorUsPerCheckpoint.toFixed(1), m.on.mirrorUsPerCheckpoint.toFixed(1)],
      ["checkpoints per handshake", m.off.checkpointsPerHandshake.toFixed(2), m.on.checkpointsPerHandshake.toFixed(2)],
      ["messages per datagram (owner)", fmt(m.off.messagesPerDatagram), m.on.messagesPerDatagram?.toFixed(2) ?? "-"],
    ]);
    const at = (line: ClusterLine, n: number) => fmt(m.projection[line][n - 1]!.handshakesPerSec);
    console.log(`model at 7 / 16 / 64 nodes: norm ${at("norm", 7)} / ${at("norm", 16)} / ${at("norm", 64)}, agg ${at("agg", 7)} / ${at("agg", 16)} / ${at("agg", 64)}, k1 ${at("k1", 7)} / ${at("k1", 16)} / ${at("k1", 64)} hs/s`);
  }
  console.log(`${o.ms} ms per run, median of ${o.repeats}, ${o.perNode} connections in flight per node; TLS 1.2 AES128-SHA, RSA-2048, 100-byte reply`);
  const mach = { ...machine(), loadavgBefore: loadBefore.map((x) => round(x, 2)), loadavgAfter: loadavg().map((x) => round(x, 2)) };
  const capJson = { ...cap, maxNodeCores: round(maxCores, 3), withinCap: cap.coresPerNode === null ? null : !overCap, loadgenThreads: o.threads };
  if (o.json !== undefined) {
    writeJson(o.json, { machine: mach, cap: capJson, nodes: o.nodes, lines: s.lines, efficiency: s.efficiency });
    writeJson(o.json.replace(/\.json$/i, "") + "-detail.json", {
      clusterFlags: withCluster, msPerRun: o.ms, repeats: o.repeats, perNode: o.perNode, runs, model: s.model,
    });
  }
  if (!withCluster) console.log("norm/agg/k1 for N ≥ 2 not measured: this build has no cluster flags");
}

async function plots(o: Options, runs: readonly Run[], withCluster: boolean): Promise<void> {
  if (o.plot === undefined) return;
  const s = summarize(o, runs);
  const measured: Point[] = (["norm", "agg", "k1", "proj"] as const).flatMap((line) =>
    o.nodes.flatMap((n, i) => {
      const y = s.lines[line][i];
      return y === null || y === undefined ? [] : [{ x: n, y, series: line, kind: line === "proj" ? "projected" as const : "measured" as const }];
    }));
  const sub = `${machine().cpu}, ${cpus().length} cores; ${o.ms} ms runs, median of ${o.repeats}`;
  const main = await writePlot(o.plot, lineChartSpec({
    title: `Full TLS handshakes/s vs cluster size${withCluster ? "" : " (no cluster flags: N = 1 and proj only)"}`,
    subtitle: sub, xTitle: "nodes", yTitle: "handshakes/s", points: measured,
  }));
  console.log(`plots: ${main.svg} ${main.png}`);
  if (s.model === null) return;
  const model: Point[] = [
    ...measured.filter((p) => p.series !== "proj"),
    ...(["norm", "agg", "k1"] as const).flatMap((line) => s.model!.projection[line].map((p) => ({ x: p.n, y: p.handshakesPerSec, series: line, kind: "projected" as const }))),
    ...s.model.projection.norm.map((p) => ({ x: p.n, y: round(p.n * s.hs1), series: "proj", kind: "projected" as const })),
  ];
  const extra = await writePlot(o.plot.replace(/\.(svg|png)$/i, "") + "-model", lineChartSpec({
    title: "Cost model (dashed) projected to 64 nodes beside the measured points", subtitle: sub,
    xTitle: "nodes (log scale)", yTitle: "handshakes/s (log scale)", points: model, xLog: true, yLog: true,
  }));
  console.log(`plots: ${extra.svg} ${extra.png}`);
}

await main();
