// The clustered session cache (SSLACC §5.2): "When a client requests
// resumption, the relay handling that connection ... can just consult its
// own hash table." Every member keeps every session; an add on any member is
// sent to every other through the reliable stream (SESSION_ADD), and a
// session killed by a fatal alert (RFC 5246 §7.2.2, SSLACC §5.7) is removed
// everywhere (SESSION_REMOVE).
//
// Implements the engine's SessionCache (src/tls/session-cache.ts): lookups
// are local and synchronous; put/remove return at once (the engine does not
// wait for the cluster). A member that (re)joins gets, when the others first
// hear its new epoch, the whole cache from each of them, so sessions whose
// maker has died are not lost to it (cluster-node.ts, peerRestarted).
import { checkCacheBounds, sessionKey, type SessionCache, type SessionData } from "../tls/session-cache.js";

/**
 * One change to the cache, local or from a peer: what a node's shards need to
 * keep their synchronous copies in step (the daemon's NodeSessionCache
 * contract, src/node/sessions.ts, has the same shape).
 */
export type SessionCacheChange = { type: "add"; session: SessionData } | { type: "remove"; id: Uint8Array };

export interface ClusteredSessionCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now: () => number;
  /** Sends a session add/remove to every other live member (the node wires this to its streams). */
  readonly broadcast: (m: { type: "sessionAdd"; session: SessionData } | { type: "sessionRemove"; id: Uint8Array }) => void;
}


/** FNV-1a of an id: the digest is the XOR of these over live sessions (order-free, updated in O(1)). */
function idHash(id: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of id) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

interface Slot {
  readonly session: SessionData;
  readonly local: boolean;
  /** idHash of the id, computed once. */
  readonly hash: number;
  /** In the map (false once removed, evicted, expired or replaced: the age heap and `unsettled` drop it lazily). */
  live: boolean;
  /** Counted in the settled digest: created before the horizon of a sweep. */
  settled: boolean;
}

/** A binary min-heap of slots by `createdAt`: the next session to expire on top. */
class AgeHeap {
  items: Slot[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Slot | undefined {
    return this.items[0];
  }

  push(s: Slot): void {
    const a = this.items;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (a[up]!.session.createdAt <= s.session.createdAt) break;
      a[i] = a[up]!;
      i = up;
    }
    a[i] = s;
  }

  pop(): Slot | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && a[r]!.session.createdAt < a[l]!.session.createdAt ? r : l;
      if (a[c]!.session.createdAt >= last.session.createdAt) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }

  /** Rebuilds from the live slots only (the dead ones pile up when the LRU bound evicts young sessions). */
  rebuild(live: Iterable<Slot>): void {
    this.items = [];
    for (const s of live) this.push(s);
  }
}

export class ClusteredSessionCache implements SessionCache {
  /** Insertion-ordered: the front is the least recently used. */
  private readonly map = new Map<string, Slot>();
  /** Removed ids and when (ms): a dump from a peer that missed the removal must not bring them back (RFC 5246 §7.2.2). */
  private readonly tombstones = new Map<string, { id: Uint8Array; at: number }>();
  private digestValue = 0;
  /** The settled digest as of the last sweep (what keepalives carry). */
  private settledValue = 0;
  /** XOR of the hashes of live slots marked settled, kept up to date on every change. */
  private settledLive = 0;
  /** The last sweep's horizon: a session created before it is settled when it is stored. */
  private horizon = -Infinity;
  /** Live slots created at or after the horizon when stored: the only ones a sweep must look at to settle. */
  private unsettled: Slot[] = [];
  /** Every stored slot by age: expiry pops from the top instead of scanning the cache. */
  private readonly byAge = new AgeHeap();
  readonly stats = { localAdds: 0, remoteAdds: 0, localRemoves: 0, remoteRemoves: 0, hits: 0, misses: 0 };
  private readonly listeners: ((change: SessionCacheChange) => void)[] = [];

  constructor(private readonly options: ClusteredSessionCacheOptions) {
    checkCacheBounds(options);
  }

  get size(): number {
    return this.map.size;
  }

  get(id: Uint8Array): SessionData | undefined {
    if (id.length === 0) return undefined;
    const k = sessionKey(id);
    const slot = this.map.get(k);
    if (!slot || this.expired(slot.session)) {
      if (slot) {
        this.unlink(k, slot);
        this.changed({ type: "remove", id: slot.session.id });
      }
      this.stats.misses++;
      return undefined;
    }
    this.map.delete(k);
    this.map.set(k, slot);
    this.stats.hits++;
    return slot.session;
  }

  put(session: SessionData): void {
    if (session.id.length === 0) return;
    this.stats.localAdds++;
    this.store(session, true);
    this.options.broadcast({ type: "sessionAdd", session });
    this.changed({ type: "add", session });
  }

  remove(id: Uint8Array): void {
    this.stats.localRemoves++;
    this.drop(id);
    this.options.broadcast({ type: "sessionRemove", id });
    this.changed({ type: "remove", id });
  }

  /**
   * Every add and remove from now on, in the order applied: local
   * (put/remove), from a peer (added/removed), and the cache's own drops
   * (LRU eviction, expiry found by get or sweep) — so a copy that follows
   * it (a shard's) needs no bounds of its own. A listener that throws is a
   * bug of the caller; it propagates (the channel counts and logs core
   * exceptions).
   */
  onChange(listener: (change: SessionCacheChange) => void): void {
    this.listeners.push(listener);
  }

