// Membership: who is alive, who is master, and whether this member may own
// buckets right now (docs/cluster-protocol.md §5). Sans-I/O: keepalives in,
// decisions out; time is the caller's `now` (ms).
//
// SSLACC §3 (AlchemyOS): "member join/loss detection (via periodic
// keepalives)"; one distinguished master assigns work. Here:
// * a peer is alive while its keepalives arrive within deadAfterMs;
// * the master is the lowest live id among the members of the current map
//   (a joiner becomes eligible once the map lists it, so it never leads
//   without the map it would have to extend);
// * ownership is a *lease*: a keepalive carries the sender's clock, the
//   receiver echoes it back, and a member owns buckets only until
//   echo + leaseMs (only durations are compared, never two clocks). Every
//   member needs fresh echoes from a quorum (its side of a partition is the
//   majority); a non-master also needs the master's echo (the master has
//   heard it lately, so will not reassign its buckets). Since an echo is of a
//   keepalive the echoing member heard, and leaseMs + keepaliveMs <
//   deadAfterMs, a member the master stopped hearing, or one cut off from the
//   majority, has stopped owning before anyone reassigns its buckets (no
//   split brain; docs §5.3 walks through the cases). An echo comes back up
//   to one period late and is refreshed once a period, so leaseMs must also
//   exceed two keepalive periods.
import type { Keepalive } from "./messages.js";

/**
 * The partition rule (docs §5.4).
 * majority: own only while a strict majority of the configured members (self included) is reachable.
 * tiebreaker: as majority, and exactly half counts when it includes `tiebreaker` (2-node clusters).
 * allowMinority: own whatever the partition. Risk: during a partition both sides own the same
 *   buckets and both answer clients (split brain); only for setups where the network cannot partition.
 */
export type PartitionRule =
  | { readonly kind: "majority" }
  | { readonly kind: "tiebreaker"; readonly tiebreaker: number }
  | { readonly kind: "allowMinority" };

export interface MembershipConfig {
  readonly nodeId: number;
  /** Every configured member id, self included. */
  readonly members: readonly number[];
  readonly keepaliveMs?: number;
  readonly deadAfterMs?: number;
  readonly leaseMs?: number;
  readonly partition?: PartitionRule;
}

export const DEFAULT_KEEPALIVE_MS = 100;
export const DEFAULT_DEAD_AFTER_MS = 400;

interface Peer {
  /** Our clock when we last heard it (−∞: never). */
  lastHeard: number;
  epoch: number;
  /** Its latest sentAt, to echo back. */
  theirSentAt: number;
  /** Our own sentAt it echoed most recently (0: none). */
  echoOfMine: number;
  /** Whether its latest keepalive claimed mastership. */
  claimsMaster: boolean;
  /**
   * Declared dead while it may still be running (it stopped acknowledging, or the master was asked to
   * expel it): not alive for replication, and no more echoes, but its buckets are not reassignable
   * until the last lease we granted it has run out (gone()).
   */
  suspendedUntil: number;
  /** It said goodbye (LEAVE shutdown): gone at once, it stopped owning before it said so. */
  departed: boolean;
  /** Our clock when we last sent it a non-zero echo. */
  lastEchoSent: number;
  mapVersion: number;
  mapIssuer: number;
  readyVersion: number;
  /** Whom its latest keepalive named master (0: not heard yet). */
  follows: number;
}

export class Membership {
  readonly keepaliveMs: number;
  readonly deadAfterMs: number;
  readonly leaseMs: number;
  readonly partition: PartitionRule;
  private readonly peers = new Map<number, Peer>();
  private readonly configured: readonly number[];
  readonly nodeId: number;

