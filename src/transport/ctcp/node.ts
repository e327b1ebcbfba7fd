// A clustered-TCP node, sans I/O (STYLE.md §1): the whole data path of one
// cluster member on the shared wire — link, fingered listener, relayed
// connections, takeover — with frames, time and the replication channel as
// its only contact with the world. The shell (a UDP socket to socat/TAP, the
// daemon's `--transport ctcp`) or the simulator drives it.
//
// API (everything else is internal):
//
//   in   onFrame(frame, now)                     one Ethernet frame from the wire
//        onTimer(now)                            at nextTimeout()
//        replicated(rid, now)                    the mirrors hold record rid (ClusterNode event "replicated")
//        bucketAcquired(bucket, entries, now)    takeover (ClusterNode event "bucketAcquired"): restore the mirrored connections
//        bucketLost(bucket)                      stop acting for the bucket (ClusterNode event "bucketLost")
//        setBuckets(buckets, now) / setMaster(on) the map; the master answers ARP for the VIP and announces it
//        stopAccepting()                         drain: new SYNs on the listen port get a RST, live connections go on
//        rsaDone(connId, id, premaster, now)     answer to an "rsa" event (the RSA pool)
//        endOfTurn(now)                          with `batchTurns`: the shell's turn ended (the input of the turn goes to the relays)
//   out  drain() → { frames, events }            frames for the wire; rsa / handshake-complete / closed / restored / done
//        nextTimeout() → ms | null
//        replicator.replicate(connId, bucket, bytes, now) → { ok, rid }   = ClusterNode.replicate (docs/cluster-protocol.md §10.1)
//        replicator.closeConnection(connId)                                = ClusterNode.closeConnection
//   mirrors fold the replicated bytes with `foldCtcp` (record.ts) — the ClusterNode's `fold` option.
//
// Dispatch (SSLACC §3.2, §4.2): every node sees every frame for the VIP; a
// segment's 4-tuple hashes to one of the 1024 buckets (src/node/buckets.ts,
// the same hash as the kernel transport), and only the bucket's owner
// answers. There it goes to the connection holding that tuple (client leg or
// backend leg), else to a dormant taken-over connection (selective
// recovery), else to the stateless listener.
//
// Takeover (SSLACC §3.1, §4.8): `eager` re-instantiates every mirrored
// connection of an acquired bucket at once — each restored leg sends one
// immediate ACK so the peers retransmit without waiting for their RTO.
// `selective` (selective partial recovery) keeps the mirrored state dormant
// and restores a connection only when its first packet arrives; connections
// where neither peer will speak (e.g. a client waiting for our flight) are
// restored by a sweep after `selectiveSweepMs`, so none is lost.
// `selective-probe` is selective with one keep-alive probe per taken-over
// connection to its client (RFC 9293 §3.8.4: SEG.SEQ = SND.NXT − 1, built
// from the mirrored checkpoint without instantiating anything), which the
// client must answer with an ACK: that answer is the first packet that
// restores the connection. Without it a download waits for a peer's
// retransmission timer, backed off since the kill (docs/ctcp.md
// "Recovery measured on the client"). For 2·MSL after a takeover the bucket
// never answers with a RST (§4.6).
//
// Overheard retransmissions: a peer whose node died retransmits into the
// dead interval (its RTO fires ~200 ms after the kill, then backs off: 0.6,
// 1.5, 3.3 s ...). Every member sees those frames (§3.2) and, not owning the
// bucket, must not answer them — but it keeps the last data segments per
// 4-tuple (bounded), and a connection restored here is fed them at once.
// Without that the restore's ACK repeats what the peer already had (a
// duplicate ACK, which a sender in RTO recovery ignores: RFC 5681 §3.2,
// RFC 6298 §5) and the connection waits for the peer's next backed-off
// retransmission — the 0.9-7.7 s recoveries of docs/ctcp.md. Fed the
// overheard segment, the restored relay acknowledges it through a record
// (§5.5 partial ACK), and an ACK of new data ends the peer's backoff.
// Feeding input acknowledges nothing by itself (the Second Law holds).
// Selective recovery treats an overheard segment as the connection's first
// packet: it is restored at the takeover.
import { bucketOf, BUCKETS, SourcePorts } from "../../node/buckets.js";
import type { RelayOptions } from "../../relay/relay.js";
import type { TlsServerConfig } from "../../tls/config.js";
import type { EngineDeps } from "../../tls/server.js";
import { EtherLink, type LinkConfig, type LinkDrops, type TcpIn } from "../ether/link.js";
import type { TcpCheckpoint } from "../tcp/checkpoint.js";
import type { TcpConfig } from "../tcp/connection.js";
import { ipv4ToString } from "../tcp/ipv4.js";
import { listen, type ListenDropReason } from "../tcp/listener.js";
import { ACK, FIN, RST, SYN, type TcpSegment } from "../tcp/segment.js";
import { checkFinger } from "../tcp/finger.js";
import { seqAdd, seqDiff, seqGt } from "../tcp/seq.js";
import { tupleKey, type FourTuple } from "../tcp/tuple.js";
import { decodeCtcpSnapshot, encodeCtcpRecord, peekCtcpTuples, type CtcpSnapshot } from "./record.js";
import { RelayedConnection, type ConnDebug, type ConnEnv } from "./relayed.js";

