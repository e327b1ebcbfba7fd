// One relayed connection on clustered TCP: the client leg (accepted through
// the fingered listener), the backend leg (our active open), and the relay
// state machine (src/relay/relay.ts) between them, unchanged — this file is
// the transport adapter the relay's header promises ("the clustered-TCP
// engine will tomorrow").
//
//   client TcpConnection ─data(seq)→ offset → relay.clientData ─backend(off)→ backend TcpConnection.write
//   backend TcpConnection ─data(seq)→ offset → relay.backendData ─client(off)→ client TcpConnection.write
//   relay checkpoint ─┐
//   backend SYN-ACK ──┼→ CtcpRecord (record.ts) → replicate → replicated(rid) → stored / appAck / checkpointAcked
//   §5.5 timer ───────┘
//
// The relay works in stream offsets from 0; each leg maps them to sequence
// numbers (offset 0 = ISN + 1). The transport's acknowledgements, which the
// relay leaves to us:
//   * `clientAcked` / `backendAcked` when the peer's TCP ACK covers bytes
//     (clustered TCP acknowledges only what the peer really has);
//   * `stored(seq)` when the record holding the relay checkpoint is
//     replicated; the same record's TCP state then moves `rcv_appack` on both
//     legs (checkpointAcked): a peer's bytes are acknowledged only once the
//     checkpoint saying the relay consumed them is clustered (Second Law).
// The backend's ISN is the client's (§4.3, carried by the client TCP state
// in the first record, §5.3), its source port keeps the bucket (§4.5), and
// the ACK of its SYN-ACK waits for a record holding the backend's ISN.
//
// Partial ACKs (SSLACC §5.5): a leg whose peer sent part of a record and
// nothing downstream is in flight (no record being replicated, nothing
// unacknowledged on the other leg) cannot make progress by itself — the peer
// may be waiting for our ACK to send the rest (slow start, or after a
// takeover the retransmission of one segment at a time). After 2·IAT (IAT:
// the estimated interarrival time of the leg's data segments) we cluster the
// bytes read so far (the record's `kept`) and acknowledge them; while the
// record stays partial the timer is RTT + IAT. This applies to both legs:
// a restored relay must cut pre-written records of fixed sizes from backend
// bytes (§5.6 end), which blocks the same way.
//
// Closing is not clustered (§4.10, §5.7): once the relay closed, each leg
// acknowledges whatever arrives and sends FIN after the last bytes.
import { concatList } from "../../bytes.js";
import { Relay, type RelayDebug, type RelayOptions, type RelayOutput } from "../../relay/relay.js";
import type { RelayCheckpoint, RelayFields } from "../../relay/checkpoint.js";
import type { TlsServerConfig } from "../../tls/config.js";
import type { EngineDeps } from "../../tls/server.js";
import { ByteQueue } from "../tcp/byte-queue.js";
import type { TcpCheckpoint } from "../tcp/checkpoint.js";
import { TcpConnection, type TcpConfig, type TcpDebug, type TcpEvent } from "../tcp/connection.js";
import type { TcpSegment } from "../tcp/segment.js";
import { seqAdd, seqDiff } from "../tcp/seq.js";
import type { FourTuple } from "../tcp/tuple.js";
import { NOTHING_KEPT, type CtcpRecord, type CtcpSnapshot, type Kept } from "./record.js";

/** What the node gives each connection. */
export interface ConnEnv {
  readonly tcp: TcpConfig;
  readonly tls: TlsServerConfig;
  readonly engine: EngineDeps;
  readonly relay: RelayOptions;
  readonly vip: number;
  readonly backend: { readonly addr: number; readonly port: number };
  /** Floor for the §5.5 timers, ms. */
  readonly minPartialMs: number;
  /**
   * Hand the relay a leg's input once per turn (flushTurn) instead of once
   * per segment: the bytes of a burst become one relay step — a few full
   * TLS records and one record to replicate instead of one per segment.
   */
  readonly batchTurns: boolean;
  /** A segment of `conn` for the wire (the node sends it only while it owns the connection's bucket). */
  send(conn: RelayedConnection, dst: number, seg: TcpSegment, now: number): void;
  /** Replicate one record; null when the channel refused it (not our bucket now, too large): try again later. */
  replicate(conn: RelayedConnection, record: CtcpRecord, now: number): number | null;
  /** A free source port towards the backend in `bucket` (§4.5), chosen deterministically from `seed`. */
  pickPort(bucket: number, seed: number): number;
  /** The backend leg now exists under `tuple`: route its segments to `conn`. */
  registerBackend(conn: RelayedConnection, tuple: FourTuple): void;
  /** Counts a §5.5 partial ACK. */
  partialAcked(): void;
  /** Counts forward ACKs (§4.6) a leg accepted. */
  forwardAcked(n: number): void;
  /** Outputs of the relay the node passes up (RSA, handshake done, closed). */
  notify(conn: RelayedConnection, out: Extract<RelayOutput, { kind: "rsa" | "handshake-complete" | "closed" | "session-invalidated" }>): void;
}

