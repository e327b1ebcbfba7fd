// The bucket map (SSLACC §3.2): 1024 buckets, each owned by one member; the
// master assigns, rebalances and reassigns (docs/cluster-protocol.md §6).
// Pure data and pure planning functions: cluster-node.ts feeds them the
// membership view and sends the maps they produce.
//
// * Versioned: a map is (version, issuer); a member adopts only a newer one
//   and never acts on one it knows is stale (a keepalive announced a newer
//   version) — see ClusterNode.owns.
// * Gradual rebalance with a handoff (state-handling patent, Fig. 6B: the
//   new owner's node-specific table is filled from the common table before
//   the identifier moves; "a short break ... during which none of the nodes
//   owns the distribution identifier"): a moving bucket is first marked
//   `handoff → B` (nobody acts on it); its owner ships the bucket's state to B
//   and says so (BUCKET_RELEASED, after the state, in the same ordered
//   stream); once B reports it is ready, the next map names B owner. At most
//   `maxMoves` buckets are in flight at a time.
// * A dead member's buckets go to a live member that already mirrors them.
import { BUCKETS, NO_MEMBER, type BucketMapMessage, type Handoff, type MapMember } from "./messages.js";

export type ReplicationPolicy = { readonly kind: "all" } | { readonly kind: "k"; readonly k: number };

export interface BucketMap {
  readonly version: number;
  readonly issuer: number;
  /** Members of this map with the incarnation (epoch) the master saw; ascending ids. */
  readonly members: readonly MapMember[];
  /** Owner id per bucket, NO_MEMBER when unassigned. During a handoff the owner is the source. */
  readonly owner: Uint16Array;
  /** bucket → target of a pending move. */
  readonly handoffs: ReadonlyMap<number, number>;
}

export const EMPTY_MAP: BucketMap = {
  version: 0,
  issuer: 0,
  members: [],
  owner: new Uint16Array(BUCKETS).fill(NO_MEMBER),
  handoffs: new Map(),
};

/** (version, issuer) order: two masters that both extended version v (a stale one and its successor) are told apart. */
export function newer(a: { version: number; issuer: number }, b: { version: number; issuer: number }): boolean {
  return a.version > b.version || (a.version === b.version && a.issuer > b.issuer);
}

export function mapToMessage(m: BucketMap): BucketMapMessage {
  const index = new Map(m.members.map((mm, i) => [mm.id, i]));
  const owners = new Uint8Array(BUCKETS);
  for (let b = 0; b < BUCKETS; b++) owners[b] = m.owner[b] === NO_MEMBER ? 0xff : index.get(m.owner[b]!)!;
  const handoffs: Handoff[] = [...m.handoffs].map(([bucket, to]) => ({ bucket, to }));
  return { type: "bucketMap", version: m.version, issuer: m.issuer, members: m.members, owners, handoffs };
}

export function mapFromMessage(msg: BucketMapMessage): BucketMap {
  const owner = new Uint16Array(BUCKETS);
  for (let b = 0; b < BUCKETS; b++) owner[b] = msg.owners[b] === 0xff ? NO_MEMBER : msg.members[msg.owners[b]!]!.id;
  return {
    version: msg.version,
    issuer: msg.issuer,
    members: [...msg.members].sort((a, b) => a.id - b.id),
    owner,
    handoffs: new Map(msg.handoffs.map((h) => [h.bucket, h.to])),
  };
}

export function isMember(m: BucketMap, id: number, epoch?: number): boolean {
  return m.members.some((mm) => mm.id === id && (epoch === undefined || mm.epoch === epoch));
}

/** Whether `id` acts for `bucket` under this map: its owner, and not moving. */
export function ownsUnder(m: BucketMap, id: number, bucket: number): boolean {
  return m.owner[bucket] === id && !m.handoffs.has(bucket);
}

/**
 * Who mirrors `bucket` (docs §7.1): everyone else under `all` (the paper);
 * under `k`, the k members after the owner in id order, wrapping (a ring, so
 * a member's departure shifts only its neighbours' mirror sets).
 */
export function mirrorsOf(m: BucketMap, bucket: number, policy: ReplicationPolicy): number[] {
  const owner = m.owner[bucket]!;
  if (owner === NO_MEMBER) return [];
  const ring = m.members.map((mm) => mm.id);
  const at = ring.indexOf(owner);
  const others = at < 0 ? ring : [...ring.slice(at + 1), ...ring.slice(0, at)];
  switch (policy.kind) {
    case "all":
      return others;
    case "k":
      return others.slice(0, policy.k);
    default: {
      const never: never = policy;
      throw new Error(`policy ${JSON.stringify(never)}`);
    }
  }
}

/** Owner and mirrors: the members holding a bucket's state under a map. */
export function holdersOf(m: BucketMap, bucket: number, policy: ReplicationPolicy): number[] {
  const owner = m.owner[bucket]!;
  return owner === NO_MEMBER ? [] : [owner, ...mirrorsOf(m, bucket, policy)];
}

