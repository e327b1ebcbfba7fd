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
import type { SessionCache, SessionData } from "../tls/session-cache.js";

export interface ClusteredSessionCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now: () => number;
  /** Sends a session add/remove to every other live member (the node wires this to its streams). */
  readonly broadcast: (m: { type: "sessionAdd"; session: SessionData } | { type: "sessionRemove"; id: Uint8Array }) => void;
}

function hex(id: Uint8Array): string {
  let s = "";
  for (const b of id) s += b.toString(16).padStart(2, "0");
  return s;
}

interface Slot {
  readonly session: SessionData;
  readonly local: boolean;
}

export class ClusteredSessionCache implements SessionCache {
  /** Insertion-ordered: the front is the least recently used. */
  private readonly map = new Map<string, Slot>();
  readonly stats = { localAdds: 0, remoteAdds: 0, localRemoves: 0, remoteRemoves: 0, hits: 0, misses: 0 };

  constructor(private readonly options: ClusteredSessionCacheOptions) {
    if (!(Number.isInteger(options.maxEntries) && options.maxEntries > 0)) throw new RangeError(`maxEntries ${options.maxEntries}`);
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs ${options.ttlMs}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(id: Uint8Array): SessionData | undefined {
    if (id.length === 0) return undefined;
    const k = hex(id);
    const slot = this.map.get(k);
    if (!slot || this.expired(slot.session)) {
      if (slot) this.map.delete(k);
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
  }

  remove(id: Uint8Array): void {
    this.stats.localRemoves++;
    this.map.delete(hex(id));
    this.options.broadcast({ type: "sessionRemove", id });
  }

  /** A SESSION_ADD from a peer. */
  added(session: SessionData): void {
    if (this.expired(session)) return;
    this.stats.remoteAdds++;
    this.store(session, false);
  }

  /** A SESSION_REMOVE from a peer. */
  removed(id: Uint8Array): void {
    this.stats.remoteRemoves++;
    this.map.delete(hex(id));
  }

  /** Live sessions, made here only or all of them, for a (re)joining member. */
  sessions(onlyLocal: boolean): SessionData[] {
    const out: SessionData[] = [];
    for (const slot of this.map.values()) if ((!onlyLocal || slot.local) && !this.expired(slot.session)) out.push(slot.session);
    return out;
  }

  clear(): void {
    this.map.clear();
  }

  private store(session: SessionData, local: boolean): void {
    const k = hex(session.id);
    this.map.delete(k);
    this.map.set(k, { session, local });
    while (this.map.size > this.options.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  private expired(s: SessionData): boolean {
    return this.options.now() - s.createdAt >= this.options.ttlMs;
  }
}
