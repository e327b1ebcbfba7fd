// Replication of connection checkpoints to mirrors (docs/cluster-protocol.md
// §7). SSLACC §3.1: every other member holds *mirrored state* sufficient to
// recreate a connection; DESIGN.md law 1: nothing that depends on new state
// leaves the owner before the mirrors acknowledged the checkpoint holding it.
//
//   relay checkpoint ─replicate(connId, bucket, bytes)→ rid ─CHECKPOINT→ mirrors
//   mirrors fold it into their *mirror table* ─CHECKPOINT_ACK(rid)→ owner
//   all required mirrors acked ─> event "replicated"(rid) ─> relay.stored(seq)
//
// Tables (cluster-state-handling patent, "node-specific" vs "common" data
// structures, Fig. 6B): the *active table* holds connections of buckets this
// member owns; the *mirror table* those of others'. When the map moves a
// bucket, entries move between the tables (remapped() below).
//
// A mirror that stops acknowledging must not hold the owner's output forever
// (the paper's deadlock warning): after ackTimeoutMs it is reported as
// failed and dropped from every pending set; the node then declares it dead.
import type { Message } from "./messages.js";
import { holdersOf, isMember, mirrorsOf, newer, ownsUnder, type BucketMap, type ReplicationPolicy } from "./bucket-map.js";

/** Folds a delta checkpoint onto the previous state (the relay's foldRelay); default: the newest replaces. */
export type FoldState = (prev: Uint8Array | undefined, delta: Uint8Array) => Uint8Array;
export const replaceState: FoldState = (_prev, delta) => delta;

/**
 * Folds several deltas in order at once. It must give the very bytes that
 * folding them one by one gives; a fold over decoded state (the relay's)
 * then decodes the snapshot and encodes it once instead of once per delta.
 */
export type FoldChain = (prev: Uint8Array | undefined, deltas: readonly Uint8Array[]) => Uint8Array;

/** The one-by-one chain of any fold (what a FoldChain must equal). */
export function chainOf(fold: FoldState): FoldChain {
  return (prev, deltas) => deltas.reduce<Uint8Array | undefined>((s, d) => fold(s, d), prev)!;
}

/**
 * Deltas an entry holds unfolded at most: past this many, they are folded
 * into its state on arrival (bounds the memory of a long-lived connection;
 * 8 checkpoints make a handshake and its first exchange).
 */
export const MAX_UNFOLDED = 16;
/** Closes remembered per stale mirror (Replication.resync). */
export const MAX_STALE_CLOSES = 65536;

export interface Entry {
  readonly connId: number;
  readonly bucket: number;
  /** The member whose checkpoints built it. */
  owner: number;
  /** That owner's replication id of the last checkpoint folded in. */
  rid: number;
  /** The folded state: what a restore starts from. */
  readonly state: Uint8Array;
  /** When it last changed (our clock). */
  touched: number;
}

/** What an entry folds with, and what a fold that threw is reported to. */
interface Folder {
  readonly fold: FoldState;
  readonly chain: FoldChain;
  readonly failed: () => void;
}

/**
 * A table entry that keeps the deltas it receives and folds them only when
 * its state is read (a takeover, a state shipment, a restore) or when
 * MAX_UNFOLDED have piled up. Most connections end before anyone reads their
 * state, so a mirror (and the owner's active table) no longer decodes,
 * folds and re-encodes a whole snapshot per checkpoint: the profile of a
 * mirror put ~17 % of its main thread there (docs/performance.md).
 */
class TableEntry implements Entry {
  private unfolded: Uint8Array[];

  constructor(
    readonly connId: number,
    readonly bucket: number,
    public owner: number,
    public rid: number,
    public touched: number,
    private readonly folder: Folder,
    /** Folded state to start from (a connection's first delta is folded at once: see Replication.startState). */
    private base: Uint8Array,
    /** The map this entry was made under: while it is still the current one, only the bucket's mirrors can hold the connection. */
    readonly madeUnder: BucketMap | null = null,
  ) {
    this.unfolded = [];
  }

