// npm run bench:failover -- [--runs N] [--mib M] [--dead-after 400ms] [--modes eager,selective] [--directions down,up] [--json FILE] [--trace DIR] [--no-clean]
//
// Recovery time and throughput of the clustered-TCP transport on the real
// wire (issue 7): three `sslacc start --transport ctcp` processes
// (bench/wire/ctcp-cluster.ts), transfers through the VIP.
//
// * Throughput: per mode, first `--runs` downloads and uploads of M MiB with
//   nothing killed (curl's time_total: connect, handshake, transfer), median
//   MB/s; then, for reference in the same run, the same through one node
//   alone (no cluster: its records are "stored" at once).
// * Recovery, measured on the client: per direction `--runs` transfers by
//   bench/wire/vip-client.ts in the client namespace, which stamps every
//   step of progress it sees (a chunk read, or an upload chunk the kernel
//   took because ACKs freed the send buffer) with CLOCK_MONOTONIC; the node
//   holding the connection is kill -9ed at a random moment (10-60 % of a
//   clean transfer's time in) and the kill stamped on the same clock.
//   Recovery = the first progress after the kill that ends ≥ GAP_MS of
//   silence − kill time; median and p99 per recovery mode and direction
//   against the cluster's dead interval (target: ≤ 2×). A capture on a spare
//   hub port (TcpSniffer) is kept for diagnosis: the same figure seen on the
//   hub, and when the peers (client, backend) sent to the VIP after the kill
//   — their retransmission timers, which selective recovery waits for.
//   `--trace DIR` writes, per kill run, that capture from 200 ms before the
//   kill to 1 s after the client's recovery with the client's progress
//   stamps merged in, on one axis (ms after the kill): DIR/MODE-DIR-RUN.txt.
//   `--no-clean` skips the throughput transfers (diagnosis runs).
// Needs root, /dev/net/tun, socat.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { acceptedCounts, ownerSince, startCtcpCluster, transferThroughVip, type CtcpCluster, type Transfer } from "./wire/ctcp-cluster.js";
import { nodeOnWire, wireMissing } from "./wire/netns.js";
import { TcpSniffer } from "./wire/sniffer.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    mib: { type: "string", default: "8" },
    "dead-after": { type: "string", default: "400ms" },
    modes: { type: "string", default: "eager,selective" },
    directions: { type: "string", default: "down,up" },
    json: { type: "string" },
    trace: { type: "string" },
    "no-clean": { type: "boolean", default: false },
  },
});
const why = wireMissing(["socat", "ip", "curl"]);
if (why !== null) {
  console.error(`bench:failover cannot run: ${why}`);
  process.exit(1);
}
const deadMs = Number(/^(\d+)ms$/.exec(values["dead-after"])?.[1] ?? NaN);
if (!Number.isFinite(deadMs)) {
  console.error(`--dead-after: expected e.g. 400ms, got ${values["dead-after"]}`);
  process.exit(2);
}
const runs = Number(values.runs);
const bytes = Number(values.mib) << 20;

type Direction = "down" | "up";
const directions = values.directions.split(",") as Direction[];
for (const d of directions) {
  if (d !== "down" && d !== "up") {
    console.error(`--directions: expected down and/or up, got ${d}`);
    process.exit(2);
  }
}

interface Run {
  readonly mode: string;
  readonly direction: Direction;
  /** The kill, ms after the client started. */
  readonly killAtMs: number;
  /** Seen by the client: first progress after the kill that ends ≥ GAP_MS of silence, − kill (ms); null: none. */
  readonly recoveryMs: number | null;
  /** The client's last progress before that silence, ms relative to the kill (> 0: in flight when the node died). */
  readonly lastBeforeMs: number | null;
  /** The same recovery seen on the hub (TcpSniffer, late under load): diagnosis only. */
  readonly hubRecoveryMs: number | null;
  /** When the survivors' /status first showed all 1024 buckets owned again, ms after the kill (an upper bound: one status poll late at most). */
  readonly takeoverMs: number | null;
  /** The first segment the client or the backend sent to the VIP after that (hub): what wakes a selective takeover. */
  readonly peerAfterTakeoverMs: number | null;
  /** When the client and the backend sent to the VIP after the kill: the start of each burst, ms after the kill (the first 8 each; sniffer clock). */
  readonly clientSends: number[];
  readonly backendSends: number[];
  readonly ok: boolean;
  readonly error: string | null;
  /** MB/s of the whole transfer (connect to last byte) with the kill, NaN if it failed. */
  readonly mbps: number;
}

