// What aggregation (SSLACC §5.8) buys on the real UDP channel: 3 members on
// loopback in this process, each driving a synthetic handshake load on the
// buckets it owns — per handshake 4 relay checkpoints (the sizes of a TLS 1.2
// RSA handshake's checkpoints), 1 session add, 1 connection close, with
// handshakes interleaved so many replicate calls land in each event-loop turn.
// Reports messages per datagram, datagrams and bytes per second, the cluster's
// CPU (process.cpuUsage: all 3 members and the load driver) per handshake, and
// the checkpoint acknowledgement latency, for aggregation off, on (flush at the
// end of each turn) and on with a 2 ms flush delay.
//
//   npm run build && node dist/bench/cluster-aggregation.js [--rate 300,1000] [--seconds 3] [--repeats 3]
//
// --rate: handshakes/s per member offered (3 members: 3× cluster-wide), one
// table row group per rate. One process runs all 3 members, so the CPU figure
// is the whole cluster's; at high rates the event loop saturates (handshakes/s
// falls short of the offer and ack latency grows) — read the rows at a rate
// every mode sustains for the cost, the others for the headroom.
// BENCH_DEBUG=1 prints each member's core, aggregator and channel counters.
import { parseArgs } from "node:util";
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { startClusterNode, type RunningClusterNode } from "../src/cluster/run-node.js";
import { BUCKETS } from "../src/cluster/messages.js";
import type { SessionData } from "../src/tls/session-cache.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "300,1000" },
    seconds: { type: "string", default: "3" },
    repeats: { type: "string", default: "3" },
  },
});
const RATES = values.rate.split(",").map(Number);
const SECONDS = Number(values.seconds);
const REPEATS = Number(values.repeats);
/** Checkpoint sizes along one handshake (bytes): after ClientHello, ServerHelloDone, ClientKeyExchange + Finished, first data. */
const STEPS = [180, 260, 420, 140];
const KEY = new Uint8Array(32).map((_, i) => (i * 13 + 5) & 0xff);

interface Mode {
  readonly name: string;
  readonly aggregate: boolean;
  readonly flush: "turn" | "delay";
}
const MODES: Mode[] = [
  { name: "off (1 message per datagram)", aggregate: false, flush: "turn" },
  { name: "on, flush at end of turn", aggregate: true, flush: "turn" },
  { name: "on, flush after 2 ms", aggregate: true, flush: "delay" },
];

async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((r) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => r(s));
  })));
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

interface Result {
  handshakes: number;
  messages: number;
  datagrams: number;
  bytes: number;
  cpuMs: number;
  wallMs: number;
  ackMs: number;
  acks: number;
  sendErrors: number;
}