export type Recovery = "eager" | "selective" | "selective-probe";

/**
 * Receive window of a relayed leg (TcpConfig.rcvBuffer), bytes. Withheld
 * bytes count against it (§4.6), and a backend byte is acknowledged only
 * after two mirror round trips (its record before it may go to the client,
 * then the checkpoint saying the client has it), so a download moves at most
 * window / (2·mirror RTT + both legs' RTT); an upload window / (mirror RTT +
 * RTTs). 256 KB gave 1.3 MB/s at a 100 ms mirror RTT (docs/ctcp.md
 * "Throughput"). The price is memory: up to about twice this per connection
 * (kept input, unacknowledged output).
 */
export const CTCP_LEG_WINDOW = 1 << 20;

/** Overheard data segments kept per 4-tuple (the peer's latest retransmission is the last one). */
const OVERHEARD_PER_TUPLE = 2;
/** 4-tuples with overheard segments kept, least recently heard dropped first (~3 KB each at most). */
const OVERHEARD_TUPLES = 1024;
/** Overheard segments older than this at a takeover are not fed (a dead interval plus a takeover is well within). */
const OVERHEARD_MAX_AGE_MS = 5_000;

export interface CtcpNodeConfig {
  /** Cluster member id (1..65534): connection ids are nodeId·2^32 + n, unique in the cluster. */
  readonly nodeId: number;
  /**
   * The first n (mod 2^32; default 0). A restarted member must not reuse an
   * id its previous incarnation gave a connection the cluster still holds
   * (mirrors keep a connection's state until its TIME_WAIT ends, 2·MSL): the
   * same id from two owners folds one's records onto the other's state,
   * and a takeover then finds neither. The daemon passes its start time in
   * ms: a later incarnation starts Δ ms higher, beyond every id the earlier
   * one used as long as it accepted fewer than one connection per ms.
   */
  readonly connIdStart?: number;
  readonly link: LinkConfig;
  readonly tcp: TcpConfig;
  readonly tls: TlsServerConfig;
  readonly engine: EngineDeps;
  readonly relay?: RelayOptions;
  /** The TLS port on the VIP. */
  readonly listenPort: number;
  readonly backend: { readonly addr: number; readonly port: number };
  readonly recovery: Recovery;
  /** Selective recovery: restore what is still dormant this long after a takeover. */
  readonly selectiveSweepMs: number;
  /** Floor of the §5.5 partial-ACK timers. */
  readonly minPartialMs?: number;
  /**
   * The shell calls endOfTurn(now) after a burst of inputs (e.g. every UDP
   * datagram one event-loop turn delivered): each connection's input of the
   * turn reaches its relay as one step — full TLS records, one record to
   * replicate — instead of one step per segment. Off: every input is a turn.
   */
  readonly batchTurns?: boolean;
}

/** Shaped as ClusterNode.replicate's result (src/cluster/cluster-node.ts). */
export type ReplicateResult = { readonly ok: true; readonly rid: number } | { readonly ok: false; readonly reason: string };

/** The replication channel: in the daemon the ClusterNode, in the simulator a mirror store. */
export interface Replicator {
  replicate(connId: number, bucket: number, state: Uint8Array, now: number): ReplicateResult;
  closeConnection(connId: number): void;
}

/** A mirrored connection handed over with a bucket (ClusterNode Entry: connId + folded state). */
export interface MirroredEntry {
  readonly connId: number;
  readonly state: Uint8Array;
}

export type RestoreHow = "eager" | "on-packet" | "sweep";

export type CtcpEvent =
  | { readonly kind: "rsa"; readonly connId: number; readonly id: number; readonly keyId: string; readonly ciphertext: Uint8Array; readonly clientVersion: number; readonly random46: Uint8Array }
  | { readonly kind: "handshake-complete"; readonly connId: number; readonly resumed: boolean }
  | { readonly kind: "closed"; readonly connId: number; readonly reason: string; readonly alert?: string; readonly detail?: string }
  | { readonly kind: "restored"; readonly connId: number; readonly how: RestoreHow }
  /** Both legs closed: the mirrored state was released. */
  | { readonly kind: "done"; readonly connId: number }
  /** The connection was dropped on an internal error (logged by the shell; the node goes on). */
  | { readonly kind: "failed"; readonly connId: number; readonly message: string };

