// The daemon's side of the cluster (docs/cluster-protocol.md §10.1): the one
// ClusterNode of this process, in the main thread (never one per shard), and
// the bookkeeping between relay checkpoints and the cluster's acknowledgements.
//
//   accept ──owns(bucket)?──> replicated connection, or served as on one node
//   shard checkpoint (delta) ──replicate(cid, bucket)──> rid ─┐  mirrors ack
//   "replicated" event (rid) <────────────────────────────────┘
//        └─> hooks.stored(conn, seq): the shard's relay releases what waited (law 1)
//   not_owner / too large, bucketLost, expelled, close()
//        └─> hooks.local(conn, why): the connection is served on, unreplicated (counted)
//
// Kernel-socket transport: a member serves every connection that reaches it;
// `owns(bucket)` decides only whether it replicates it (§10.1 item 3). A dead
// member's kernel sockets die with it, so what a survivor gains from the
// replicated state is nothing yet (the clustered-TCP transport will restore
// from it); its clients resume their sessions elsewhere (the clustered cache).
import { performance } from "node:perf_hooks";
import type { ClusterEvent, ReplicateResult } from "../cluster/cluster-node.js";
import type { FoldChain, FoldState } from "../cluster/replication.js";
import { startClusterNode, type ClusterNodeConfig, type RunningClusterNode } from "../cluster/run-node.js";
import type { ChannelLog, ClusterChannel } from "../cluster/channel.js";
import { decodeRelayCheckpoint, decodeRelaySnapshot, encodeRelaySnapshot, foldRelay } from "../relay/checkpoint.js";

/** What the daemon does on the link's behalf (it owns the connections and the shard ports). */
export interface ClusterLinkHooks {
  /** Checkpoints of `conn` up to `seq` are replicated; `epoch` is the connection's restore count when it was sent. */
  stored(conn: number, seq: number, epoch: number): void;
  /**
   * Stop replicating the connection; it goes on as on one node, and every
   * checkpoint the shard sent is stored now (the main thread is its store).
   */
  local(conn: number, why: DetachReason): void;
}

/** Why a replicated connection went on unreplicated. */
export type DetachReason = Exclude<ReplicateResult, { ok: true }>["reason"] | "bucket_lost" | "expelled" | "closing";

export interface ClusterLinkCounters {
  /** Connections accepted in a bucket this member owned: replicated. */
  replicatedConnections: number;
  /** Accepted in a bucket another member owns (or none does): served unreplicated. */
  unreplicatedConnections: number;
  checkpointsReplicated: number;
  /** "stored" releases handed to the daemon: one per connection per turn, however many acknowledgements. */
  storedReleases: number;
  /** Checkpoints refused by the cluster, by reason; the connection went on unreplicated (also in `detached`). */
  notOwner: number;
  checkpointTooLarge: number;
  /** Replicated connections switched to unreplicated (a refusal, their bucket lost, expelled, or the channel closed). */
  detached: number;
  mapsAdopted: number;
  bucketsAcquired: number;
  bucketsLost: number;
  expelled: number;
  /** Bucket moves this member, as master, cancelled because their step outlived moveTimeoutMs (docs §6.2). */
  movesAborted: number;
}

/** The relay's fold (src/relay/checkpoint.ts) over encoded bytes: mirrors hold whole snapshots (docs §7.2). */
export const foldRelayBytes: FoldState = (prev, delta) =>
  encodeRelaySnapshot(foldRelay(prev === undefined ? undefined : decodeRelaySnapshot(prev), decodeRelayCheckpoint(delta)));

/**
 * The same over a chain of deltas, decoding the snapshot and encoding it once
 * (a table entry folds lazily, docs §7.2). Byte-identical to foldRelayBytes
 * one by one: a snapshot's encoding is canonical (test/node/cluster-fold.test.ts).
 */
export const foldRelayChain: FoldChain = (prev, deltas) => {
  let s = prev === undefined ? undefined : decodeRelaySnapshot(prev);
  for (const d of deltas) s = foldRelay(s, decodeRelayCheckpoint(d));
  if (s === undefined) throw new RangeError("foldRelayChain: no state and no delta");
  return encodeRelaySnapshot(s);
};

