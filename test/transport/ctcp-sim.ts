// N-node simulation of clustered TCP with a real TLS client (issue 7 proof):
// three CtcpNodes (src/transport/ctcp/node.ts), a client and a backend on
// one InProcessHub with injected time, seeded loss and reordering.
//
//   client: Node's tls (OpenSSL) ── Duplex ── TcpConnection (client mode) ── EtherLink ─┐
//   nodes 1..3: CtcpNode (owner of the client's bucket answers; master answers ARP)  ──┼── hub
//   backend: EtherLink + stateless listener + TcpConnections, records every byte ─────┘
//   mirror store: folds every node's records (foldCtcp) after a delay, acks later;
//                 outside the crash domain, like the surviving members' mirror tables.
//
// Node's TLS needs real event-loop turns for its callbacks: the loop advances
// the injected clock from event to event and, whenever bytes were handed to
// the TLS client, yields with setImmediate until it is quiet again.
//
// A crash removes the owning node from the wire at the k-th input it gets
// (frame, timer or replication ack) after the measured connection began;
// its in-flight replication messages arrive or not (a prefix of them: the
// cluster's reliable stream is in order). After `deadMs` the next live
// node acquires every bucket of the dead one with the mirrored entries
// (eager or selective recovery) and, if the master died, becomes master.
import { createHmac } from "node:crypto";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { maxCheckpointBytes } from "../../src/cluster/cluster-node.js";
import { bucketOf, BUCKETS } from "../../src/node/buckets.js";
import { defaultProvider } from "../../src/crypto/provider.js";
import { MemorySessionCache } from "../../src/tls/session-cache.js";
import { DEFAULT_LINK_CONFIG, EtherLink, type LinkConfig } from "../../src/transport/ether/link.js";
import { macFromString, type Mac } from "../../src/transport/ether/mac.js";
import { CTCP_LEG_WINDOW, CtcpNode, type CtcpNodeConfig, type Recovery, type ReplicateResult } from "../../src/transport/ctcp/node.js";
import { decodeCtcpSnapshot, encodeCtcpSnapshot, foldCtcp, type CtcpSnapshot } from "../../src/transport/ctcp/record.js";
import { DEFAULT_TCP_CONFIG, TcpConnection, type TcpConfig } from "../../src/transport/tcp/connection.js";
import { ipv4FromString, ipv4ToString } from "../../src/transport/tcp/ipv4.js";
import { listen } from "../../src/transport/tcp/listener.js";
import { seqGt } from "../../src/transport/tcp/seq.js";
import { ACK, RST, type TcpSegment } from "../../src/transport/tcp/segment.js";
import { tupleKey, type FourTuple } from "../../src/transport/tcp/tuple.js";
import { InProcessHub, xorshift32 } from "../../src/transport/wire/hub.js";
import { fingeredIsn } from "../../src/transport/tcp/finger.js";
import type { FramePort } from "../../src/transport/wire/frame-wire.js";
import { seededRandom, testConfig, testIdentity } from "../helpers/engine-harness.js";
import type { TlsServerConfig } from "../../src/tls/config.js";

export const VIP = ipv4FromString("198.51.100.1");
export const CLIENT = ipv4FromString("192.0.2.10");
export const BACKEND = ipv4FromString("192.0.2.20");
export const BACKEND_PORT = 8080;
const VMAC = macFromString("02:00:5e:00:01:01");
const CLIENT_MAC = macFromString("02:00:00:00:00:0a");
const BACKEND_MAC = macFromString("02:00:00:00:00:14");
const fingerMac = (b: Uint8Array) => new Uint8Array(createHmac("sha256", "ctcp-sim cluster secret").update(b).digest());

const SIM_TCP: TcpConfig = {
  ...DEFAULT_TCP_CONFIG,
  initialRtoMs: 300,
  minRtoMs: 100,
  maxRtoMs: 2000,
  maxRetransmits: 30,
  // Forward ACKs are accepted for 2·MSL after a restore (§4.6); a peer
  // backing off its retransmissions past that window would never be heard
  // (1 s was too short here: a selective restore by the sweep, then a client
  // RTO backoff of 4 s). 2 min in the RFC; 30 s keeps TIME_WAITs short.
  mslMs: 30_000,
  keepaliveIdleMs: 5000,
  keepaliveIntervalMs: 1000,
  keepaliveProbes: 5,
  fingerMac,
};

/**
 * The ordinary hosts (client, backend) behave like Linux peers: slow start
 * counts every segment an ACK covers (no RFC 3465 limit), so the clustered
 * node's stretch ACKs (one per replicated record) open their windows as the
 * real kernel's would; the minimum RTO is Linux's 200 ms (TCP_RTO_MIN). A
 * shorter one fired on the ClientHello, whose ACK waits for the first
 * checkpoint (one mirror round trip), and the spurious timeout left the
 * client in congestion avoidance from 2 SMSS for the whole upload.
 */
const PEER_TCP: TcpConfig = { ...SIM_TCP, slowStartAckLimit: 1 << 16, minRtoMs: 200 };

/** Byte i of a deterministic stream with tag `tag`. */
export function streamBytes(tag: number, from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let x = ((from + i) * 2654435761 + tag * 40503) >>> 0;
    x ^= x >>> 15;
    out[i] = x & 0xff;
  }
  return out;
}

/** The client's request: u32 total length, u32 answer length (top bit: the backend closes after it), then payload. */
export function request(upload: number, download: number, backendCloses = false): Uint8Array {
  const n = Math.max(8, upload);
  const b = streamBytes(7, 0, n);
  const v = new DataView(b.buffer);
  v.setUint32(0, n);
  v.setUint32(4, (download | (backendCloses ? 0x8000_0000 : 0)) >>> 0);
  return b;
}

export interface ConnSpec {
  readonly upload: number;
  readonly download: number;
  /** Resume the previous connection's session. */
  readonly resume: boolean;
  /** The backend closes first, right after its answer (the relay then sends close_notify, §4.10). */
  readonly backendCloses?: boolean;
  /**
   * The client binds the previous connection's port again (curl
   * --local-port; Linux reuses a port once its TIME_WAIT is over), with a
   * later ISN, while the cluster still holds the previous incarnation.
   */
  readonly samePort?: boolean;
}

export interface SimOptions {
  readonly seed: number;
  readonly loss: number;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly recovery: Recovery;
  /** Connections run one after the other; the crash is counted from the start of the last one. */
  readonly conns: readonly ConnSpec[];
  /**
   * Crash the owner at its k-th input (1-based) during the last connection,
   * or at its n-th input after the client entered `phase`.
   */
  readonly crashAt?: number | { readonly phase: Phase; readonly nth: number };
  readonly deadMs?: number;
  /** Cluster replication: one-way delay of a checkpoint (and of its ack). */
  readonly clusterDelayMs?: number;
  readonly clusterLoss?: number;
  readonly maxTimeMs?: number;
  /**
   * The nodes batch a turn's input (CtcpNodeConfig.batchTurns, as the daemon
   * does): a turn is every input due at one simulated instant, and
   * endOfTurn follows it. Default true; false: every input is its own step.
   */
  readonly batchTurns?: boolean;
  /** Receive window of the nodes' legs (bytes; default CTCP_LEG_WINDOW, the daemon's). */
  readonly nodeRcvBuffer?: number;
  /**
   * Crash the owner of connection i's bucket once that connection is over
   * (its client closed), and start the next one only after the takeover:
   * the heir restores the finished connection from the mirrors (they hold it
   * until both legs are CLOSED). `crashAt` may then crash the next
   * connection's owner as well (a second takeover).
   */
  readonly crashAfterConn?: number;
  /**
   * The RSA decryption runs in a worker pool, as in the daemon: its result
   * comes back as a later input after this many ms (uniform ±50 %), and a
   * crash in between loses it. Default 0: answered within the same input.
   */
  readonly rsaDelayMs?: number;
}

