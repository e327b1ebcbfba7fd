// A clustered-TCP cluster of real `sslacc start --transport ctcp` processes on
// a wire built by scripts/ctcp-wire.sh (one TAP each), a real backend in the
// backend namespace, and the kill -9 failover rounds of issue 7 ("Real kernel
// peers in network namespaces"): used by bench/failover.ts (recovery time and
// throughput through the VIP, `transferThroughVip`) and the proof
// (test/transport/netns-failover-proof.ts, the 20 rounds, opt-in).
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { freeUdpPort } from "../../src/transport/shell/tap-relay.js";
import { selfSignedCertificate } from "../../src/cert.js";
import { bodySha } from "../body.js";
import { startNsBackend, wireUp, type NsBackend, type Wire } from "./netns.js";

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const CLI = fileURLToPath(new URL("../../src/cli.js", import.meta.url));

export interface NodeProc {
  readonly id: number;
  readonly args: string[];
  readonly admin: number;
  child: ChildProcess | null;
  log: string;
}

export interface CtcpCluster {
  readonly wire: Wire;
  readonly backend: NsBackend;
  readonly nodes: NodeProc[];
  status(i: number): Promise<CtcpStatus | null>;
  /** SIGKILL (a crash) or SIGTERM (a drain: LEAVE, the peers take over). */
  kill(i: number, signal?: "SIGKILL" | "SIGTERM"): void;
  start(i: number): Promise<void>;
  /** Until every live node sees every other live one and each bucket has an owner (a rejoining node gets its share gradually: minutes under load). */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The parts of CtcpDaemon.status() the proofs read. */
export interface CtcpStatus {
  readonly master: boolean;
  readonly connections: { readonly live: number; readonly dormant: number } | null;
  readonly node: { readonly stats: { readonly accepted: number; readonly reopened: number } } | null;
  /** The newest connections (CtcpNode.connectionsDebug): the harness finds curl's by its port. */
  readonly connectionList: readonly ConnStatus[] | null;
  readonly counters: Record<string, number>;
  readonly cluster: { readonly owned: number; readonly members: readonly { readonly id: number; readonly alive: boolean }[] } | null;
}

/** One entry of /status connectionList (ConnDebug) as the harness reads it. */
export interface ConnStatus {
  readonly connId: number;
  readonly clientPort: number;
  readonly traffic: boolean;
  /** The TLS engine's state (ExpectClientHello, ExpectClientKeyExchange, AwaitPremaster, ..., Traffic). */
  readonly engine: string;
  /** Records being replicated. */
  readonly inflight: number;
  /** The relay has closed: an earlier transfer's connection (the cluster keeps one 2·MSL). */
  readonly relayClosed: boolean;
  readonly relay: { readonly seq: number; readonly storedSeq: number; readonly waitingHandshake: number };
}

/** A connection's handshake position in one word (what a kill hit). */
export function handshakeState(c: ConnStatus): string {
  return `${c.engine} seq ${c.relay.storedSeq}/${c.relay.seq} waiting ${c.relay.waitingHandshake} inflight ${c.inflight}`;
}

/** `n` nodes; with n = 1 the node runs alone (no --peers), the baseline for throughput. */
export async function startCtcpCluster(
  n: number,
  opts: {
    recovery?: "eager" | "selective" | "selective-probe";
    keepalive?: string;
    deadAfter?: string;
    spareTaps?: number;
    /** Append every node's output to DIR/node-ID.log (each start begins with a dated header): kept after stop(). */
    logDir?: string;
    /** --log-level of the nodes (default: SSLACC_LOG_LEVEL, else warn). */
    logLevel?: string;
  } = {},
): Promise<CtcpCluster> {
  const wire = wireUp(n + (opts.spareTaps ?? 0));
  const dir = mkdtempSync(join(tmpdir(), "sslacc-ctcp-"));
  let backend: NsBackend | null = null;
  const nodes: NodeProc[] = [];
  const cleanup = async () => {
    for (const p of nodes) p.child?.kill("SIGKILL");
    await Promise.all(nodes.map((p) => (p.child && p.child.exitCode === null ? new Promise((r) => p.child!.once("exit", r)) : undefined)));
    await backend?.stop();
    wire.down();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    backend = await startNsBackend(wire, 8080);
    const id = selfSignedCertificate({ commonName: "localhost", bits: 2048 });
    writeFileSync(join(dir, "cert.pem"), id.certPem);
    writeFileSync(join(dir, "key.pem"), id.keyPem);
    writeFileSync(join(dir, "cluster.key"), randomBytes(32).toString("hex"));
    const ports = await Promise.all(Array.from({ length: n }, () => freeUdpPort("127.0.0.1")));
    const peers = ports.map((p) => `127.0.0.1:${p}`).join(",");
    for (let i = 0; i < n; i++) {
      const admin = await freeTcpPort();
      const args = [
        CLI, "start", "--transport", "ctcp", "--vip", wire.vip, "--wire", wire.taps[i]!,
        "--wire-node-port", String(await freeUdpPort("127.0.0.1")), "--wire-relay-port", String(await freeUdpPort("127.0.0.1")),
        "--recovery", opts.recovery ?? "eager", "--backend", `${wire.backendIp}:8080`,
        // One node runs alone (no cluster: it owns every bucket and its records are stored at once).
        ...(n === 1 ? [] : [
          "--peers", peers, "--node-id", String(i + 1), "--cluster-key", join(dir, "cluster.key"),
          "--cluster-keepalive", opts.keepalive ?? "100ms", "--cluster-dead-after", opts.deadAfter ?? "400ms",
        ]),
        "--cert", join(dir, "cert.pem"), "--key", join(dir, "key.pem"), "--admin", `127.0.0.1:${admin}`, "--rsa-workers", "1",
        "--log-level", opts.logLevel ?? process.env["SSLACC_LOG_LEVEL"] ?? "warn",
      ];
      nodes.push({ id: i + 1, args, admin, child: null, log: "" });
    }
  } catch (e) {
    await cleanup();
    throw e;
  }

  const status = async (i: number): Promise<CtcpStatus | null> => {
    try {
      const r = await fetch(`http://127.0.0.1:${nodes[i]!.admin}/status`, { signal: AbortSignal.timeout(1000) });
      return (await r.json()) as CtcpStatus;
    } catch {
      return null;
    }
  };
  const start = async (i: number): Promise<void> => {
    const p = nodes[i]!;
    const child = spawn(process.execPath, p.args, { stdio: ["ignore", "pipe", "pipe"] });
    p.child = child;
    p.log = "";
    const logFile = opts.logDir === undefined ? null : join(opts.logDir, `node-${p.id}.log`);
    if (logFile !== null) {
      mkdirSync(opts.logDir!, { recursive: true });
      appendFileSync(logFile, `--- node ${p.id} started ${new Date().toISOString()} (pid ${child.pid}) ---\n`);
    }
    const keep = (d: Buffer) => {
      p.log = (p.log + d.toString()).slice(-262_144);
      if (logFile !== null) appendFileSync(logFile, d);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const end = Date.now() + 15_000;
    while ((await status(i)) === null) {
      if (child.exitCode !== null) throw new Error(`node ${p.id} exited ${child.exitCode}: ${p.log}`);
      if (Date.now() > end) throw new Error(`node ${p.id} did not start: ${p.log}`);
      await sleep(50);
    }
  };
  const cluster: CtcpCluster = {
    wire,
    backend: backend!,
    nodes,
    status,
    kill(i, signal = "SIGKILL") {
      nodes[i]!.child?.kill(signal);
    },
    start,
    async settled(timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const live = nodes.map((p, i) => (p.child && p.child.exitCode === null && p.child.signalCode === null ? i : -1)).filter((i) => i >= 0);
        const ss = await Promise.all(live.map((i) => status(i)));
        // Balanced, not only covered: between two rebalance steps every bucket has an owner while the
        // restarted member still waits for its share (a round would then run while buckets move).
        const alone = n === 1 && ss.length === 1 && ss[0]?.cluster === null && ss[0].master;
        const ok =
          alone ||
          (ss.every((s) => s?.cluster && s.cluster.members.filter((m) => m.alive).length >= live.length) &&
            ss.reduce((a, s) => a + (s?.cluster?.owned ?? 0), 0) === 1024 &&
            ss.every((s) => (s?.cluster?.owned ?? 0) >= Math.floor(1024 / live.length)) &&
            ss.filter((s) => s?.master).length === 1);
        if (ok) return;
        if (Date.now() > end) throw new Error(`cluster did not settle: ${JSON.stringify(ss.map((s) => s && { master: s.master, owned: s.cluster?.owned, members: s.cluster?.members, cluster: s.cluster }))}`);
        await sleep(100);
      }
    },
    stop: cleanup,
  };
  try {
    await Promise.all(nodes.map((_, i) => start(i)));
    await cluster.settled();
  } catch (e) {
    await cleanup();
    throw e;
  }
  return cluster;
}

/** Connections each node has accepted so far (its core's `stats.accepted`; -1: no answer). */
export async function acceptedCounts(c: CtcpCluster): Promise<number[]> {
  const ss = await Promise.all(c.nodes.map((_, i) => c.status(i)));
  return ss.map((s) => s?.node?.stats.accepted ?? -1);
}

/**
 * The node that accepted a connection since `before` (acceptedCounts taken
 * before the client started), or -1. Not "a node with a live connection":
 * connections of earlier transfers stay live in TIME_WAIT (2·MSL) on
 * whichever node holds them, and killing that one tests nothing.
 */
export async function ownerSince(c: CtcpCluster, before: readonly number[]): Promise<number> {
  const now = await acceptedCounts(c);
  return now.findIndex((n, i) => before[i]! >= 0 && n > before[i]!);
}

export interface RoundResult {
  readonly client: "curl" | "openssl";
  readonly direction: "down" | "up";
  readonly phase: KillPhase;
  readonly ok: boolean;
  readonly curlCode: number;
  readonly killed: number | null;
  readonly killAtMs: number | null;
  /** SIGTERM rounds: the drained node's exit code (0 expected). */
  readonly exitCode: number | null;
  /** The TLS handshake was not complete on the killed node when it was killed (as its /status said just before). */
  readonly killedInHandshake: boolean | null;
  /** The connection on the killed node just before the kill (handshakeState). */
  readonly killState: string | null;
  readonly seconds: number;
  readonly detail: string;
}

/** When the round kills the connection's node: during the transfer (after a random delay in killWindowMs) or as soon as the connection exists (its TLS handshake). */
export type KillPhase = "transfer" | "handshake";

export interface RoundOptions {
  /** SIGKILL (default) or SIGTERM (the node drains). */
  readonly signal?: "SIGKILL" | "SIGTERM";
  readonly phase?: KillPhase;
  /** Transfer phase: the kill comes this many ms after curl starts, uniformly (default 200-1700). */
  readonly killWindowMs?: readonly [number, number];
  /** Start the node again and wait for the cluster to settle afterwards (default true). */
  readonly restart?: boolean;
  /** The client: curl (default), or `openssl s_client` writing a raw HTTP/1.1 request and reading the raw answer. */
  readonly client?: "curl" | "openssl";
  /**
   * Handshake phase: kill only once the connection's /status entry passes
   * this test (polled every few ms; a handshake step that passes between
   * two polls is missed: then no kill, and the round says so).
   */
  readonly killWhen?: (c: ConnStatus) => boolean;
  /** The client's time limit, s (curl --max-time; default 120). */
  readonly maxSeconds?: number;
  /** The client's ports are portLo..portLo+9 (default: a range drawn from rng). */
  readonly portLo?: number;
}

/** The argv of one transfer's client in the client namespace, bound to one of `ports` (lo-hi). */
function clientArgv(c: CtcpCluster, client: "curl" | "openssl", direction: "down" | "up", bytes: number, reqId: string, ports: readonly [number, number], maxSeconds: number): string[] {
  const url = direction === "down" ? `https://${c.wire.vip}/bytes/${bytes}` : `https://${c.wire.vip}/upload`;
  if (client === "curl") {
    const range = `${ports[0]}-${ports[1]}`;
    return direction === "down"
      ? ["curl", "-sS", "-k", "--local-port", range, "--max-time", String(maxSeconds), "-H", `x-req-id: ${reqId}`, "-o", "-", url]
      : ["sh", "-c", `head -c ${bytes} /dev/zero | exec curl -sS -k --local-port ${range} --max-time ${maxSeconds} -H 'x-req-id: ${reqId}' --data-binary @- ${url}`];
  }
  // -quiet implies -ign_eof: s_client keeps reading until the server closes (Connection: close).
  const head =
    direction === "down"
      ? `GET /bytes/${bytes} HTTP/1.1\r\nHost: x\r\nx-req-id: ${reqId}\r\nConnection: close\r\n\r\n`
      : `POST /upload HTTP/1.1\r\nHost: x\r\nx-req-id: ${reqId}\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`;
  const body = direction === "down" ? "" : `; head -c ${bytes} /dev/zero`;
  return ["sh", "-c", `(printf '${head}'${body}) | exec timeout ${maxSeconds} openssl s_client -connect ${c.wire.vip}:443 -bind ${c.wire.clientIp}:${ports[0]} -quiet`];
}

/** The body of a raw HTTP/1.1 answer (after the blank line), or null if there is no header end. */
function httpBody(raw: Buffer): Buffer | null {
  const end = raw.indexOf("\r\n\r\n");
  return end < 0 ? null : raw.subarray(end + 4);
}

/**
 * One round: curl moves `bytes` through the VIP (download or upload) while
 * the node holding the connection is kill -9ed (or sent SIGTERM: it drains
 * by handing its connections over; see KillPhase for when); then (unless
 * `restart` is false) the node is started again and the cluster settles.
 * ok: curl exit 0, the SHA-256
 * matches, the backend saw the request exactly once, and a SIGTERMed node
 * exited 0 within its drain timeout.
 *
 * The node holding the connection is found by curl's source port (curl binds
 * one of ten ports picked at random; /status lists each connection's client
 * port): a node also holds earlier rounds' connections for 2·MSL (TIME_WAIT),
 * so "a node with a live connection" is often the wrong one — and so is one
 * holding an earlier round's connection from the same port range (ranges
 * repeat: 5 of the 20 rounds' ranges of seed 1 did): a closed relay is not
 * this round's connection.
 */
export async function failoverRound(c: CtcpCluster, round: number, direction: "down" | "up", bytes: number, rng: () => number, opts: RoundOptions = {}): Promise<RoundResult> {
  const signal = opts.signal ?? "SIGKILL";
  const phase = opts.phase ?? "transfer";
  const killWindowMs = opts.killWindowMs ?? [200, 1700];
  const client = opts.client ?? "curl";
  const reqId = `r${round}-${direction}-${randomBytes(3).toString("hex")}`;
  // Outside the client namespace's ephemeral range (32768-60999) and below the backend leg's bucket ports.
  const drawn = 20_000 + Math.floor(rng() * 1000) * 10;
  const portLo = opts.portLo ?? drawn;
  const argv = clientArgv(c, client, direction, bytes, reqId, [portLo, portLo + 9], opts.maxSeconds ?? 120);
  const t0 = Date.now();
  const curl = spawn("ip", ["netns", "exec", c.wire.clientNs, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  const hash = createHash("sha256");
  let got = 0;
  let out = "";
  let err = "";
  const raw: Buffer[] = []; // openssl: the whole HTTP answer, headers included
  curl.stdout!.on("data", (d: Buffer) => {
    got += d.length;
    if (client === "openssl") raw.push(d);
    else if (direction === "down") hash.update(d);
    else out += d.toString();
  });
  curl.stderr!.on("data", (d: Buffer) => void (err += d.toString()));
  const exited = new Promise<number>((r) => curl.once("exit", (code) => r(code ?? -1)));

  // Kill the owner (found by curl's port) at a random moment of the transfer, or as soon as it holds the connection.
  const killAfter = phase === "handshake" ? 0 : killWindowMs[0] + Math.floor(rng() * (killWindowMs[1] - killWindowMs[0]));
  const ours = (p: number) => p >= portLo && p <= portLo + 9;
  let killed: number | null = null;
  let killAtMs: number | null = null;
  let killedInHandshake: boolean | null = null;
  let killState: string | null = null;
  const killWhen = opts.killWhen ?? (() => true);
  const killer = (async () => {
    await sleep(killAfter);
    for (let tries = 0; tries < (phase === "handshake" ? 400 : 40) && curl.exitCode === null; tries++) {
      const ss = await Promise.all(c.nodes.map((_, i) => c.status(i)));
      // curl's port range may have served an earlier round (ranges repeat): its connection is closed.
      const mine = (x: ConnStatus) => ours(x.clientPort) && !x.relayClosed;
      const owner = ss.findIndex((s) => s?.connectionList?.some(mine) ?? false);
      const conn = owner >= 0 ? ss[owner]!.connectionList!.find(mine)! : null;
      // A handshake that ended before the test passed: the moment was missed (no kill).
      if (conn !== null && opts.killWhen !== undefined && conn.traffic && conn.relay.waitingHandshake === 0 && !killWhen(conn)) return;
      if (conn !== null && killWhen(conn)) {
        killedInHandshake = !conn.traffic;
        killState = handshakeState(conn);
        c.kill(owner, signal);
        killed = owner;
        killAtMs = Date.now() - t0;
        return;
      }
      await sleep(phase === "handshake" ? (opts.killWhen ? 1 : 5) : 25);
    }
  })();
  const code = await exited;
  await killer;
  const seconds = (Date.now() - t0) / 1000;
  const expected = direction === "down" ? bodySha(bytes) : `${createHash("sha256").update(Buffer.alloc(bytes)).digest("hex")} ${bytes}`;
  if (client === "openssl") {
    const body = httpBody(Buffer.concat(raw)) ?? Buffer.alloc(0);
    got = body.length;
    if (direction === "down") hash.update(body);
    else out = body.toString();
  }
  const result = direction === "down" ? hash.digest("hex") : out;
  const seen = c.backend.requests.filter((r) => r.startsWith(`${reqId} `)).length;
  const problems: string[] = [];
  if (code !== 0) problems.push(`${client} exit ${code}: ${err.trim().slice(-400)}`);
  if (result !== expected) problems.push(`${direction === "down" ? `sha/length mismatch (${got} bytes)` : `upload answer ${out.slice(0, 80)}`}`);
  if (seen !== 1) problems.push(`backend saw the request ${seen} times`);
  if (killed === null) problems.push("no kill: the connection's node was not found while curl ran");
  let exitCode: number | null = null;
  if (killed !== null) {
    const child = c.nodes[killed]!.child!;
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
    if (signal === "SIGTERM") {
      exitCode = child.exitCode ?? -1;
      if (exitCode !== 0) problems.push(`drained node ${killed + 1} exited ${child.exitCode ?? child.signalCode}: ${c.nodes[killed]!.log.slice(-400)}`);
    }
  }
  if (opts.restart ?? true) {
    if (killed !== null) await c.start(killed);
    await c.settled();
  }
  return { client, direction, phase, ok: problems.length === 0, curlCode: code, killed: killed === null ? null : killed + 1, killAtMs, killedInHandshake, killState, exitCode, seconds, detail: problems.join("; ") };
}

export interface Transfer {
  readonly direction: "down" | "up";
  readonly curlExit: number;
  /** Bytes curl moved (downloaded or uploaded). */
  readonly bytes: number;
  /** curl's time_total, s. */
  readonly seconds: number;
  /** MB/s (10^6 bytes), or NaN when curl failed. */
  readonly mbps: number;
}

/**
 * One curl transfer of `bytes` through the VIP with nothing killed: a
 * download from the backend (/bytes/N) or an upload to it (/upload), timed
 * by curl itself (time_total: connect, handshake and transfer).
 */
export async function transferThroughVip(c: CtcpCluster, direction: "down" | "up", bytes: number, maxSeconds = 120): Promise<Transfer> {
  const fmt = direction === "down" ? "%{time_total} %{size_download}" : "%{time_total} %{size_upload}";
  const cmd =
    direction === "down"
      ? `curl -sS -k --max-time ${maxSeconds} -o /dev/null -w '${fmt}' https://${c.wire.vip}/bytes/${bytes}`
      : `head -c ${bytes} /dev/zero | curl -sS -k --max-time ${maxSeconds} -o /dev/null -w '${fmt}' --data-binary @- https://${c.wire.vip}/upload`;
  const curl = spawn("ip", ["netns", "exec", c.wire.clientNs, "sh", "-c", cmd], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  curl.stdout!.on("data", (d: Buffer) => void (out += d.toString()));
  const code = await new Promise<number>((r) => curl.once("exit", (x) => r(x ?? -1)));
  const [seconds = NaN, moved = 0] = out.trim().split(" ").map(Number);
  const ok = code === 0 && moved === bytes;
  return { direction, curlExit: code, bytes: moved, seconds, mbps: ok ? bytes / seconds / 1e6 : NaN };
}
