// Handshake-phase kills on the real wire (issue 7, "Same during the
// handshake"): three `sslacc start --transport ctcp` nodes, curl moving a
// small body through the VIP (downloads and uploads alternately), and a
// kill -9 of the connection's node at a chosen moment of its TLS handshake —
// a named handshake event seen in the node's /status (engine state, relay
// checkpoints stored / made, handshake snapshots waiting for the client's
// ACK) or a fixed delay after curl started. Node logs are kept (--log-dir), a
// capture on a spare hub port (TcpSniffer) and every node's /status are
// written for each failing transfer. Prints one line per transfer and a
// table per moment.
//
//   node dist/bench/wire/hs-kill.js [--rounds 5] [--moments accepted,flight-held,flight-out,rsa,finished-held,finished-out,ms:40]
//       [--kib 1024] [--recovery eager|selective|selective-probe] [--seed 1] [--max-seconds 30] [--fixed-ports] [--out DIR] [--json FILE]
//
// --fixed-ports: every curl binds a port of 20000-20009 (otherwise a range
// drawn per transfer, as the proof does). curl takes the first port whose
// socket is not in TIME_WAIT, so ports come round again after Linux's 60 s
// while the cluster still holds their previous connection (2·MSL, often a
// copy restored by a takeover): the port-reuse case of docs/ctcp.md.
//
// Needs root, /dev/net/tun, socat, curl (as the namespace tests).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { failoverRound, startCtcpCluster, type ConnStatus, type CtcpCluster, type RoundResult } from "./ctcp-cluster.js";
import { nodeOnWire, wireMissing } from "./netns.js";
import { TcpSniffer } from "./sniffer.js";
import { xorshift32 } from "../../src/transport/wire/hub.js";

/** A kill moment: a handshake event (the connection's /status entry passes `test`) or a delay after curl started. */
interface Moment {
  readonly name: string;
  readonly test?: (c: ConnStatus) => boolean;
  readonly afterMs?: number;
}

const EVENTS: Record<string, (c: ConnStatus) => boolean> = {
  /** The node holds the connection (its ClientHello may not be read yet). */
  accepted: () => true,
  /** ClientHello read, checkpoint 1 not yet acknowledged: our first flight is held. */
  "flight-held": (c) => c.engine === "ExpectClientKeyExchange" && c.relay.storedSeq === 0,
  /** Checkpoint 1 stored: the flight went out, the client's key exchange has not come. */
  "flight-out": (c) => c.engine === "ExpectClientKeyExchange" && c.relay.storedSeq >= 1,
  /** ClientKeyExchange read, the RSA decryption runs in the worker pool. */
  rsa: (c) => c.engine === "AwaitPremaster",
  /** Our ChangeCipherSpec + Finished made, the checkpoint before them not yet acknowledged. */
  "finished-held": (c) => c.engine === "Traffic" && c.relay.waitingHandshake > 0 && c.relay.storedSeq < c.relay.seq,
  /** Our Finished sent, the client's ACK of it not yet seen (the end-of-handshake snapshot waits). */
  "finished-out": (c) => c.engine === "Traffic" && c.relay.waitingHandshake > 0 && c.relay.storedSeq === c.relay.seq,
};

function moment(spec: string): Moment {
  if (spec.startsWith("ms:")) {
    const ms = Number(spec.slice(3));
    if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`--moments: ${spec}: ms:N with N a non-negative integer`);
    return { name: spec, afterMs: ms };
  }
  const test = EVENTS[spec];
  if (!test) throw new RangeError(`--moments: unknown moment ${JSON.stringify(spec)} (${Object.keys(EVENTS).join(", ")}, ms:N)`);
  return { name: spec, test };
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    moments: { type: "string", default: Object.keys(EVENTS).join(",") },
    kib: { type: "string", default: "1024" },
    recovery: { type: "string", default: "eager" },
    seed: { type: "string", default: "1" },
    out: { type: "string" },
    json: { type: "string" },
    "log-level": { type: "string", default: "info" },
    "max-seconds": { type: "string", default: "30" },
    "fixed-ports": { type: "boolean", default: false },
  },
});
const why = wireMissing(["socat", "ip", "curl"]);
if (why !== null) {
  console.error(`hs-kill cannot run: ${why}`);
  process.exit(1);
}
const recovery = values.recovery as "eager" | "selective" | "selective-probe";
if (!["eager", "selective", "selective-probe"].includes(recovery)) {
  console.error(`--recovery: eager, selective or selective-probe, got ${JSON.stringify(values.recovery)}`);
  process.exit(2);
}
const moments = values.moments.split(",").map(moment);
const rounds = Number(values.rounds);
const bytes = Number(values.kib) * 1024;
const rng = xorshift32(Number(values.seed) >>> 0 || 1);
const out = values.out ?? mkdtempSync(join(tmpdir(), "sslacc-hs-kill-"));
mkdirSync(out, { recursive: true });
console.log(`logs, captures and status dumps: ${out}`);

