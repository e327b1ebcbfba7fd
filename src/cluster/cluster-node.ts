// One cluster member, sans-I/O (STYLE.md §1, §8): the composition of the
// wire (wire.ts), membership and leases (membership.ts), the bucket map
// (bucket-map.ts), reliable streams (reliable.ts), replication
// (replication.ts), aggregation (aggregator.ts) and the session cache
// (session-cache.ts). The channel (channel.ts: UDP) and the daemon drive it:
//
//   receive(datagram, now)  tick(now)  flush()        ← I/O shell, timers
//   replicate(connId, bucket, bytes, now) → rid       ← relay checkpoints
//   takeDatagrams() → [{to, bytes}]                   → channel.ts
//   takeEvents() → replicated / bucketAcquired / ...  → relay, shards
//   owns(bucket, now), sessions (SessionCache)        → dispatch, TLS engine
//
// Time is always the caller's `now` in ms (> 0), so the simulation
// (test/cluster/sim.ts) can run any schedule deterministically.
import type { CryptoProvider } from "../crypto/provider.js";
import { assertNever } from "../tls/codec/assert-never.js";
import { Aggregator, type OutDatagram } from "./aggregator.js";
import {
  EMPTY_MAP,
  bucketCounts,
  isMember,
  mapFromMessage,
  mapToMessage,
  newer,
  ownsUnder,
  plan,
  type BucketMap,
  type ReplicationPolicy,
} from "./bucket-map.js";
import { Membership, type PartitionRule } from "./membership.js";
import { BUCKETS, encodeMessage, type Message } from "./messages.js";
import { ReliableReceiver, ReliableSender } from "./reliable.js";
import { Replication, replaceState, type Entry, type FoldChain, type FoldState, type ReplicationEvent } from "./replication.js";
import { ClusteredSessionCache } from "./session-cache.js";
import { DEFAULT_MAX_DATAGRAM, HEADER_BYTES, TAG_BYTES, WireReceiver, type DropCounters } from "./wire.js";

export interface ClusterConfig {
  readonly nodeId: number;
  readonly clusterId: number;
  readonly key: Uint8Array;
  /** Every configured member id, self included (ids 1..65534). */
  readonly members: readonly number[];
  /** This incarnation (docs §3.2): the shell passes its start time in ms; it grows on rejoin. */
  readonly epoch: number;
  readonly provider: Pick<CryptoProvider, "hmac">;
  readonly keepaliveMs?: number;
  readonly deadAfterMs?: number;
  readonly leaseMs?: number;
  readonly partition?: PartitionRule;
  readonly policy?: ReplicationPolicy;
  /** Buckets in flight per rebalance step (default 32). */
  readonly maxMoves?: number;
  /**
   * The master cancels a step of moves not complete after this long (default 10 × deadAfterMs) and plans
   * a fresh one: no move can wait for ever (issue 7). Counted (movesAborted) and reported (event).
   */
  readonly moveTimeoutMs?: number;
  /** A mirror that leaves a checkpoint unacknowledged this long is declared dead (default deadAfterMs). */
  readonly ackTimeoutMs?: number;
  readonly nackRetryMs?: number;
  readonly maxResendQueue?: number;
  readonly mtuDatagram?: number;
  readonly maxDatagram?: number;
  readonly maxDelayMs?: number;
  readonly aggregate?: boolean;
  /**
   * With aggregation: hold a peer's batch of checkpoints at the end of a turn
   * while it has not acknowledged those of our last datagram to it
   * (aggregator.ts, Nagle's rule). Fewer datagrams per handshake for at most
   * one round trip more per checkpoint. Default false: on loopback with
   * CPU-capped members it saved ~0.5 datagram per handshake at 2 members and
   * nothing measurable at 7 (k = 1), and a capped mirror's round trip can
   * reach its CFS period (docs/performance.md).
   */
  readonly holdForAck?: boolean;
  readonly fold?: FoldState;
  /** `fold` over several deltas at once, byte-identical to folding them one by one (replication.ts, TableEntry). */
  readonly foldChain?: FoldChain;
  readonly sessions?: { readonly maxEntries: number; readonly ttlMs: number };
}

