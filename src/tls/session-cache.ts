// Session cache for resumption by session ID (RFC 5246 §7.4.1.2, §F.1.4).
//
// The engine looks sessions up synchronously while it handles a ClientHello:
// SSLACC §5.2 clusters the cache by *replicating* entries to every node
// ("the relay handling that connection ... can just consult its own hash
// table"), so the lookup is always local. Writes may be asynchronous (a
// clustered cache sends them to its mirrors): `put` and `remove` may return
// a promise the engine does not wait for. Time is injected (`now`), never
// read from a clock here (STYLE.md §1).

/** What resumption needs: RFC 5246 §7.4.1.2 / Appendix A.6 SecurityParameters, trimmed to static RSA. */
export interface SessionData {
  readonly id: Uint8Array;
  readonly version: number;
  readonly cipherSuite: number;
  readonly masterSecret: Uint8Array;
  /** RFC 7627 §5.3: resumption rules depend on whether the session used EMS. */
  readonly extendedMasterSecret: boolean;
  /** RFC 6066 §3: the name the session was established for, if acknowledged. */
  readonly serverName: string | null;
  /** Milliseconds on the injected clock. */
  readonly createdAt: number;
}

export interface SessionCache {
  get(id: Uint8Array): SessionData | undefined;
  put(session: SessionData): void | Promise<void>;
  /** RFC 5246 §7.2.2: a fatal alert makes the session non-resumable. */
  remove(id: Uint8Array): void | Promise<void>;
}

export interface MemorySessionCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now: () => number;
}

/** A session id as a Map key (hex). */
export function sessionKey(id: Uint8Array): string {
  let s = "";
  for (const b of id) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The bounds every cache implementation takes; errors name the field. */
export function checkCacheBounds(options: { readonly maxEntries: number; readonly ttlMs: number }): void {
  if (!(Number.isInteger(options.maxEntries) && options.maxEntries > 0)) {
    throw new RangeError(`session cache maxEntries must be a positive integer, got ${options.maxEntries}`);
  }
  if (!(options.ttlMs > 0)) throw new RangeError(`session cache ttlMs must be > 0, got ${options.ttlMs}`);
}

/**
 * In-memory LRU with a TTL: a Map keeps insertion order, so re-inserting on
 * a hit moves an entry to the back and the front is the least recently used.
 */
export class MemorySessionCache implements SessionCache {
  private readonly map = new Map<string, SessionData>();

  constructor(private readonly options: MemorySessionCacheOptions) {
    checkCacheBounds(options);
  }

  get size(): number {
    return this.map.size;
  }

  get(id: Uint8Array): SessionData | undefined {
    if (id.length === 0) return undefined;
    const k = sessionKey(id);
    const s = this.map.get(k);
    if (!s) return undefined;
    if (this.expired(s)) {
      this.map.delete(k);
      return undefined;
    }
    this.map.delete(k);
    this.map.set(k, s);
    return s;
  }

  put(session: SessionData): void {
    if (session.id.length === 0) return;
    const k = sessionKey(session.id);
    this.map.delete(k);
    this.map.set(k, session);
    while (this.map.size > this.options.maxEntries) {
      // Expired entries go first; otherwise the least recently used.
      this.map.delete(this.map.keys().next().value!);
    }
  }

  remove(id: Uint8Array): void {
    this.map.delete(sessionKey(id));
  }

  /** Drops every expired entry (call from time to time; lookups also expire lazily). */
  sweep(): number {
    let n = 0;
    for (const [k, s] of this.map) {
      if (this.expired(s)) {
        this.map.delete(k);
        n++;
      }
    }
    return n;
  }

  private expired(s: SessionData): boolean {
    return this.options.now() - s.createdAt >= this.options.ttlMs;
  }
}