const IAT_INITIAL_MS = 10;
/** How soon a record the replication channel refused is offered again. */
const RECORD_RETRY_MS = 20;
/** Most kept bytes one partial ACK adds to a record (§5.5): with both legs' state it stays within a replication datagram. */
const KEPT_STEP = 4096;
/** Largest interarrival sample before the leg has an RTT estimate. */
const IDLE_GAP_MS = 100;
/**
 * Longest §5.5 wait. The partial ACK must reach the peer before its
 * retransmission timer fires (Linux: 200 ms minimum RTO), and the record
 * still needs a mirror round trip first (~100 ms under load here). Seen on
 * the wire: after a takeover in an upload the client retransmits one segment
 * per RTO, those gaps drove the IAT estimate to ~85 ms (an upload's client
 * leg has no RTT sample to cap them: we send it almost nothing), 2·IAT plus
 * the mirror's ack outlasted the client's RTO, every RTO reset its window to
 * one segment, and 4 MiB crawled at ~40 KB/s.
 */
const MAX_PARTIAL_MS = 40;

/** Leg.debug. */
export interface LegDebug {
  readonly received: number;
  readonly sent: number;
  readonly peerAcked: number;
  readonly promised: number;
  readonly finAt: number | null;
  readonly keptFrom: number;
  readonly kept: number;
  readonly keptSentTo: number;
  readonly iat: number;
  readonly partialDeadline: number | null;
  readonly tcp: TcpDebug;
}

/** RelayedConnection.debug. */
export interface ConnDebug {
  readonly connId: number;
  readonly bucket: number;
  /** The client's port (its 4-tuple's remote port). */
  readonly clientPort: number;
  readonly client: LegDebug;
  readonly backend: LegDebug | null;
  readonly relay: RelayDebug;
  /** The TLS engine's state (ExpectClientHello … Traffic, Closed): where a handshake stands. */
  readonly engine: string;
  readonly inflight: number;
  readonly unsent: number;
  readonly retryAt: number | null;
  readonly backendClustered: boolean;
  readonly traffic: boolean;
  readonly relayClosed: boolean;
  readonly broken: boolean;
}

/** One TCP leg: offsets ↔ sequence numbers, input kept for a partial ACK, the §5.5 timer. */
class Leg {
  /** Sequence number of the peer's stream offset 0 (its ISN + 1); set on establishment for an active open. */
  rcvBase: number;
  readonly sndBase: number;
  /** Offset after the last in-order byte from the peer. */
  received: number;
  /** Offset after the last relay byte handed to the engine. */
  sent: number;
  /** Highest stream offset the peer acknowledged, possibly beyond `sent` (a forward ACK, §4.6). */
  private peerAcked: number;
  /** Offset the last record commits to acknowledging beyond what the relay consumed (§5.5). */
  promised: number;
  /** The peer's FIN, as a stream offset. */
  finAt: number | null = null;
  /** A record in CLOSE_WAIT holds the FIN (only then may the engine ACK it: holdFinAck). */
  finCommitted = false;
  private readonly kept = new ByteQueue();
  private keptFrom: number;
  /** Offset up to which kept bytes went into a record (the mirror appends each record's new ones). */
  private keptSentTo: number;
  private iat = IAT_INITIAL_MS;
  private lastArrival: number | null = null;
  partialDeadline: number | null = null;
  /** A partial ACK was clustered and the record is still partial: the RTT + IAT timer applies. */
  partialAcked = false;
  /** The last TCP checkpoint built (a closing leg has no new one, §4.10). */
  private lastCp: TcpCheckpoint | null = null;
  /** Input of this turn not yet handed to the relay (batchTurns), from offset `pendingFrom`. */
  pending: Uint8Array[] = [];
  pendingFrom = 0;
  /** The peer's acknowledgement of this turn not yet handed to the relay (batchTurns). */
  pendingAcked: number | null = null;
  /** The engine's forward-ACK count already reported. */
  private forwardAcksSeen = 0;