  get state(): Uint8Array {
    if (this.unfolded.length > 0) this.settle();
    return this.base;
  }

  /** One more delta, in order (the reliable stream's order). */
  push(delta: Uint8Array): void {
    this.unfolded.push(delta);
    if (this.unfolded.length >= MAX_UNFOLDED) this.settle();
  }

  /**
   * Folds what is pending. The fold throws only on a delta the owner should
   * never have sent (authenticated, in order): then the deltas before it are
   * kept folded, the bad one and the rest are dropped and reported, and the
   * entry holds the last state that folded.
   */
  private settle(): void {
    const deltas = this.unfolded;
    this.unfolded = [];
    try {
      this.base = this.folder.chain(this.base, deltas);
      return;
    } catch {
      // Find the first delta that does not fold, one by one.
    }
    for (const d of deltas) {
      try {
        this.base = this.folder.fold(this.base, d);
      } catch {
        this.folder.failed();
        return;
      }
    }
  }
}

export type ReplicationEvent =
  | {
      readonly kind: "replicated";
      readonly rid: number;
      readonly connId: number;
      /** Mirrors that acknowledged, with the incarnation that did (the ones required when it was sent, minus those declared dead). */
      readonly mirrors: ReadonlyArray<{ readonly id: number; readonly epoch: number }>;
      readonly latencyMs: number;
    }
  /** This member now acts for `bucket`: restore these connections (mirrored state; SSLACC §3.1 "re-instantiate"). */
  | { readonly kind: "bucketAcquired"; readonly bucket: number; readonly entries: readonly Entry[] }
  /** Stop acting for `bucket` (moved or handed off): its connections are another member's now. */
  | { readonly kind: "bucketLost"; readonly bucket: number };

interface Pending {
  readonly connId: number;
  readonly waiting: Set<number>;
  readonly acked: Array<{ id: number; epoch: number }>;
  readonly since: number;
}

export interface ReplicationDeps {
  readonly self: () => number;
  readonly policy: ReplicationPolicy;
  readonly fold: FoldState;
  /** Default: chainOf(fold). */
  readonly foldChain?: FoldChain;
  /** Send in the reliable stream to a peer. */
  readonly sendReliable: (to: number, m: Message) => void;
  readonly isAlive: (id: number) => boolean;
  readonly epochOf: (id: number) => number;
}

export class Replication {
  readonly active = new Map<number, TableEntry>();
  readonly mirror = new Map<number, TableEntry>();
  private nextRid = 1;
  private readonly pending = new Map<number, Pending>();
  private events: ReplicationEvent[] = [];
  /** Highest rid applied per owner: what our CHECKPOINT_ACKs say. */
  private readonly applied = new Map<number, number>();
  private readonly ackDirty = new Set<number>();
  /** (bucket/target) pairs whose state was shipped for a pending handoff. */
  private readonly shipped = new Set<string>();
  /** Handoff releases received: bucket → source and the map it released under. */
  private readonly released = new Map<number, { readonly from: number; readonly version: number; readonly issuer: number }>();
  /** Mirrors that missed checkpoints while not alive: their epoch then, and connections closed since. */
  private readonly stale = new Map<number, { readonly epoch: number; readonly closed: Map<number, number> }>();
  readonly stats = { replicated: 0, ackLatencyTotalMs: 0, ackLatencyMaxMs: 0, shippedEntries: 0, mirrorsTimedOut: 0, foldErrors: 0, movesReshipped: 0, mirrorResyncs: 0 };
  private readonly folder: Folder;

  constructor(private readonly deps: ReplicationDeps) {
    this.folder = {
      fold: deps.fold,
      chain: deps.foldChain ?? chainOf(deps.fold),
      // Counted in status (replication.foldErrors); the entry keeps the last state that folded.
      failed: () => void this.stats.foldErrors++,
    };
  }