interface Clean {
  /** "eager" / "selective" (three nodes), or "alone" (one node). */
  readonly setup: string;
  readonly transfers: Transfer[];
}

/** `runs` clean downloads and uploads through the VIP. */
async function cleanTransfers(c: CtcpCluster, setup: string): Promise<Clean> {
  const transfers: Transfer[] = [];
  for (let r = 0; r < runs; r++) {
    for (const dir of ["down", "up"] as const) {
      const t = await transferThroughVip(c, dir, bytes);
      transfers.push(t);
      console.log(`${setup} ${dir} ${values.mib} MiB: ${Number.isNaN(t.mbps) ? `failed (curl exit ${t.curlExit}, ${t.bytes} bytes)` : `${t.mbps.toFixed(2)} MB/s`}`);
    }
  }
  return { setup, transfers };
}

/** Silence that marks the takeover (well below any dead interval measured here). */
const GAP_MS = 100;

/**
 * The first time in `ts` (sorted) after `kill` that ends at least GAP_MS of
 * silence counted from max(previous time, kill), and the time before that
 * silence; null when there is none. Not simply the first time after the
 * kill: what the dead node sent just before it died (still queued in its
 * socat relay and the bridge) reaches the client after the kill; the
 * silence between that and the new owner's first segment is the takeover.
 */
function endOfSilence(ts: readonly number[], kill: number): { at: number; last: number } | null {
  let prev = -Infinity;
  for (const t of ts) {
    if (t > kill && t - Math.max(prev, kill) >= GAP_MS) return { at: t, last: prev };
    prev = t;
  }
  return null;
}

/** Times (ms, sniffer clock) of the sniffer's segments that match `re`. */
function hubTimes(lines: readonly string[], re: RegExp): number[] {
  return lines.filter((l) => re.test(l)).map((l) => parseFloat(l));
}

/** The first time of each burst in `ts` (sorted): a burst starts after ≥ 50 ms without a segment (a retransmission timer firing, or the peer answering the takeover). */
function bursts(ts: readonly number[]): number[] {
  return ts.filter((t, i) => i === 0 || t - ts[i - 1]! >= 50);
}

/**
 * --trace: the hub's segments from 200 ms before the kill to 1 s after the
 * client's recovery, and the client's progress stamps ("client got N bytes"),
 * merged on one axis, ms after the kill (hub lines: sniffer clock; client
 * lines: CLOCK_MONOTONIC — the same clock, the hub's stamps late by the
 * bench's read latency).
 */
function writeTrace(name: string, lines: readonly string[], hubKill: number, takeover: number, progress: readonly (readonly [number, number])[], states: readonly (readonly [number, string])[], recoveryMs: number | null): void {
  const until = (recoveryMs ?? 5_000) + 1_000;
  const rows: [number, string][] = [[0, "KILL"], [takeover - hubKill, "TAKEOVER (all buckets owned in /status)"]];
  for (const l of lines) {
    const t = parseFloat(l) - hubKill;
    if (t >= -200 && t <= until) rows.push([t, l.slice(l.indexOf(" ") + 1)]);
  }
  for (const [t, n] of progress) if (t >= -200 && t <= until) rows.push([t, `client progress: ${n} bytes`]);
  for (const [t, l] of states) rows.push([t, l]);
  rows.sort((a, b) => a[0] - b[0]);
  mkdirSync(values.trace!, { recursive: true });
  writeFileSync(`${values.trace}/${name}.txt`, rows.map(([t, s]) => `${t.toFixed(1).padStart(8)} ${s}`).join("\n") + "\n");
}

/** The client port of the last segment the client sent to the VIP (the transfer's connection). */
function clientPortOf(lines: readonly string[], clientIp: string): number {
  const re = new RegExp(` ${esc(clientIp)}:(\\d+) > `);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = re.exec(lines[i]!);
    if (m) return Number(m[1]);
  }
  return -1;
}

/**
 * --trace: the survivors' view of the connection (/status connectionList:
 * both legs' pointers, the relay's offsets, records in flight) every 50 ms
 * until the client exits (at most 6 s), each change as a line
 * [performance.now(), text].
 */