export type Phase = "connect" | "handshake" | "c2s" | "s2c" | "close";

export interface ConnResult {
  readonly ok: boolean;
  readonly why: string;
  readonly resumed: boolean | null;
  readonly received: number;
}

export interface SimResult {
  readonly conns: ConnResult[];
  /** Inputs the owner got during the last connection (without a crash: the number of crash points). */
  readonly ownerInputs: number;
  /** The owner's input count when the last connection entered each phase (crash points per phase). */
  readonly phaseStarts: Partial<Record<Phase, number>>;
  /** Simulated time (ms) at which the last connection entered each phase. */
  readonly phaseTimes: Partial<Record<Phase, number>>;
  readonly crashed: boolean;
  readonly crashPhase: Phase | null;
  readonly restored: { eager: number; "on-packet": number; sweep: number };
  /** Milliseconds of CPU in bucketAcquired and in restores triggered by packets or the sweep (real time, not simulated). */
  readonly takeoverCpuMs: number;
  readonly partialAcks: number;
  /** Forward ACKs (§4.6) the nodes accepted after a takeover. */
  readonly forwardAcks: number;
  /** SYNs that opened a new connection on the 4-tuple of an older one (CtcpNode stats.reopened). */
  readonly reopened: number;
  /** The mirrored states handed to the heir. */
  readonly mirroredAtTakeover: readonly Uint8Array[];
  /** Simulated ms from the takeover to the client's first progress (a new byte or ACK) after it. */
  readonly recoveryMs: number | null;
  readonly backendConnections: number;
  readonly resetsSeen: number;
  /** Records the replication channel refused (larger than a datagram). */
  readonly tooLarge: number;
  readonly timeMs: number;
}

interface PendingMsg {
  readonly at: number;
  readonly run: () => void;
}

interface BackendConn {
  readonly tcp: TcpConnection;
  readonly rx: number[];
  answered: boolean;
}

/** Mirror store + replication channel of the simulated cluster. */
class Mirrors {
  readonly entries = new Map<number, { bucket: number; state: Uint8Array }>();
  private readonly closed = new Set<number>();
  private rid = 0;
  /** Per sender: time of its last store (FIFO channel). */
  private readonly lastAt = new Map<number, number>();
  readonly inflight: { from: number; at: number; store: () => void }[] = [];

  constructor(private readonly sim: Sim) {}

  replicate(from: number, connId: number, bucket: number, state: Uint8Array, now: number): ReplicateResult {
    // The real channel's limit (ClusterNode.replicate): one datagram per record.
    if (state.length > maxCheckpointBytes()) {
      this.sim.tooLarge++;
      return { ok: false, reason: "checkpoint_too_large" };
    }
    const rid = ++this.rid;
    const half = this.sim.clusterDelayMs * (0.5 + this.sim.rng());
    // A lost cluster datagram is repaired by the reliable stream: a retransmission later.
    const repair = this.sim.rng() < this.sim.clusterLoss ? 4 * this.sim.clusterDelayMs : 0;
    const at = Math.max(now + half + repair, this.lastAt.get(from) ?? 0);
    this.lastAt.set(from, at);
    const msg = {
      from,
      at,
      store: () => {
        if (this.closed.has(connId)) return;
        const prev = this.entries.get(connId);
        this.entries.set(connId, { bucket, state: foldCtcp(prev?.state, state) });
      },
    };
    this.inflight.push(msg);
    this.sim.schedule(at, () => {
      const i = this.inflight.indexOf(msg);
      if (i < 0) return;
      this.inflight.splice(i, 1);
      msg.store();
      this.sim.schedule(at + half, () => this.sim.ackTo(from, rid));
    });
    return { ok: true, rid };
  }

  closeConnection(connId: number): void {
    this.closed.add(connId);
    this.entries.delete(connId);
  }

  /** A node died: of its messages in flight, a prefix still arrives (in-order stream). */
  senderDied(from: number): void {
    const mine = this.inflight.filter((m) => m.from === from);
    const keep = Math.floor(this.sim.rng() * (mine.length + 1));
    for (let i = keep; i < mine.length; i++) this.inflight.splice(this.inflight.indexOf(mine[i]!), 1);
  }

  forBucket(bucket: number): { connId: number; state: Uint8Array }[] {
    const out: { connId: number; state: Uint8Array }[] = [];
    for (const [connId, e] of this.entries) if (e.bucket === bucket) out.push({ connId, state: e.state });
    return out;
  }
}

const NODES = 3;

export class Sim {
  readonly rng: () => number;
  readonly hub: InProcessHub;
  readonly clusterDelayMs: number;
  readonly clusterLoss: number;
  private readonly opts: SimOptions;
  private readonly mirrors: Mirrors;
  private readonly nodes: (CtcpNode | null)[] = [];
  private readonly ports: FramePort[] = [];
  private readonly bucketOwner = new Int32Array(BUCKETS);
  private master = 0;
  private readonly timers: PendingMsg[] = [];
  private now = 0;
  private readonly tlsConfig: TlsServerConfig;
  private readonly sessions = new MemorySessionCache({ maxEntries: 100, ttlMs: 1e9, now: () => 0 });
  // Backend.
  private readonly backendLink: EtherLink;
  private backendPort!: FramePort;
  private readonly backendConns = new Map<string, BackendConn>();
  private resetsSeen = 0;
  /** Records the replication channel refused as larger than a datagram. */
  tooLarge = 0;
  // Crash bookkeeping.
  private counting = false;
  private ownerIdx = -1;
  private ownerInputs = 0;
  private crashed = false;
  private crashPhase: Phase | null = null;
  private takeoverCpuMs = 0;
  private readonly restored = { eager: 0, "on-packet": 0, sweep: 0 };
  private partialAcks = 0;
  private forwardAcks = 0;
  private reopened = 0;
  private readonly mirroredAtTakeover: Uint8Array[] = [];
  private takeoverAt: number | null = null;
  private recoveryMs: number | null = null;
  /** Bumped whenever the TLS client may have work: the loop then lets the event loop turn. */
  private clientKick = 0;
  private phaseV: Phase = "connect";
  private readonly phaseStarts: Partial<Record<Phase, number>> = {};
  private readonly phaseTimes: Partial<Record<Phase, number>> = {};
  /** The previous connection's client port, bucket and ISN (ConnSpec.samePort). */
  private lastClient: { port: number; bucket: number; isn: number } | null = null;

  private get phase(): Phase {
    return this.phaseV;
  }