  /** Every live session (what a new copy starts from). */
  entries(): SessionData[] {
    return this.sessions(false);
  }

  private changed(change: SessionCacheChange): void {
    for (const l of this.listeners) l(change);
  }

  /** XOR of the id hashes of the sessions held: equal digests mean (almost surely) equal caches (docs §8). */
  get digest(): number {
    return this.digestValue;
  }

  /** Removed ids still remembered, for an anti-entropy dump. */
  removedIds(): Uint8Array[] {
    this.sweepTombstones();
    return [...this.tombstones.values()].map((t) => t.id);
  }

  /** A SESSION_ADD from a peer. */
  added(session: SessionData): void {
    if (this.expired(session) || this.tombstones.has(sessionKey(session.id))) return;
    this.stats.remoteAdds++;
    this.store(session, false);
    this.changed({ type: "add", session });
  }

  /** A SESSION_REMOVE from a peer. */
  removed(id: Uint8Array): void {
    this.stats.remoteRemoves++;
    this.drop(id);
    this.changed({ type: "remove", id });
  }

  /**
   * The digest members compare (docs §8): only sessions created before the
   * horizon of the last sweep. Under a steady handshake load some adds are
   * always in flight, so digests over *every* session never agree and each
   * pair of members dumped its whole cache every few keepalives (measured on
   * the real channel: bench/cluster-aggregation.ts). Sessions older than the
   * horizon have had time to reach everyone; a difference there is a loss.
   */
  get settledDigest(): number {
    return this.settledValue;
  }

  /**
   * Drops expired sessions and sets the settled digest for `horizon`: the
   * XOR over live sessions created before it. The node calls it once per
   * keepalive period with a horizon every member computes alike, so digests
   * agree. O(changes): expiry pops the age heap, and only sessions stored
   * since the previous horizon are looked at to settle (a full scan per
   * keepalive cost O(cache) ten times a second: with 100,000 sessions, a
   * good part of a small member's CPU).
   */
  sweep(horizon = -Infinity): void {
    for (let top = this.byAge.peek(); top && (!top.live || this.expired(top.session)); top = this.byAge.peek()) {
      this.byAge.pop();
      if (!top.live) continue;
      this.unlink(sessionKey(top.session.id), top);
      this.changed({ type: "remove", id: top.session.id });
    }
    if (this.byAge.size > 2 * this.map.size + 1024) this.byAge.rebuild(this.map.values());
    if (horizon < this.horizon) this.unsettleAll(); // a horizon moved back (not done by the node): start over
    this.horizon = horizon;
    const still: Slot[] = [];
    for (const slot of this.unsettled) {
      if (!slot.live) continue;
      if (slot.session.createdAt < horizon) this.settle(slot);
      else still.push(slot);
    }
    this.unsettled = still;
    this.settledValue = this.settledLive;
  }

  private settle(slot: Slot): void {
    slot.settled = true;
    this.settledLive = (this.settledLive ^ slot.hash) >>> 0;
  }

  private unsettleAll(): void {
    this.unsettled = [];
    this.settledLive = 0;
    for (const slot of this.map.values()) {
      slot.settled = false;
      this.unsettled.push(slot);
    }
  }

  /** Takes a slot out of the map and both digests. */
  private unlink(k: string, slot: Slot): void {
    this.map.delete(k);
    slot.live = false;
    this.digestValue = (this.digestValue ^ slot.hash) >>> 0;
    if (slot.settled) this.settledLive = (this.settledLive ^ slot.hash) >>> 0;
  }

  private drop(id: Uint8Array): void {
    const k = sessionKey(id);
    const had = this.map.get(k);
    if (had) this.unlink(k, had);
    this.tombstones.set(k, { id, at: this.options.now() });
    this.sweepTombstones();
  }

  private sweepTombstones(): void {
    for (const [k, t] of this.tombstones) {
      if (this.options.now() - t.at < this.options.ttlMs && this.tombstones.size <= this.options.maxEntries) break;
      this.tombstones.delete(k);
    }
  }

  /** Live sessions, made here only or all of them, for a (re)joining member. */
  sessions(onlyLocal: boolean): SessionData[] {
    const out: SessionData[] = [];
    for (const slot of this.map.values()) if ((!onlyLocal || slot.local) && !this.expired(slot.session)) out.push(slot.session);
    return out;
  }

  private store(session: SessionData, local: boolean): void {
    const k = sessionKey(session.id);
    const had = this.map.get(k);
    if (had) this.unlink(k, had);
    const slot: Slot = { session, local, hash: idHash(session.id), live: true, settled: false };
    this.map.set(k, slot);
    this.digestValue = (this.digestValue ^ slot.hash) >>> 0;
    if (session.createdAt < this.horizon) this.settle(slot);
    else this.unsettled.push(slot);
    this.byAge.push(slot);
    while (this.map.size > this.options.maxEntries) {
      const [oldK, old] = this.map.entries().next().value!;
      this.unlink(oldK, old);
      this.changed({ type: "remove", id: old.session.id });
    }
  }

  private expired(s: SessionData): boolean {
    return this.options.now() - s.createdAt >= this.options.ttlMs;
  }
}