  constructor(cfg: MembershipConfig) {
    this.nodeId = cfg.nodeId;
    this.keepaliveMs = cfg.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.deadAfterMs = cfg.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.leaseMs = cfg.leaseMs ?? Math.floor(this.deadAfterMs - this.keepaliveMs - (this.deadAfterMs - 3 * this.keepaliveMs) / 2);
    // docs §5.3: the lease must run out before the master's death timer, with a keepalive period of slack.
    if (!(this.leaseMs > 2 * this.keepaliveMs && this.leaseMs + this.keepaliveMs < this.deadAfterMs)) {
      throw new RangeError(
        `need 2 × keepaliveMs ${this.keepaliveMs} < leaseMs ${this.leaseMs} < deadAfterMs ${this.deadAfterMs} - keepaliveMs (docs §5.3)`,
      );
    }
    this.partition = cfg.partition ?? { kind: "majority" };
    if (!cfg.members.includes(cfg.nodeId)) throw new RangeError(`node ${cfg.nodeId} is not among the configured members`);
    this.configured = [...cfg.members].sort((a, b) => a - b);
    for (const id of this.configured) {
      if (id === cfg.nodeId) continue;
      this.peers.set(id, {
        lastHeard: -Infinity, epoch: 0, theirSentAt: 0, echoOfMine: 0, claimsMaster: false, suspendedUntil: -Infinity, departed: false, lastEchoSent: -Infinity,
        mapVersion: 0, mapIssuer: 0, readyVersion: 0, follows: 0,
      });
    }
  }


  get peerIds(): number[] {
    return [...this.peers.keys()];
  }

  /** A keepalive (or any authentic datagram: `ka` undefined) from `from` under `epoch`. Returns true if the peer restarted. */
  heard(from: number, epoch: number, now: number, ka?: Keepalive): boolean {
    const p = this.peers.get(from);
    if (!p) return false;
    let restarted = false;
    if (epoch !== p.epoch) {
      restarted = p.epoch !== 0;
      p.epoch = epoch;
      p.echoOfMine = 0;
      p.theirSentAt = 0;
      p.suspendedUntil = -Infinity;
      p.departed = false;
      p.mapVersion = 0;
      p.readyVersion = 0;
      p.follows = 0;
    }
    p.lastHeard = now;
    if (ka) {
      if (ka.sentAt > p.theirSentAt) p.theirSentAt = ka.sentAt;
      if (ka.echo > p.echoOfMine) p.echoOfMine = ka.echo;
      p.claimsMaster = ka.master;
      p.mapVersion = ka.mapVersion;
      p.mapIssuer = ka.mapIssuer;
      p.readyVersion = ka.readyVersion;
      p.follows = ka.follows;
    }
    return restarted;
  }

  /**
   * It stopped acknowledging us, or we are asked to expel it (Peer.suspendedUntil). For two death
   * timeouts: time for the master to expel it (it then rejoins under a new epoch). If the master kept it
   * (it acknowledges the master; or it *is* the master) it gets another chance afterwards, rather than
   * being dead to us for ever (the random simulation found that deadlock).
   */
  suspend(id: number, now: number): void {
    const p = this.peers.get(id);
    if (p) p.suspendedUntil = now + 2 * this.deadAfterMs;
  }

  /** It left gracefully (LEAVE shutdown). */
  departed(id: number): void {
    const p = this.peers.get(id);
    if (p) p.departed = true;
  }

  alive(id: number, now: number): boolean {
    if (id === this.nodeId) return true;
    const p = this.peers.get(id);
    return !!p && now >= p.suspendedUntil && !p.departed && now - p.lastHeard < this.deadAfterMs;
  }

  /**
   * Whether the master may hand `id`'s buckets to others: silent for deadAfterMs (its lease, made of
   * echoes of keepalives we heard, ran out before), departed, or suspended and our last echo to it
   * older than leaseMs (docs §5.3).
   */
  gone(id: number, now: number): boolean {
    if (id === this.nodeId) return false;
    const p = this.peers.get(id);
    if (!p || p.departed || now - p.lastHeard >= this.deadAfterMs) return true;
    return now < p.suspendedUntil && now - p.lastEchoSent > this.leaseMs;
  }

  /** Configured ids the master keeps in the map (self included), ascending. */
  keptIds(now: number): number[] {
    return this.configured.filter((id) => !this.gone(id, now));
  }

  epochOf(id: number): number {
    return this.peers.get(id)?.epoch ?? 0;
  }