  constructor(readonly tcp: TcpConnection, rcvBase: number, sndBase: number, received: number, sent: number) {
    this.rcvBase = rcvBase >>> 0;
    this.sndBase = sndBase >>> 0;
    this.received = this.promised = this.keptFrom = this.keptSentTo = received;
    this.sent = this.peerAcked = sent;
  }

  /** Stream offset of a sequence number near the receive point. */
  private rcvOffset(seq: number): number {
    return this.received + seqDiff(seq, seqAdd(this.rcvBase, this.received));
  }

  /**
   * Stream offset the peer acknowledged, clamped to what we wrote (a FIN
   * counts one more). The unclamped value is kept: after a takeover a
   * forward ACK (§4.6) covers bytes the dead node sent and we have not
   * regenerated yet; the engine discards them as they are written
   * (TcpConnection.write) and never acknowledges them again, so `write`
   * reports them (`ackedByWrite`).
   */
  sndOffset(seq: number): number {
    const off = Math.max(0, this.sent + seqDiff(seq, seqAdd(this.sndBase, this.sent)));
    if (off > this.peerAcked) this.peerAcked = off;
    return Math.min(this.sent, off);
  }

  /** Forward ACKs (§4.6) the engine accepted since the last call. */
  newForwardAcks(): number {
    const n = this.tcp.forwardAcks - this.forwardAcksSeen;
    this.forwardAcksSeen = this.tcp.forwardAcks;
    return n;
  }

  /** In-order bytes from the peer: keep them (a partial ACK may cluster them), return their offset. */
  onData(seq: number, bytes: Uint8Array, now: number): number {
    const off = this.rcvOffset(seq);
    if (off !== this.received) throw new RangeError(`leg: data at offset ${off}, expected ${this.received}`);
    this.kept.push(bytes);
    this.received += bytes.length;
    if (this.lastArrival !== null) {
      // A gap longer than a round trip is idleness (the peer waiting for our
      // ACK, or backing off its retransmissions), not interarrival within a
      // flight: counting it would stretch the §5.5 timer to the peer's RTO
      // and crawl (the soak found a 40 KB upload taking a minute after a takeover).
      const gap = Math.min(now - this.lastArrival, this.tcp.smoothedRtt ?? IDLE_GAP_MS);
      this.iat = 0.875 * this.iat + 0.125 * gap;
    }
    this.lastArrival = now;
    return off;
  }

  /**
   * Relay output at `offset`: write what the engine has not had yet. Returns
   * the offset up to which the peer already holds what was just written (a
   * forward ACK's regenerated bytes), or null.
   */
  write(data: Uint8Array, offset: number, now: number): number | null {
    const skip = this.sent - offset;
    if (skip < 0) throw new RangeError(`leg: relay output at offset ${offset}, ${this.sent} written: a gap`);
    if (skip >= data.length) return null;
    const fresh = skip > 0 ? data.subarray(skip) : data;
    const before = this.sent;
    this.tcp.write(fresh, now);
    this.sent += fresh.length;
    return this.peerAcked > before ? Math.min(this.peerAcked, this.sent) : null;
  }

  /** The mirrors hold kept bytes up to `offset` already (a restored leg). */
  keptRecorded(offset: number): void {
    this.keptSentTo = offset;
  }

  /** Offsets, kept bytes and the engine's pointers (status pages, diagnosis). */
  get debug(): LegDebug {
    return {
      received: this.received, sent: this.sent, peerAcked: this.peerAcked, promised: this.promised, finAt: this.finAt,
      keptFrom: this.keptFrom, kept: this.kept.length, keptSentTo: this.keptSentTo, iat: this.iat, partialDeadline: this.partialDeadline,
      tcp: this.tcp.debug,
    };
  }

  /** Bytes to restore a relay with after a restore (§5.5). */
  restoreKept(k: Kept): void {
    if (k.bytes.length === 0) return;
    this.keptFrom = k.from;
    this.kept.push(k.bytes);
  }

