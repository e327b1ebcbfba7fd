// One session cache per node (SSLACC §5.2), shared by its shards.
//
//   shard engine ──put/remove──> ShardSessionCopy (local, synchronous) ──"session" item──> main
//   main: NodeSessionCache.put/remove ──onChange──> every shard's copy ("session" message)
//                                    └─onChange──> the cluster (a peer's changes come in the same way)
//   new / respawned shard <──entries()── at init
//
// The engine looks a session up synchronously while it handles a
// ClientHello, so each shard keeps a full copy and the main thread's cache
// is the one that decides (bounds, expiry, order of changes). A resumption
// on any shard then needs no RSA operation. A session invalidated by a
// fatal alert (RFC 5246 §7.2.2) is removed from the node's cache and so
// from every shard. `createdAt` is wall-clock milliseconds everywhere (the
// TTL is checked against Date.now() in the main thread and in the shards).
import { checkCacheBounds, sessionKey, type SessionCache, type SessionData } from "../tls/session-cache.js";

export type SessionChange = { type: "add"; session: SessionData } | { type: "remove"; id: Uint8Array };

export interface NodeSessionCache extends SessionCache {
  /** Every add/remove, whichever side made it (a shard, or a cluster peer). */
  onChange(listener: (change: SessionChange) => void): void;
  /** Every live session (a new or respawned shard's initial copy). */
  entries(): SessionData[];
}

export interface NodeSessionCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** Wall-clock milliseconds (sessions' createdAt is Date.now()). */
  readonly now: () => number;
}

/**
 * The node's cache in memory. Bounded: above maxEntries the least recently
 * used session goes (a Map keeps insertion order; a hit re-inserts); an
 * eviction and an expiry found by sweep() or get() are changes like any
 * other, so the shards' copies follow.
 */
export class MemoryNodeSessionCache implements NodeSessionCache {
  private readonly map = new Map<string, SessionData>();
  private readonly listeners: ((change: SessionChange) => void)[] = [];

  constructor(private readonly options: NodeSessionCacheOptions) {
    checkCacheBounds(options);
  }

  get size(): number {
    return this.map.size;
  }

  onChange(listener: (change: SessionChange) => void): void {
    this.listeners.push(listener);
  }

  entries(): SessionData[] {
    this.sweep();
    return [...this.map.values()];
  }

  get(id: Uint8Array): SessionData | undefined {
    if (id.length === 0) return undefined;
    const k = sessionKey(id);
    const s = this.map.get(k);
    if (!s) return undefined;
    this.map.delete(k);
    if (this.expired(s)) {
      this.emit({ type: "remove", id: s.id });
      return undefined;
    }
    this.map.set(k, s);
    return s;
  }

  put(session: SessionData): void {
    if (session.id.length === 0 || this.expired(session)) return;
    const k = sessionKey(session.id);
    this.map.delete(k);
    this.map.set(k, session);
    this.emit({ type: "add", session });
    while (this.map.size > this.options.maxEntries) {
      const [oldest, s] = this.map.entries().next().value!;
      this.map.delete(oldest);
      this.emit({ type: "remove", id: s.id });
    }
  }

  remove(id: Uint8Array): void {
    if (id.length === 0) return;
    this.map.delete(sessionKey(id));
    // Emitted even if absent here: a copy may hold it (a put still on its way).
    this.emit({ type: "remove", id });
  }

  /** Drops every expired session (the daemon calls it from its timer sweep). */
  sweep(): number {
    let n = 0;
    for (const [k, s] of this.map) {
      if (!this.expired(s)) continue;
      this.map.delete(k);
      this.emit({ type: "remove", id: s.id });
      n++;
    }
    return n;
  }

  private expired(s: SessionData): boolean {
    return this.options.now() - s.createdAt >= this.options.ttlMs;
  }

  private emit(change: SessionChange): void {
    for (const l of this.listeners) l(change);
  }
}

/**
 * A shard's synchronous copy of the node's cache. The engine's own put and
 * remove apply here at once (a resumption on this shard right after works
 * even before the main thread answers) and go to the main thread through
 * `send`; the node's changes come back through apply(), whoever made them.
 * No bound of its own: the node's cache evicts and the copy follows.
 */
export class ShardSessionCopy implements SessionCache {
  private readonly map = new Map<string, SessionData>();

  constructor(
    private readonly ttlMs: number,
    initial: readonly SessionData[],
    private readonly send: (change: SessionChange) => void,
    private readonly now: () => number = Date.now,
  ) {
    for (const s of initial) this.map.set(sessionKey(s.id), s);
  }

  get size(): number {
    return this.map.size;
  }

  get(id: Uint8Array): SessionData | undefined {
    if (id.length === 0) return undefined;
    const s = this.map.get(sessionKey(id));
    // Expiry is the node's to announce; a copy only refuses an expired one.
    return s && this.now() - s.createdAt < this.ttlMs ? s : undefined;
  }

  put(session: SessionData): void {
    if (session.id.length === 0) return;
    this.map.set(sessionKey(session.id), session);
    this.send({ type: "add", session });
  }

  remove(id: Uint8Array): void {
    if (id.length === 0) return;
    this.map.delete(sessionKey(id));
    this.send({ type: "remove", id });
  }

  /** A change of the node's cache (an echo of this shard's own, or another's). */
  apply(change: SessionChange): void {
    switch (change.type) {
      case "add":
        this.map.set(sessionKey(change.session.id), change.session);
        return;
      case "remove":
        this.map.delete(sessionKey(change.id));
        return;
      default:
        exhaustive(change);
    }
  }
}

function exhaustive(x: never): never {
  throw new Error(`sessions bug: unhandled ${JSON.stringify(x)}`);
}