export type ClusterEvent =
  | ReplicationEvent
  | { readonly kind: "mapAdopted"; readonly version: number; readonly issuer: number }
  /** As master, we cancelled a step of moves that outlived moveTimeoutMs: `buckets` moves, to `targets`. */
  | { readonly kind: "movesAborted"; readonly buckets: number; readonly targets: readonly number[] }
  /** We were dropped from the map (declared dead while alive): state cleared, rejoining under `epoch`. */
  | { readonly kind: "expelled"; readonly epoch: number };

export type ReplicateResult =
  | { readonly ok: true; readonly rid: number }
  | { readonly ok: false; readonly reason: "not_owner" | "checkpoint_too_large" | "bad_bucket" };

export class ClusterError extends Error {
  override readonly name = "ClusterError";
}

interface PeerStreams {
  out: ReliableSender;
  in: ReliableReceiver;
  /** Replication ids: the last queued for the peer, the last in a datagram sent to it, the highest it acknowledged (holdForAck). */
  queuedRid: number;
  emittedRid: number;
  ackedRid: number;
  lastMapSent: number;
  /** Consecutive keepalives whose session digest differed from ours. */
  digestMismatches: number;
}

/** Largest checkpoint `replicate` accepts: one datagram less its header, tag and the CHECKPOINT message's fields. */
export function maxCheckpointBytes(maxDatagram: number = DEFAULT_MAX_DATAGRAM): number {
  return maxDatagram - HEADER_BYTES - TAG_BYTES - 40;
}

export class ClusterNode {
  readonly nodeId: number;
  readonly membership: Membership;
  readonly replication: Replication;
  readonly sessions: ClusteredSessionCache;
  readonly aggregator: Aggregator;
  private readonly wire: WireReceiver;
  private readonly policy: ReplicationPolicy;
  private epochValue: number;
  private mapValue: BucketMap = EMPTY_MAP;
  /** bucketsUnderMap's cache: valid while `map` is `mapValue`. */
  private underMap: { readonly map: BucketMap; readonly buckets: ReadonlySet<number> } | null = null;
  private wasMember = false;
  private readonly streams = new Map<number, PeerStreams>();
  private nextKeepalive = 0;
  private now = 0;
  private events: ClusterEvent[] = [];
  private left = false;
  private readonly cfg: ClusterConfig;
  private readonly holdForAck: boolean;
  readonly counters = { expulsions: 0, mirrorsDeclaredDead: 0, mapsIssued: 0, mapsAdopted: 0, nacksSent: 0, retransmits: 0, staleMapsIgnored: 0, sessionResyncs: 0, movesAborted: 0 };