  private set phase(p: Phase) {
    if (p !== this.phaseV && this.counting && this.phaseStarts[p] === undefined) this.phaseStarts[p] = this.ownerInputs;
    if (p !== this.phaseV && this.counting && this.phaseTimes[p] === undefined) this.phaseTimes[p] = this.now;
    if (p !== this.phaseV) this.phaseInputs = 0;
    this.phaseV = p;
  }

  private phaseInputs = 0;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rng = xorshift32(opts.seed * 7919 + 17);
    this.hub = new InProcessHub({ loss: opts.loss, latencyMs: opts.latencyMs, jitterMs: opts.jitterMs, seed: opts.seed });
    this.clusterDelayMs = opts.clusterDelayMs ?? 1;
    this.clusterLoss = opts.clusterLoss ?? 0;
    this.mirrors = new Mirrors(this);
    this.tlsConfig = testConfig();
    for (let b = 0; b < BUCKETS; b++) this.bucketOwner[b] = b % NODES;
    for (let i = 0; i < NODES; i++) this.addNode(i);
    this.backendLink = new EtherLink(hostLink(BACKEND, BACKEND_MAC));
    this.backendPort = this.hub.attach({ onFrame: (f) => this.backendFrame(f) });
  }

  private addNode(i: number): void {
    const base = nodeConfig(i, this.opts.recovery, this.tlsConfig, seededRandom(`ctcp-sim/${this.opts.seed}/node${i}`), this.sessions, i === this.master);
    const cfg: CtcpNodeConfig = {
      ...base,
      batchTurns: this.opts.batchTurns ?? true,
      tcp: { ...base.tcp, rcvBuffer: this.opts.nodeRcvBuffer ?? base.tcp.rcvBuffer },
    };
    const node = new CtcpNode(cfg, {
      replicate: (connId, bucket, state, now) => this.mirrors.replicate(i, connId, bucket, state, now),
      closeConnection: (connId) => this.mirrors.closeConnection(connId),
    });
    node.setBuckets(this.bucketsOf(i), 0);
    this.nodes[i] = node;
    this.ports[i] = this.hub.attach({
      onFrame: (f) => {
        if (this.input(i)) return;
        this.measured(node, () => node.onFrame(f, this.hub.now));
        this.flushNode(i);
      },
    });
  }

  private bucketsOf(i: number): number[] {
    const out: number[] = [];
    for (let b = 0; b < BUCKETS; b++) if (this.bucketOwner[b] === i) out.push(b);
    return out;
  }

  schedule(at: number, run: () => void): void {
    this.timers.push({ at, run });
  }

  ackTo(i: number, rid: number): void {
    const node = this.nodes[i];
    if (!node || this.input(i)) return;
    node.replicated(rid, this.now);
    this.flushNode(i);
  }

  /** Counts an input of the owner; true if it crashed the owner instead. */
  private input(i: number): boolean {
    if (!this.counting || i !== this.ownerIdx || this.crashed) return false;
    this.ownerInputs++;
    this.phaseInputs++;
    const at = this.opts.crashAt;
    if (at === undefined) return false;
    if (typeof at === "number" ? this.ownerInputs < at : at.phase !== this.phase || this.phaseInputs < at.nth) return false;
    this.crash(i);
    return true;
  }

  private crash(i: number): void {
    const node = this.nodes[i]!;
    this.crashed = true;
    this.crashPhase = this.phase;
    this.collectStats(node);
    this.nodes[i] = null;
    this.ports[i]!.close();
    this.mirrors.senderDied(i);
    const deadMs = this.opts.deadMs ?? 300;
    this.schedule(this.now + deadMs, () => this.takeOver(i));
  }

  /** SimOptions.crashAfterConn: the owner of the last connection's bucket dies; wait for the takeover. */
  private async crashBetween(): Promise<void> {
    const owner = this.bucketOwner[this.lastClient!.bucket]!;
    this.crash(owner);
    await this.loop(() => this.takeoverAt !== null, () => null, () => {});
    // crashAt may still crash the next connection's owner (the heir): a second takeover.
    this.crashed = false;
    this.takeoverAt = null;
  }

  private takeOver(dead: number): void {
    let heir = (dead + 1) % NODES;
    while (!this.nodes[heir]) heir = (heir + 1) % NODES;
    const node = this.nodes[heir]!;
    const t0 = performance.now();
    for (let b = 0; b < BUCKETS; b++) {
      if (this.bucketOwner[b] !== dead) continue;
      this.bucketOwner[b] = heir;
      const entries = this.mirrors.forBucket(b);
      for (const e of entries) this.mirroredAtTakeover.push(e.state);
      node.bucketAcquired(b, entries, this.now);
    }
    this.takeoverCpuMs += performance.now() - t0;
    this.takeoverAt = this.now;
    if (this.master === dead) {
      this.master = heir;
      node.setMaster(true);
    }
    this.flushNode(heir);
  }

  /** The client moved forward: the first time after a takeover ends the recovery. */
  private progress(): void {
    if (this.takeoverAt !== null && this.recoveryMs === null) this.recoveryMs = this.now - this.takeoverAt;
  }

  /** Real CPU time of a node input that restored connections (selective recovery's cost). */
  private measured(node: CtcpNode, f: () => void): void {
    const before = node.stats.restored["on-packet"] + node.stats.restored.sweep;
    const t0 = performance.now();
    f();
    if (node.stats.restored["on-packet"] + node.stats.restored.sweep !== before) this.takeoverCpuMs += performance.now() - t0;
  }

  private collectStats(node: CtcpNode): void {
    this.partialAcks += node.stats.partialAcks;
    this.forwardAcks += node.stats.forwardAcks;
    this.reopened += node.stats.reopened;
  }

  private flushNode(i: number): void {
    const node = this.nodes[i];
    if (!node) return;
    for (let guard = 0; guard < 100; guard++) {
      const out = node.drain();
      for (const f of out.frames) this.ports[i]!.sendFrame(f);
      let more = false;
      for (const e of out.events) {
        switch (e.kind) {
          case "rsa": {
            const premaster = defaultProvider.rsaDecryptPremaster(testIdentity().key, e.ciphertext, e.clientVersion, e.random46);
            const delay = this.opts.rsaDelayMs ?? 0;
            if (delay === 0) {
              node.rsaDone(e.connId, e.id, premaster, this.now);
              more = true;
              break;
            }
            this.schedule(this.now + delay * (0.5 + this.rng()), () => {
              if (this.nodes[i] !== node || this.input(i)) return;
              node.rsaDone(e.connId, e.id, premaster, this.now);
              this.flushNode(i);
            });
            break;
          }
          case "restored":
            this.restored[e.how]++;
            break;
          case "closed":
            if (process.env["CTCP_SIM_DEBUG"]) console.log(`t=${this.now} node${i + 1} closed`, e);
            break;
          case "failed":
            throw new Error(`node${i + 1}: connection ${e.connId} failed: ${e.message}`);
          case "handshake-complete":
          case "done":
            break;
        }
      }
      if (!more && out.frames.length === 0) return;
    }
  }

  // --- the backend: an ordinary TCP host answering deterministically ------------------------

  private backendFrame(f: Uint8Array): void {
    const now = this.hub.now;
    this.backendLink.onFrame(f, now);
    this.flushBackend(now);
  }

  private flushBackend(now: number): void {
    for (let guard = 0; guard < 100; guard++) {
      const l = this.backendLink.drain();
      for (const fr of l.frames) this.backendPort.sendFrame(fr);
      for (const r of l.received) {
        const seg = r.segment;
        if (seg.flags & RST) this.resetsSeen++;
        if (seg.dstPort !== BACKEND_PORT) continue;
        const tuple: FourTuple = { localAddr: BACKEND, localPort: BACKEND_PORT, remoteAddr: r.src, remotePort: seg.srcPort };
        const key = tupleKey(tuple);
        const c = this.backendConns.get(key);
        if (c && c.tcp.state !== "CLOSED") {
          c.tcp.onSegment(seg, now);
          continue;
        }
        const res = listen(PEER_TCP, tuple, seg, now, { suppressRst: false });
        if (res.kind === "syn-ack" || res.kind === "rst") {
          if (res.kind === "rst") this.resetsSeen++;
          this.backendLink.sendTcp(r.src, res.segment, now);
        } else if (res.kind === "accept") {
          this.backendConns.set(key, { tcp: res.connection, rx: [], answered: false });
        }
      }
      let moved = l.frames.length + l.received.length;
      for (const c of this.backendConns.values()) moved += this.serviceBackend(c, now);
      if (moved === 0) return;
    }
  }

  private serviceBackend(c: BackendConn, now: number): number {
    const out = c.tcp.drain();
    for (const e of out.events) {
      switch (e.kind) {
        case "data":
          for (const b of e.bytes) c.rx.push(b);
          c.tcp.appAck(e.seq + e.bytes.length, now);
          if (!c.answered && c.rx.length >= 8) {
            const want = (c.rx[0]! << 24 | c.rx[1]! << 16 | c.rx[2]! << 8 | c.rx[3]!) >>> 0;
            const word = (c.rx[4]! << 24 | c.rx[5]! << 16 | c.rx[6]! << 8 | c.rx[7]!) >>> 0;
            if (c.rx.length >= want) {
              c.answered = true;
              c.tcp.write(streamBytes(9, 0, word & 0x7fff_ffff), now);
              if (word >>> 31) c.tcp.close(now);
            }
          }
          break;
        case "peer-fin":
          c.tcp.appAck(c.tcp.rcvNxt, now);
          c.tcp.close(now);
          break;
        case "closed":
          if (e.reason === "reset") this.resetsSeen++;
          break;
        case "established":
        case "acked":
          break;
      }
    }
    for (const s of out.segments) this.backendLink.sendTcp(c.tcp.tuple.remoteAddr, s, now);
    return out.segments.length + out.events.length;
  }

  // --- the client: Node's tls over a Duplex on a client-mode TcpConnection ---------------------

  private async runConn(spec: ConnSpec, session: Buffer | undefined, last: boolean): Promise<{ result: ConnResult; session: Buffer | undefined }> {
    const link = new EtherLink(hostLink(CLIENT, CLIENT_MAC));
    let port: FramePort | null = null;
    const fresh = 20000 + Math.floor(this.rng() * 40000);
    const localPort = spec.samePort && this.lastClient !== null ? this.lastClient.port : fresh;
    const tuple: FourTuple = { localAddr: CLIENT, localPort, remoteAddr: VIP, remotePort: 443 };
    const randomIsn = Math.floor(this.rng() * 2 ** 32);
    // A reused port gets an ISN beyond the previous incarnation's (RFC 6528's clock component does that).
    const isn = spec.samePort && this.lastClient !== null ? (this.lastClient.isn + 0x4000_0000) >>> 0 : randomIsn;
    const tcp = TcpConnection.connect({ ...PEER_TCP, rcvBuffer: 256 * 1024 }, tuple, isn, this.now);
    this.lastClient = { port: localPort, bucket: 0, isn };
    const bucket = bucketOf({ address: ipv4ToString(CLIENT), port: localPort }, { address: ipv4ToString(VIP), port: 443 });
    this.lastClient.bucket = bucket;
    if (last) {
      this.ownerIdx = this.bucketOwner[bucket]!;
      this.counting = true;
      this.ownerInputs = 0;
      this.phaseStarts.connect = 0;
      this.phaseTimes.connect = this.now;
    }
    let tcpClosed: string | null = null;
    let error: string | null = null;
    const rx: Buffer[] = [];
    let rxLen = 0;
    let tlsClosed = false;
    let newSession: Buffer | undefined;
    let resumed: boolean | null = null;
    let ended = false;
    const req = request(spec.upload, spec.download, spec.backendCloses ?? false);
    let reqAcked = false;

    const duplex = new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, cb) => {
        if (tcp.state === "CLOSED") return cb(new Error("client TCP closed"));
        tcp.write(new Uint8Array(chunk), this.now);
        pump();
        // Node's streams pass the next chunk on a later tick: let the loop turn again.
        this.clientKick++;
        cb();
      },
      final: (cb) => {
        tcp.close(this.now);
        pump();
        cb();
      },
    });
    const pump = () => {
      for (let guard = 0; guard < 100; guard++) {
        const out = tcp.drain();
        for (const e of out.events) {
          switch (e.kind) {
            case "established":
              tcp.appAck(e.irs + 1, this.now);
              if (this.phase === "connect") this.phase = "handshake";
              break;
            case "data":
              this.progress();
              tcp.appAck(e.seq + e.bytes.length, this.now);
              duplex.push(Buffer.from(e.bytes));
              this.clientKick++;
              break;
            case "peer-fin":
              tcp.appAck(tcp.rcvNxt, this.now);
              duplex.push(null);
              this.clientKick++;
              break;
            case "acked":
              this.progress();
              if (this.phase === "c2s" && tcp.unacked === 0) reqAcked = true;
              break;
            case "closed":
              tcpClosed = e.reason;
              if (e.reason !== "normal") duplex.destroy(new Error(`client TCP ${e.reason}`));
              this.clientKick++;
              break;
          }
        }
        for (const s of out.segments) link.sendTcp(VIP, s, this.now);
        const l = link.drain();
        for (const f of l.frames) port!.sendFrame(f);
        for (const r of l.received) {
          if (r.segment.flags & RST) this.resetsSeen++;
          if (r.src === VIP && r.segment.srcPort === 443 && r.segment.dstPort === localPort) tcp.onSegment(r.segment, this.now);
        }
        if (out.segments.length === 0 && out.events.length === 0 && l.frames.length === 0 && l.received.length === 0) return;
      }
    };
    port = this.hub.attach({ onFrame: (f) => (link.onFrame(f, this.hub.now), pump()) });
    const timers = (): number | null => min([link.nextTimeout(), tcp.nextTimeout()]);
    const fire = (now: number) => {
      if ((link.nextTimeout() ?? Infinity) <= now) link.onTimer(now);
      if ((tcp.nextTimeout() ?? Infinity) <= now) tcp.onTimer(now);
      pump();
    };

    this.phase = "connect";
    const sock = tls.connect({
      socket: duplex, rejectUnauthorized: false, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES128-SHA:AES256-SHA",
      ...(session && spec.resume ? { session } : {}),
    });
    sock.on("session", (s: Buffer) => (newSession = s));
    sock.on("error", (e) => (error ??= e.message));
    sock.on("secureConnect", () => {
      resumed = sock.isSessionReused();
      this.phase = "c2s";
      sock.write(req);
      this.clientKick++;
    });
    sock.on("data", (d: Buffer) => {
      rx.push(d);
      rxLen += d.length;
      if (reqAcked || rxLen > 0) this.phase = "s2c";
      if (rxLen >= spec.download && !ended) {
        ended = true;
        this.phase = "close";
        sock.end();
      }
      this.clientKick++;
    });
    sock.on("close", () => {
      tlsClosed = true;
      this.clientKick++;
    });
    pump();
    const doneConn = () => (tlsClosed && (tcpClosed !== null || tcp.state === "TIME_WAIT")) || error !== null;
    await this.loop(doneConn, timers, fire);
    port.close();
    const data = Buffer.concat(rx);
    const expect = Buffer.from(streamBytes(9, 0, spec.download));
    let why = "";
    if (error) why = `client error: ${error}`;
    else if (!tlsClosed) why = `client not finished at t=${this.now} (tcp ${tcp.state}, rx ${data.length}/${spec.download})`;
    else if (!data.equals(expect)) why = `client data differs: ${data.length}/${spec.download} bytes`;
    else if (tcpClosed !== null && tcpClosed !== "normal") why = `client TCP ${tcpClosed}`;
    if (!why) {
      // The backend got the request exactly once, on one connection for this client.
      const mine = [...this.backendConns.values()].filter((c) => c.answered && Buffer.from(c.rx).subarray(0, req.length).equals(Buffer.from(req)));
      const exact = [...this.backendConns.values()].filter((c) => Buffer.from(c.rx).equals(Buffer.from(req)));
      if (mine.length !== 1 || exact.length !== 1) why = `backend: ${mine.length} connections with the request, ${exact.length} byte-exact`;
      for (const c of mine) this.backendConns.delete(tupleKey(c.tcp.tuple));
    }
    sock.destroy();
    return { result: { ok: why === "", why, resumed, received: data.length }, session: newSession ?? session };
  }

  private async loop(done: () => boolean, clientTimers: () => number | null, fireClient: (now: number) => void): Promise<void> {
    const maxT = this.now + (this.opts.maxTimeMs ?? 60_000);
    let seenKick = -1;
    for (let steps = 0; ; steps++) {
      // Let Node's TLS run whenever it was handed something, until it is quiet.
      for (let turns = 0; turns < 50 && (seenKick !== this.clientKick || turns < 1); turns++) {
        if (seenKick === this.clientKick && turns > 0) break;
        seenKick = this.clientKick;
        await new Promise<void>((r) => setImmediate(r));
        await new Promise<void>((r) => setImmediate(r));
      }
      if (done()) return;
      const ts: (number | null)[] = [this.hub.nextDelivery(), clientTimers(), this.backendLink.nextTimeout(), ...this.timers.map((t) => t.at)];
      for (const n of this.nodes) if (n) ts.push(n.nextTimeout());
      for (const c of this.backendConns.values()) ts.push(c.tcp.nextTimeout());
      const t = min(ts);
      if (t === null || t > maxT) return;
      this.now = Math.max(this.now, t);
      this.hub.deliverUntil(this.now);
      fireClient(this.now);
      const due = this.timers.filter((x) => x.at <= this.now);
      for (const x of due) this.timers.splice(this.timers.indexOf(x), 1);
      for (const x of due.sort((a, b) => a.at - b.at)) x.run();
      for (let i = 0; i < NODES; i++) {
        const n = this.nodes[i];
        if (!n) continue;
        const nt = n.nextTimeout();
        if (nt !== null && nt <= this.now) {
          if (this.input(i)) continue;
          this.measured(n, () => n.onTimer(this.now));
          this.flushNode(i);
        }
      }
      // The end of the nodes' turn: everything due at this instant was delivered.
      for (let i = 0; i < NODES; i++) {
        const n = this.nodes[i];
        if (!n || !(this.opts.batchTurns ?? true)) continue;
        n.endOfTurn(this.now);
        this.flushNode(i);
      }
      if ((this.backendLink.nextTimeout() ?? Infinity) <= this.now) this.backendLink.onTimer(this.now);
      for (const c of this.backendConns.values()) if ((c.tcp.nextTimeout() ?? Infinity) <= this.now) c.tcp.onTimer(this.now);
      this.flushBackend(this.now);
    }
  }

  async run(): Promise<SimResult> {
    const conns: ConnResult[] = [];
    let session: Buffer | undefined;
    for (let i = 0; i < this.opts.conns.length; i++) {
      const r = await this.runConn(this.opts.conns[i]!, session, i === this.opts.conns.length - 1);
      conns.push(r.result);
      session = r.session;
      if (!r.result.ok) break;
      if (this.opts.crashAfterConn === i) await this.crashBetween();
    }
    for (const n of this.nodes) if (n) this.collectStats(n);
    return {
      conns, ownerInputs: this.ownerInputs, phaseStarts: this.phaseStarts, phaseTimes: this.phaseTimes, crashed: this.crashed, crashPhase: this.crashPhase, restored: this.restored, tooLarge: this.tooLarge,
      takeoverCpuMs: this.takeoverCpuMs, partialAcks: this.partialAcks, forwardAcks: this.forwardAcks, reopened: this.reopened, mirroredAtTakeover: this.mirroredAtTakeover, recoveryMs: this.recoveryMs, backendConnections: this.backendConns.size, resetsSeen: this.resetsSeen, timeMs: this.now,
    };
  }
}