  reset(): void {
    this.active.clear();
    this.mirror.clear();
    this.pending.clear();
    this.applied.clear();
    this.ackDirty.clear();
    this.shipped.clear();
    this.released.clear();
    this.stale.clear();
  }

  takeEvents(): ReplicationEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  appliedFrom(owner: number): number {
    return this.applied.get(owner) ?? 0;
  }

  /** Owner side: one checkpoint of `connId` (caller checked ownership). */
  replicate(map: BucketMap, connId: number, bucket: number, delta: Uint8Array, now: number): number {
    const rid = this.nextRid++;
    const prev = this.active.get(connId);
    if (prev && prev.bucket === bucket) {
      prev.owner = this.deps.self();
      prev.rid = rid;
      prev.touched = now;
      prev.push(delta);
    } else {
      const state = this.startState(prev, delta);
      if (state) this.active.set(connId, new TableEntry(connId, bucket, this.deps.self(), rid, now, this.folder, state, map));
      else this.active.delete(connId);
    }
    this.sendToMirrors(map, bucket, rid, connId, now, (m) =>
      this.deps.sendReliable(m, { type: "checkpoint", rid, connId, bucket, full: false, data: delta }),
    );
    return rid;
  }

  /** Owner side: the connection is gone; mirrors drop it (SSLACC §4.10 step 1: "destroy the relay state on the mirrors"). */
  close(map: BucketMap, connId: number, now: number): number | undefined {
    const e = this.active.get(connId);
    if (!e) return undefined;
    this.active.delete(connId);
    // Bounded: past MAX_STALE_CLOSES a stale mirror may keep copies of connections that ended (docs §7.2).
    for (const st of this.stale.values()) if (st.closed.size < MAX_STALE_CLOSES) st.closed.set(connId, e.bucket);
    const rid = this.nextRid++;
    // To every member, not only the bucket's mirrors: under policy k a former mirror (the ring shifted,
    // the bucket moved) may still hold the entry, and it is dropped only on this message (docs §7.3).
    // Unless the map is the one the connection started under: then nobody but its mirrors ever got its
    // state (shipments and moves come with a new map), and the others need not hear of it — with k = 1
    // that was n − 2 messages (and their acknowledgements) per connection to members that hold nothing.
    if (e.madeUnder !== map) {
      const mirrors = new Set(mirrorsOf(map, e.bucket, this.deps.policy));
      for (const mm of map.members) {
        if (mm.id !== this.deps.self() && !mirrors.has(mm.id)) this.deps.sendReliable(mm.id, { type: "connectionClosed", rid, connId, bucket: e.bucket });
      }
    }
    this.sendToMirrors(map, e.bucket, rid, connId, now, (m) =>
      this.deps.sendReliable(m, { type: "connectionClosed", rid, connId, bucket: e.bucket }),
    );
    return rid;
  }

  private sendToMirrors(map: BucketMap, bucket: number, rid: number, connId: number, now: number, send: (m: number) => void): void {
    const waiting = new Set<number>();
    for (const m of mirrorsOf(map, bucket, this.deps.policy)) {
      if (m === this.deps.self() || !this.deps.isAlive(m)) continue;
      this.resync(map, m);
      send(m);
      waiting.add(m);
    }
    const p: Pending = { connId, waiting, acked: [], since: now };
    this.pending.set(rid, p);
    if (waiting.size === 0) this.complete(rid, p, now);
  }

  private complete(rid: number, p: Pending, now: number): void {
    this.pending.delete(rid);
    const latency = now - p.since;
    this.stats.replicated++;
    this.stats.ackLatencyTotalMs += latency;
    this.stats.ackLatencyMaxMs = Math.max(this.stats.ackLatencyMaxMs, latency);
    this.events.push({ kind: "replicated", rid, connId: p.connId, mirrors: p.acked, latencyMs: latency });
  }

