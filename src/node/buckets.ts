// Buckets: how a connection finds its shard (and, in a cluster, its node).
//
//   4-tuple ──bucketOf──> one of 1024 buckets ──BucketMap──> shard index
//
// The hash is symmetric (the two endpoints are ordered before hashing), so
// both directions of a connection land in the same bucket, as the clustered
// TCP transport needs when it sees raw packets (SSLACC §3.2). The backend
// connection's source port is chosen so that its 4-tuple falls in the same
// bucket as the client's (SSLACC §4.5): both legs of a connection then
// belong to one owner.
export const BUCKETS = 1024;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** FNV-1a (32-bit) over "addr:port" of both endpoints, the smaller first. */
export function bucketOf(a: Endpoint, b: Endpoint): number {
  const ka = `${a.address}:${a.port}`;
  const kb = `${b.address}:${b.port}`;
  const s = ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche: FNV's low bits are weak for short, similar keys.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % BUCKETS;
}

/** No shard is up to run the bucket: its connections wait (src/node/shard-lifecycle.ts). */
export const NO_SHARD = -1;

/**
 * Bucket → shard, versioned. Every bucket has a *home* shard (round-robin);
 * while its home is down it belongs to a surviving shard, or to NO_SHARD
 * when none is up, and it returns home when the home is back
 * (src/node/shard-lifecycle.ts plans the moves, src/node/daemon.ts makes them).
 * Each set of moves makes a new version.
 */
export class BucketMap {
  private readonly owner: Int32Array;
  private versionValue = 1;
  constructor(readonly shards: number) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`bucket map: shards must be a positive integer, got ${shards}`);
    this.owner = new Int32Array(BUCKETS);
    for (let b = 0; b < BUCKETS; b++) this.owner[b] = this.home(b);
  }
  get version(): number {
    return this.versionValue;
  }
  /** Where the bucket lives when every shard is up. */
  home(bucket: number): number {
    return bucket % this.shards;
  }
  /** The shard running the bucket now, or NO_SHARD. */
  shardOf(bucket: number): number {
    return this.owner[bucket]!;
  }
  bucketsOf(shard: number): number[] {
    const out: number[] = [];
    for (let b = 0; b < BUCKETS; b++) if (this.owner[b] === shard) out.push(b);
    return out;
  }
  /** One new version with every move applied. */
  apply(moves: readonly { readonly bucket: number; readonly to: number }[]): number {
    if (moves.length === 0) return this.versionValue;
    for (const m of moves) {
      if (m.to !== NO_SHARD && !(Number.isInteger(m.to) && m.to >= 0 && m.to < this.shards)) throw new RangeError(`bucket map: no shard ${m.to}`);
      this.owner[m.bucket] = m.to;
    }
    return ++this.versionValue;
  }
  /** Shard index per bucket (NO_SHARD: none up), for `sslacc status`. */
  toArray(): number[] {
    return Array.from(this.owner);
  }
}

/**
 * Source ports whose backend 4-tuple falls in each bucket (SSLACC §4.5),
 * for one (local address, backend) pair. Ports come from below Linux's
 * ephemeral range (32768-60999) so they rarely collide with ports the OS
 * hands out; about a dozen per bucket.
 */
export class SourcePorts {
  private readonly byBucket: number[][] = Array.from({ length: BUCKETS }, () => []);
  private readonly next = new Int32Array(BUCKETS);
  constructor(local: string, backend: Endpoint, lo = 20000, hi = 32767) {
    for (let p = lo; p <= hi; p++) this.byBucket[bucketOf({ address: local, port: p }, backend)]!.push(p);
  }
  /**
   * Every port of `bucket`, in a fixed order: a node that must reconnect a
   * taken-over connection deterministically (SSLACC §4.3, clustered TCP)
   * picks the same one as the node that died.
   */
  portsOf(bucket: number): readonly number[] {
    return this.byBucket[bucket]!;
  }
  /** Up to `n` candidate ports for `bucket`, rotating so that successive connections try different ones first. */
  candidates(bucket: number, n: number): number[] {
    const ports = this.byBucket[bucket]!;
    if (ports.length === 0) return [];
    const start = this.next[bucket]! % ports.length;
    this.next[bucket] = start + 1;
    const out: number[] = [];
    for (let i = 0; i < Math.min(n, ports.length); i++) out.push(ports[(start + i) % ports.length]!);
    return out;
  }
}