  constructor(cfg: ClusterConfig, now: number) {
    if (!(now > 0)) throw new ClusterError("clock must start above 0 (0 means 'no echo' on the wire)");
    if (cfg.key.length < 32) throw new ClusterError("cluster key shorter than 32 bytes");
    for (const id of cfg.members) if (!(Number.isInteger(id) && id >= 1 && id <= 0xfffe)) throw new ClusterError(`member id ${id}`);
    this.cfg = cfg;
    this.nodeId = cfg.nodeId;
    this.now = now;
    this.bornAt = now;
    this.epochValue = cfg.epoch;
    this.policy = cfg.policy ?? { kind: "all" };
    this.holdForAck = cfg.holdForAck ?? false;
    this.membership = new Membership({
      nodeId: cfg.nodeId,
      members: cfg.members,
      keepaliveMs: cfg.keepaliveMs,
      deadAfterMs: cfg.deadAfterMs,
      leaseMs: cfg.leaseMs,
      partition: cfg.partition,
    });
    this.wire = new WireReceiver({
      clusterId: cfg.clusterId, nodeId: cfg.nodeId, key: cfg.key, members: cfg.members, provider: cfg.provider, maxDatagram: cfg.maxDatagram,
      epoch: () => this.epochValue,
    });
    this.aggregator = new Aggregator(
      {
        clusterId: cfg.clusterId, nodeId: cfg.nodeId, key: cfg.key, provider: cfg.provider, mtuDatagram: cfg.mtuDatagram, maxDelayMs: cfg.maxDelayMs,
        enabled: cfg.aggregate,
        // Session adds ride with the next keepalive at the latest (docs §8: nobody waits for them).
        lazyDelayMs: this.membership.keepaliveMs,
        // To a peer we do not hear, address no particular incarnation (0): if it rejoined, or we did, both
        // sides would otherwise refuse each other's datagrams forever (each naming the other's old epoch).
        destEpoch: (to) => (this.membership.alive(to, this.now) ? this.membership.epochOf(to) : 0),
        emitted: (to) => {
          const s = this.streams.get(to);
          if (s) s.emittedRid = s.queuedRid;
        },
      },
      cfg.epoch,
    );
    this.replication = new Replication({
      self: () => this.nodeId,
      policy: this.policy,
      fold: cfg.fold ?? replaceState,
      ...(cfg.foldChain && { foldChain: cfg.foldChain }),
      sendReliable: (to, m) => this.sendReliable(to, m),
      isAlive: (id) => this.membership.alive(id, this.now),
      epochOf: (id) => this.membership.epochOf(id),
    });
    this.sessions = new ClusteredSessionCache({
      maxEntries: cfg.sessions?.maxEntries ?? 100_000,
      ttlMs: cfg.sessions?.ttlMs ?? 300_000,
      now: () => this.now,
      // To every configured peer, heard or not: a partitioned peer gets it when the partition heals.
      broadcast: (m) => {
        for (const id of this.membership.peerIds) this.sendReliable(id, m);
      },
    });
    for (const id of this.membership.peerIds) this.streams.set(id, this.freshStreams());
    // Announce ourselves: peers reset what they knew of a previous incarnation.
    for (const id of this.membership.peerIds) this.send(id, { type: "join" });
  }

  get epoch(): number {
    return this.epochValue;
  }

  get map(): BucketMap {
    return this.mapValue;
  }

  get drops(): DropCounters {
    return this.wire.drops;
  }

  private freshStreams(): PeerStreams {
    return {
      out: new ReliableSender(this.cfg.maxResendQueue ?? 65536), in: new ReliableReceiver(8192), queuedRid: 0, emittedRid: 0, ackedRid: 0,
      lastMapSent: -Infinity, digestMismatches: 0,
    };
  }

  // --- outputs -----------------------------------------------------------------

  private send(to: number, m: Message): void {
    this.aggregator.enqueue(to, encodeMessage(m), this.now);
  }

  /**
   * Into `to`'s reliable stream. To a peer we do not hear the message is only
   * queued: when it comes back under the same epoch, its NACKs (prompted by
   * our keepalive's streamNext) fetch it; when it comes back under a new one,
   * it gets full state instead. A full queue means the peer stopped
   * acknowledging: it is declared dead once and nothing more is queued.
   */
  private sendReliable(to: number, m: Message): void {
    const s = this.streams.get(to);
    if (!s) return;
    if (s.out.queued >= (this.cfg.maxResendQueue ?? 65536)) return;
    // Encoded before it takes a sequence number: a message that cannot be encoded throws here, once, instead
    // of leaving a gap in the stream that the peer NACKs and every resend fails to fill.
    const framed = encodeMessage(m, s.out.last + 1);
    const { overflow } = s.out.send(m);
    if (m.type === "checkpoint" || m.type === "connectionClosed") s.queuedRid = m.rid;
    if (this.membership.alive(to, this.now)) this.aggregator.enqueue(to, framed, this.now, m.type === "sessionAdd" ? "lazy" : "stream");
    if (overflow) this.mirrorFailed(to, "resendOverflow");
  }

