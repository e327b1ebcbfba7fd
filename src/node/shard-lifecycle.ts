// Shard lifecycle policy, no I/O and no clock (time is passed in): which
// shard runs a bucket when shards die and come back, and how long a dead
// shard waits before it is respawned. src/node/daemon.ts carries the
// decisions out (restores the moved connections, starts workers).
//
//   shard dies ──evacuate──> its buckets spread over the live shards at once (NO_SHARD if none)
//              ──Backoff.died──> respawn delay: 100 ms doubling to 30 s; reset once up for a stable period
//   shard ready ──rebalance──> ownerless buckets to live shards at once;
//                              buckets away from their (live) home back, a bounded step at a time
//
// The paper's cluster moves a dead member's buckets to survivors and gives
// new members buckets gradually (SSLACC §3.2, §4.8); inside one node the
// shards are the members and the main thread is the master.
import { BUCKETS, NO_SHARD, type BucketMap } from "./buckets.js";

export interface Move {
  readonly bucket: number;
  readonly from: number;
  readonly to: number;
}

export interface RespawnPolicy {
  /** Delay before the first respawn after a stable run. */
  readonly initialMs: number;
  /** The doubling stops here. */
  readonly maxMs: number;
  /** A shard up this long is stable again: its next death starts from initialMs. */
  readonly stableMs: number;
}

/**
 * Respawn delays in the manner of systemd's restart rate limiting and
 * Erlang/OTP supervisors: a shard that keeps dying must not cost the node a
 * thread start per few milliseconds (its buckets are served elsewhere
 * meanwhile); a shard that ran long enough starts over.
 */
export const DEFAULT_RESPAWN: RespawnPolicy = { initialMs: 100, maxMs: 30_000, stableMs: 10_000 };

/** Errors name the field (RangeError). */
export function checkRespawnPolicy(p: RespawnPolicy): void {
  if (!(Number.isFinite(p.initialMs) && p.initialMs > 0)) throw new RangeError(`respawn.initialMs must be > 0, got ${p.initialMs}`);
  if (!(Number.isFinite(p.maxMs) && p.maxMs >= p.initialMs)) throw new RangeError(`respawn.maxMs must be >= initialMs (${p.initialMs}), got ${p.maxMs}`);
  if (!(Number.isFinite(p.stableMs) && p.stableMs > 0)) throw new RangeError(`respawn.stableMs must be > 0, got ${p.stableMs}`);
}

/** Deaths of one shard slot, consecutive unless it stayed up for `stableMs`. */
export class Backoff {
  private failures = 0;
  private upSince: number | null = null;

  constructor(private readonly policy: RespawnPolicy) {}

  /** Deaths counted towards the current delay. */
  get consecutive(): number {
    return this.failures;
  }

  /** The shard's worker is ready (at `now`). */
  up(now: number): void {
    this.upSince = now;
  }

  /** The shard died at `now`: milliseconds to wait before respawning it. */
  died(now: number): number {
    if (this.upSince !== null && now - this.upSince >= this.policy.stableMs) this.failures = 0;
    this.upSince = null;
    this.failures++;
    return Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** Math.min(this.failures - 1, 30));
  }
}

/** Buckets owned per shard (index = shard). */
function loads(map: BucketMap): number[] {
  const n = new Array<number>(map.shards).fill(0);
  for (let b = 0; b < BUCKETS; b++) {
    const s = map.shardOf(b);
    if (s !== NO_SHARD) n[s]!++;
  }
  return n;
}

/** Each bucket to the live shard owning fewest so far (lowest index on a tie): an even spread. */
function spread(map: BucketMap, buckets: readonly number[], live: readonly number[]): Move[] {
  if (live.length === 0) return buckets.map((bucket) => ({ bucket, from: map.shardOf(bucket), to: NO_SHARD }));
  const load = loads(map);
  return buckets.map((bucket) => {
    let to = live[0]!;
    for (const s of live) if (load[s]! < load[to]!) to = s;
    load[to]!++;
    const from = map.shardOf(bucket);
    if (from !== NO_SHARD) load[from]!--;
    return { bucket, from, to };
  });
}

/** `dead` is down: every bucket it runs moves now to the live shards (NO_SHARD if there are none). */
export function evacuate(map: BucketMap, dead: number, live: readonly number[]): Move[] {
  return spread(map, map.bucketsOf(dead), live.filter((s) => s !== dead));
}

export interface StepLimit {
  /** Buckets returned home per step at most. */
  readonly buckets: number;
  /** Connections restored by one step at most (a bucket is never split: the first bucket always goes). */
  readonly connections: number;
}

/**
 * One rebalancing step: every ownerless bucket goes to a live shard at once
 * (its connections are waiting), then buckets away from a live home go
 * back, bounded by `limit`, so a returning shard takes its connections a
 * few at a time instead of in one burst of restores. Call again until it
 * returns no move.
 */
export function rebalanceStep(map: BucketMap, live: readonly number[], limit: StepLimit, connectionsIn: (bucket: number) => number): Move[] {
  if (live.length === 0) return [];
  const ownerless: number[] = [];
  for (let b = 0; b < BUCKETS; b++) if (map.shardOf(b) === NO_SHARD) ownerless.push(b);
  if (ownerless.length > 0) {
    // Ownerless buckets go home if their home is live, else spread.
    const isLive = new Set(live);
    const home = ownerless.filter((b) => isLive.has(map.home(b))).map((bucket) => ({ bucket, from: NO_SHARD, to: map.home(bucket) }));
    return [...home, ...spread(map, ownerless.filter((b) => !isLive.has(map.home(b))), live)];
  }
  const isLive = new Set(live);
  const moves: Move[] = [];
  let conns = 0;
  for (let b = 0; b < BUCKETS && moves.length < limit.buckets; b++) {
    const home = map.home(b);
    const owner = map.shardOf(b);
    if (owner === home || !isLive.has(home)) continue;
    const n = connectionsIn(b);
    if (moves.length > 0 && conns + n > limit.connections) break;
    conns += n;
    moves.push({ bucket: b, from: owner, to: home });
  }
  return moves;
}
