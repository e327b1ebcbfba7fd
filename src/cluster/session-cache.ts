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
}

export class ClusteredSessionCache implements SessionCache {
  /** Insertion-ordered: the front is the least recently used. */
  private readonly map = new Map<string, Slot>();
  /** Removed ids and when (ms): a dump from a peer that missed the removal must not bring them back (RFC 5246 §7.2.2). */
  private readonly tombstones = new Map<string, { id: Uint8Array; at: number }>();
  private digestValue = 0;
  private settledValue = 0;
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
        this.map.delete(k);
        this.digestValue = (this.digestValue ^ idHash(slot.session.id)) >>> 0;
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
   * Drops expired sessions and recomputes the settled digest for `horizon`
   * (O(n); the node calls it once per keepalive period, with a horizon every
   * member computes alike, so digests agree).
   */
  sweep(horizon = -Infinity): void {
    let settled = 0;
    for (const [k, slot] of this.map) {
      if (!this.expired(slot.session)) {
        if (slot.session.createdAt < horizon) settled ^= idHash(slot.session.id);
        continue;
      }
      this.map.delete(k);
      this.digestValue = (this.digestValue ^ idHash(slot.session.id)) >>> 0;
      this.changed({ type: "remove", id: slot.session.id });
    }
    this.settledValue = settled >>> 0;
  }

  private drop(id: Uint8Array): void {
    const k = sessionKey(id);
    const had = this.map.get(k);
    if (had) {
      this.map.delete(k);
      this.digestValue = (this.digestValue ^ idHash(had.session.id)) >>> 0;
    }
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
    if (had) this.digestValue = (this.digestValue ^ idHash(had.session.id)) >>> 0;
    this.map.delete(k);
    this.map.set(k, { session, local });
    this.digestValue = (this.digestValue ^ idHash(session.id)) >>> 0;
    while (this.map.size > this.options.maxEntries) {
      const [oldK, old] = this.map.entries().next().value!;
      this.map.delete(oldK);
      this.digestValue = (this.digestValue ^ idHash(old.session.id)) >>> 0;
      this.changed({ type: "remove", id: old.session.id });
    }
  }

  private expired(s: SessionData): boolean {
    return this.options.now() - s.createdAt >= this.options.ttlMs;
  }
}