  /** End of the caller's turn (SSLACC §5.8): acks owed and every queued batch leave now. */
  flush(): void {
    this.sendAcks();
    this.aggregator.flush(this.holdForAck ? (to) => this.awaitingAck(to) : undefined);
  }

  /** `to` has not acknowledged the checkpoints of our last datagram to it (and is alive to do so). */
  private awaitingAck(to: number): boolean {
    const s = this.streams.get(to);
    return !!s && s.emittedRid > s.ackedRid && this.membership.alive(to, this.now);
  }

  private noteAck(from: number, rid: number): void {
    const s = this.streams.get(from);
    if (s && rid > s.ackedRid) s.ackedRid = rid;
  }

  takeDatagrams(): OutDatagram[] {
    return this.aggregator.take();
  }

  takeEvents(): ClusterEvent[] {
    const e = [...this.events, ...this.replication.takeEvents()];
    this.events = [];
    return e;
  }

  private sendAcks(): void {
    for (const { to, rid } of this.replication.takeAcks()) this.send(to, { type: "checkpointAck", rid });
  }

  // --- views -------------------------------------------------------------------

  master(now: number): number {
    return this.membership.master(now);
  }

  /** We claim mastership: lowest live id in our view, with a quorum lease. */
  isMaster(now: number): boolean {
    const claim = this.master(now) === this.nodeId && this.membership.quorumLeaseUntil() > now;
    if (!claim) this.masterSince = Infinity;
    else if (this.masterSince === Infinity) this.masterSince = now;
    return claim;
  }

  /** Since when we claim mastership without a break (∞: we do not). */
  private masterSince = Infinity;
  /** Since when, as master, we have seen the current step of moves pending (∞: none pending). */
  private movesSince = Infinity;
  private lastReadySent = 0;
  /** Our clock at construction. */
  private readonly bornAt: number;

  /** Whether some live peer announced a map newer than ours: then ours is stale and we act on nothing. */
  private mapStale(now: number): boolean {
    for (const id of this.membership.peerIds) {
      if (!this.membership.alive(id, now)) continue;
      const v = this.membership.peerMapVersion(id);
      if (newer({ version: v.version, issuer: v.issuer }, this.mapValue)) return true;
    }
    return false;
  }

  /** Whether this member may act for `bucket` now (docs §5.3, §6.3): listed, owner, not moving, map current, lease valid. */
  owns(bucket: number, now: number): boolean {
    return this.mayAct(now) && this.bucketsUnderMap().has(bucket);
  }

  /** Every bucket this member acts for now. */
  ownedBuckets(now: number): Set<number> {
    return this.mayAct(now) ? new Set(this.bucketsUnderMap()) : new Set();
  }

  /** Listed in a current map under our epoch, and holding the master's lease (docs §5.3). */
  private mayAct(now: number): boolean {
    if (this.left || !isMember(this.mapValue, this.nodeId, this.epochValue) || this.mapStale(now)) return false;
    return this.membership.ownershipLeaseUntil(this.master(now)) > now;
  }

  /**
   * The buckets the current map gives us and does not move, computed once
   * per map: a map is never changed, only replaced (`plan` copies), and
   * `owns` runs for every accept and checkpoint.
   */
  private bucketsUnderMap(): ReadonlySet<number> {
    if (this.underMap?.map !== this.mapValue) {
      const buckets = new Set<number>();
      for (let b = 0; b < BUCKETS; b++) if (ownsUnder(this.mapValue, this.nodeId, b)) buckets.add(b);
      this.underMap = { map: this.mapValue, buckets };
    }
    return this.underMap.buckets;
  }

  // --- inputs from the relay -----------------------------------------------------