async function watchConnection(c: CtcpCluster, dead: number, port: number, done: () => boolean): Promise<[number, string][]> {
  const out: [number, string][] = [];
  const last = new Map<number, string>();
  const end = performance.now() + 6_000;
  while (!done() && performance.now() < end) {
    for (let i = 0; i < c.nodes.length; i++) {
      if (i === dead) continue;
      const s = await c.status(i);
      const conn = s?.connectionList?.find((x) => x.clientPort === port);
      if (!conn) continue;
      const text = JSON.stringify(conn);
      if (last.get(i) === text) continue;
      last.set(i, text);
      out.push([performance.now(), `node ${i + 1} state: ${text}`]);
    }
    await sleep(50);
  }
  return out;
}

const esc = (s: string) => s.replace(/\./g, "\\.");

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const all: Run[] = [];

/** Writes --json (after every kill run too: a run cut short keeps what it measured, marked partial). */
function save(extra: object): void {
  if (values.json) writeFileSync(values.json, JSON.stringify({ deadAfterMs: deadMs, bytes, gapMs: GAP_MS, loadAverageAtStart, ...extra, clean, runs: all }, null, 2));
}
const loadAverageAtStart = loadavg().map((x) => Number(x.toFixed(2)));
const clean: Clean[] = [];

interface Env {
  readonly c: CtcpCluster;
  readonly sniffer: TcpSniffer;
  stop(): Promise<void>;
}

/** Three nodes and a capture on the spare hub port. */
async function startEnv(mode: "eager" | "selective" | "selective-probe"): Promise<Env> {
  const c = await startCtcpCluster(3, { recovery: mode, deadAfter: values["dead-after"], spareTaps: 1 });
  const sniffer = new TcpSniffer();
  const s = await nodeOnWire(c.wire.taps[3]!, sniffer).catch(async (e: unknown) => {
    await c.stop();
    throw e;
  });
  return {
    c,
    sniffer,
    async stop() {
      await s.stop();
      await c.stop();
    },
  };
}

/**
 * performance.now() when the survivors' /status first shows every bucket
 * owned again after `dead` was killed (polled every 10 ms; NaN after 10 s).
 */
async function takenOver(c: CtcpCluster, dead: number): Promise<number> {
  const end = performance.now() + 10_000;
  while (performance.now() < end) {
    const ss = await Promise.all(c.nodes.map((_, i) => (i === dead ? null : c.status(i))));
    if (ss.reduce((a, s) => a + (s?.cluster?.owned ?? 0), 0) === 1024) return performance.now();
    await sleep(10);
  }
  return NaN;
}

const CLIENT = fileURLToPath(new URL("./wire/vip-client.js", import.meta.url));

interface ClientReport {
  readonly ok: boolean;
  readonly error: string | null;
  readonly startNs: string;
  readonly events: [number, number][];
  readonly moved: number;
}

/**
 * One transfer by vip-client.ts with its owner killed mid-way, then the
 * owner restarted. The kill is stamped with process.hrtime.bigint() — the
 * CLOCK_MONOTONIC the client stamps its progress with (vip-client.ts) — and
 * with performance.now() for the sniffer (same process, same monotonic
 * clock, another origin). Returns false when the cluster did not settle
 * after the restart (a rejoining member under this load can take minutes):
 * the caller starts a fresh cluster rather than measure on a half-formed one.
 */