/** not-owner-out: a segment of a connection whose bucket this node does not own now, not sent. */
export type NodeDropReason = "not-owner" | "not-owner-out" | "no-connection" | `listen-${ListenDropReason}`;

export interface NodeStats {
  accepted: number;
  restored: Record<RestoreHow, number>;
  /** Keep-alive probes sent to the clients of dormant connections (selective-probe recovery). */
  probes: number;
  /** Overheard segments (peers' data for buckets another member owned) fed to a connection restored here. */
  overheardFed: number;
  /** Mirrored entries that could not be decoded (counted, skipped). */
  badEntries: number;
  records: number;
  /** Records the replication channel refused, by reason (the connection retries and acknowledges nothing new meanwhile). */
  recordsRefused: Record<string, number>;
  partialAcks: number;
  /** Forward ACKs accepted after a restore (§4.6): the peer held bytes the dead owner sent. */
  forwardAcks: number;
  /** Buckets acquired with their mirrored connections (ClusterNode "bucketAcquired"). */
  takeovers: number;
  synAcks: number;
  /** SYNs that opened a new connection on the 4-tuple of an older one whose client leg was over (a client reusing its port). */
  reopened: number;
  resets: number;
  /** Connections dropped on an internal error. */
  failures: number;
  /** The last such error's message (status pages). */
  lastFailure: string | null;
}

interface Route {
  readonly conn: RelayedConnection;
  readonly side: "client" | "backend";
}

interface Overheard {
  at: number;
  readonly segments: TcpSegment[];
}

interface Dormant {
  readonly connId: number;
  readonly bucket: number;
  /** The encoded snapshot, decoded only on wake. */
  readonly state: Uint8Array;
  readonly keys: readonly string[];
}

export class CtcpNode {
  readonly link: EtherLink;
  readonly drops: Record<NodeDropReason, number> = {
    "not-owner": 0, "not-owner-out": 0, "no-connection": 0, "listen-rst": 0, "listen-no-ack": 0, "listen-bad-finger": 0, "listen-syn-with-ack": 0, "listen-closed": 0,
  };
  readonly stats: NodeStats = { accepted: 0, restored: { eager: 0, "on-packet": 0, sweep: 0 }, probes: 0, overheardFed: 0, badEntries: 0, records: 0, recordsRefused: {}, partialAcks: 0, forwardAcks: 0, takeovers: 0, synAcks: 0, reopened: 0, resets: 0, failures: 0, lastFailure: null };
  private readonly owned = new Uint8Array(BUCKETS);
  private readonly takenOverAt = new Float64Array(BUCKETS).fill(-Infinity);
  private readonly routes = new Map<string, Route>();
  private readonly conns = new Map<number, RelayedConnection>();
  /** Connections with input waiting for endOfTurn (batchTurns): the turn visits these, not every connection. */
  private readonly turnQueue = new Set<RelayedConnection>();
  /** When each connection's timer is due, as scheduled in `timers` (settle keeps both current). */
  private readonly dueAt = new Map<RelayedConnection, number>();
  private readonly timers = new TimerHeap();
  private readonly dormant = new Map<string, Dormant>();
  /** Peers' data segments for buckets another member owns, by 4-tuple key, least recently heard first. */
  private readonly overheard = new Map<string, Overheard>();
  /** Connections whose output was dropped because their bucket was not ours at that moment (setBuckets resends). */
  private readonly silenced = new Set<RelayedConnection>();
  private readonly rids = new Map<number, RelayedConnection>();
  private readonly ports: SourcePorts;
  private readonly usedPorts = new Set<number>();
  private readonly env: ConnEnv;
  private sweepAt: number | null = null;
  private draining = false;
  private nextConn = 0;
  private readonly connIdStart: number;
  private frames: Uint8Array[] = [];
  private events: CtcpEvent[] = [];