  /** One relay checkpoint of a connection in a bucket we own. Wait for the "replicated" event with this rid before commit. */
  replicate(connId: number, bucket: number, checkpoint: Uint8Array, now: number): ReplicateResult {
    this.now = Math.max(this.now, now);
    if (!(Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS)) return { ok: false, reason: "bad_bucket" };
    if (!this.owns(bucket, now)) return { ok: false, reason: "not_owner" };
    if (checkpoint.length > maxCheckpointBytes(this.cfg.maxDatagram)) return { ok: false, reason: "checkpoint_too_large" };
    return { ok: true, rid: this.replication.replicate(this.mapValue, connId, bucket, checkpoint, now) };
  }

  /** The connection ended: mirrors forget it. */
  closeConnection(connId: number, now: number): number | undefined {
    this.now = Math.max(this.now, now);
    return this.replication.close(this.mapValue, connId, now);
  }

  /** Graceful leave: the master reassigns our buckets at once instead of after deadAfterMs. */
  leave(now: number): void {
    this.now = Math.max(this.now, now);
    this.left = true;
    for (const id of this.membership.peerIds) this.send(id, { type: "leave", member: this.nodeId, reason: "shutdown" });
    this.flush();
  }

  // --- datagrams ------------------------------------------------------------------

  receive(datagram: Uint8Array, now: number): void {
    this.now = Math.max(this.now, now);
    if (this.left) return;
    const opened = this.wire.open(datagram);
    if (!opened.ok) return;
    const from = opened.header.sender;
    const ka = opened.messages.find((f) => f.message.type === "keepalive")?.message;
    const known = this.membership.epochOf(from);
    this.membership.heard(from, opened.header.epoch, now, ka?.type === "keepalive" ? ka : undefined);
    if (known !== opened.header.epoch) this.peerRestarted(from, now); // first contact or a new incarnation
    const s = this.streams.get(from)!;
    for (const { message, streamSeq } of opened.messages) {
      // A reliable message belongs to the stream between two known incarnations: never to a first contact.
      if (streamSeq > 0 && opened.header.destEpoch === 0) continue;
      if (streamSeq > 0) {
        for (const m of s.in.accept(streamSeq, message)) this.deliver(from, m, now);
      } else {
        this.deliver(from, message, now);
      }
    }
    const gap = s.in.nack(now, this.cfg.nackRetryMs ?? 20);
    if (gap) {
      this.counters.nacksSent++;
      this.send(from, { type: "nack", from: gap.from, to: gap.to });
    }
  }

  private peerRestarted(id: number, now: number): void {
    this.aggregator.drop(id);
    this.streams.set(id, this.freshStreams());
    this.replication.peerRestarted(this.mapValue, id, now);
    // The newcomer needs every session, including those made by members that died since. Every member
    // sends it all it holds: n-1 copies, but no single helper whose own cache may be empty or partial (a
    // "lowest live member sends" rule failed in the simulation when two members restarted together).
    // docs §8: a digest exchange would cut the copies.
    this.sendAllSessions(id);
  }

  private sendAllSessions(to: number): void {
    for (const session of this.sessions.sessions(false)) this.sendReliable(to, { type: "sessionAdd", session });
    for (const id of this.sessions.removedIds()) this.sendReliable(to, { type: "sessionRemove", id });
  }