  /**
   * The leg's part of a record: TCP state committing to `consumed` (or the
   * partial-ACK point beyond it) and `written`, and the kept bytes.
   */
  snapshot(consumed: number, written: number): { tcp: TcpCheckpoint | null; kept: Kept } {
    if (consumed > this.keptFrom) {
      this.kept.trim(Math.min(consumed - this.keptFrom, this.kept.length));
      this.keptFrom = consumed;
    }
    if (this.promised <= consumed) this.partialAcked = false;
    const upTo = Math.max(consumed, this.promised);
    const from = Math.max(consumed, this.keptSentTo);
    const kept = upTo > from ? { from, bytes: this.kept.slice(from - this.keptFrom, upTo - from) } : NOTHING_KEPT;
    this.keptSentTo = Math.max(this.keptSentTo, upTo);
    // CLOSE_WAIT says the FIN is acknowledged: only once every byte before it is committed.
    const state = this.finAt !== null && this.finAt === upTo ? "CLOSE_WAIT" : "ESTABLISHED";
    const commit = { rcvNxt: seqAdd(this.rcvBase, upTo), sndNxt: seqAdd(this.sndBase, written) };
    switch (this.tcp.state) {
      case "ESTABLISHED":
      case "CLOSE_WAIT":
        this.lastCp = { ...this.tcp.checkpoint(commit), state };
        break;
      case "SYN_SENT":
        return { tcp: null, kept };
      case "FIN_WAIT_1":
      case "FIN_WAIT_2":
      case "CLOSING":
      case "LAST_ACK":
      case "TIME_WAIT":
      case "CLOSED":
        // The engine refuses a checkpoint once we sent FIN (§4.10); the
        // closing record (see the header) still moves the receive side.
        if (this.lastCp) this.lastCp = { ...this.lastCp, ...commit, state };
        break;
      default:
        exhaustive(this.tcp.state);
    }
    return { tcp: this.lastCp, kept };
  }

  /** Input (or a FIN) beyond what the last record committed to. */
  get uncommitted(): boolean {
    return this.received > this.promised || (this.finAt !== null && !this.finCommitted);
  }

  /** Commit everything received, FIN included (a FIN after bytes already committed). */
  commitAll(): void {
    this.promised = this.received;
    if (this.finAt !== null) this.finCommitted = true;
  }

  /**
   * §5.5 partial ACK: commit what was received, at most `KEPT_STEP` bytes more
   * than the last record (so the record fits one replication datagram); the
   * timer comes again for the rest. The FIN only with the last byte.
   */
  commitPartial(consumed: number): void {
    this.promised = Math.min(this.received, Math.max(this.promised, consumed) + KEPT_STEP);
    if (this.finAt !== null && this.promised === this.received) this.finCommitted = true;
  }

  /** §5.5: 2·IAT after a partial record was read, RTT + IAT after a partial ACK; at most MAX_PARTIAL_MS. */
  partialDelay(minMs: number): number {
    const d = this.partialAcked ? (this.tcp.smoothedRtt ?? 2 * this.iat) + this.iat : 2 * this.iat;
    return Math.max(minMs, Math.min(MAX_PARTIAL_MS, d));
  }
}

export class RelayedConnection {
  readonly client: Leg;
  backend: Leg | null = null;
  backendPort: number;
  private relay: Relay;
  /** The relay fields of the last relay checkpoint put in a record. */
  private fields: RelayFields | null;
  private readonly inflight = new Map<number, CtcpRecord>();
  /** Records the channel refused, in order, retried at `retryAt` (later records fold onto them). */
  private readonly unsent: CtcpRecord[] = [];
  private retryAt: number | null = null;
  /** The backend's ISN is clustered: the relay was told it is connected. */
  private backendClustered = false;
  private traffic = false;
  private relayClosed = false;
  /** A leg was reset or timed out while the relay was open. */
  private broken = false;
  /** The client's 4-tuple belongs to a newer incarnation now (node.ts releaseClient): the client leg stays silent. */
  private clientDetached = false;

  private constructor(
    private readonly env: ConnEnv,
    readonly connId: number,
    readonly bucket: number,
    client: Leg,
    relay: Relay,
    fields: RelayFields | null,
    backendPort: number,
  ) {
    this.client = client;
    this.relay = relay;
    this.fields = fields;
    this.backendPort = backendPort;
  }