  peerMapVersion(id: number): { version: number; issuer: number; ready: number } {
    const p = this.peers.get(id);
    return { version: p?.mapVersion ?? 0, issuer: p?.mapIssuer ?? 0, ready: p?.readyVersion ?? 0 };
  }

  /** Live configured ids, self included, ascending. */
  liveIds(now: number): number[] {
    return this.configured.filter((id) => this.alive(id, now));
  }

  /** Whether a set of reachable members (self included) satisfies the partition rule. */
  quorate(count: number, includesTiebreaker: boolean): boolean {
    const n = this.configured.length;
    switch (this.partition.kind) {
      case "majority":
        return 2 * count > n;
      case "tiebreaker":
        return 2 * count > n || (2 * count === n && includesTiebreaker);
      case "allowMinority":
        return true;
      default: {
        const never: never = this.partition;
        throw new Error(`partition rule ${JSON.stringify(never)}`);
      }
    }
  }

  /** Whether we currently see (hear) a quorum. */
  seesQuorum(now: number): boolean {
    const live = this.liveIds(now);
    return this.quorate(live.length, this.partition.kind === "tiebreaker" && live.includes(this.partition.tiebreaker));
  }

  /**
   * When our quorum lease runs out, on our clock: peers sorted by the freshest
   * echo of our keepalives; the lease is as good as the echo of the last peer
   * needed to reach a quorum.
   */
  quorumLeaseUntil(): number {
    const tb = this.partition.kind === "tiebreaker" ? this.partition.tiebreaker : -1;
    if (this.quorate(1, tb === this.nodeId)) return Infinity;
    const echoes = [...this.peers.entries()].filter(([, p]) => p.echoOfMine > 0).sort((a, b) => b[1].echoOfMine - a[1].echoOfMine);
    let count = 1;
    let withTb = tb === this.nodeId;
    for (const [id, p] of echoes) {
      count++;
      if (id === tb) withTb = true;
      if (this.quorate(count, withTb)) return p.echoOfMine + this.leaseMs;
    }
    return -Infinity;
  }

  /** Until when we may own buckets under master `master`, on our clock: our quorum lease, and the master's echo. */
  ownershipLeaseUntil(master: number): number {
    const quorum = this.quorumLeaseUntil();
    if (master === this.nodeId) return quorum;
    const p = this.peers.get(master);
    if (!p || p.echoOfMine === 0 || !p.claimsMaster) return -Infinity;
    return Math.min(p.echoOfMine + this.leaseMs, quorum);
  }

  /**
   * The master: the lowest live configured id. Liveness only — not the map —
   * so that every member with the same view names the same master (a map-based
   * choice let two members each lead their own map after a heal; the
   * simulation found it). A master without the newest map learns it from its
   * peers before it plans (cluster-node.ts).
   */
  master(now: number): number {
    // Heard, not alive(): suspending a peer (it did not acknowledge us) must not make us, or anyone
    // else, master in our eyes while the rest of the cluster still follows it. The random simulation
    // found two and three simultaneous masters that way under 30 % loss.
    return this.configured.find((id) => id === this.nodeId || this.heard_(id, now))!;
  }

  /**
   * Whether every peer we heard within deadAfterMs (suspended ones too: they may be running) named
   * `id` master in its latest keepalive. Each of them has then heard nothing from any lower id for
   * deadAfterMs, so echoes nobody lower (docs §5.3: the shortcut of a new master's wait).
   */
  followedByAllHeard(id: number, now: number): boolean {
    for (const [pid, p] of this.peers) if (this.heard_(pid, now) && p.follows !== id) return false;
    return true;
  }

  private heard_(id: number, now: number): boolean {
    const p = this.peers.get(id);
    return !!p && !p.departed && now - p.lastHeard < this.deadAfterMs;
  }

  /** Fields of a keepalive to `to` that membership owns. */
  keepaliveFields(to: number, now: number): { sentAt: number; echo: number } {
    const p = this.peers.get(to);
    const echo = p && this.alive(to, now) ? p.theirSentAt : 0;
    if (p && echo > 0) p.lastEchoSent = now;
    return { sentAt: now, echo };
  }
}