  private deliver(from: number, m: Message, now: number): void {
    switch (m.type) {
      case "keepalive": {
        const s = this.streams.get(from)!;
        s.out.ack(m.streamAck);
        s.in.noteTail(m.streamNext);
        if (m.checkpointAck > 0) {
          this.noteAck(from, m.checkpointAck);
          this.replication.acked(from, m.checkpointAck, now);
        }
        // Anti-entropy: an add whose maker died before a briefly unreachable peer got it is otherwise lost
        // to that peer. A settled digest (sessions older than the horizon, so not adds in flight) that
        // differs for 3 keepalives in a row makes both sides send everything they hold, removals included
        // (docs §8).
        s.digestMismatches = m.sessionDigest === this.sessions.settledDigest ? 0 : s.digestMismatches + 1;
        if (s.digestMismatches >= 3) {
          s.digestMismatches = 0;
          this.counters.sessionResyncs++;
          this.sendAllSessions(from);
        }
        // Anyone with a newer map than the sender's passes it on (maps are authenticated and versioned).
        if (newer(this.mapValue, { version: m.mapVersion, issuer: m.mapIssuer }) && now - s.lastMapSent >= this.membership.keepaliveMs) {
          s.lastMapSent = now;
          this.send(from, mapToMessage(this.mapValue));
        }
        return;
      }
      case "join":
        return; // the epoch change already reset what we knew of it
      case "leave":
        if (m.member === from && m.reason === "shutdown") {
          this.membership.departed(from);
          this.replication.mirrorGone(from, now);
        } else if (m.member !== this.nodeId && this.master(now) === this.nodeId) {
          // A member asks us (the master) to expel a mirror that stopped acknowledging it; its buckets
          // move once the lease we last granted it has run out.
          this.membership.suspend(m.member, now);
        }
        return;
      case "bucketMap":
        this.adopt(mapFromMessage(m), now);
        return;
      case "checkpoint":
      case "connectionClosed":
      case "bucketReleased":
        this.replication.onMessage(this.mapValue, from, m, now);
        return;
      case "checkpointAck":
        this.noteAck(from, m.rid);
        this.replication.acked(from, m.rid, now);
        return;
      case "sessionAdd":
        this.sessions.added(m.session);
        return;
      case "sessionRemove":
        this.sessions.removed(m.id);
        return;
      case "nack": {
        const s = this.streams.get(from)!;
        for (const r of s.out.resend(m.from, m.to)) {
          this.counters.retransmits++;
          this.aggregator.enqueue(from, encodeMessage(r.message, r.seq), now);
        }
        return;
      }
      default:
        assertNever(m, "cluster message");
    }
  }

  private adopt(next: BucketMap, now: number): void {
    if (!newer(next, this.mapValue)) {
      this.counters.staleMapsIgnored++;
      return;
    }
    const prev = this.mapValue;
    this.mapValue = next;
    this.counters.mapsAdopted++;
    this.events.push({ kind: "mapAdopted", version: next.version, issuer: next.issuer });
    const member = isMember(next, this.nodeId, this.epochValue);
    if (this.wasMember && !member) {
      this.expel(now);
      return;
    }
    if (member) this.wasMember = true;
    this.replication.remapped(prev, next, now);
  }

  /**
   * We were declared dead while alive (a false suspicion, a partition, or a
   * mirror that did not acknowledge in time). Our tables may have missed
   * updates, so we drop them and come back as a new incarnation.
   */
  private expel(now: number): void {
    this.counters.expulsions++;
    this.epochValue += 1;
    this.wasMember = false;
    this.replication.reset();
    this.aggregator.reset(this.epochValue);
    this.wire.reset();
    for (const id of this.membership.peerIds) this.streams.set(id, this.freshStreams());
    this.events.push({ kind: "expelled", epoch: this.epochValue });
    for (const id of this.membership.peerIds) {
      this.send(id, { type: "join" });
      // Sessions are not bucket state: ours stay valid, and any we made while cut off go out again.
      this.sendAllSessions(id);
    }
    void now;
  }

  private mirrorFailed(id: number, reason: "noAck" | "resendOverflow"): void {
    this.counters.mirrorsDeclaredDead++;
    this.membership.suspend(id, this.now);
    this.replication.mirrorGone(id, this.now);
    const master = this.master(this.now);
    if (master !== this.nodeId) this.send(master, { type: "leave", member: id, reason });
  }

  // --- time -----------------------------------------------------------------------