  /** Mirror `from` applied our checkpoints up to `rid` (cumulative: its stream is in order). */
  acked(from: number, rid: number, now: number): void {
    for (const [r, p] of this.pending) {
      if (r > rid) break; // Map keeps insertion order, which is rid order
      if (p.waiting.delete(from)) p.acked.push({ id: from, epoch: this.deps.epochOf(from) });
      if (p.waiting.size === 0) this.complete(r, p, now);
    }
  }

  /**
   * A mirror is gone (dead, suspended, departed, restarted): nobody waits for it any more, and it gets no
   * checkpoints until it is alive again. If it comes back as the same incarnation (a slow mirror whose
   * suspension ran out, a silence the master did not act on) its copies lack what was sent meanwhile:
   * it is marked stale and re-synchronised (`resync`) before anything else is sent to it (Law 1; issue 7).
   */
  mirrorGone(id: number, now: number): void {
    for (const [r, p] of this.pending) {
      p.waiting.delete(id);
      if (p.waiting.size === 0) this.complete(r, p, now);
    }
    const epoch = this.deps.epochOf(id);
    const stale = this.stale.get(id);
    if (!stale || stale.epoch !== epoch) this.stale.set(id, { epoch, closed: new Map() });
  }

  /**
   * A stale mirror (mirrorGone) is alive again: under its old epoch it gets a full snapshot of every
   * connection of ours it mirrors under `map` and the close of each one that ended meanwhile, in its
   * stream ahead of any new checkpoint; under a new epoch it starts empty and the map's shipments
   * (`remapped`) cover it.
   */
  resync(map: BucketMap, id: number): void {
    const stale = this.stale.get(id);
    if (!stale || !this.deps.isAlive(id)) return;
    this.stale.delete(id);
    if (stale.epoch !== this.deps.epochOf(id)) return;
    this.stats.mirrorResyncs++;
    for (const [connId, bucket] of stale.closed) {
      if (!this.active.has(connId)) this.deps.sendReliable(id, { type: "connectionClosed", rid: this.nextRid++, connId, bucket });
    }
    for (const e of this.active.values()) if (mirrorsOf(map, e.bucket, this.deps.policy).includes(id)) this.ship(id, e);
  }

  /** Mirrors holding a checkpoint unacknowledged longer than `timeoutMs`. */
  overdue(now: number, timeoutMs: number): number[] {
    const out = new Set<number>();
    for (const p of this.pending.values()) {
      if (now - p.since < timeoutMs) break;
      for (const m of p.waiting) out.add(m);
    }
    if (out.size > 0) this.stats.mirrorsTimedOut += out.size;
    return [...out];
  }

  /** Mirror side: a checkpoint, connection close or state shipment from `from`, in its stream order. */
  onMessage(map: BucketMap, from: number, m: Message, now: number): void {
    switch (m.type) {
      case "checkpoint": {
        if (!this.active.has(m.connId)) this.mirrored(from, m, now);
        this.noteApplied(from, m.rid);
        return;
      }
      case "connectionClosed":
        if (this.mirror.get(m.connId)?.owner === from) this.mirror.delete(m.connId);
        this.noteApplied(from, m.rid);
        return;
      case "bucketReleased":
        for (const b of m.buckets) this.released.set(b, { from, version: m.mapVersion, issuer: m.mapIssuer });
        return;
      default:
        return;
    }
    void map;
  }

  /**
   * A checkpoint into the mirror table: a full snapshot replaces the entry; a
   * delta waits, unfolded, behind the entry's state (TableEntry). A delta is
   * a view into the received datagram: it is copied so that the entry does
   * not keep the whole datagram alive.
   */
  private mirrored(from: number, m: Extract<Message, { type: "checkpoint" }>, now: number): void {
    const prev = this.mirror.get(m.connId);
    if (!m.full && prev && prev.bucket === m.bucket) {
      prev.owner = from;
      prev.rid = m.rid;
      prev.touched = now;
      prev.push(m.data.slice());
      return;
    }
    const state = m.full ? m.data : this.startState(prev, m.data);
    if (state) this.mirror.set(m.connId, new TableEntry(m.connId, m.bucket, from, m.rid, now, this.folder, state));
    else this.mirror.delete(m.connId);
  }