  /** A connection the fingered listener accepted (§4.2). */
  static accept(env: ConnEnv, connId: number, bucket: number, tcp: TcpConnection, now: number): RelayedConnection {
    const leg = new Leg(tcp, seqAdd(tcp.irs, 1), seqAdd(tcp.iss, 1), 0, 0);
    const c = new RelayedConnection(env, connId, bucket, leg, Relay.create(env.tls, env.engine, env.relay), null, 0);
    c.run(now);
    return c;
  }

  /**
   * Re-instantiate a mirrored connection (SSLACC §3.1, §4.8): both legs from
   * their clustered TCP state (each sends one immediate ACK), the relay from
   * its snapshot, fed the partially acknowledged input first; a backend
   * connect that was not yet established restarts with the same port and ISN.
   */
  static restore(env: ConnEnv, connId: number, bucket: number, s: CtcpSnapshot, now: number): RelayedConnection {
    const f = s.relay.fields;
    const relay = Relay.restore(env.tls, env.engine, s.relay, env.relay);
    const client = restoreLeg(env, s.client, s.clientKept, f.clientConsumed, f.serverWritten, now);
    const c = new RelayedConnection(env, connId, bucket, client, relay, f, s.backend.port);
    c.traffic = relay.engineState === "Traffic";
    if (s.backend.tcp) {
      c.backend = restoreLeg(env, s.backend.tcp, s.backend.kept, f.backendConsumed, f.backendWritten, now);
      c.backendClustered = true;
      env.registerBackend(c, s.backend.tcp.tuple);
    }
    if (s.clientKept.bytes.length > 0) relay.clientData(s.clientKept.bytes, s.clientKept.from);
    if (client.finAt !== null) relay.clientEnded(client.finAt);
    const b = c.backend;
    if (b && s.backend.kept.bytes.length > 0) relay.backendData(s.backend.kept.bytes, s.backend.kept.from);
    if (b && b.finAt !== null) relay.backendEnded(b.finAt);
    c.run(now);
    return c;
  }

  /** Both legs, the relay's offsets and the records in flight (status pages, diagnosis). */
  get debug(): ConnDebug {
    return {
      connId: this.connId, bucket: this.bucket, clientPort: this.client.tcp.tuple.remotePort, client: this.client.debug, backend: this.backend?.debug ?? null, relay: this.relay.debug,
      engine: this.relay.engineState, inflight: this.inflight.size, unsent: this.unsent.length, retryAt: this.retryAt, backendClustered: this.backendClustered,
      traffic: this.traffic, relayClosed: this.relayClosed, broken: this.broken,
    };
  }

  get isClosed(): boolean {
    return this.client.tcp.state === "CLOSED" && (this.backend === null || this.backend.tcp.state === "CLOSED");
  }

  /** Both legs closed both ways (TIME_WAIT or CLOSED): every byte was delivered and acknowledged (a drain may end). */
  get isFinished(): boolean {
    const done = (l: Leg | null) => l === null || l.tcp.state === "TIME_WAIT" || l.tcp.state === "CLOSED";
    return done(this.client) && done(this.backend);
  }

  // --- inputs from the node ----------------------------------------------------------

  /** Output of both legs was dropped on the way out (node.ts setBuckets): send it again now. */
  resend(now: number): void {
    this.client.tcp.resend(now);
    this.backend?.tcp.resend(now);
    this.run(now);
  }

  /** The client now speaks for a newer connection on the same 4-tuple: nothing more goes to it from this one. */
  detachClient(): void {
    this.clientDetached = true;
  }

  onClientSegment(seg: TcpSegment, now: number): void {
    this.client.tcp.onSegment(seg, now);
    this.run(now);
  }

  onBackendSegment(seg: TcpSegment, now: number): void {
    this.backend?.tcp.onSegment(seg, now);
    this.run(now);
  }

  /** The mirrors hold record `rid`: release what waited for it. */
  replicated(rid: number, now: number): void {
    const rec = this.inflight.get(rid);
    if (!rec) return;
    this.inflight.delete(rid);
    this.client.tcp.checkpointAcked(rec.client, now);
    const b = this.backend;
    if (b && rec.backend.tcp) {
      b.tcp.checkpointAcked(rec.backend.tcp, now);
      if (!this.backendClustered) {
        this.backendClustered = true;
        this.relay.backendConnectedEvent();
      }
    }
    if (rec.relay) this.relay.stored(rec.relay.seq);
    this.run(now);
  }