  /** Keepalives, failure detection, the master's planning, NACK retries, ack timeouts, delayed flushes. */
  tick(now: number): void {
    this.now = Math.max(this.now, now);
    if (this.left) return;
    for (const id of this.replication.overdue(now, this.cfg.ackTimeoutMs ?? this.membership.deadAfterMs)) this.mirrorFailed(id, "noAck");
    for (const [id, s] of this.streams) {
      const gap = s.in.nack(now, this.cfg.nackRetryMs ?? 20);
      if (gap && this.membership.alive(id, now)) {
        this.counters.nacksSent++;
        this.send(id, { type: "nack", from: gap.from, to: gap.to });
      }
    }
    // Pending checkpoints to a mirror that died are no longer waited for; one back under the same epoch
    // gets full state before it counts again (replication.resync).
    for (const id of this.membership.peerIds) {
      if (!this.membership.alive(id, now)) this.replication.mirrorGone(id, now);
      else this.replication.resync(this.mapValue, id);
    }
    // A new master waits deadAfterMs before it plans: by then it has heard every live member (or knows it
    // dead) and every lease granted by a previous master has run out (docs §5.3). It also waits for the
    // newest map, which peers pass on when they see our older version in a keepalive.
    if (this.isMaster(now) && this.mayPlan(now) && !this.mapStale(now)) this.planAsMaster(now);
    // Handoffs complete one keepalive sooner if the target says it is ready at once.
    const ready = this.replication.readyFor(this.mapValue) ? this.mapValue.version : 0;
    if (ready !== this.lastReadySent && this.mapValue.handoffs.size > 0) this.nextKeepalive = now;
    if (now >= this.nextKeepalive) {
      this.lastReadySent = ready;
      this.nextKeepalive = now + this.membership.keepaliveMs;
      this.sendKeepalives(now);
    }
    this.sendAcks();
    this.aggregator.tick(now);
  }

  private sendKeepalives(now: number): void {
    // Expired sessions leave the digest at the same moment on every member (TTL on createdAt). The digest
    // covers sessions made before a horizon 2 × deadAfterMs back, moved in steps of deadAfterMs so that
    // members whose clocks differ by a few ms compute the same one (docs §8).
    const step = this.membership.deadAfterMs;
    this.sessions.sweep(Math.floor((now - 2 * step) / step) * step);
    const master = this.isMaster(now);
    const ready = this.replication.readyFor(this.mapValue) ? this.mapValue.version : 0;
    for (const id of this.membership.peerIds) {
      const s = this.streams.get(id)!;
      this.send(id, {
        type: "keepalive",
        ...this.membership.keepaliveFields(id, now),
        master,
        mapVersion: this.mapValue.version,
        mapIssuer: this.mapValue.issuer,
        readyVersion: ready,
        streamNext: s.out.last,
        streamAck: s.in.upTo,
        checkpointAck: this.replication.appliedFrom(id),
        sessionDigest: this.sessions.settledDigest,
        follows: this.master(now),
      });
    }
  }

  /**
   * docs §5.3. The full wait (deadAfterMs of mastership) — or, when the master died, as soon as every
   * peer we hear names us master: none of them has heard a lower id for deadAfterMs, so none echoes the
   * old master (its quorum lease needs a peer of our quorum: two majorities meet) nor holds a lease from
   * it. Only once we have run for deadAfterMs ourselves: a member we have never heard counts as gone, and
   * that needs a full dead interval of silence, as for any death. And only after two keepalive periods
   * of mastership: a claim right after a stall (an event loop starved past a lease) may be a flap, and
   * planning at once cost leases in a loaded single-process cluster (docs §5.3). Saves deadAfterMs − 2
   * keepalive periods of a master's takeover (docs/ctcp.md "Where recovery's time went").
   */
  private mayPlan(now: number): boolean {
    const claimed = now - this.masterSince;
    if (claimed >= this.membership.deadAfterMs) return true;
    return claimed >= 2 * this.membership.keepaliveMs && now - this.bornAt >= this.membership.deadAfterMs && this.membership.followedByAllHeard(this.nodeId, now);
  }