/** The configuration of simulated node `i` (ids 1..3). */
export function nodeConfig(i: number, recovery: Recovery, tlsConfig: TlsServerConfig, random: (n: number) => Uint8Array, sessions: MemorySessionCache | null, master: boolean): CtcpNodeConfig {
  return {
    nodeId: i + 1,
    link: { ...DEFAULT_LINK_CONFIG, mac: VMAC, ip: VIP, arpMac: VMAC, clusterMacs: [VMAC], answerArp: master, arpRetryMs: 200 },
    tcp: { ...SIM_TCP, rcvBuffer: CTCP_LEG_WINDOW },
    tls: tlsConfig,
    engine: { provider: defaultProvider, random, now: () => 0, sessions },
    listenPort: 443,
    backend: { addr: BACKEND, port: BACKEND_PORT },
    recovery,
    selectiveSweepMs: 1500,
  };
}

export interface TakeoverCost {
  readonly recovery: Recovery;
  readonly connections: number;
  /** Connections live right after bucketAcquired. */
  readonly restoredAtTakeover: number;
  /** Frames sent by bucketAcquired (eager: one ACK per restored leg, §4.8). */
  readonly framesAtTakeover: number;
  /** CPU time (process user + system) of the bucketAcquired calls. */
  readonly takeoverCpuMs: number;
  /** Live after the first packet of one connection arrived. */
  readonly restoredAfterOnePacket: number;
  readonly firstPacketCpuMs: number;
  /** The first segment the client of connection 0 got at the takeover (eager: the §4.8 ACK; selective-probe: the probe), or null. */
  readonly toClientAtTakeover: TcpSegment | null;
}

