// Real `sslacc` node processes for the scaling benches: one node alone, or N
// nodes forming a cluster on loopback (distinct listen, admin and cluster
// ports, one generated cluster key), each optionally in a CPU-capped cgroup;
// their status read from the admin endpoint; their CPU from /proc/PID/stat.
// Every process and cgroup made here is registered so that an error or
// Ctrl-C stops them all (`Cleanup`).
import { spawnSync } from "node:child_process";
import { freeUdpPort } from "../src/transport/shell/tap-relay.js";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuMs, freePort, startSslacc, type ServerProc } from "./servers.js";
import type { CgroupSet } from "./cgroup.js";
import type { Target } from "./loadgen.js";
import { BUCKETS } from "../src/node/buckets.js";

/** The scaling lines that run a cluster (SSLACC §5.8 "norm" and "agg", and ours, "k1"). */
export type ClusterLine = "norm" | "agg" | "k1";

/** Cluster flags per line: aggregation off/on, replication to all or one backup. */
export function lineFlags(line: ClusterLine): string[] {
  switch (line) {
    case "norm": return ["--cluster-aggregation", "off", "--replication", "all"];
    case "agg": return ["--cluster-aggregation", "on", "--replication", "all"];
    case "k1": return ["--cluster-aggregation", "on", "--replication", "k=1"];
    default: {
      const never: never = line;
      throw new Error(`unknown line ${String(never)}`);
    }
  }
}

/** Whether this build's `sslacc start` has the cluster flags the cluster lines need. */
export function clusterFlagsAvailable(): boolean {
  const cli = new URL("../src/cli.js", import.meta.url).pathname;
  const help = spawnSync(process.execPath, [cli, "help"], { encoding: "utf8" }).stdout ?? "";
  return ["--peers", "--cluster-key", "--replication", "--cluster-aggregation"].every((f) => help.includes(f));
}

export interface Node {
  readonly proc: ServerProc;
  readonly id: number;
  readonly admin: string;
}

/** Processes and cgroups to stop and remove whatever happens; also on SIGINT/SIGTERM. */
export class Cleanup {
  private readonly procs = new Set<ServerProc>();
  private done = false;
  constructor(private readonly cgroups: CgroupSet) {
    const onSignal = (sig: NodeJS.Signals) => {
      console.error(`\n${sig}: stopping every node and removing the cgroups`);
      void this.all().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  add(p: ServerProc): ServerProc {
    this.procs.add(p);
    return p;
  }
  async stop(ps: readonly ServerProc[]): Promise<void> {
    await Promise.all(ps.map(async (p) => {
      this.procs.delete(p);
      await p.stop();
    }));
  }
  async all(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.stop([...this.procs]);
    this.cgroups.cleanup();
  }
}

export interface NodeSetup {
  readonly id: { cert: string; key: string };
  readonly backendPort: number;
  readonly dir: string;
  readonly cgroups: CgroupSet;
  readonly cleanup: Cleanup;
  /** Extra `sslacc start` arguments for every node. */
  readonly extraArgs?: readonly string[];
  /** Extra arguments for cluster members only. */
  readonly clusterArgs?: readonly string[];
}

/**
 * Starts one node on a free listen and admin port, again on new ports (up to
 * 3 times) if another process took one between the check and the bind.
 */
async function startNode(s: NodeSetup, name: string, shards: number, extraArgs: readonly string[]): Promise<{ proc: ServerProc; admin: string }> {
  for (let attempt = 1; ; attempt++) {
    const admin = `127.0.0.1:${await freePort()}`;
    try {
      const proc = await startSslacc(s.id, s.backendPort, {
        provider: "native", shards, rsaWorkers: 0, admin, name, launcher: s.cgroups.launcher(name), extraArgs: [...extraArgs, ...(s.extraArgs ?? [])],
      });
      return { proc: s.cleanup.add(proc), admin };
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test((e as Error).message)) throw e;
    }
  }
}

/** A node alone (no cluster flags): one shard, RSA in the shard, as the cluster nodes. */
export async function startAlone(s: NodeSetup, name: string, shards = 1): Promise<Node> {
  const { proc, admin } = await startNode(s, name, shards, []);
  return { proc, id: 1, admin };
}

let clusterIds = 1 + (process.pid % 10_000) * 8;

/**
 * N nodes forming one cluster for `line`; resolves once they are started (see
 * `waitFormed`). If one fails to start, the others are stopped before the error is thrown.
 */
export async function startCluster(s: NodeSetup, line: ClusterLine, n: number): Promise<Node[]> {
  const clusterId = clusterIds++;
  const key = join(s.dir, `cluster-${clusterId}.key`);
  writeFileSync(key, randomBytes(32).toString("hex") + "\n");
  const udp = await Promise.all(Array.from({ length: n }, () => freeUdpPort("127.0.0.1")));
  const peers = udp.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(",");
  const started = await Promise.allSettled(udp.map(async (port, i) => {
    const { proc, admin } = await startNode(s, `${line}-${n}-${i + 1}`, 1, [
      "--node-id", String(i + 1), "--cluster-id", String(clusterId), "--cluster-port", String(port), "--peers", peers,
      "--cluster-key", key, ...lineFlags(line), ...(s.clusterArgs ?? []),
    ]);
    return { proc, id: i + 1, admin };
  }));
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) {
    await s.cleanup.stop(nodes.map((x) => x.proc));
    throw failed.reason;
  }
  return nodes;
}