  /**
   * The state a new table entry starts from: `delta` folded onto `prev`'s
   * state (the connection moved to another bucket), or alone (its first
   * checkpoint here). Folded at once, not lazily: an entry is never without
   * a state, so nothing can ship or restore an empty one. A delta that does
   * not fold (a mirror that missed the connection's start: it joined or
   * rejoined mid-connection and its resync is still on the way) is counted
   * and gives no entry — the full snapshot that follows makes one. On the
   * real wire an entry with no state was shipped in a resync, the message
   * could not be encoded after it had taken its place in the reliable
   * stream, and every NACK for it threw again: 2,253 core errors, a mirror
   * stuck behind the gap, expelled twelve times (issue 7, session 3).
   */
  private startState(prev: Entry | undefined, delta: Uint8Array): Uint8Array | null {
    try {
      return this.deps.fold(prev?.state, delta);
    } catch {
      this.folder.failed();
      return null;
    }
  }

  private noteApplied(from: number, rid: number): void {
    if (rid > (this.applied.get(from) ?? 0)) this.applied.set(from, rid);
    this.ackDirty.add(from);
  }

  /** CHECKPOINT_ACKs owed since the last call (one per owner, cumulative). */
  takeAcks(): Array<{ to: number; rid: number }> {
    const out = [...this.ackDirty].map((to) => ({ to, rid: this.applied.get(to) ?? 0 }));
    this.ackDirty.clear();
    return out;
  }

  /** Whether we hold the state of every bucket the map hands off to us. */
  readyFor(map: BucketMap): boolean {
    const me = this.deps.self();
    for (const [b, to] of map.handoffs) if (to === me && this.released.get(b)?.from !== map.owner[b]) return false;
    return true;
  }

  /**
   * A new map was adopted (state-handling patent Fig. 6B, steps 610-617):
   * entries of newly owned buckets move mirror → active; entries of lost
   * buckets move active → mirror (or go, if we no longer hold the bucket);
   * members that newly hold one of our buckets get full snapshots; buckets we
   * hand off are shipped to their target, followed by BUCKET_RELEASED.
   */
  remapped(prev: BucketMap, next: BucketMap, now: number): void {
    const me = this.deps.self();
    const policy = this.deps.policy;
    const byBucket = new Map<number, TableEntry[]>();
    for (const table of [this.active, this.mirror]) {
      for (const e of table.values()) {
        const l = byBucket.get(e.bucket);
        if (l) l.push(e);
        else byBucket.set(e.bucket, [e]);
      }
    }
    const releases = new Map<number, number[]>();
    for (let b = 0; b < next.owner.length; b++) {
      const was = ownsUnder(prev, me, b);
      const is = ownsUnder(next, me, b);
      const entries = byBucket.get(b) ?? [];
      if (!was && is) {
        for (const e of entries) {
          this.mirror.delete(e.connId);
          this.active.set(e.connId, e);
        }
        this.released.delete(b);
        this.events.push({ kind: "bucketAcquired", bucket: b, entries });
      } else if (was && !is) {
        this.events.push({ kind: "bucketLost", bucket: b });
      }
      const holders = holdersOf(next, b, policy);
      const target = next.handoffs.get(b);
      // A release of a move that a newer map no longer has (cancelled: the target died and came back, or
      // the master aborted the step) must not make a later move of the bucket look ready before its own
      // shipment arrives. One released under a map newer than ours is kept: it is for a move we have not
      // adopted yet.
      const release = this.released.get(b);
      if (release && target !== me && newer(next, release)) this.released.delete(b);
      if (next.owner[b] === me && target !== undefined) {
        // We are the source of a move: ship, once per target.
        const key = `${b}/${target}`;
        if (!this.shipped.has(key)) {
          this.shipped.add(key);
          for (const e of entries) this.ship(target, e);
          const l = releases.get(target);
          if (l) l.push(b);
          else releases.set(target, [b]);
        }
        continue; // entries stay here until the move completes
      }
      for (const k of [...this.shipped]) if (k.startsWith(`${b}/`)) this.shipped.delete(k);
      if (is) {
        // New holders of a bucket we own get its state (joins, rejoins, k-ring shifts).
        const before = new Set(holdersOf(prev, b, policy).filter((h) => epochSame(prev, next, h)));
        for (const h of holders) {
          if (h === me || before.has(h)) continue;
          for (const e of this.active.values()) if (e.bucket === b) this.ship(h, e);
        }
      } else {
        // Not ours (any more): kept as mirrored state even if this map says we do not hold the bucket.
        // Maps and state travel separately and members may skip map versions, so dropping here lost
        // state that a later map made ours again without a new shipment (the random simulation, policy
        // k). Entries go on CONNECTION_CLOSED, which every member gets (docs §7.3).
        for (const e of entries) {
          if (this.active.delete(e.connId)) this.mirror.set(e.connId, e);
        }
      }
    }
    for (const [to, buckets] of releases) {
      this.deps.sendReliable(to, { type: "bucketReleased", mapVersion: next.version, mapIssuer: next.issuer, buckets });
    }
  }