/** One node with no cluster behind it (every record acknowledged at once) that knows the client's and the backend's MACs. */
function loneNode(recovery: Recovery, label: string): CtcpNode {
  const node = new CtcpNode(nodeConfig(1, recovery, testConfig(), seededRandom(label), null, true), {
    replicate: () => ({ ok: true, rid: 1 }),
    closeConnection: () => {},
  });
  node.link.arp.insert(CLIENT, CLIENT_MAC, 0);
  node.link.arp.insert(BACKEND, BACKEND_MAC, 0);
  return node;
}

/**
 * Takeover cost with `m` mirrored connections (clones of one real mirrored
 * state under distinct 4-tuples) of which one is active: eager restores
 * every one at bucketAcquired; selective restores the one whose packet comes.
 */
export function measureTakeover(state: Uint8Array, m: number, recovery: Recovery): TakeoverCost {
  const s = decodeCtcpSnapshot(state);
  const node = loneNode(recovery, "measure");
  const byBucket = new Map<number, { connId: number; state: Uint8Array }[]>();
  const ports: number[] = [];
  for (let i = 0; i < m; i++) {
    const port = 1024 + i;
    ports.push(port);
    const client = { ...s.client, tuple: { ...s.client.tuple, remotePort: port } };
    const btcp = s.backend.tcp ? { ...s.backend.tcp, tuple: { ...s.backend.tcp.tuple, localPort: 30000 + i } } : null;
    const clone: CtcpSnapshot = { ...s, client, backend: { ...s.backend, port: btcp ? 30000 + i : 0, tcp: btcp } };
    const b = bucketOf({ address: ipv4ToString(CLIENT), port }, { address: ipv4ToString(VIP), port: 443 });
    const list = byBucket.get(b) ?? [];
    list.push({ connId: i + 1, state: encodeCtcpSnapshot(clone) });
    byBucket.set(b, list);
  }
  // CPU time (user + system) rather than wall time: the machine is shared.
  const t0 = process.cpuUsage();
  for (const [b, entries] of byBucket) node.bucketAcquired(b, entries, 1000);
  const takeoverCpuMs = cpuMsSince(t0);
  const frames = node.drain().frames;
  const framesAtTakeover = frames.length;
  const restoredAtTakeover = node.connectionCount.live;
  const link = new EtherLink(hostLink(CLIENT, CLIENT_MAC));
  link.arp.insert(VIP, VMAC, 0);
  for (const f of frames) link.onFrame(f, 1000);
  const toClientAtTakeover = link.drain().received.find((x) => x.segment.dstPort === ports[0])?.segment ?? null;
  // The client of connection 0 retransmits (or answers the probe): a pure ACK at the clustered sequence numbers.
  link.sendTcp(VIP, { srcPort: ports[0]!, dstPort: 443, seq: s.client.rcvNxt, ack: s.client.sndNxt, flags: ACK, window: 65535, urgent: 0, options: {}, payload: new Uint8Array(0) }, 1001);
  const t1 = process.cpuUsage();
  for (const f of link.drain().frames) node.onFrame(f, 1001);
  const firstPacketCpuMs = cpuMsSince(t1);
  return { recovery, connections: m, restoredAtTakeover, framesAtTakeover, takeoverCpuMs, restoredAfterOnePacket: node.connectionCount.live, firstPacketCpuMs, toClientAtTakeover };
}