  /** End of the shell's turn (batchTurns): the turn's input of both legs goes to the relay, one step each. */
  flushTurn(now: number): void {
    this.feedRelay(this.client);
    if (this.backend) this.feedRelay(this.backend);
    this.run(now);
  }

  /** Whether input waits for flushTurn. */
  get turnPending(): boolean {
    const has = (l: Leg | null) => l !== null && (l.pending.length > 0 || l.pendingAcked !== null);
    return has(this.client) || has(this.backend);
  }

  rsaDone(id: number, premaster: Uint8Array, now: number): void {
    this.relay.rsaDone(id, premaster);
    this.run(now);
  }

  nextTimeout(): number | null {
    let t: number | null = null;
    for (const d of [this.client.tcp.nextTimeout(), this.backend?.tcp.nextTimeout() ?? null, this.client.partialDeadline, this.backend?.partialDeadline ?? null, this.retryAt]) {
      if (d !== null && (t === null || d < t)) t = d;
    }
    return t;
  }

  onTimer(now: number): void {
    if (this.retryAt !== null && this.retryAt <= now) this.sendRecords(now);
    for (const leg of [this.client, this.backend]) {
      if (!leg) continue;
      const t = leg.tcp.nextTimeout();
      if (t !== null && t <= now) leg.tcp.onTimer(now);
      if (leg.partialDeadline !== null && leg.partialDeadline <= now) {
        leg.partialDeadline = null;
        if (this.stalled(leg)) this.partialAck(leg, now);
      }
    }
    this.run(now);
  }

  // --- the loop ------------------------------------------------------------------------

  /** Moves everything that can move: engine segments and events, relay outputs, timers to arm. */
  private run(now: number): void {
    for (let guard = 0; guard < 1000; guard++) {
      let moved = this.drainLeg(this.client, now, "client");
      if (this.backend) moved = this.drainLeg(this.backend, now, "backend") || moved;
      const outs = this.relay.drain();
      for (const o of outs) this.route(o, now);
      if (this.broken || (this.relayClosed && !this.fields)) moved = this.ackEverything(now) || moved;
      else if (this.relayClosed) this.closingRecord(now);
      if (!moved && outs.length === 0) break;
    }
    this.armPartial(this.client, now);
    if (this.backend) this.armPartial(this.backend, now);
  }

  private drainLeg(leg: Leg, now: number, side: "client" | "backend"): boolean {
    const out = leg.tcp.drain();
    if (!(side === "client" && this.clientDetached)) for (const s of out.segments) this.env.send(this, leg.tcp.tuple.remoteAddr, s, now);
    for (const e of out.events) this.onTcpEvent(leg, side, e, now);
    return out.segments.length > 0 || out.events.length > 0;
  }

  private onTcpEvent(leg: Leg, side: "client" | "backend", e: TcpEvent, now: number): void {
    switch (e.kind) {
      case "established":
        if (side === "backend") {
          // §4.3, figure 4: cluster the backend's ISN before ACKing its SYN-ACK.
          leg.rcvBase = seqAdd(e.irs, 1);
          this.replicate(null, now);
        }
        return;
      case "data": {
        const off = leg.onData(e.seq, e.bytes, now);
        if (this.relayClosed) return;
        if (leg.pending.length === 0) leg.pendingFrom = off;
        leg.pending.push(e.bytes);
        if (!this.env.batchTurns) this.feedRelay(leg);
        return;
      }
      case "acked": {
        const forward = leg.newForwardAcks();
        if (forward > 0) this.env.forwardAcked(forward);
        leg.pendingAcked = Math.max(leg.pendingAcked ?? 0, leg.sndOffset(e.sndUna));
        if (!this.env.batchTurns) this.feedRelay(leg);
        return;
      }
      case "peer-fin":
        // The relay hears of the end after every byte before it.
        this.feedRelay(leg);
        leg.finAt = leg.received;
        if (this.relayClosed) return;
        // Every byte before the FIN committed already: no relay checkpoint
        // will come to carry the FIN, so a TCP-only record does.
        if (leg.received === Math.max(leg.promised, this.consumedOf(leg))) {
          leg.commitAll();
          this.replicate(null, now);
        }
        if (side === "client") this.relay.clientEnded(leg.received);
        else this.relay.backendEnded(leg.received);
        return;
      case "closed":
        this.feedRelay(leg);
        if (e.reason === "normal" || this.relayClosed) return;
        if (side === "backend") this.relay.backendFailedEvent(`backend TCP ${e.reason}`);
        else {
          // The client is gone: nothing to relay any more; end the backend leg.
          this.broken = true;
          this.backend?.tcp.close(now);
        }
        return;
      default:
        exhaustive(e);
    }
  }