  /** A full snapshot of one entry to one member (state transfer), in the reliable stream. */
  private ship(to: number, e: Entry): void {
    const rid = this.nextRid++;
    this.stats.shippedEntries++;
    this.deps.sendReliable(to, { type: "checkpoint", rid, connId: e.connId, bucket: e.bucket, full: true, data: e.state });
  }

  /**
   * A peer came back under a new epoch: everything it mirrored is gone; it is a new holder once the map says so.
   * Its stream was reset, and with it any state and BUCKET_RELEASED we queued for a move to it: when the
   * current map already hands buckets of ours to this incarnation (we adopted the map that admitted it
   * before we heard it), they are shipped again now — nobody else would (issue 7: the move waited for
   * ever on a release that had gone with the old stream).
   */
  peerRestarted(map: BucketMap, id: number, now: number): void {
    this.mirrorGone(id, now);
    this.applied.delete(id); // its replication ids restart under the new epoch
    for (const k of [...this.shipped]) if (k.endsWith(`/${id}`)) this.shipped.delete(k);
    if (isMember(map, id, this.deps.epochOf(id))) {
      // Already in our map as this incarnation: what we shipped it when we adopted that map went with the
      // old stream. Moves are shipped again now; its mirror copies come with the resync (mirrorGone above
      // marked it stale under the new epoch).
      this.shipMoves(map, id);
    } else {
      this.stale.delete(id); // not in the map yet: the shipments of the map that admits it fill it
    }
  }

  /** Our pending moves to `to` under `map` not shipped yet: each bucket's connections, then one BUCKET_RELEASED. */
  private shipMoves(map: BucketMap, to: number): void {
    const buckets: number[] = [];
    for (const [b, target] of map.handoffs) {
      if (target !== to || map.owner[b] !== this.deps.self() || this.shipped.has(`${b}/${to}`)) continue;
      this.shipped.add(`${b}/${to}`);
      buckets.push(b);
    }
    if (buckets.length === 0) return;
    const moving = new Set(buckets);
    for (const table of [this.active, this.mirror]) for (const e of table.values()) if (moving.has(e.bucket)) this.ship(to, e);
    this.stats.movesReshipped += buckets.length;
    this.deps.sendReliable(to, { type: "bucketReleased", mapVersion: map.version, mapIssuer: map.issuer, buckets });
  }
}

/** Whether member `id` has the same incarnation in both maps (a rejoin under a new epoch holds nothing). */
function epochSame(prev: BucketMap, next: BucketMap, id: number): boolean {
  const a = prev.members.find((m) => m.id === id);
  const b = next.members.find((m) => m.id === id);
  return !!a && !!b && a.epoch === b.epoch;
}