export interface PeersGone {
  /** Frames the node sent after the takeover (its ACKs, challenge ACKs, retransmissions). */
  readonly frames: number;
  /** RSTs the vanished peers sent back. */
  readonly resets: number;
  /** Live connections at the end. */
  readonly live: number;
}

/**
 * A takeover restores a mirrored connection whose client and backend are gone
 * (curl gave up, the backend closed its socket): each answers every segment
 * with a RST at the segment's ACK, as a kernel with no such socket does (RFC
 * 9293 §3.10.7.1). Before the takeover's ACK the client sent `pending` more
 * bytes (a part of a record: read, not yet acknowledged — rcv_nxt ahead of
 * rcv_appack). Runs at most `limit` exchanges of 1 ms.
 */
export function peersGone(state: Uint8Array, pending: number, limit = 500): PeersGone {
  const s = decodeCtcpSnapshot(state);
  const node = new CtcpNode(nodeConfig(1, "eager", testConfig(), seededRandom("gone"), null, true), {
    replicate: () => ({ ok: true, rid: 1 }),
    closeConnection: () => {},
  });
  node.link.arp.insert(CLIENT, CLIENT_MAC, 0);
  node.link.arp.insert(BACKEND, BACKEND_MAC, 0);
  const hosts = new Map([[CLIENT, new EtherLink(hostLink(CLIENT, CLIENT_MAC))], [BACKEND, new EtherLink(hostLink(BACKEND, BACKEND_MAC))]]);
  for (const l of hosts.values()) l.arp.insert(VIP, VMAC, 0);
  const bucket = bucketOf({ address: ipv4ToString(CLIENT), port: s.client.tuple.remotePort }, { address: ipv4ToString(VIP), port: 443 });
  node.bucketAcquired(bucket, [{ connId: 1, state }], 1000);
  const c = hosts.get(CLIENT)!;
  // A TLS record header and no more: the relay waits for the rest, nothing is acknowledged.
  const part = Uint8Array.of(23, 3, 3, 0, 200).subarray(0, pending);
  c.sendTcp(VIP, { srcPort: s.client.tuple.remotePort, dstPort: 443, seq: s.client.rcvNxt, ack: s.client.sndNxt, flags: ACK, window: 65535, urgent: 0, options: {}, payload: part }, 1000);
  for (const f of c.drain().frames) node.onFrame(f, 1000);
  let frames = 0;
  let resets = 0;
  for (let i = 1; i <= limit; i++) {
    const now = 1000 + i;
    const t = node.nextTimeout();
    if (t !== null && t <= now) node.onTimer(now);
    const out = node.drain().frames;
    frames += out.length;
    for (const f of out) {
      for (const l of hosts.values()) l.onFrame(f, now);
    }
    for (const l of hosts.values()) {
      for (const r of l.drain().received) {
        const g = r.segment;
        if (g.flags & RST) continue;
        resets++;
        l.sendTcp(VIP, { srcPort: g.dstPort, dstPort: g.srcPort, seq: g.ack, ack: 0, flags: RST, window: 0, urgent: 0, options: {}, payload: new Uint8Array(0) }, now);
      }
      for (const f of l.drain().frames) node.onFrame(f, now);
    }
  }
  return { frames, resets, live: node.connectionCount.live };
}

export interface NewerIncarnation {
  readonly restored: number;
  readonly accepted: number;
  readonly reopened: number;
  /** Segments the node sent to the client's port after the new first segment (the new connection's, or the old one's). */
  readonly toClient: number;
}

/**
 * A takeover hands a node the mirrored state of a finished connection
 * (`state`, e.g. `mirroredAtTakeover` of a crashAfterConn run); the client,
 * which reused the port, then sends the first segment of a newer
 * incarnation — after a fingered handshake with a dead owner, seq = its new
 * ISN + 1, ack = our fingered ISN + 1 — five bytes of a ClientHello. The
 * node must open the new connection (the listener accepts the fingered
 * segment) instead of handing the segment to the old one.
 */