/** Cluster connection ids: the member's id above 37 bits of a per-incarnation counter (docs §7: ids are global). */
const CONN_BITS = 2 ** 37;

interface Pending {
  readonly conn: number;
  readonly seq: number;
  readonly epoch: number;
}

export class ClusterLink {
  readonly counters: ClusterLinkCounters = {
    replicatedConnections: 0, unreplicatedConnections: 0, checkpointsReplicated: 0, storedReleases: 0, notOwner: 0, checkpointTooLarge: 0,
    detached: 0, mapsAdopted: 0, bucketsAcquired: 0, bucketsLost: 0, expelled: 0, movesAborted: 0,
  };
  /** Replicated connections (daemon ids) → bucket. */
  private readonly conns = new Map<number, number>();
  /** rid → the checkpoint it carries. */
  private readonly pending = new Map<number, Pending>();
  private readonly idBase: number;
  private readonly idOffset: number;
  private closed = false;
  /** When the current map was adopted (the channel's clock: wall-anchored ms), for status. */
  private mapAdoptedAt = 0;
  private hooks: ClusterLinkHooks | null = null;

  private constructor(readonly running: RunningClusterNode) {
    this.idBase = running.node.nodeId * CONN_BITS;
    // A restarted member numbers its connections from 1 again; starting the counter at the time in µs
    // keeps its ids apart from its previous incarnation's (still in mirrors) unless that one opened
    // more than 1,000 connections per ms since.
    this.idOffset = Math.floor(performance.timeOrigin * 1000) % CONN_BITS;
  }

  /**
   * Starts the member (binds its UDP socket, sends JOIN) before the daemon
   * exists: the daemon is built with its session cache. Throws
   * ClusterConfigError naming a flag, or ChannelError (cannot bind).
   */
  static async start(cfg: ClusterNodeConfig, log: ChannelLog): Promise<ClusterLink> {
    let link: ClusterLink | undefined;
    const running = await startClusterNode({
      ...cfg,
      core: { ...cfg.core, fold: foldRelayBytes, foldChain: foldRelayChain },
      channel: { ...cfg.channel, log, onEvents: (events) => link?.events(events) },
    });
    link = new ClusterLink(running);
    return link;
  }

  /** The daemon that serves the connections (one; it closes the link when it stops). */
  attach(hooks: ClusterLinkHooks): void {
    if (this.hooks) throw new Error("cluster link: attached to a second daemon");
    this.hooks = hooks;
  }

  /** The clustered session cache (docs §8), as the daemon's node-level cache: shards keep copies through onChange. */
  get sessions(): ClusterChannel["sessions"] {
    return this.running.channel.sessions;
  }

  private cid(conn: number): number {
    return this.idBase + ((this.idOffset + conn) % CONN_BITS);
  }

  /** A new connection: replicated iff this member owns its bucket now. */
  accept(conn: number, bucket: number): boolean {
    if (!this.closed && this.hooks && this.running.channel.owns(bucket)) {
      this.conns.set(conn, bucket);
      this.counters.replicatedConnections++;
      return true;
    }
    this.counters.unreplicatedConnections++;
    return false;
  }

  isReplicated(conn: number): boolean {
    return this.conns.has(conn);
  }

  /**
   * A relay checkpoint (delta encoding) of a replicated connection. False:
   * refused; the connection went on unreplicated (hooks.local was called).
   */
  checkpoint(conn: number, epoch: number, seq: number, bytes: Uint8Array): boolean {
    const bucket = this.conns.get(conn);
    if (bucket === undefined) return true;
    const r = this.running.channel.replicate(this.cid(conn), bucket, bytes);
    if (r.ok) {
      this.counters.checkpointsReplicated++;
      this.pending.set(r.rid, { conn, seq, epoch });
      return true;
    }
    if (r.reason === "checkpoint_too_large") this.counters.checkpointTooLarge++;
    else this.counters.notOwner++;
    // Kernel sockets (§10.1 item 3): no other member can take the connection over, so a lease that
    // lapsed for a moment (a starved event loop, docs §5.3) or an oversized checkpoint costs only its
    // replication, as a lost bucket does. The mirrors forget what they hold of it.
    this.running.channel.closeConnection(this.cid(conn));
    this.detach(conn, r.reason);
    return false;
  }