  /** The leg's input and acknowledgement since the last call, to the relay in one step each. */
  private feedRelay(leg: Leg): void {
    const side = leg === this.client ? "client" : "backend";
    if (leg.pending.length > 0) {
      const bytes = leg.pending.length === 1 ? leg.pending[0]! : concatList(leg.pending);
      leg.pending = [];
      if (!this.relayClosed) {
        if (side === "client") this.relay.clientData(bytes, leg.pendingFrom);
        else this.relay.backendData(bytes, leg.pendingFrom);
      }
    }
    const acked = leg.pendingAcked;
    if (acked !== null) {
      leg.pendingAcked = null;
      if (side === "client") this.relay.clientAcked(acked);
      else this.relay.backendAcked(acked);
    }
  }

  private route(o: RelayOutput, now: number): void {
    switch (o.kind) {
      case "checkpoint":
        this.replicate(o.checkpoint, now);
        return;
      case "client":
        if (this.client.tcp.state === "ESTABLISHED" || this.client.tcp.state === "CLOSE_WAIT") {
          const acked = this.client.write(o.data, o.offset, now);
          if (acked !== null) this.relay.clientAcked(acked);
        }
        return;
      case "backend":
        if (this.backend && (this.backend.tcp.state === "ESTABLISHED" || this.backend.tcp.state === "CLOSE_WAIT")) {
          const acked = this.backend.write(o.data, o.offset, now);
          if (acked !== null) this.relay.backendAcked(acked);
        }
        return;
      case "connect-backend":
        this.connectBackend(now);
        return;
      case "end-client":
        this.client.tcp.close(now);
        return;
      case "end-backend":
        this.backend?.tcp.close(now);
        return;
      case "closed":
        this.relayClosed = true;
        this.env.notify(this, o);
        return;
      case "rsa":
      case "handshake-complete":
      case "session-invalidated":
        if (o.kind === "handshake-complete") this.traffic = true;
        this.env.notify(this, o);
        return;
      default:
        exhaustive(o);
    }
  }

  /** SSLACC §5.3: after the first checkpoint; idempotent (a restored relay asks again). */
  private connectBackend(now: number): void {
    if (this.backend) {
      if (this.backendClustered) this.relay.backendConnectedEvent();
      return;
    }
    const irs = this.client.tcp.irs;
    if (this.backendPort === 0) this.backendPort = this.env.pickPort(this.bucket, irs);
    const tuple: FourTuple = { localAddr: this.env.vip, localPort: this.backendPort, remoteAddr: this.env.backend.addr, remotePort: this.env.backend.port };
    // §4.3: the backend connect uses the client's ISN, so a mirror that
    // restarts it sends the identical SYN.
    const tcp = TcpConnection.connect(this.env.tcp, tuple, irs, now);
    this.backend = new Leg(tcp, 0, seqAdd(irs, 1), 0, 0);
    this.env.registerBackend(this, tuple);
  }

  /**
   * The relay closed. SSLACC §4.10/§5.7 do not cluster closing: the input
   * that caused it stays unconsumed and causes it again after a restore. But
   * a peer whose close_notify and FIN we acknowledged will not send them
   * again, so before acknowledging input after the relay's last checkpoint
   * we cluster it as kept bytes (as a partial ACK does, §5.5) with the FIN:
   * a restored relay is fed them and closes the same way.
   */
  private closingRecord(now: number): void {
    if (this.inflight.size > 0 || this.unsent.length > 0) return;
    const legs = [this.client, this.backend].filter((l): l is Leg => l !== null && l.uncommitted);
    if (legs.length === 0) return;
    // In steps of at most KEPT_STEP bytes (one record each: a datagram); the FIN with the last.
    for (const l of legs) l.commitPartial(this.consumedOf(l));
    this.replicate(null, now);
  }