export function newerIncarnationAfterTakeover(state: Uint8Array, recovery: Recovery): NewerIncarnation {
  const s = decodeCtcpSnapshot(state);
  const node = loneNode(recovery, "newer");
  const port = s.client.tuple.remotePort;
  const bucket = bucketOf({ address: ipv4ToString(CLIENT), port }, { address: ipv4ToString(VIP), port: 443 });
  node.bucketAcquired(bucket, [{ connId: 1, state }], 1000);
  node.drain();
  const irs = (s.client.irs + 0x4000_0000) >>> 0;
  const iss = fingeredIsn(fingerMac, s.client.tuple, irs, 1460, 7);
  const c = new EtherLink(hostLink(CLIENT, CLIENT_MAC));
  c.arp.insert(VIP, VMAC, 0);
  c.sendTcp(VIP, { srcPort: port, dstPort: 443, seq: (irs + 1) >>> 0, ack: (iss + 1) >>> 0, flags: ACK, window: 502, urgent: 0, options: {}, payload: Uint8Array.of(22, 3, 1, 2, 0) }, 1001);
  for (const f of c.drain().frames) node.onFrame(f, 1001);
  for (let t = 1002; t < 1100; t++) {
    const nt = node.nextTimeout();
    if (nt !== null && nt <= t) node.onTimer(t);
  }
  let toClient = 0;
  for (const f of node.drain().frames) c.onFrame(f, 1100);
  for (const r of c.drain().received) if (r.segment.dstPort === port) toClient++;
  const st = node.stats;
  return { restored: st.restored.eager + st.restored["on-packet"] + st.restored.sweep, accepted: st.accepted, reopened: st.reopened, toClient };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export interface OverheardTakeover {
  /** Connections restored by the end of bucketAcquired. */
  readonly restoredAtTakeover: number;
  /** Overheard segments the node fed to the restored connection. */
  readonly fed: number;
  /** When (ms after the takeover) the backend first got an ACK beyond the mirrored RCV.NXT — the ACK that ends its RTO backoff; null: not within `limit`. */
  readonly backendAckedAfterMs: number | null;
}

/**
 * A takeover in the middle of a download (the mirrored `state`) after the
 * backend, in RTO backoff, retransmitted `bytes` at the mirrored RCV.NXT
 * into the dead interval: the frame reaches the heir while another member
 * (the dead one) still owns the bucket. Then the heir acquires the bucket,
 * its records are acknowledged at once, the client ACKs what it gets, and we
 * watch for `limit` ms whether the backend gets an ACK of new data — nothing
 * more comes from the backend (its next retransmission is seconds away).
 * With `lapse`, the heir's owned set is empty from `fromMs` to `toMs` after
 * the takeover (what it sends meanwhile is dropped).
 */
export function overheardTakeover(state: Uint8Array, recovery: Recovery, bytes = 1000, limit = 200, lapse?: { readonly fromMs: number; readonly toMs: number }): OverheardTakeover {
  const s = decodeCtcpSnapshot(state);
  const b = s.backend.tcp;
  if (!b) throw new Error("overheardTakeover: the state has no backend leg");
  const rids: number[] = [];
  const node = new CtcpNode(nodeConfig(1, recovery, testConfig(), seededRandom("overheard"), null, true), {
    replicate: () => {
      rids.push(rids.length + 1);
      return { ok: true, rid: rids.length };
    },
    closeConnection: () => {},
  });
  node.link.arp.insert(CLIENT, CLIENT_MAC, 0);
  node.link.arp.insert(BACKEND, BACKEND_MAC, 0);
  const backend = new EtherLink(hostLink(BACKEND, BACKEND_MAC));
  backend.arp.insert(VIP, VMAC, 0);
  // The client acknowledges whatever it gets (a kernel would; its answers wake nothing here otherwise).
  const client = new EtherLink(hostLink(CLIENT, CLIENT_MAC));
  client.arp.insert(VIP, VMAC, 0);
  const bucket = bucketOf({ address: ipv4ToString(CLIENT), port: s.client.tuple.remotePort }, { address: ipv4ToString(VIP), port: 443 });
  // The backend's retransmission in the dead interval, 500 ms before the takeover: the heir owns nothing yet.
  backend.sendTcp(VIP, { srcPort: BACKEND_PORT, dstPort: b.tuple.localPort, seq: b.rcvNxt, ack: b.sndNxt, flags: ACK, window: 65535, urgent: 0, options: {}, payload: streamBytes(7, 0, bytes) }, 500);
  for (const f of backend.drain().frames) node.onFrame(f, 500);
  node.drain();
  node.bucketAcquired(bucket, [{ connId: 1, state }], 1000);
  const restoredAtTakeover = node.stats.restored.eager + node.stats.restored["on-packet"];
  let acked = 0;
  let backendAckedAfterMs: number | null = null;
  for (let i = 0; i <= limit && backendAckedAfterMs === null; i++) {
    const now = 1000 + i;
    // The owned set lapsing for a moment (a map change, node.ts setBuckets): output meanwhile is dropped.
    if (lapse && i === lapse.fromMs) node.setBuckets([], now);
    if (lapse && i === lapse.toMs) node.setBuckets([bucket], now);
    while (acked < rids.length) node.replicated(rids[acked++]!, now);
    const t = node.nextTimeout();
    if (t !== null && t <= now) node.onTimer(now);
    for (const f of node.drain().frames) {
      backend.onFrame(f, now);
      client.onFrame(f, now);
    }
    for (const r of backend.drain().received) {
      if (r.segment.flags & ACK && seqGt(r.segment.ack, b.rcvNxt)) backendAckedAfterMs = i;
    }
    for (const r of client.drain().received) {
      const g = r.segment;
      if (g.payload.length === 0) continue;
      client.sendTcp(VIP, { srcPort: g.dstPort, dstPort: g.srcPort, seq: s.client.rcvNxt, ack: (g.seq + g.payload.length) >>> 0, flags: ACK, window: 65535, urgent: 0, options: {}, payload: new Uint8Array(0) }, now);
    }
    for (const f of client.drain().frames) node.onFrame(f, now);
  }
  return { restoredAtTakeover, fed: node.stats.overheardFed, backendAckedAfterMs };
}

function hostLink(ip: number, mac: Mac): LinkConfig {
  return { ...DEFAULT_LINK_CONFIG, mac, ip, arpMac: mac, clusterMacs: [], answerArp: true, arpRetryMs: 200 };
}

function min(ts: readonly (number | null)[]): number | null {
  let t: number | null = null;
  for (const x of ts) if (x !== null && (t === null || x < t)) t = x;
  return t;
}

// --- crash sweeps (the tests and the opt-in soak) ------------------------------------------

export const SCENARIOS: Record<string, readonly ConnSpec[]> = {
  /** Full handshake, a request, a 60 KB answer (four records pre-written and in flight). */
  full: [{ upload: 1500, download: 60_000, resume: false }],
  /** A first connection, then one resuming its session: the crash is in the second. */
  resumed: [{ upload: 300, download: 3000, resume: false }, { upload: 1500, download: 40_000, resume: true }],
  /** A 40 KB upload in 16 KB records: the client's slow start cannot fill a record, so partial ACKs (§5.5). */
  upload: [{ upload: 40_000, download: 2000, resume: false }],
  /** The backend answers 30 KB and closes first: its FIN is held until clustered, the relay sends close_notify. */
  "backend-close": [{ upload: 1500, download: 30_000, resume: false, backendCloses: true }],
};

export interface Tally {
  runs: number;
  crashed: number;
  phases: Record<Phase, number>;
  restored: { eager: number; "on-packet": number; sweep: number };
  partialAcks: number;
  resumed: number;
  failures: string[];
}

export function newTally(): Tally {
  return { runs: 0, crashed: 0, phases: { connect: 0, handshake: 0, c2s: 0, s2c: 0, close: 0 }, restored: { eager: 0, "on-packet": 0, sweep: 0 }, partialAcks: 0, resumed: 0, failures: [] };
}

export function check(r: SimResult, what: string, t: Tally, expectResumed = false): void {
  t.runs++;
  if (r.crashed) t.crashed++;
  if (r.crashPhase) t.phases[r.crashPhase]++;
  for (const k of ["eager", "on-packet", "sweep"] as const) t.restored[k] += r.restored[k];
  t.partialAcks += r.partialAcks;
  if (r.conns[r.conns.length - 1]?.resumed) t.resumed++;
  const bad = r.conns.find((c) => !c.ok);
  if (bad) t.failures.push(`${what}: ${bad.why}`);
  else if (expectResumed && !r.conns[r.conns.length - 1]!.resumed) t.failures.push(`${what}: the session was not resumed`);
  else if (r.resetsSeen > 0) t.failures.push(`${what}: ${r.resetsSeen} RSTs on the wire`);
  else if (r.tooLarge > 0) t.failures.push(`${what}: ${r.tooLarge} records larger than a replication datagram`);
}

export const PHASES: readonly Phase[] = ["connect", "handshake", "c2s", "s2c", "close"];

/**
 * Crash points: a probe run without a crash counts the owner's inputs in
 * each phase; `perPhase` points are spread over each phase's inputs (or
 * every input of the phase when it has fewer). A point is "the n-th input
 * after the client entered the phase", so it lands in its phase even when
 * loss makes a run longer than the probe.
 */
export function crashPoints(probe: SimResult, perPhase: number, rng: () => number): { phase: Phase; nth: number }[] {
  const starts = PHASES.map((p) => [p, probe.phaseStarts[p]] as const).filter((x): x is readonly [Phase, number] => x[1] !== undefined).sort((a, b) => a[1] - b[1]);
  const out: { phase: Phase; nth: number }[] = [];
  starts.forEach(([phase, start], i) => {
    const len = (i + 1 < starts.length ? starts[i + 1]![1] : probe.ownerInputs) - start;
    if (len <= 0) return;
    if (perPhase >= len) for (let n = 1; n <= len; n++) out.push({ phase, nth: n });
    else for (let j = 0; j < perPhase; j++) out.push({ phase, nth: 1 + Math.floor(((j + rng()) * len) / perPhase) });
  });
  return out;
}

/** The real wire's timings: mirror acks of 5-40 ms, the RSA decryption in a worker (asynchronous, 2-30 ms). */
export interface WireTimings {
  readonly clusterDelayMs: number;
  readonly rsaDelayMs: number;
}

export async function crashSweep(name: string, recovery: Recovery, perPhase: number, seed: number, t: Tally, batchTurns = true, timings?: WireTimings, phases: readonly Phase[] = PHASES): Promise<void> {
  const rng = xorshift32(seed);
  const conns = SCENARIOS[name]!;
  const rsa = timings ? { rsaDelayMs: timings.rsaDelayMs } : {};
  const probe = await runSim({ seed, loss: 0, latencyMs: 1, jitterMs: 0, recovery, conns, batchTurns, ...rsa, ...(timings && { clusterDelayMs: timings.clusterDelayMs }) });
  const resume = conns[conns.length - 1]!.resume;
  check(probe, `${name}/${recovery} probe`, t, resume);
  const inputs = probe.ownerInputs;
  for (const k of crashPoints(probe, perPhase, rng)) {
    const s = Math.floor(rng() * 0x7fffffff) + 1;
    const loss = Math.round(rng() * 100) / 1000;
    const jitterMs = Math.floor(rng() * 6);
    const drawn = Math.round((0.5 + rng() * 2) * 100) / 100;
    if (!phases.includes(k.phase)) continue;
    const clusterDelayMs = timings ? timings.clusterDelayMs : drawn;
    const r = await runSim({ seed: s, loss, latencyMs: 1, jitterMs, recovery, conns, crashAt: k, clusterDelayMs, clusterLoss: 0.05, batchTurns, ...rsa });
    check(r, `${name}/${recovery} seed=${s} loss=${loss} jitter=${jitterMs} clusterDelayMs=${clusterDelayMs}${timings ? ` rsaDelayMs=${timings.rsaDelayMs}` : ""} crashAt=${k.phase}#${k.nth} (probe: ${inputs} inputs)`, t, resume);
  }
}

export function runSim(opts: SimOptions): Promise<SimResult> {
  return new Sim(opts).run();
}

// --- throughput in simulated time (docs/ctcp.md "Throughput") --------------------------------

export interface ThroughputRun {
  readonly direction: "down" | "up";
  readonly bytes: number;
  /** Mean mirror round trip (record out → its ack), ms. */
  readonly mirrorRttMs: number;
  readonly linkRttMs: number;
  /** The nodes' leg window (TcpConfig.rcvBuffer). */
  readonly window: number;
  readonly ok: boolean;
  /** Simulated ms from the first to the last byte of the transfer. */
  readonly ms: number;
  /** MB/s (10^6 bytes) in simulated time. */
  readonly mbps: number;
  /**
   * What the window allows when records pipeline: a backend byte is held for
   * two mirror round trips and both legs' RTT before its ACK (download), a
   * client byte for one mirror round trip and the RTTs (upload).
   */
  readonly boundMbps: number;
}

/** One transfer without a crash or loss; the mirrors ack after `mirrorRttMs` on average (uniform ±50 %). */
export async function measureThroughput(direction: "down" | "up", bytes: number, mirrorRttMs: number, window: number, linkOneWayMs = 1, seed = 1): Promise<ThroughputRun> {
  const conns = [direction === "down" ? { upload: 1500, download: bytes, resume: false } : { upload: bytes, download: 2000, resume: false }];
  const r = await runSim({ seed, loss: 0, latencyMs: linkOneWayMs, jitterMs: 0, recovery: "eager", conns, clusterDelayMs: mirrorRttMs / 2, nodeRcvBuffer: window, maxTimeMs: 600_000 });
  const p = r.phaseTimes;
  // The download runs from the first answer byte to the last; the upload from the request's start to the first answer byte.
  const from = direction === "down" ? p.s2c : p.c2s;
  const to = direction === "down" ? p.close : p.s2c;
  const ms = from !== undefined && to !== undefined ? to - from : NaN;
  const linkRttMs = 2 * linkOneWayMs;
  const held = direction === "down" ? 2 * mirrorRttMs + 2 * linkRttMs : mirrorRttMs + 2 * linkRttMs;
  return { direction, bytes, mirrorRttMs, linkRttMs, window, ok: r.conns[0]!.ok, ms, mbps: bytes / ms / 1000, boundMbps: window / held / 1000 };
}