  /** The connection is gone: mirrors forget it. */
  connectionClosed(conn: number): void {
    if (!this.conns.delete(conn)) return;
    if (!this.closed) this.running.channel.closeConnection(this.cid(conn));
  }

  /**
   * One turn's events (the channel delivers them at the end of its turn).
   * Acknowledgements are coalesced: `stored(seq)` releases every checkpoint
   * up to seq, so each connection gets one, its latest, per turn.
   */
  private events(events: ClusterEvent[]): void {
    const acked = new Map<number, Pending>();
    for (const e of events) {
      switch (e.kind) {
        case "replicated": {
          const p = this.pending.get(e.rid);
          if (!p) break;
          this.pending.delete(e.rid);
          const q = acked.get(p.conn);
          if (!q || p.epoch > q.epoch || (p.epoch === q.epoch && p.seq > q.seq)) acked.set(p.conn, p);
          break;
        }
        case "bucketAcquired":
          // Mirrored connections of a dead or departing member: with kernel sockets there is nothing to
          // re-instantiate (the sockets died with it); the clustered-TCP transport will restore them here.
          this.counters.bucketsAcquired++;
          break;
        case "bucketLost":
          this.counters.bucketsLost++;
          for (const [conn, bucket] of this.conns) if (bucket === e.bucket) this.detach(conn, "bucket_lost");
          break;
        case "mapAdopted":
          this.counters.mapsAdopted++;
          this.mapAdoptedAt = this.running.channel.now();
          break;
        case "movesAborted":
          this.counters.movesAborted += e.buckets;
          break;
        case "expelled":
          // docs §5.5: the member dropped its tables and rejoins; our connections' state is nowhere else now.
          this.counters.expelled++;
          for (const conn of [...this.conns.keys()]) this.detach(conn, "expelled");
          break;
        default:
          exhaustive(e);
      }
    }
    // After the loop: a connection detached in this turn got "local", which releases everything.
    for (const p of acked.values()) {
      if (!this.conns.has(p.conn)) continue;
      this.counters.storedReleases++;
      this.hooks?.stored(p.conn, p.seq, p.epoch);
    }
  }

  private detach(conn: number, why: DetachReason): void {
    this.conns.delete(conn);
    this.counters.detached++;
    this.hooks?.local(conn, why);
  }

  /**
   * SIGTERM / stop: every replicated connection goes on unreplicated (nobody
   * can take a kernel socket over, and a drain lets them finish), then LEAVE
   * so the master reassigns our buckets at once (§10.1 item 8).
   */
  async close(opts?: { leave?: boolean }): Promise<void> {
    if (this.closed) return;
    for (const conn of [...this.conns.keys()]) this.detach(conn, "closing");
    this.closed = true;
    this.pending.clear();
    await this.running.close(opts);
  }

  /**
   * The channel's status, the buckets this member holds a lease on now (a
   * balancer, e.g. bench/loadgen.ts, sends each connection to its bucket's
   * owner with them), and the link's counters.
   */
  status() {
    const ownedBuckets = [...this.running.node.ownedBuckets(this.running.channel.now())].sort((a, b) => a - b);
    return {
      ...this.running.channel.status(), ownedBuckets,
      link: { ...this.counters, replicating: this.conns.size, awaitingAcks: this.pending.size, mapAdoptedAt: this.mapAdoptedAt, wallMinusClusterClockMs: Date.now() - this.running.channel.now() },
    };
  }
}

function exhaustive(x: never): never {
  throw new Error(`cluster link bug: unhandled ${JSON.stringify(x)}`);
}
