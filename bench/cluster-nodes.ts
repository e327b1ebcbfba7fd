// Aggregation (SSLACC §5.8) measured on real nodes: 3 `sslacc start`
// processes on loopback under a handshake load of Node `tls` clients (full
// handshakes, a GET through each node's demo backend), with the cluster's
// aggregation on, off (one message per datagram: the paper's "norm" line),
// and the same 3 processes alone (no --peers) as the baseline that shows what
// the cluster itself costs. Per run: handshakes/s, replicated checkpoints/s,
// datagrams/s, messages per datagram, ack latency, and the nodes' CPU (utime +
// stime of the 3 processes, every thread, from /proc) per handshake. Modes are
// interleaved within each repeat; medians over the repeats.
//
//   npm run build && node dist/bench/cluster-nodes.js [--seconds 4] [--repeats 3] [--clients 3] [--json FILE]
//
// Kernel-socket transport: a node replicates only the connections of the
// buckets it owns (docs/cluster-protocol.md §10.1 item 3), about a third of
// its connections with 3 members; the load client runs on the same 2 cores.
import { parseArgs } from "node:util";
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { converged, handshakeLoad, startCluster, waitFor, type ClusterFixture, type ClusterView } from "../test/node/cluster-helpers.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "4" },
    repeats: { type: "string", default: "3" },
    clients: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
const REPEATS = Number(values.repeats);
const CLIENTS = Number(values.clients);
const TICK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

interface Mode {
  readonly name: string;
  readonly args: string[] | null;
}
const MODES: Mode[] = [
  { name: "alone (no cluster)", args: null },
  { name: "cluster, aggregation off", args: ["--cluster-aggregation", "off"] },
  { name: "cluster, aggregation on", args: ["--cluster-aggregation", "on"] },
];

/** utime + stime of a process (all its threads), ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
}

interface Sample {
  handshakesPerS: number;
  failed: number;
  /** Closed by the daemon on not_owner (a lease lapsed: the event loop stalled past the slack, docs §5.3). */
  notOwner: number;
  checkpointsPerS: number;
  datagramsPerS: number;
  messagesPerDatagram: number;
  ackMs: number;
  cpuPercent: number;
  cpuMsPerHandshake: number;
}

function totals(vs: (ClusterView | null)[]) {
  const sum = (f: (c: ClusterView) => number) => vs.reduce((s, c) => s + (c ? f(c) : 0), 0);
  return {
    checkpoints: sum((c) => c.link.checkpointsReplicated),
    datagrams: sum((c) => c.channel.datagramsOut),
    messages: sum((c) => c.aggregation["messages"] ?? 0),
    acked: sum((c) => c.replication["replicated"] ?? 0),
    ackMs: sum((c) => c.replication["ackLatencyTotalMs"] ?? 0),
    notOwner: sum((c) => c.link.notOwner),
  };
}

async function run(mode: Mode): Promise<Sample> {
  const f: ClusterFixture = await startCluster(3, mode.args ?? [], mode.args === null);
  try {
    if (mode.args) await waitFor(async () => converged(await Promise.all(f.nodes.map(async (n) => (await n.status()).cluster!))), 8000);
    const load = handshakeLoad(f.nodes, CLIENTS, () => false);
    await new Promise((r) => setTimeout(r, 1000)); // warm-up
    const views = async () => Promise.all(f.nodes.map(async (n) => (await n.status()).cluster));
    const cpu0 = f.nodes.reduce((s, n) => s + cpuMs(n.pid), 0);
    const c0 = totals(await views());
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const t1 = performance.now();
    const cpu1 = f.nodes.reduce((s, n) => s + cpuMs(n.pid), 0);
    const c1 = totals(await views());
    const results = await load.stop();
    const inWindow = results.filter((r) => r.endedAt >= t0 && r.endedAt < t1);
    const ok = inWindow.filter((r) => r.ok).length;
    const s = (t1 - t0) / 1000;
    return {
      handshakesPerS: ok / s,
      failed: inWindow.length - ok,
      notOwner: c1.notOwner - c0.notOwner,
      checkpointsPerS: (c1.checkpoints - c0.checkpoints) / s,
      datagramsPerS: (c1.datagrams - c0.datagrams) / s,
      messagesPerDatagram: c1.datagrams > c0.datagrams ? (c1.messages - c0.messages) / (c1.datagrams - c0.datagrams) : 0,
      ackMs: c1.acked > c0.acked ? (c1.ackMs - c0.ackMs) / (c1.acked - c0.acked) : 0,
      cpuPercent: ((cpu1 - cpu0) / (t1 - t0)) * 100,
      cpuMsPerHandshake: ok > 0 ? (cpu1 - cpu0) / ok : 0,
    };
  } finally {
    await f.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const samples = new Map<string, Sample[]>(MODES.map((m) => [m.name, []]));
for (let r = 0; r < REPEATS; r++) {
  for (const mode of MODES) {
    const s = await run(mode);
    samples.get(mode.name)!.push(s);
    console.error(`repeat ${r + 1}/${REPEATS} ${mode.name}: ${s.handshakesPerS.toFixed(0)} hs/s, ${s.messagesPerDatagram.toFixed(2)} msg/dgram, ${s.cpuMsPerHandshake.toFixed(2)} CPU-ms/hs`);
  }
}
const rows = MODES.map((m) => {
  const ss = samples.get(m.name)!;
  const med = (k: keyof Sample) => median(ss.map((s) => s[k]));
  return {
    mode: m.name, handshakesPerS: med("handshakesPerS"), failed: ss.reduce((n, s) => n + s.failed, 0), notOwner: ss.reduce((n, s) => n + s.notOwner, 0), checkpointsPerS: med("checkpointsPerS"),
    datagramsPerS: med("datagramsPerS"), messagesPerDatagram: med("messagesPerDatagram"), ackMs: med("ackMs"),
    cpuPercent: med("cpuPercent"), cpuMsPerHandshake: med("cpuMsPerHandshake"), runs: ss,
  };
});
const alone = rows[0]!.cpuMsPerHandshake;
console.log(`3 sslacc nodes on loopback, ${CLIENTS} Node tls clients per node, ${SECONDS} s per run after 1 s warm-up, median of ${REPEATS}`);
console.log("| mode | handshakes/s | failed (not_owner) | replicated checkpoints/s | datagrams/s | messages/datagram | ack latency ms | nodes' CPU % of a core | CPU-ms/handshake | cluster CPU-ms/handshake (vs alone) |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const f = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  console.log(`| ${r.mode} | ${f(r.handshakesPerS)} | ${r.failed} (${r.notOwner}) | ${f(r.checkpointsPerS)} | ${f(r.datagramsPerS)} | ${r.mode.startsWith("alone") ? "-" : f(r.messagesPerDatagram, 2)} | ${r.mode.startsWith("alone") ? "-" : f(r.ackMs, 2)} | ${f(r.cpuPercent)} | ${f(r.cpuMsPerHandshake, 2)} | ${r.mode.startsWith("alone") ? "-" : f(r.cpuMsPerHandshake - alone, 2)} |`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ seconds: SECONDS, repeats: REPEATS, clientsPerNode: CLIENTS, rows }, null, 2) + "\n");