async function runMode(mode: Mode, RATE: number): Promise<Result> {
  const ports = await freePorts(3);
  const peers = ports.map((p, i) => ({ id: i + 1, host: "127.0.0.1", port: p }));
  let acks = 0;
  let ackMs = 0;
  const members: RunningClusterNode[] = await Promise.all(
    [1, 2, 3].map((id) =>
      startClusterNode({
        nodeId: id, clusterId: 1, key: KEY, peers,
        core: { aggregate: mode.aggregate, sessions: { maxEntries: 1_000_000, ttlMs: 600_000 } },
        channel: {
          flush: mode.flush,
          flushDelayMs: 2,
          onEvents: (es) => {
            for (const e of es) if (e.kind === "replicated") (acks++, (ackMs += e.latencyMs));
          },
        },
      }),
    ),
  );
  try {
    // Formed: every bucket owned by someone.
    for (;;) {
      const owned = members.reduce((n, m) => n + m.node.ownedBuckets(m.channel.now()).size, 0);
      if (owned === BUCKETS) break;
      await sleep(20);
    }
    const owned = members.map((m) => [...m.node.ownedBuckets(m.channel.now())]);
    const pool = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
    const before = members.map((m) => ({ ...m.node.aggregator.counters }));
    const beforeErrors = members.reduce((n, m) => n + m.channel.counters.sendErrors, 0);
    acks = 0;
    ackMs = 0;
    let nextConn = 1;
    // Handshakes in flight per member: [connId, bucket, step].
    const inFlight = members.map(() => [] as Array<{ conn: number; bucket: number; step: number }>);
    const done = [0, 0, 0];
    const stepsIssued = [0, 0, 0];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Every ~1 ms each member advances as many handshake steps as the rate asks for; a handshake's steps
    // are spread over turns (its network round trips), so each turn carries steps of many handshakes.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - t0;
        if (elapsed >= SECONDS * 1000) {
          clearInterval(timer);
          resolve();
          return;
        }
        members.forEach((m, i) => {
          const due = Math.floor((RATE * STEPS.length * elapsed) / 1000) - stepsIssued[i]!;
          for (let k = 0; k < due; k++) {
            const q = inFlight[i]!;
            // Keep ~8 handshakes interleaved per member; advance the oldest.
            if (q.length < 8) q.push({ conn: nextConn++, bucket: owned[i]![nextConn % owned[i]!.length]!, step: 0 });
            const h = q.shift()!;
            const size = STEPS[h.step]!;
            m.channel.replicate(h.conn, h.bucket, pool.subarray(h.step * 7, h.step * 7 + size));
            h.step++;
            if (h.step === STEPS.length) {
              const s: SessionData = {
                id: new Uint8Array(32).map((_, j) => (h.conn >> (8 * (j % 4))) & 0xff),
                version: 0x0303, cipherSuite: 0x002f, masterSecret: pool.subarray(100, 148), extendedMasterSecret: true, serverName: null,
                createdAt: m.channel.now(),
              };
              m.channel.sessions.put(s);
              m.channel.closeConnection(h.conn);
              done[i]!++;
            } else {
              q.push(h);
            }
          }
          stepsIssued[i]! += Math.max(0, due);
        });
      }, 1);
    });
    if (process.env.BENCH_DEBUG) for (const m of members) console.error(mode.name, m.node.nodeId, JSON.stringify(m.node.counters), JSON.stringify(m.node.aggregator.counters), JSON.stringify(m.channel.counters));
    // Let the last acks come in before reading the clock and counters.
    await sleep(50);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const sum = (k: "messages" | "datagrams" | "bytes"): number => members.reduce((n, m, i) => n + m.node.aggregator.counters[k] - before[i]![k], 0);
    return {
      handshakes: done.reduce((a, b) => a + b, 0),
      messages: sum("messages"),
      datagrams: sum("datagrams"),
      bytes: sum("bytes"),
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      ackMs: acks > 0 ? ackMs / acks : NaN,
      acks,
      sendErrors: members.reduce((n, m) => n + m.channel.counters.sendErrors, 0) - beforeErrors,
    };
  } finally {
    await Promise.all(members.map((m) => m.close()));
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`3 members on loopback in one process, ${STEPS.length} checkpoints + 1 session + 1 close per handshake, ${SECONDS} s per run, median of ${REPEATS}; node ${process.version}`);
console.log("| offered /s | aggregation | handshakes/s | messages/datagram | messages/handshake | datagrams/s | bytes/handshake | cluster CPU % of a core | CPU µs/handshake | ack latency ms | send errors |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const rate of RATES) {
  for (const mode of MODES) {
    const rs: Result[] = [];
    for (let r = 0; r < REPEATS; r++) rs.push(await runMode(mode, rate));
    const s = (f: (r: Result) => number): number => median(rs.map(f));
    console.log(
      `| ${3 * rate} | ${mode.name} | ${s((r) => (r.handshakes * 1000) / r.wallMs).toFixed(0)} | ${s((r) => r.messages / r.datagrams).toFixed(2)} | ` +
        `${s((r) => r.messages / r.handshakes).toFixed(1)} | ${s((r) => (r.datagrams * 1000) / r.wallMs).toFixed(0)} | ${s((r) => r.bytes / r.handshakes).toFixed(0)} | ` +
        `${s((r) => (100 * r.cpuMs) / r.wallMs).toFixed(0)} | ${s((r) => (r.cpuMs * 1000) / r.handshakes).toFixed(0)} | ${s((r) => r.ackMs).toFixed(2)} | ${s((r) => r.sendErrors)} |`,
    );
  }
}
