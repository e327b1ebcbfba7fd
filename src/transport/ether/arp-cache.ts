// The ARP translation table of RFC 826 ("<protocol type, sender protocol
// address, sender hardware address>" triplets), bounded and with expiry on
// injected time. RFC 826 leaves timeouts to the implementation ("Related
// issue"); entries here live `ttlMs` from their last confirmation. The bound
// matters because RFC 826's reception algorithm creates entries for whoever
// sends us an ARP naming our address: a flood of those may evict entries
// (counted) but can never grow the table.
import type { Mac } from "./mac.js";

export interface ArpCacheConfig {
  readonly maxEntries: number;
  readonly ttlMs: number;
}

interface Entry {
  mac: Mac;
  expires: number;
}

export class ArpCache {
  // Map iteration order is insertion order: refreshing an entry re-inserts
  // it, so the first key is always the least recently confirmed.
  private readonly entries = new Map<number, Entry>();
  evictions = 0;

  constructor(private readonly cfg: ArpCacheConfig) {
    if (cfg.maxEntries < 1) throw new RangeError("ARP cache needs room for at least one entry");
  }

  get size(): number {
    return this.entries.size;
  }

  /** The MAC for `ip`, or null if unknown or expired. */
  lookup(ip: number, now: number): Mac | null {
    const e = this.entries.get(ip);
    if (e === undefined) return null;
    if (e.expires <= now) {
      this.entries.delete(ip);
      return null;
    }
    return e.mac;
  }

  /** RFC 826 merge step: update `ip` only if it is already in the table. Returns whether it was. */
  merge(ip: number, mac: Mac, now: number): boolean {
    if (this.lookup(ip, now) === null) return false;
    this.set(ip, mac, now);
    return true;
  }

  /** Add or refresh an entry, evicting the least recently confirmed one if full. */
  insert(ip: number, mac: Mac, now: number): void {
    if (!this.entries.has(ip) && this.entries.size >= this.cfg.maxEntries) {
      for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
      if (this.entries.size >= this.cfg.maxEntries) {
        const oldest = this.entries.keys().next().value as number;
        this.entries.delete(oldest);
        this.evictions++;
      }
    }
    this.set(ip, mac, now);
  }

  private set(ip: number, mac: Mac, now: number): void {
    this.entries.delete(ip);
    this.entries.set(ip, { mac, expires: now + this.cfg.ttlMs });
  }
}
