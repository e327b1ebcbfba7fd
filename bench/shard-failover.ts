// How long a shard's death stalls its connections: the time from
// worker.terminate() of the shard running N downloads to the first
// checkpoint each of them stores again (its relay restored, its kept input
// replayed, progress made). Two candidates in the same run:
//   * survivor     — 2 shards: the dead shard's buckets move to the live one
//                    at once (src/node/shard-lifecycle.ts evacuate);
//   * respawn-wait — 1 shard, respawned after 1 ms: the connections wait for
//                    a new worker to start (what every death cost before
//                    buckets moved to survivors: respawn in place).
// Rounds alternate the candidates; medians over rounds are printed.
//
//   npm run build && node dist/bench/shard-failover.js [--repeats N] [--conns N] [--survivor-respawn MS] [--json FILE]
import type { ClientRequest } from "node:http";
import { request } from "node:https";
import { machine, median, printRows, round, writeJson } from "./harness.js";
import { benchIdentity, startBackendProc, tempDir } from "./servers.js";
import { readFileSync } from "node:fs";
import { bucketOf } from "../src/node/buckets.js";
import { Daemon, type CheckpointInfo } from "../src/node/daemon.js";

interface Round {
  readonly candidate: string;
  /** ms from terminate() to the main thread's 'exit' event. */
  readonly exitSeenMs: number;
  /** Per connection: ms from the kill to its first stored checkpoint after it. */
  readonly recoveryMs: number[];
}

function arg(flag: string, dflt: number): number {
  const i = process.argv.indexOf(flag);
  if (i < 0) return dflt;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${flag}: a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
  return n;
}

/** A download that reads everything and never ends on its own (the bench destroys it). */
function download(port: number, localPort: number): ClientRequest {
  const req = request({
    host: "127.0.0.1", port, localAddress: "127.0.0.1", localPort, path: `/bytes/${1 << 30}`, rejectUnauthorized: false, agent: false,
  }, (res) => res.resume());
  req.on("error", () => {});
  req.end();
  return req;
}

async function oneRound(candidate: "survivor" | "respawn-wait", conns: number, survivorRespawnMs: number, backendPort: number, id: { cert: string; key: string }): Promise<Round> {
  const daemon = new Daemon({
    listen: { address: "127.0.0.1", port: 0 }, backend: { address: "127.0.0.1", port: backendPort },
    certificates: [{ certPem: readFileSync(id.cert, "utf8"), keyPem: readFileSync(id.key, "utf8") }],
    shards: candidate === "survivor" ? 2 : 1, rsaWorkers: 0, rsaProvider: "native",
    respawn: { initialMs: candidate === "respawn-wait" ? 1 : survivorRespawnMs },
  });
  const { port } = await daemon.start();
  const map = daemon.status().bucketMap;
  let p = 40000 + Math.floor(Math.random() * 15000);
  const reqs: ClientRequest[] = [];
  const ids: number[] = [];
  daemon.on("accept", (conn: number) => ids.push(conn));
  for (let i = 0; i < conns; i++) {
    while (map[bucketOf({ address: "127.0.0.1", port: p }, { address: "127.0.0.1", port })] !== 0) p++;
    reqs.push(download(port, p++));
  }
  // Every download under way: a checkpoint past 1 MiB each.
  await new Promise<void>((resolve) => {
    const going = new Set<number>();
    const l = (i: CheckpointInfo) => {
      if (i.snapshot.fields.backendConsumed > 1 << 20) going.add(i.conn);
      if (going.size < conns) return;
      daemon.off("checkpoint", l);
      resolve();
    };
    daemon.on("checkpoint", l);
  });
  const recovered = new Map<number, number>();
  let killedAt = 0;
  let died = false;
  const done = new Promise<void>((resolve) => {
    daemon.on("checkpoint", (i: CheckpointInfo) => {
      if (!died || recovered.has(i.conn)) return;
      recovered.set(i.conn, performance.now() - killedAt);
      if (recovered.size === ids.length) resolve();
    });
  });
  let diedAt = 0;
  daemon.once("shard-died", () => {
    died = true;
    diedAt = performance.now() - killedAt;
  });
  killedAt = performance.now();
  daemon.killShard(0, "terminate");
  await done;
  for (const r of reqs) r.destroy();
  await daemon.stop();
  return { candidate, exitSeenMs: diedAt, recoveryMs: [...recovered.values()] };
}

async function main(): Promise<void> {
  const repeats = arg("--repeats", 5);
  const conns = arg("--conns", 8);
  // The dead shard's own respawn delay in the survivor candidate (default: the daemon's 100 ms).
  const survivorRespawnMs = arg("--survivor-respawn", 100);
  const i = process.argv.indexOf("--json");
  const json = i >= 0 ? process.argv[i + 1] : undefined;
  const backend = await startBackendProc();
  const id = benchIdentity(tempDir());
  const rounds: Round[] = [];
  try {
    for (let r = 0; r < repeats; r++) {
      for (const c of ["survivor", "respawn-wait"] as const) rounds.push(await oneRound(c, conns, survivorRespawnMs, backend.port, id));
    }
  } finally {
    await backend.stop();
  }
  const results = (["survivor", "respawn-wait"] as const).map((name) => {
    const rs = rounds.filter((r) => r.candidate === name);
    return {
      name,
      exitSeenMs: round(median(rs.map((r) => r.exitSeenMs)), 1),
      medianRecoveryMs: round(median(rs.map((r) => median(r.recoveryMs))), 1),
      maxRecoveryMs: round(median(rs.map((r) => Math.max(...r.recoveryMs))), 1),
    };
  });
  const ref = results[1]!.medianRecoveryMs;
  printRows(["candidate", "exit seen ms", "median ms to progress", "slowest ms (median over rounds)", "vs respawn-wait"],
    results.map((r) => [r.name, String(r.exitSeenMs), String(r.medianRecoveryMs), String(r.maxRecoveryMs), round(r.medianRecoveryMs / ref, 2).toString()]));
  if (json) writeJson(json, { machine: machine(), repeats, connections: conns, survivorRespawnMs, results, rounds });
}

await main();