export function bucketCounts(m: BucketMap): Map<number, number> {
  const c = new Map<number, number>(m.members.map((mm) => [mm.id, 0]));
  for (let b = 0; b < BUCKETS; b++) {
    const o = m.owner[b]!;
    if (o !== NO_MEMBER) c.set(o, (c.get(o) ?? 0) + 1);
  }
  return c;
}

export interface PlanInput {
  readonly current: BucketMap;
  readonly self: number;
  /** Live members to keep or admit, with their current epochs. */
  readonly live: readonly MapMember[];
  /** Highest (version) seen anywhere, so the next map is newer than anything a dead master issued. */
  readonly highestSeen: number;
  /** Whether member `id` reported holding every handoff state of map `version`. */
  readonly ready: (id: number, version: number) => boolean;
  readonly policy: ReplicationPolicy;
  readonly maxMoves: number;
  /**
   * The pending step of moves has run past its time limit (the master's `moveTimeoutMs`): its moves that
   * did not complete are cancelled, the sources keep the buckets, and the next map plans a fresh step.
   */
  readonly abortMoves?: boolean;
}

/** The master's next map, or undefined when the current one needs no change. */
export function plan(input: PlanInput): BucketMap | undefined {
  const { current, live, policy } = input;
  const liveIds = new Set(live.map((l) => l.id));
  const stillMember = (id: number): boolean => live.some((l) => l.id === id && current.members.some((mm) => mm.id === id && mm.epoch === l.epoch));
  const owner = current.owner.slice();
  const handoffs = new Map(current.handoffs);
  let changed = live.length !== current.members.length || live.some((l) => !isMember(current, l.id, l.epoch));
  const counts = new Map<number, number>(live.map((l) => [l.id, 0]));
  for (let b = 0; b < BUCKETS; b++) if (counts.has(owner[b]!) && stillMember(owner[b]!)) counts.set(owner[b]!, counts.get(owner[b]!)! + 1);
  const leastLoaded = (candidates: readonly number[]): number | undefined => {
    let best: number | undefined;
    for (const c of candidates) if (counts.has(c) && (best === undefined || counts.get(c)! < counts.get(best)! || (counts.get(c) === counts.get(best) && c < best))) best = c;
    return best;
  };
  const give = (b: number, to: number): void => {
    const from = owner[b]!;
    if (counts.has(from) && stillMember(from)) counts.set(from, counts.get(from)! - 1);
    owner[b] = to;
    counts.set(to, counts.get(to)! + 1);
    changed = true;
  };

  // 1. Pending moves: complete, re-target or cancel.
  for (const [b, to] of [...handoffs]) {
    const from = owner[b]!;
    const fromOk = stillMember(from);
    const toOk = stillMember(to);
    if (!toOk) {
      handoffs.delete(b);
      changed = true;
    } else if (!fromOk) {
      handoffs.delete(b);
      give(b, to); // the source died mid-move: the target takes over from what it mirrors
    } else if (input.ready(to, current.version)) {
      handoffs.delete(b);
      give(b, to);
    }
  }

  // 2. Dead owners and unassigned buckets: to a live holder of the state, least loaded first.
  for (let b = 0; b < BUCKETS; b++) {
    const o = owner[b]!;
    if (o !== NO_MEMBER && stillMember(o)) continue;
    if (live.length === 0) break;
    const holders = o === NO_MEMBER ? [] : mirrorsOf(current, b, policy).filter((h) => stillMember(h));
    const to = leastLoaded(holders.length > 0 ? holders : [...liveIds]);
    if (to !== undefined) {
      handoffs.delete(b);
      give(b, to);
    }
  }

  // A step that outlived its time limit: cancel what is left of it (a lost release, a target that never
  // reports ready). Not re-planned in the same map: a source keeps its shipment for a move that stays in
  // the map, so the fresh step must come in a map that first shows the moves gone (issue 7).
  const aborting = input.abortMoves === true && handoffs.size > 0;
  if (aborting) {
    handoffs.clear();
    changed = true;
  }

  // 3. Gradual rebalance (joins): one batch of moves at a time.
  if (!aborting && handoffs.size === 0 && live.length > 1) {
    const n = live.length;
    const ids = [...liveIds].sort((a, b) => a - b);
    const target = new Map(ids.map((id, i) => [id, Math.floor(BUCKETS / n) + (i < BUCKETS % n ? 1 : 0)]));
    const under = ids.filter((id) => counts.get(id)! < target.get(id)!);
    let moves = 0;
    for (let b = BUCKETS - 1; b >= 0 && moves < input.maxMoves && under.length > 0; b--) {
      const from = owner[b]!;
      if (!(counts.get(from)! > target.get(from)!)) continue;
      const to = under[0]!;
      handoffs.set(b, to);
      counts.set(from, counts.get(from)! - 1);
      counts.set(to, counts.get(to)! + 1);
      if (counts.get(to)! >= target.get(to)!) under.shift();
      moves++;
      changed = true;
    }
    // `counts` now anticipates the moves; `owner` keeps the sources until they are ready.
  }

  if (!changed) return undefined;
  return {
    version: Math.max(current.version, input.highestSeen) + 1,
    issuer: input.self,
    members: [...live].sort((a, b) => a.id - b.id),
    owner,
    handoffs,
  };
}