interface Trial extends RoundResult {
  readonly moment: string;
  readonly round: number;
}

const cluster = await startCtcpCluster(3, { recovery, spareTaps: 1, logDir: out, logLevel: values["log-level"] });
const sniffer = new TcpSniffer();
const tap = await nodeOnWire(cluster.wire.taps[3]!, sniffer);
const trials: Trial[] = [];
const started = Date.now();
let aborted: string | null = null;

async function dumpFailure(c: CtcpCluster, name: string, t: RoundResult, from: number): Promise<void> {
  const ss = await Promise.all(c.nodes.map((_, i) => c.status(i)));
  writeFileSync(join(out, `${name}.status.json`), JSON.stringify({ result: t, status: ss }, null, 1));
  writeFileSync(join(out, `${name}.capture.txt`), sniffer.lines.slice(from).join("\n") + "\n");
}

/** SYNs that reopened a port's 4-tuple (CtcpNode stats.reopened), summed over the nodes' lives. */
let reopened = 0;
const reopenedSeen = cluster.nodes.map(() => 0);
async function countReopened(c: CtcpCluster): Promise<void> {
  const ss = await Promise.all(c.nodes.map((_, i) => c.status(i)));
  ss.forEach((s, i) => {
    const v = s?.node?.stats.reopened;
    if (v === undefined) return;
    reopened += v >= reopenedSeen[i]! ? v - reopenedSeen[i]! : v;
    reopenedSeen[i] = v;
  });
}

try {
  let n = 0;
  for (let r = 1; r <= rounds; r++) {
    for (const m of moments) {
      const direction = n++ % 2 === 0 ? "down" : "up";
      const from = sniffer.lines.length;
      const res = await failoverRound(cluster, r, direction, bytes, rng, {
        restart: false,
        maxSeconds: Number(values["max-seconds"]),
        ...(values["fixed-ports"] && { portLo: 20_000 }),
        ...(m.test ? { phase: "handshake" as const, killWhen: m.test } : { phase: "transfer" as const, killWindowMs: [m.afterMs!, m.afterMs! + 1] as const }),
      });
      const missed = res.killed === null;
      const trial: Trial = { ...res, moment: m.name, round: r };
      trials.push(trial);
      const name = `r${r}-${m.name.replace(":", "")}-${direction}`;
      if (!res.ok && !missed) await dumpFailure(cluster, name, res, from);
      console.log(
        `${name}: ${missed ? "missed (no kill)" : res.ok ? "ok" : "FAIL"} ${res.seconds.toFixed(1)} s` +
          (missed ? "" : `, node ${res.killed} at ${res.killAtMs} ms in ${res.killState}`) +
          (res.ok || missed ? "" : ` — ${res.detail}`),
      );
      sniffer.lines.length = 0;
      await countReopened(cluster);
      if (res.killed !== null) {
        await cluster.start(res.killed - 1);
        reopenedSeen[res.killed - 1] = 0;
      }
      await cluster.settled();
    }
  }
} catch (e) {
  aborted = (e as Error).message;
  console.log(`aborted after ${trials.length} transfers: ${aborted}`);
} finally {
  await tap.stop();
  await cluster.stop();
}

console.log(`\n${"moment".padEnd(14)} ${"killed".padStart(6)} ${"ok".padStart(4)} ${"failed".padStart(6)} ${"missed".padStart(6)}  failing kill states`);
for (const m of moments) {
  const ts = trials.filter((t) => t.moment === m.name);
  const killed = ts.filter((t) => t.killed !== null);
  const bad = killed.filter((t) => !t.ok);
  console.log(`${m.name.padEnd(14)} ${String(killed.length).padStart(6)} ${String(killed.length - bad.length).padStart(4)} ${String(bad.length).padStart(6)} ${String(ts.length - killed.length).padStart(6)}  ${bad.map((t) => `[${t.killState}]`).join(" ")}`);
}
const minutes = (Date.now() - started) / 60_000;
const failed = trials.filter((t) => t.killed !== null && !t.ok).length;
console.log(`${trials.length - failed} of ${trials.length} transfers ok (${failed} failed after a kill), ${reopened} SYNs reopened a port's 4-tuple, ${minutes.toFixed(1)} min${aborted ? `; aborted: ${aborted}` : ""}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ recovery, bytes, rounds, moments: moments.map((m) => m.name), minutes, aborted, reopened, trials }, null, 1));
process.exit(failed === 0 && aborted === null ? 0 : 1);