/** The daemon's `/status` JSON. */
export async function status(n: Node): Promise<Record<string, unknown>> {
  const r = await fetch(`http://${n.admin}/status`);
  if (!r.ok) throw new Error(`${n.proc.name}: /status answered ${r.status}`);
  return (await r.json()) as Record<string, unknown>;
}

/** The cluster part of a status, if the daemon has one. */
function clusterOf(st: Record<string, unknown>): Record<string, unknown> | null {
  const c = st["cluster"];
  return typeof c === "object" && c !== null ? (c as Record<string, unknown>) : null;
}

/** Which buckets a member owns, from `cluster.ownedBuckets` in its status; null when the status has no such list. */
function ownedMask(cluster: Record<string, unknown>): Uint8Array | null {
  const list = cluster["ownedBuckets"];
  if (!Array.isArray(list)) return null;
  const mask = new Uint8Array(BUCKETS);
  for (const b of list) if (Number.isInteger(b) && b >= 0 && b < BUCKETS) mask[b] = 1;
  return mask;
}

/**
 * Waits until every member sees all `nodes` alive, every bucket is in the
 * map with no handoff in progress and — when the status lists each member's
 * leased buckets (`ownedBuckets`) — every bucket is leased by exactly one
 * member; then returns the load generator's targets, with each node's owned
 * buckets when listed.
 */
export async function waitFormed(nodes: readonly Node[], timeoutMs = 15_000): Promise<Target[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clusters = (await Promise.all(nodes.map(status))).map(clusterOf);
    const masks = clusters.map((c) => (c === null ? null : ownedMask(c)));
    if (clusters.every((c) => isFormed(c, nodes.length)) && (masks.every((m) => m === null) || leasedOnce(masks))) {
      return nodes.map((n, i) => ({ host: "127.0.0.1", port: n.proc.port, ...(masks[i] !== null && { owned: masks[i]! }) }));
    }
    if (Date.now() > deadline) throw new Error(`cluster of ${nodes.length} did not form in ${timeoutMs} ms: ${JSON.stringify(clusters.map((c) => c?.["members"] ?? null))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isFormed(c: Record<string, unknown> | null, n: number): boolean {
  const members = c?.["members"];
  if (!Array.isArray(members)) return false;
  const alive = members.filter((m: { alive?: boolean }) => m.alive === true).length;
  const mapped = members.reduce((a: number, m: { buckets?: number }) => a + (m.buckets ?? 0), 0);
  return alive === n && mapped === BUCKETS && c?.["handoffs"] === 0;
}

/** Every bucket leased by exactly one member. */
function leasedOnce(masks: readonly (Uint8Array | null)[]): boolean {
  for (let b = 0; b < BUCKETS; b++) {
    if (masks.reduce((a, m) => a + (m?.[b] ?? 0), 0) !== 1) return false;
  }
  return true;
}

/** Counters of one node at one instant: CPU and the daemon's counters the benches use. */
export interface NodeSnapshot {
  readonly cpuMs: number;
  readonly handshakes: number;
  readonly resumed: number;
  readonly checkpoints: number;
  readonly rsa: number;
  /** Cluster messages and datagrams this node sent (aggregator counters), 0 alone. */
  readonly messages: number;
  readonly datagrams: number;
  /** Connections accepted in a bucket this node owned (replicated) and in one it did not (served unreplicated). */
  readonly replicated: number;
  readonly unreplicated: number;
  /** The cluster's bucket-map version (a delta counts map changes: members declared dead, buckets moved). */
  readonly mapVersion: number;
}

export async function snapshot(n: Node): Promise<NodeSnapshot> {
  const st = await status(n);
  const cpu = cpuMs(n.proc.pid);
  const c = (st["counters"] ?? {}) as Record<string, number>;
  const agg = (clusterOf(st)?.["aggregation"] ?? {}) as Record<string, number>;
  const link = (clusterOf(st)?.["link"] ?? {}) as Record<string, number>;
  return {
    cpuMs: cpu,
    handshakes: c["handshakes"] ?? 0,
    resumed: c["resumed"] ?? 0,
    checkpoints: c["checkpoints"] ?? 0,
    rsa: c["rsaRequests"] ?? 0,
    messages: agg["messages"] ?? 0,
    datagrams: agg["datagrams"] ?? 0,
    replicated: link["replicatedConnections"] ?? 0,
    unreplicated: link["unreplicatedConnections"] ?? 0,
    mapVersion: Number(clusterOf(st)?.["mapVersion"] ?? 0),
  };
}

export function delta(a: NodeSnapshot, b: NodeSnapshot): NodeSnapshot {
  return {
    cpuMs: b.cpuMs - a.cpuMs, handshakes: b.handshakes - a.handshakes, resumed: b.resumed - a.resumed,
    checkpoints: b.checkpoints - a.checkpoints, rsa: b.rsa - a.rsa, messages: b.messages - a.messages, datagrams: b.datagrams - a.datagrams,
    replicated: b.replicated - a.replicated, unreplicated: b.unreplicated - a.unreplicated, mapVersion: b.mapVersion - a.mapVersion,
  };
}