  /** Nothing to cluster (a broken connection, or one closed before its first checkpoint): acknowledge whatever arrives. */
  private ackEverything(now: number): boolean {
    let moved = false;
    for (const leg of [this.client, this.backend]) {
      if (!leg) continue;
      if (leg.tcp.rcvAppack !== leg.tcp.rcvNxt) {
        leg.tcp.appAck(leg.tcp.rcvNxt, now);
        moved = true;
      }
      leg.tcp.allowFin(now);
    }
    return moved;
  }

  // --- records ---------------------------------------------------------------------------

  private replicate(relayCp: RelayCheckpoint | null, now: number): void {
    if (relayCp) this.fields = relayCp.fields;
    const f = this.fields;
    if (!f) return; // nothing clustered yet: nothing to restore from (the finger covers it, §4.2)
    const client = this.client.snapshot(f.clientConsumed, f.serverWritten);
    if (!client.tcp) return;
    const b = this.backend;
    const backend = b ? b.snapshot(f.backendConsumed, f.backendWritten) : { tcp: null, kept: NOTHING_KEPT };
    const record: CtcpRecord = { client: client.tcp, clientKept: client.kept, backend: { port: this.backendPort, tcp: backend.tcp, kept: backend.kept }, relay: relayCp };
    this.unsent.push(record);
    this.sendRecords(now);
  }

  /**
   * Hands the refused and new records to the channel in order. A refusal
   * (the ownership lease lapsed for a moment, a record larger than a
   * datagram) must not end in acknowledging what no record holds (the
   * Second Law): the connection waits, acknowledging nothing new, and tries
   * again; a bucket that really moved is forgotten by the node (bucketLost).
   */
  private sendRecords(now: number): void {
    this.retryAt = null;
    while (this.unsent.length > 0) {
      const rid = this.env.replicate(this, this.unsent[0]!, now);
      if (rid === null) {
        this.retryAt = now + RECORD_RETRY_MS;
        return;
      }
      this.inflight.set(rid, this.unsent.shift()!);
    }
  }

  private consumedOf(leg: Leg): number {
    const f = this.fields;
    if (!f) return 0;
    return leg === this.client ? f.clientConsumed : f.backendConsumed;
  }

  /** §5.5: input held, nothing downstream in flight, no record being replicated. */
  private stalled(leg: Leg): boolean {
    if (!this.traffic || this.relayClosed || this.broken || this.inflight.size > 0 || this.unsent.length > 0 || !this.backendClustered) return false;
    if (leg.received <= Math.max(leg.promised, this.consumedOf(leg))) return false;
    const other = leg === this.client ? this.backend : this.client;
    return other !== null && other.tcp.unacked === 0;
  }

  private armPartial(leg: Leg, now: number): void {
    if (!this.stalled(leg)) {
      leg.partialDeadline = null;
      return;
    }
    leg.partialDeadline ??= now + leg.partialDelay(this.env.minPartialMs);
  }

  private partialAck(leg: Leg, now: number): void {
    leg.commitPartial(this.consumedOf(leg));
    leg.partialAcked = true;
    this.env.partialAcked();
    this.replicate(null, now);
  }
}

/** A leg from its clustered TCP state: the engine restores (one immediate ACK, §4.8), offsets resume at the commit point. */
function restoreLeg(env: ConnEnv, cp: TcpCheckpoint, kept: Kept, consumed: number, written: number, now: number): Leg {
  const tcp = TcpConnection.restore(env.tcp, cp, now);
  const rcvBase = seqAdd(cp.irs, 1);
  const upTo = consumed + seqDiff(cp.rcvNxt, seqAdd(rcvBase, consumed));
  const leg = new Leg(tcp, rcvBase, seqAdd(cp.iss, 1), consumed, written);
  leg.restoreKept(kept);
  leg.received = leg.promised = upTo;
  leg.keptRecorded(upTo);
  if (cp.state === "CLOSE_WAIT") {
    leg.finAt = upTo;
    leg.finCommitted = true;
  }
  return leg;
}

function exhaustive(x: never): never {
  throw new Error(`ctcp relayed connection bug: unhandled ${JSON.stringify(x)}`);
}