  constructor(private readonly cfg: CtcpNodeConfig, private readonly replicator: Replicator) {
    if (!Number.isInteger(cfg.nodeId) || cfg.nodeId < 1 || cfg.nodeId > 65534) throw new RangeError(`ctcp node: nodeId must be 1..65534, got ${cfg.nodeId}`);
    const start = cfg.connIdStart ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`ctcp node: connIdStart must be a non-negative integer, got ${start}`);
    this.connIdStart = start % 2 ** 32;
    this.link = new EtherLink(cfg.link);
    this.ports = new SourcePorts(ipv4ToString(cfg.link.ip), { address: ipv4ToString(cfg.backend.addr), port: cfg.backend.port });
    this.env = {
      // A FIN is acknowledged only once a record holds it (relayed.ts).
      tcp: { ...cfg.tcp, holdFinAck: true }, tls: cfg.tls, engine: cfg.engine, relay: cfg.relay ?? {}, vip: cfg.link.ip, backend: cfg.backend,
      minPartialMs: cfg.minPartialMs ?? 1,
      batchTurns: cfg.batchTurns ?? false,
      // Only the owner speaks for a bucket (§4.2), on output too: a connection of a bucket this node
      // does not own right now (its lease lapsed for a moment; a copy left behind) stays silent, or it
      // would answer for the real owner (seen: a stale copy retransmitting to a backend whose RSTs it
      // never heard — they were dropped as not-owner).
      send: (conn, dst, seg, now) => {
        if (this.owned[conn.bucket] === 1) {
          this.link.sendTcp(dst, seg, now);
          return;
        }
        this.drops["not-owner-out"]++;
        this.silenced.add(conn);
      },
      replicate: (conn, record, now) => {
        const r = this.replicator.replicate(conn.connId, conn.bucket, encodeCtcpRecord(record), now);
        if (!r.ok) {
          this.stats.recordsRefused[r.reason] = (this.stats.recordsRefused[r.reason] ?? 0) + 1;
          return null;
        }
        this.stats.records++;
        this.rids.set(r.rid, conn);
        return r.rid;
      },
      partialAcked: () => void this.stats.partialAcks++,
      forwardAcked: (n) => void (this.stats.forwardAcks += n),
      pickPort: (bucket, seed) => this.pickPort(bucket, seed),
      registerBackend: (conn, tuple) => {
        this.usedPorts.add(tuple.localPort);
        this.routes.set(tupleKey(tuple), { conn, side: "backend" });
      },
      notify: (conn, o) => {
        switch (o.kind) {
          case "rsa":
            this.events.push({ kind: "rsa", connId: conn.connId, id: o.id, keyId: o.keyId, ciphertext: o.ciphertext, clientVersion: o.clientVersion, random46: o.random46 });
            return;
          case "handshake-complete":
            this.events.push({ kind: "handshake-complete", connId: conn.connId, resumed: o.session.resumed });
            return;
          case "closed":
            this.events.push({ kind: "closed", connId: conn.connId, reason: o.reason, ...(o.alert !== undefined && { alert: o.alert }), ...(o.detail !== undefined && { detail: o.detail }) });
            return;
          case "session-invalidated":
            return;
          default:
            exhaustive(o);
        }
      },
    };
  }

  // --- the map -----------------------------------------------------------------------

  /**
   * The buckets this member may act for now. A connection whose output was
   * dropped while its bucket was not ours (the owned set can lapse for a
   * moment, e.g. while a peer announces a newer map) sends it again as soon
   * as the bucket is ours: otherwise the dropped segments wait for the
   * retransmission timer — 1 s for a restored connection without an RTT
   * sample (RFC 6298 §2.1), seen as ~1 s recoveries after a takeover.
   */
  setBuckets(buckets: Iterable<number>, now: number): void {
    this.owned.fill(0);
    for (const b of buckets) this.owned[checkBucket(b)] = 1;
    for (const c of [...this.silenced]) {
      if (this.owned[c.bucket] !== 1) continue;
      this.silenced.delete(c);
      if (this.conns.get(c.connId) === c) this.guard(c, () => c.resend(now));
    }
    this.collect(now);
  }

  owns(bucket: number): boolean {
    return this.owned[bucket] === 1;
  }

  /** The master answers ARP for the VIP (and announces it on becoming master: RFC 5227 §3). */
  setMaster(on: boolean): void {
    const was = this.link.answersArp;
    this.link.setAnswerArp(on);
    if (on && !was) this.link.announce();
    this.collect(0);
  }

  /** Takeover of `bucket` with the mirrored connections the replication layer hands over. */
  bucketAcquired(bucket: number, entries: readonly MirroredEntry[], now: number): void {
    this.owned[checkBucket(bucket)] = 1;
    this.takenOverAt[bucket] = now;
    this.stats.takeovers++;
    for (const e of entries) {
      if (this.conns.has(e.connId)) continue;
      if (this.cfg.recovery === "eager") {
        const snapshot = this.decode(e.state);
        if (snapshot) this.restore(e.connId, bucket, snapshot, "eager", now);
        continue;
      }
      let peek: ReturnType<typeof peekCtcpTuples>;
      try {
        peek = peekCtcpTuples(e.state);
      } catch {
        this.stats.badEntries++;
        continue;
      }
      const keys = [tupleKey(peek.client)];
      if (peek.backendPort !== 0) keys.push(tupleKey(this.backendTuple(peek.backendPort)));
      const d: Dormant = { connId: e.connId, bucket, state: e.state, keys };
      // A peer already spoke (overheard in the dead interval): that was its first packet.
      if (keys.some((k) => this.overheardAt(k, now))) {
        this.wake(d, "on-packet", now);
        continue;
      }
      for (const k of keys) this.dormant.set(k, d);
      if (this.cfg.recovery === "selective-probe") this.probe(peek.clientTcp, now);
    }
    if (this.cfg.recovery !== "eager" && this.dormant.size > 0) this.sweepAt ??= now + this.cfg.selectiveSweepMs;
    this.collect(now);
  }

  /** Another member acts for `bucket` now: forget its connections without a word on the wire. */
  bucketLost(bucket: number): void {
    this.owned[checkBucket(bucket)] = 0;
    for (const [id, c] of this.conns) if (c.bucket === bucket) this.forget(id, c);
    for (const [k, d] of this.dormant) if (d.bucket === bucket) this.dormant.delete(k);
  }

  /**
   * Drain: the listen port takes no new connection (a SYN is answered with a
   * RST, as by a closed port); live connections go on until they close.
   */
  stopAccepting(): void {
    this.draining = true;
  }

  /** Connections whose relay still has work: neither leg is done (TIME_WAIT or CLOSED) yet. */
  get openConnections(): number {
    let n = 0;
    for (const c of this.conns.values()) if (!c.isFinished) n++;
    return n;
  }

  // --- inputs --------------------------------------------------------------------------

  onFrame(frame: Uint8Array, now: number): void {
    this.link.onFrame(frame, now);
    this.collect(now);
  }

  replicated(rid: number, now: number): void {
    const c = this.rids.get(rid);
    if (!c) return;
    this.rids.delete(rid);
    this.guard(c, () => c.replicated(rid, now));
    this.collect(now);
  }

  rsaDone(connId: number, id: number, premaster: Uint8Array, now: number): void {
    const c = this.conns.get(connId);
    if (!c) return;
    this.guard(c, () => c.rsaDone(id, premaster, now));
    this.collect(now);
  }

  /** End of the shell's turn (batchTurns): hand each connection's input of the turn to its relay. */
  endOfTurn(now: number): void {
    const due = [...this.turnQueue];
    this.turnQueue.clear();
    for (const c of due) if (c.turnPending) this.guard(c, () => c.flushTurn(now));
    this.collect(now);
  }

  nextTimeout(): number | null {
    let t = this.link.nextTimeout();
    for (const d of [this.sweepAt, this.earliestDue()]) {
      if (d !== null && (t === null || d < t)) t = d;
    }
    return t;
  }

  onTimer(now: number): void {
    const lt = this.link.nextTimeout();
    if (lt !== null && lt <= now) this.link.onTimer(now);
    const due: RelayedConnection[] = [];
    for (let t = this.earliestDue(); t !== null && t <= now; t = this.earliestDue()) {
      const c = this.timers.pop()!.conn;
      this.dueAt.delete(c); // settle schedules it again
      due.push(c);
    }
    for (const c of due) if (this.conns.get(c.connId) === c) this.guard(c, () => c.onTimer(now));
    if (this.sweepAt !== null && this.sweepAt <= now) {
      this.sweepAt = null;
      for (const d of new Set(this.dormant.values())) this.wake(d, "sweep", now);
    }
    this.collect(now);
  }

  drain(): { frames: Uint8Array[]; events: CtcpEvent[] } {
    const out = { frames: this.frames, events: this.events };
    this.frames = [];
    this.events = [];
    return out;
  }

  /** Live (restored or accepted) connections and dormant ones. */
  get connectionCount(): { live: number; dormant: number } {
    return { live: this.conns.size, dormant: new Set(this.dormant.values()).size };
  }

  /** The `max` newest live connections with both legs' pointers and the relay's offsets (the daemon's /status). */
  connectionsDebug(max: number): ConnDebug[] {
    return Array.from(this.conns.values()).slice(-max).map((c) => c.debug);
  }

  get linkDrops(): LinkDrops {
    return this.link.drops;
  }

  // --- dispatch ----------------------------------------------------------------------

  /** Runs what the link received and moves its frames to our output. */
  private collect(now: number): void {
    for (let guard = 0; guard < 1000; guard++) {
      const out = this.link.drain();
      for (const f of out.frames) this.frames.push(f);
      for (const r of out.received) this.dispatch(r, now);
      if (out.frames.length === 0 && out.received.length === 0) return;
    }
  }

  private dispatch(r: TcpIn, now: number): void {
    const seg = r.segment;
    const tuple: FourTuple = { localAddr: r.dst, localPort: seg.dstPort, remoteAddr: r.src, remotePort: seg.srcPort };
    const bucket = bucketOf({ address: ipv4ToString(r.src), port: seg.srcPort }, { address: ipv4ToString(r.dst), port: seg.dstPort });
    if (this.owned[bucket] !== 1) {
      this.drops["not-owner"]++;
      if (seg.payload.length > 0 || seg.flags & FIN) this.overhear(tupleKey(tuple), seg, now);
      return;
    }
    const key = tupleKey(tuple);
    let route = this.routes.get(key);
    if (!route) {
      const d = this.dormant.get(key);
      if (d) {
        this.wake(d, "on-packet", now);
        route = this.routes.get(key);
      }
    }
    if (route && route.side === "client" && (this.newIncarnation(route.conn, seg) || this.firstOfNewer(route.conn, tuple, seg))) {
      // The client starts a new connection from the same port: the old one lets go of the tuple.
      this.stats.reopened++;
      this.releaseClient(route.conn);
      route = undefined;
    }
    if (route) {
      const c = route.conn;
      this.guard(c, () => (route.side === "client" ? c.onClientSegment(seg, now) : c.onBackendSegment(seg, now)));
      return;
    }
    this.listen(tuple, bucket, seg, r.src, now);
  }

  /**
   * A SYN (no ACK) on the 4-tuple of a connection whose client leg is over:
   * CLOSED (reset, timed out), or TIME_WAIT with the SYN beyond everything
   * the old incarnation received (RFC 9293 §3.10.7.4 and RFC 1122
   * §4.2.2.13: a TIME-WAIT connection may accept a new SYN; RFC 6191 §2's
   * test without timestamps). Clients reuse ports: Linux after its 60 s
   * TIME_WAIT, while the cluster keeps a connection 2·MSL (§4.10, node.ts
   * settle) and a takeover restores it — seen on the real wire as a curl
   * whose SYNs went to the previous incarnation for ever ("Connection timed
   * out", docs/ctcp.md "Port reuse after a takeover"). In the other states
   * the SYN gets the engine's challenge ACK (RFC 5961 §4): a live client
   * answers it with the exact RST, which ends the old leg, and its next SYN
   * comes here.
   */
  private newIncarnation(c: RelayedConnection, seg: TcpSegment): boolean {
    if ((seg.flags & (SYN | ACK | RST)) !== SYN) return false;
    const leg = c.client.tcp;
    if (leg.state === "CLOSED") return true;
    return leg.state === "TIME_WAIT" && seqGt(seg.seq, leg.rcvNxt);
  }

  /**
   * The client's first segment after a fingered handshake (§4.2) of a newer
   * incarnation of this tuple, arriving at an older connection the cluster
   * still holds: its finger is valid for (SEG.SEQ − 1, SEG.ACK − 1) and that
   * ISN is not the old connection's. The client's kernel has one socket per
   * 4-tuple, so the old connection is over on its side. Seen on the real
   * wire (selective recovery, hs-kill --fixed-ports): a port reused while
   * the mirrors still held its previous connection, the new one's owner
   * killed before its first checkpoint — the heir restored the old
   * connection (in LAST_ACK), which took the client's retransmitted
   * ClientHello as out-of-window data for ever. The MAC runs only for a
   * segment far from the old connection's receive point: its own segments
   * are within a window of it.
   */
  private firstOfNewer(c: RelayedConnection, tuple: FourTuple, seg: TcpSegment): boolean {
    if ((seg.flags & (SYN | ACK | RST)) !== ACK) return false;
    const leg = c.client.tcp;
    const irs = seqAdd(seg.seq, -1);
    if (irs === leg.irs || Math.abs(seqDiff(seg.seq, leg.rcvAppack)) <= this.env.tcp.rcvBuffer) return false;
    return checkFinger(this.env.tcp.fingerMac, tuple, irs, seqAdd(seg.ack, -1)) !== null;
  }

  /** The client tuple goes to the listener; a connection with nothing left to do is released (its mirrored state too). */
  private releaseClient(c: RelayedConnection): void {
    c.detachClient();
    this.routes.delete(tupleKey(c.client.tcp.tuple));
    if (c.isFinished) this.retire(c);
  }

  private listen(tuple: FourTuple, bucket: number, seg: TcpSegment, src: number, now: number): void {
    const synAck = (seg.flags & (SYN | ACK)) === (SYN | ACK);
    if (tuple.localPort !== this.cfg.listenPort && !synAck) {
      this.drops["no-connection"]++;
      return;
    }
    // §4.6: no RST for 2·MSL in a bucket taken over (state may still be on its way).
    const suppressRst = now < this.takenOverAt[bucket]! + 2 * this.cfg.tcp.mslMs;
    const res = listen(this.env.tcp, tuple, seg, now, { suppressRst, closed: this.draining && tuple.localPort === this.cfg.listenPort });
    switch (res.kind) {
      case "syn-ack":
        this.stats.synAcks++;
        this.link.sendTcp(src, res.segment, now);
        return;
      case "rst":
        this.stats.resets++;
        this.link.sendTcp(src, res.segment, now);
        return;
      case "drop":
        this.drops[`listen-${res.reason}`]++;
        return;
      case "accept": {
        const connId = this.cfg.nodeId * 2 ** 32 + ((this.connIdStart + ++this.nextConn) % 2 ** 32);
        this.stats.accepted++;
        let c: RelayedConnection;
        try {
          c = RelayedConnection.accept(this.env, connId, bucket, res.connection, now);
        } catch (e) {
          this.failed(connId, e);
          return;
        }
        this.conns.set(connId, c);
        this.routes.set(tupleKey(tuple), { conn: c, side: "client" });
        this.settle(c);
        return;
      }
      default:
        exhaustive(res);
    }
  }

  // --- takeover ----------------------------------------------------------------------

  /** Keep a peer's data segment for a bucket we do not own (the header: overheard retransmissions). */
  private overhear(key: string, seg: TcpSegment, now: number): void {
    const o = this.overheard.get(key) ?? { at: now, segments: [] };
    this.overheard.delete(key); // re-inserted below: the Map's order is least recently heard first
    o.at = now;
    o.segments.push(seg);
    if (o.segments.length > OVERHEARD_PER_TUPLE) o.segments.shift();
    this.overheard.set(key, o);
    if (this.overheard.size > OVERHEARD_TUPLES) this.overheard.delete(this.overheard.keys().next().value!);
  }

  /** Whether a recent overheard segment waits for `key`. */
  private overheardAt(key: string, now: number): boolean {
    const o = this.overheard.get(key);
    return o !== undefined && now - o.at <= OVERHEARD_MAX_AGE_MS;
  }

  /** Feed a restored connection what its peers sent while no one owned it, in the order heard. */
  private replayOverheard(c: RelayedConnection, now: number): void {
    const legs: [string, "client" | "backend"][] = [[tupleKey(c.client.tcp.tuple), "client"]];
    if (c.backend) legs.push([tupleKey(c.backend.tcp.tuple), "backend"]);
    for (const [key, side] of legs) {
      const o = this.overheard.get(key);
      if (!o) continue;
      this.overheard.delete(key);
      if (now - o.at > OVERHEARD_MAX_AGE_MS) continue;
      for (const seg of o.segments) {
        if (!this.conns.has(c.connId)) return; // it failed or closed on the way
        this.stats.overheardFed++;
        this.guard(c, () => (side === "client" ? c.onClientSegment(seg, now) : c.onBackendSegment(seg, now)));
      }
    }
  }

  /**
   * A keep-alive probe to the client of a dormant connection (RFC 9293
   * §3.8.4, RFC 1122 §4.2.3.6): SEG.SEQ = the mirrored SND.NXT − 1, a byte
   * the client already has, so the segment is outside its window and it
   * answers with an ACK of its RCV.NXT (RFC 9293 §3.10.7.4) — the packet that
   * wakes the connection. The ACK field is the mirrored RCV.NXT: no byte
   * the cluster has not clustered is acknowledged (§4.6).
   */
  private probe(cp: TcpCheckpoint, now: number): void {
    this.stats.probes++;
    this.link.sendTcp(cp.tuple.remoteAddr, {
      srcPort: cp.tuple.localPort,
      dstPort: cp.tuple.remotePort,
      seq: (cp.sndNxt - 1) >>> 0,
      ack: cp.rcvNxt >>> 0,
      flags: ACK,
      window: Math.min(0xffff, this.cfg.tcp.rcvBuffer >>> cp.rcvWscale),
      urgent: 0,
      options: {},
      payload: new Uint8Array(0),
    }, now);
  }

  private restore(connId: number, bucket: number, s: CtcpSnapshot, how: RestoreHow, now: number): void {
    this.stats.restored[how]++;
    this.events.push({ kind: "restored", connId, how });
    let c: RelayedConnection;
    try {
      c = RelayedConnection.restore(this.env, connId, bucket, s, now);
    } catch (e) {
      // A snapshot the relay or the engines refuse: that connection is lost, the others go on.
      this.stats.badEntries++;
      this.failed(connId, e);
      return;
    }
    this.conns.set(connId, c);
    this.routes.set(tupleKey(s.client.tuple), { conn: c, side: "client" });
    this.settle(c);
    if (this.conns.has(connId)) this.replayOverheard(c, now);
  }

  private wake(d: Dormant, how: RestoreHow, now: number): void {
    for (const k of d.keys) this.dormant.delete(k);
    const snapshot = this.decode(d.state);
    if (snapshot) this.restore(d.connId, d.bucket, snapshot, how, now);
  }

  /** A mirrored state, or null (counted) when it does not decode. */
  private decode(state: Uint8Array): CtcpSnapshot | null {
    try {
      return decodeCtcpSnapshot(state);
    } catch {
      this.stats.badEntries++;
      return null;
    }
  }

  private backendTuple(port: number): FourTuple {
    return { localAddr: this.cfg.link.ip, localPort: port, remoteAddr: this.cfg.backend.addr, remotePort: this.cfg.backend.port };
  }

  /**
   * §4.5: a source port whose backend 4-tuple falls in the connection's
   * bucket. The first free one from a position given by `seed` (the client's
   * ISN), so a node restarting the connect after a takeover picks the port
   * the dead node picked.
   */
  private pickPort(bucket: number, seed: number): number {
    const ports = this.ports.portsOf(bucket);
    if (ports.length === 0) throw new RangeError(`ctcp node: no source port maps to bucket ${bucket}`);
    for (let i = 0; i < ports.length; i++) {
      const p = ports[(seed + i) % ports.length]!;
      if (!this.usedPorts.has(p)) return p;
    }
    throw new RangeError(`ctcp node: every source port of bucket ${bucket} is in use`);
  }

  /**
   * One connection's input. An exception there is a bug or a state the
   * engines refuse (a gap in offsets, a corrupt snapshot): that connection
   * is dropped and reported, the node and its other connections go on.
   */
  private guard(c: RelayedConnection, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.forget(c.connId, c);
      this.replicator.closeConnection(c.connId);
      this.failed(c.connId, e);
      return;
    }
    this.settle(c);
  }

  private failed(connId: number, e: unknown): void {
    this.stats.failures++;
    const message = e instanceof Error ? e.message : String(e);
    this.stats.lastFailure = message;
    this.events.push({ kind: "failed", connId, message });
  }

  /** The earliest connection timer still current (entries superseded by a later settle are dropped here). */
  private earliestDue(): number | null {
    for (let top = this.timers.peek(); top !== undefined; top = this.timers.peek()) {
      if (this.dueAt.get(top.conn) === top.at) return top.at;
      this.timers.pop();
    }
    return null;
  }

  /**
   * After any work on a connection (every path ends here): queue its turn
   * and schedule its timer; once both legs are CLOSED (TIME_WAIT over)
   * retire it. Not earlier: in TIME_WAIT our last ACK of the peer's FIN may
   * be lost, and a node that takes over must still be able to answer the
   * retransmitted FIN (the restored relay is fed the kept close_notify and
   * closes again, §4.10).
   */
  private settle(c: RelayedConnection): void {
    if (c.isClosed) {
      this.retire(c);
      return;
    }
    if (c.turnPending) this.turnQueue.add(c);
    const at = c.nextTimeout();
    if (at === null) this.dueAt.delete(c);
    else if (this.dueAt.get(c) !== at) {
      this.dueAt.set(c, at);
      this.timers.push({ at, conn: c });
    }
  }

  /** The connection is over: forgotten here, its mirrored state released, the shell told. */
  private retire(c: RelayedConnection): void {
    this.forget(c.connId, c);
    this.replicator.closeConnection(c.connId);
    this.events.push({ kind: "done", connId: c.connId });
  }

  private forget(connId: number, c: RelayedConnection): void {
    this.silenced.delete(c);
    this.conns.delete(connId);
    this.turnQueue.delete(c);
    this.dueAt.delete(c);
    // A tuple may belong to a newer incarnation already (releaseClient).
    const drop = (t: FourTuple) => {
      const key = tupleKey(t);
      if (this.routes.get(key)?.conn === c) this.routes.delete(key);
    };
    drop(c.client.tcp.tuple);
    if (c.backend) {
      drop(c.backend.tcp.tuple);
      this.usedPorts.delete(c.backend.tcp.tuple.localPort);
    }
  }
}

function checkBucket(b: number): number {
  if (!Number.isInteger(b) || b < 0 || b >= BUCKETS) throw new RangeError(`ctcp node: bucket must be 0..${BUCKETS - 1}, got ${b}`);
  return b;
}

function exhaustive(x: never): never {
  throw new Error(`ctcp node bug: unhandled ${JSON.stringify(x)}`);
}

/**
 * A binary min-heap of connection timers by due time. Entries are never
 * removed or updated in place: a connection's new due time is a new entry,
 * and CtcpNode.earliestDue drops the ones its `dueAt` no longer names, so
 * each settle costs O(log n) and a turn no longer scans every connection.
 */
class TimerHeap {
  private readonly items: { readonly at: number; readonly conn: RelayedConnection }[] = [];

  peek(): { readonly at: number; readonly conn: RelayedConnection } | undefined {
    return this.items[0];
  }

  push(item: { readonly at: number; readonly conn: RelayedConnection }): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (a[up]!.at <= a[i]!.at) break;
      [a[up], a[i]] = [a[i]!, a[up]!];
      i = up;
    }
  }

  pop(): { readonly at: number; readonly conn: RelayedConnection } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.at < a[m]!.at) m = l;
        if (r < a.length && a[r]!.at < a[m]!.at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
