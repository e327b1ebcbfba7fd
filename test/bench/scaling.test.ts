// The scaling bench's smoke run (`--quick`: nodes 1-2, short runs) through its
// command line: the JSON has exactly the schema the issue fixes, the cap is
// applied and holds when run as root, no handshake was resumed, and the plots
// exist as SVG and PNG. No speed is asserted (speed lives in the bench).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const scaling = new URL("../../bench/scaling.js", import.meta.url).pathname;

function run(args: string[]): Promise<{ code: number | null; out: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [scaling, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    p.once("error", reject);
    p.once("exit", (code) => resolve({ code, out, pid: p.pid! }));
  });
}

function nonEmpty(path: string): Buffer {
  assert.ok(existsSync(path), `${path} exists`);
  assert.ok(statSync(path).size > 0, `${path} is not empty`);
  return readFileSync(path);
}

function isRateOrNull(x: unknown): boolean {
  return x === null || (typeof x === "number" && Number.isFinite(x) && x >= 0);
}

test("bench:scaling --quick writes the JSON schema, an SVG and a PNG, and keeps its cgroups tidy", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-scaling-"));
  const json = join(dir, "scaling.json");
  const plot = join(dir, "scaling.svg");
  const r = await run(["--quick", "--json", json, "--plot", plot]);
  assert.equal(r.code, 0, r.out);

  const j = JSON.parse(readFileSync(json, "utf8")) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j).sort(), ["cap", "efficiency", "lines", "machine", "nodes"]);
  assert.deepEqual(j["nodes"], [1, 2]);
  const lines = j["lines"] as Record<string, unknown[]>;
  assert.deepEqual(Object.keys(lines).sort(), ["agg", "k1", "norm", "proj"]);
  for (const [name, ys] of Object.entries(lines)) {
    assert.equal(ys.length, 2, `${name} has one value per node count`);
    assert.ok(ys.every(isRateOrNull), `${name}: ${JSON.stringify(ys)}`);
  }
  const hs1 = lines["proj"]![0] as number;
  assert.ok(hs1 > 0, "one node completed handshakes");
  assert.equal(lines["proj"]![1], Math.round(2 * hs1 * 10) / 10, "proj is N × the one-node rate");
  for (const name of ["norm", "agg", "k1"]) assert.equal(lines[name]![0], hs1, `${name} starts at the one-node rate`);
  const eff = j["efficiency"] as Record<string, unknown>;
  assert.deepEqual(Object.keys(eff).sort(), ["agg", "k1", "norm"]);
  const detail = JSON.parse(readFileSync(join(dir, "scaling-detail.json"), "utf8")) as {
    clusterFlags: boolean;
    runs: Array<{ line: string; nodes: Array<{ resumed: number; handshakes: number; unreplicated: number; mapVersion: number }> }>;
  };
  if (detail.clusterFlags) {
    for (const name of ["norm", "agg", "k1"]) assert.ok((lines[name]![1] as number) > 0, `${name} measured at N = 2`);
    for (const name of ["norm", "agg", "k1"]) assert.equal(typeof eff[name], "number");
    nonEmpty(join(dir, "scaling-model.svg"));
    nonEmpty(join(dir, "scaling-model.png"));
  } else {
    assert.match(r.out, /no cluster flags/);
  }
  for (const run of detail.runs) {
    for (const n of run.nodes) assert.equal(n.resumed, 0, "the load generator never resumes a session");
    // Routed by the members' ownedBuckets, every connection lands on its bucket's owner and is replicated
    // (unless the map changed during the run, which the bench reports).
    const mapChanged = run.nodes.some((n) => n.mapVersion !== 0);
    if (run.line !== "alone" && !mapChanged) assert.deepEqual(run.nodes.map((n) => n.unreplicated), run.nodes.map(() => 0), `${run.line}: no connection served unreplicated`);
  }

  const cap = j["cap"] as { mode: string; coresPerNode: number | null; withinCap: boolean | null };
  if (process.getuid?.() === 0) {
    assert.notEqual(cap.mode, "none", "as root the nodes run capped");
    assert.equal(cap.withinCap, true, `per-node CPU stays within the cap: ${r.out}`);
    assert.match(r.out, /cap: [\d.]+ cores per node/);
    const root = cap.mode === "cgroup-v1" ? "/sys/fs/cgroup/cpu" : "/sys/fs/cgroup";
    assert.deepEqual(readdirSync(root).filter((d) => d.startsWith(`sslacc-bench-${r.pid}-`)), [], "the bench's cgroups are removed");
  } else {
    assert.match(r.out, /uncapped/);
  }

  assert.match(nonEmpty(join(dir, "scaling.svg")).toString("utf8"), /^<svg[\s\S]*handshakes\/s[\s\S]*<\/svg>\s*$/);
  assert.deepEqual([...nonEmpty(join(dir, "scaling.png")).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
});
