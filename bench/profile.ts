// The daemon under clinic (doctor, flame or bubbleprof) with a handshake load:
//
//   npm run profile -- doctor|flame|bubbleprof [--ms N] [--dest DIR] [--shards N] [--rsa-workers N] [--cluster]
//
// Starts `sslacc start` (one node, its own backend, --admin on) under
// `clinic <tool> --open=false`, drives it with the scaling bench's load
// generator (full handshakes, never resumed, + a 100-byte GET) for --ms,
// then stops it with SIGINT so clinic writes its HTML report; prints the
// folder. --cluster (needs the cluster flags) makes the profiled node
// member 1 of a 2-node cluster, the other node unprofiled, load on both, so
// the cluster messages show up. docs/profiling.md says how to read the
// reports for this program. clinic needs NO_INSIGHT=1 here (NOTES.md).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { freeUdpPort } from "../src/transport/shell/tap-relay.js";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { benchIdentity, freePort, startBackendProc, startSslacc, tempDir, type ServerProc } from "./servers.js";
import { LoadGen } from "./loadgen.js";
import { clusterFlagsAvailable, lineFlags, waitFormed, type Node } from "./nodes.js";

type Tool = "doctor" | "flame" | "bubbleprof";
const TOOLS: readonly Tool[] = ["doctor", "flame", "bubbleprof"];
const here = new URL(".", import.meta.url).pathname;
const clinicBin = resolve(here, "../../node_modules/.bin/clinic");

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${flag}: a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Cluster arguments for member `id` of a 2-node cluster (aggregation on, replication to all). */
function clusterArgs(id: number, udp: readonly number[], key: string): string[] {
  return [
    "--node-id", String(id), "--cluster-id", "7", "--cluster-port", String(udp[id - 1]), "--peers", udp.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(","),
    "--cluster-key", key, ...lineFlags("agg"),
  ];
}

interface Profiled {
  readonly node: Node;
  /** Resolves with clinic's output once it has written the report. */
  readonly done: Promise<string>;
  stop(): void;
}

/** `clinic <tool> -- node dist/src/cli.js start ...` in its own process group; resolves once the daemon listens. */
function startProfiled(tool: Tool, dest: string, daemonArgs: readonly string[], port: number, admin: string): Promise<Profiled> {
  const cli = join(here, "../src/cli.js");
  const p = spawn(clinicBin, [tool, "--open=false", "--dest", dest, "--", process.execPath, cli, "start", ...daemonArgs], {
    stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, NO_INSIGHT: "1", SSLACC_LOG_LEVEL: "warn" },
  });
  let out = "";
  const done = new Promise<string>((res, rej) => {
    p.once("error", rej);
    p.once("exit", (code) => (code === 0 ? res(out) : rej(new Error(`clinic ${tool} exited (${code}): ${out.slice(-3000)}`))));
  });
  return new Promise((res, rej) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      process.stderr.write(d);
      if (/listening on/.test(out) && !readyOnce.done) {
        readyOnce.done = true;
        res({
          node: { proc: { name: `clinic-${tool}`, port, pid: p.pid!, stop: async () => {} } satisfies ServerProc, id: 1, admin },
          done,
          // clinic stops the daemon and builds the report on SIGINT, as on Ctrl-C: send it to the whole group.
          stop: () => process.kill(-p.pid!, "SIGINT"),
        });
      }
    };
    const readyOnce = { done: false };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    done.catch(rej);
  });
}

async function main(): Promise<void> {
  const { values: v, positionals } = parseArgs({
    allowPositionals: true,
    options: { ms: { type: "string" }, dest: { type: "string" }, shards: { type: "string" }, "rsa-workers": { type: "string" }, cluster: { type: "boolean", default: false } },
  });
  const tool = positionals[0] as Tool;
  if (positionals.length !== 1 || !TOOLS.includes(tool)) throw new RangeError(`profile: one of ${TOOLS.join("|")} expected, got ${JSON.stringify(positionals.join(" "))}`);
  if (v.cluster && !clusterFlagsAvailable()) throw new RangeError("profile --cluster: this build's `sslacc start` has no cluster flags");
  const ms = positive("--ms", v.ms, 10_000);
  const dest = resolve(v.dest ?? `profiles/${tool}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dest, { recursive: true });
  const dir = tempDir();
  const id = benchIdentity(dir);
  const backend = await startBackendProc();
  const others: ServerProc[] = [backend];
  const port = await freePort();
  const admin = `127.0.0.1:${await freePort()}`;
  const base = [
    "--listen", `127.0.0.1:${port}`, "--backend", `127.0.0.1:${backend.port}`, "--cert", id.cert, "--key", id.key, "--admin", admin,
    "--shards", v.shards ?? "1", "--rsa-workers", v["rsa-workers"] ?? "0",
  ];
  let profiled: Profiled | null = null;
  try {
    let targetsOf: Node[];
    if (v.cluster) {
      const udp = [await freeUdpPort("127.0.0.1"), await freeUdpPort("127.0.0.1")];
      const key = join(dir, "cluster.key");
      writeFileSync(key, randomBytes(32).toString("hex") + "\n");
      profiled = await startProfiled(tool, dest, [...base, ...clusterArgs(1, udp, key)], port, admin);
      const peerAdmin = `127.0.0.1:${await freePort()}`;
      const peer = await startSslacc(id, backend.port, { provider: "native", shards: 1, rsaWorkers: 0, admin: peerAdmin, extraArgs: clusterArgs(2, udp, key) });
      others.push(peer);
      targetsOf = [profiled.node, { proc: peer, id: 2, admin: peerAdmin }];
    } else {
      profiled = await startProfiled(tool, dest, base, port, admin);
      targetsOf = [profiled.node];
    }
    const targets = v.cluster ? await waitFormed(targetsOf) : [{ host: "127.0.0.1", port }];
    const gen = await LoadGen.start(targets, { perNode: 8, threads: 2 });
    const r = await gen.run(ms);
    await gen.close();
    console.error(`load: ${r.handshakes.reduce((a, b) => a + b, 0)} handshakes in ${r.seconds.toFixed(1)} s, ${r.errors} errors; stopping the daemon, clinic is writing its report`);
    profiled.stop();
    const out = await profiled.done;
    profiled = null;
    const html = readdirSync(dest).filter((f) => f.endsWith(".html"));
    if (html.length === 0) throw new Error(`clinic ${tool} wrote no HTML report in ${dest}: ${out.slice(-2000)}`);
    console.log(`report: ${join(dest, html[0]!)}\nfolder: ${dest}`);
  } finally {
    profiled?.stop();
    await profiled?.done.catch(() => {});
    for (const p of others) await p.stop();
  }
}

await main();