  private planAsMaster(now: number): void {
    const live = this.membership.keptIds(now).map((id) => ({ id, epoch: id === this.nodeId ? this.epochValue : this.membership.epochOf(id) }));
    if (this.mapValue.handoffs.size === 0) this.movesSince = Infinity;
    else if (this.movesSince === Infinity) this.movesSince = now;
    const abortMoves = now - this.movesSince >= (this.cfg.moveTimeoutMs ?? 10 * this.membership.deadAfterMs);
    let highest = this.mapValue.version;
    for (const id of this.membership.peerIds) if (this.membership.alive(id, now)) highest = Math.max(highest, this.membership.peerMapVersion(id).version);
    const next = plan({
      current: this.mapValue,
      self: this.nodeId,
      live,
      highestSeen: highest,
      ready: (id, version) => {
        if (id === this.nodeId) return this.replication.readyFor(this.mapValue) && version === this.mapValue.version;
        const v = this.membership.peerMapVersion(id);
        return v.version === version && v.issuer === this.mapValue.issuer && v.ready === version;
      },
      policy: this.policy,
      maxMoves: this.cfg.maxMoves ?? 32,
      abortMoves,
    });
    if (!next) return;
    if (abortMoves && next.handoffs.size === 0) this.movesAborted(next);
    this.counters.mapsIssued++;
    this.adopt(next, now);
    const msg = mapToMessage(next);
    for (const id of this.membership.peerIds) {
      if (!this.membership.alive(id, now)) continue;
      this.streams.get(id)!.lastMapSent = now;
      this.send(id, msg);
    }
  }

  /** The moves of the current map that `next` cancels (not those it completes in the same plan). */
  private movesAborted(next: BucketMap): void {
    const cancelled = [...this.mapValue.handoffs].filter(([b]) => next.owner[b] === this.mapValue.owner[b]);
    this.movesSince = Infinity;
    if (cancelled.length === 0) return;
    this.counters.movesAborted += cancelled.length;
    this.events.push({ kind: "movesAborted", buckets: cancelled.length, targets: [...new Set(cancelled.map(([, to]) => to))].sort((a, b) => a - b) });
  }

  status(now: number): ClusterStatus {
    const counts = bucketCounts(this.mapValue);
    return {
      nodeId: this.nodeId,
      epoch: this.epochValue,
      master: this.master(now),
      isMaster: this.isMaster(now),
      mapVersion: this.mapValue.version,
      mapIssuer: this.mapValue.issuer,
      members: this.mapValue.members.map((m) => ({ id: m.id, epoch: m.epoch, alive: this.membership.alive(m.id, now), buckets: counts.get(m.id) ?? 0 })),
      owned: this.ownedBuckets(now).size,
      handoffs: this.mapValue.handoffs.size,
      active: this.replication.active.size,
      mirrored: this.replication.mirror.size,
      inFlight: this.replication.inFlight,
      sessions: this.sessions.size,
      drops: { ...this.wire.drops },
      aggregation: { ...this.aggregator.counters },
      replication: { ...this.replication.stats },
      counters: { ...this.counters },
    };
  }
}

export interface ClusterStatus {
  readonly nodeId: number;
  readonly epoch: number;
  readonly master: number;
  readonly isMaster: boolean;
  readonly mapVersion: number;
  readonly mapIssuer: number;
  readonly members: ReadonlyArray<{ id: number; epoch: number; alive: boolean; buckets: number }>;
  readonly owned: number;
  readonly handoffs: number;
  readonly active: number;
  readonly mirrored: number;
  readonly inFlight: number;
  readonly sessions: number;
  readonly drops: DropCounters;
  readonly aggregation: Record<string, number>;
  readonly replication: Record<string, number>;
  readonly counters: Record<string, number>;
}

export type { Entry };