async function killRun(env: Env, mode: "eager" | "selective" | "selective-probe", direction: Direction, r: number): Promise<boolean> {
  const { c, sniffer } = env;
  const label = `${mode} ${direction} run ${r + 1}`;
  sniffer.lines.length = 0;
  const before = await acceptedCounts(c);
  const client = spawn("ip", ["netns", "exec", c.wire.clientNs, process.execPath, CLIENT, c.wire.vip, direction, String(bytes), "90000"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  let moved = 0;
  client.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /(?:^|\n)P (\d+)\n(?![^]*\nP )/.exec(out);
    if (m) moved = Number(m[1]);
  });
  const exit = new Promise<number>((res) => client.once("exit", (code) => res(code ?? -1)));
  const report = async (): Promise<ClientReport> => {
    const code = await exit;
    try {
      return JSON.parse(out.slice(out.lastIndexOf("\n", out.length - 2) + 1)) as ClientReport;
    } catch {
      return { ok: false, error: `client exit ${code}, no report`, startNs: "0", events: [], moved: 0 };
    }
  };
  // Kill once the client has 10-60 % of the bytes (its progress lines), so the kill lands mid-transfer.
  const killAtBytes = (0.1 + 0.5 * Math.random()) * bytes;
  let owner = -1;
  while (client.exitCode === null && (owner < 0 || moved < killAtBytes)) {
    await sleep(owner < 0 ? 50 : 5);
    if (owner < 0) owner = await ownerSince(c, before);
  }
  if (client.exitCode === null) {
    const killNs = process.hrtime.bigint();
    const killPerf = performance.now();
    c.kill(owner);
    const watch = values.trace ? watchConnection(c, owner, clientPortOf(sniffer.lines, c.wire.clientIp), () => client.exitCode !== null) : Promise.resolve([]);
    const takeoverPerf = await takenOver(c, owner);
    const rep = await report();
    const start = BigInt(rep.startNs);
    const ms = (ns: bigint) => Number(ns) / 1e6;
    const kill = ms(killNs - start);
    const seen = endOfSilence(rep.events.map(([t]) => t / 1e6), kill);
    // The hub's view: data to the client (down) or the VIP's ACKs to it (up), and what the peers sent to the VIP.
    const hubKill = killPerf - sniffer.origin;
    const { vip, clientIp, backendIp } = c.wire;
    const toClient = hubTimes(sniffer.lines, new RegExp(` ${esc(vip)}:443 > ${esc(clientIp)}:\\d+ ${direction === "down" ? ".* len=[1-9]" : ""}`));
    const hub = endOfSilence(toClient, hubKill);
    const fromClient = hubTimes(sniffer.lines, new RegExp(` ${esc(clientIp)}:\\d+ > ${esc(vip)}:443 `)).filter((t) => t > hubKill);
    const fromBackend = hubTimes(sniffer.lines, new RegExp(` ${esc(backendIp)}:8080 > ${esc(vip)}:`)).filter((t) => t > hubKill);
    const rel = (ts: number[]) => bursts(ts).slice(0, 8).map((t) => Math.round(t - hubKill));
    const clientSends = rel(fromClient);
    const backendSends = rel(fromBackend);
    const takeover = takeoverPerf - sniffer.origin;
    const peerFirst = Math.min(...[...fromClient, ...fromBackend].filter((t) => t > takeover));
    const total = rep.events.length > 0 ? rep.events.at(-1)![0] / 1e9 : NaN;
    const mbps = rep.ok ? bytes / total / 1e6 : NaN;
    const run: Run = {
      mode,
      direction,
      killAtMs: kill,
      recoveryMs: seen && seen.at - kill,
      lastBeforeMs: seen && Number.isFinite(seen.last) ? seen.last - kill : null,
      hubRecoveryMs: hub && hub.at - hubKill,
      takeoverMs: Number.isFinite(takeover) ? takeover - hubKill : null,
      peerAfterTakeoverMs: Number.isFinite(peerFirst) ? peerFirst - hubKill : null,
      clientSends,
      backendSends,
      ok: rep.ok,
      error: rep.error,
      mbps,
    };
    all.push(run);
    save({ partial: true });
    const states = (await watch).map(([t, l]) => [t - killPerf, l] as const);
    if (values.trace) writeTrace(`${mode}-${direction}-${r + 1}`, sniffer.lines, hubKill, takeover, rep.events.map(([t, n]) => [t / 1e6 - kill, n] as const), states, run.recoveryMs);
    const f = (x: number | null) => (x === null ? "-" : x.toFixed(0));
    console.log(
      `${label}: kill at ${kill.toFixed(0)} ms; ${run.recoveryMs !== null ? `recovery ${f(run.recoveryMs)} ms (client's last progress before: ${f(run.lastBeforeMs)} ms; hub ${f(run.hubRecoveryMs)} ms; takeover ≤ ${f(run.takeoverMs)} ms, first peer segment after it ${f(run.peerAfterTakeoverMs)} ms)` : rep.ok ? "no gap after the kill (the client had it all)" : "stalled"}; ` +
        `client→VIP bursts at [${clientSends.join(", ")}] ms, backend→VIP bursts at [${backendSends.join(", ")}] ms; ${rep.ok ? `ok, ${mbps.toFixed(2)} MB/s with the kill` : `failed: ${rep.error}`}`,
    );
    await c.start(owner);
    try {
      await c.settled(120_000);
      return true;
    } catch (e) {
      console.log(`${label}: ${(e as Error).message.slice(0, 200)}`);
      return false;
    }
  }
  const rep = await report();
  console.log(`${label}: the transfer ended before the kill (${rep.ok ? "ok" : rep.error}); not counted`);
  return true;
}

for (const mode of values.modes.split(",") as ("eager" | "selective" | "selective-probe")[]) {
  let env = await startEnv(mode);
  try {
    if (!values["no-clean"]) clean.push(await cleanTransfers(env.c, mode));
    for (const direction of directions) {
      for (let r = 0; r < runs; r++) {
        if (await killRun(env, mode, direction, r)) continue;
        console.log(`${mode}: a fresh cluster for the next run`);
        await env.stop();
        env = await startEnv(mode);
      }
    }
  } finally {
    await env.stop();
  }
}

// The reference in the same run: one node alone, no mirrors.
if (!values["no-clean"]) {
  const c = await startCtcpCluster(1);
  try {
    clean.push(await cleanTransfers(c, "alone"));
  } finally {
    await c.stop();
  }
}

const median = (xs: number[]) => quantile(xs.filter((x) => !Number.isNaN(x)), 0.5);
const aloneDown = median((clean.find((x) => x.setup === "alone")?.transfers ?? []).filter((t) => t.direction === "down").map((t) => t.mbps));
const aloneUp = median((clean.find((x) => x.setup === "alone")?.transfers ?? []).filter((t) => t.direction === "up").map((t) => t.mbps));
console.log(`\nthroughput through the VIP, ${values.mib} MiB, median of ${runs} (MB/s; ratio: to one node alone in this run)`);
console.log(`setup      nodes  down MB/s  ratio  up MB/s  ratio  failed`);
const throughput = [];
for (const x of clean) {
  const down = median(x.transfers.filter((t) => t.direction === "down").map((t) => t.mbps));
  const up = median(x.transfers.filter((t) => t.direction === "up").map((t) => t.mbps));
  const failed = x.transfers.filter((t) => Number.isNaN(t.mbps)).length;
  const nodes = x.setup === "alone" ? 1 : 3;
  throughput.push({ setup: x.setup, nodes, downMBps: down, upMBps: up, downOverAlone: down / aloneDown, upOverAlone: up / aloneUp, failed });
  console.log(`${x.setup.padEnd(10)} ${String(nodes).padStart(5)}  ${down.toFixed(2).padStart(9)}  ${(down / aloneDown).toFixed(2).padStart(5)}  ${up.toFixed(2).padStart(7)}  ${(up / aloneUp).toFixed(2).padStart(5)}  ${String(failed).padStart(6)}`);
}

// Per mode and direction. "stalled": no progress after the kill and the transfer failed; "failed": the
// transfer did not complete (it may have resumed and stopped again). Recovery times count every run
// that resumed; "< dead" counts recoveries shorter than the dead interval, which a takeover cannot be
// (there should be none: the client's clock has no reason to be early).
console.log(`\nrecovery on the client (dead interval ${deadMs} ms)`);
console.log(`mode       dir   runs  stalled  failed  < dead  median ms  p99 ms  median/dead  hub median ms  MB/s with kill`);
const summary = [];
for (const mode of values.modes.split(",")) {
  for (const direction of directions) {
    const rs = all.filter((r) => r.mode === mode && r.direction === direction);
    const times = rs.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
    const hubRec = rs.flatMap((r) => (r.hubRecoveryMs === null ? [] : [r.hubRecoveryMs]));
    const med = quantile(times, 0.5);
    const p99 = quantile(times, 0.99);
    const failed = rs.filter((r) => !r.ok).length;
    const stalled = rs.filter((r) => r.recoveryMs === null && !r.ok).length;
    const early = times.filter((t) => t < deadMs).length;
    const hubMed = quantile(hubRec, 0.5);
    const withKill = median(rs.map((r) => r.mbps));
    summary.push({ mode, direction, runs: rs.length, stalled, failed, belowDead: early, medianMs: med, p99Ms: p99, medianOverDead: med / deadMs, hubMedianMs: hubMed, mbpsWithKill: withKill });
    console.log(
      `${mode.padEnd(10)} ${direction.padEnd(4)} ${String(rs.length).padStart(5)}  ${String(stalled).padStart(7)}  ${String(failed).padStart(6)}  ${String(early).padStart(6)}  ${med.toFixed(0).padStart(9)}  ${p99.toFixed(0).padStart(6)}  ${(med / deadMs).toFixed(2).padStart(11)}  ${hubMed.toFixed(0).padStart(13)}  ${withKill.toFixed(2).padStart(14)}`,
    );
  }
}
const load = loadavg().map((x) => Number(x.toFixed(2)));
console.log(`load average at the end: ${load.join(" ")}`);
save({ loadAverageAtEnd: load, throughput, summary });
