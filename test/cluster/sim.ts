// Deterministic simulation of a cluster of sans-I/O ClusterNodes
// (STYLE.md §1: "what makes every crash point testable"). One injected
// clock, one seeded PRNG, a network that loses, duplicates, delays/reorders
// and partitions datagrams; nodes die, restart (new epoch) and leave. After
// every step the invariants of docs/cluster-protocol.md §9 are checked and the
// first violation throws with the time and the node states.
import { ClusterNode, type ClusterConfig } from "../../src/cluster/cluster-node.js";
import { wasmProvider } from "../../src/crypto/provider.js";
import { BUCKETS } from "../../src/cluster/messages.js";
import { holdersOf, newer } from "../../src/cluster/bucket-map.js";
import type { SessionData } from "../../src/tls/session-cache.js";
import { Rng } from "../helpers/rng.js";

export interface NetParams {
  loss: number;
  duplicate: number;
  /** Extra delay, uniform in [0, jitterMs): reorders datagrams. */
  jitterMs: number;
  latencyMs: number;
}

interface InFlight {
  at: number;
  order: number;
  from: number;
  to: number;
  bytes: Uint8Array;
}

export interface AckRecord {
  owner: number;
  ownerEpoch: number;
  rid: number;
  connId: number;
  bucket: number;
  mirrors: Array<{ id: number; epoch: number }>;
}

export const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);

export class Sim {
  now = 1000;
  readonly rng: Rng;
  readonly nodes = new Map<number, ClusterNode | null>();
  net: NetParams = { loss: 0, duplicate: 0, jitterMs: 0, latencyMs: 0.5 };
  /** id → partition group; datagrams cross only within a group. */
  groups = new Map<number, number>();
  /** Directed cuts "from>to": datagrams from `from` to `to` are lost (a one-way partition). */
  readonly cuts = new Set<string>();
  private queue: InFlight[] = [];
  private order = 0;
  /** The latest acknowledged checkpoint per connection. */
  readonly acks = new Map<number, AckRecord>();
  readonly closed = new Set<number>();
  readonly sessionsMade: SessionData[] = [];
  /** Who made each session (id byte → node, epoch). */
  readonly makers = new Map<SessionData, { id: number; epoch: number }>();
  readonly removed = new Set<string>();
  delivered = 0;
  dropped = 0;
  checks = 0;

  constructor(
    readonly ids: readonly number[],
    seed: number,
    readonly extra: Partial<ClusterConfig> = {},
    /** Configured but not started. */
    down: readonly number[] = [],
  ) {
    this.rng = new Rng(seed);
    for (const id of ids) {
      if (down.includes(id)) this.nodes.set(id, null);
      else this.start(id);
    }
  }

  /** Random traffic for `ms`: checkpoints of connections on their buckets' owners, closes, sessions. */
  load(ms: number, opts: { checkpointsPerMs?: number; sessionEvery?: number } = {}): void {
    const end = this.now + ms;
    let i = 0;
    while (this.now < end) {
      for (let k = 0; k < (opts.checkpointsPerMs ?? 1); k++) {
        const connId = 1 + this.rng.int(400);
        if (this.closed.has(connId)) continue;
        const bucket = (connId * 2654435761) % 1024;
        if (this.rng.next() < 0.02) this.close(connId);
        else this.checkpoint(connId, bucket);
      }
      if (opts.sessionEvery && i++ % opts.sessionEvery === 0) {
        // Handshakes happen where connections are served: on members that own buckets.
        const serving = this.live().filter(([, n]) => n.ownedBuckets(this.now).size > 0);
        if (serving.length > 0) this.addSession(serving[this.rng.int(serving.length)]![0], 1 + this.rng.int(250));
      }
      this.run(1);
    }
  }

  config(id: number): ClusterConfig {
    return { nodeId: id, clusterId: 7, key: KEY, members: this.ids, epoch: this.now * 16 + id, provider: wasmProvider, ...this.extra };
  }

  start(id: number): ClusterNode {
    const n = new ClusterNode(this.config(id), this.now);
    this.nodes.set(id, n);
    this.collect(id);
    return n;
  }

  kill(id: number): void {
    this.nodes.set(id, null);
  }

  live(): Array<[number, ClusterNode]> {
    return [...this.nodes].filter((e): e is [number, ClusterNode] => e[1] !== null);
  }

  node(id: number): ClusterNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`node ${id} is dead`);
    return n;
  }

  partition(...sides: number[][]): void {
    this.groups = new Map();
    sides.forEach((side, g) => side.forEach((id) => this.groups.set(id, g)));
  }

  heal(): void {
    this.groups = new Map();
  }

  private connected(a: number, b: number): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0) && !this.cuts.has(`${a}>${b}`);
  }

  /** Takes a node's datagrams and events; `flush` ends its turn first (the run loop does, once per ms). */
  private collect(id: number, flush = false): void {
    const n = this.nodes.get(id);
    if (!n) return;
    if (flush) n.flush();
    for (const d of n.takeDatagrams()) {
      const copies = this.rng.next() < this.net.loss ? 0 : this.rng.next() < this.net.duplicate ? 2 : 1;
      if (copies === 0) this.dropped++;
      for (let c = 0; c < copies; c++) {
        this.queue.push({ at: this.now + this.net.latencyMs + this.rng.next() * this.net.jitterMs, order: this.order++, from: id, to: d.to, bytes: d.bytes });
      }
    }
    for (const e of n.takeEvents()) {
      if (e.kind === "replicated") {
        const m = n.replication.active.get(e.connId);
        this.acks.set(e.connId, {
          owner: id,
          ownerEpoch: n.epoch,
          rid: e.rid,
          connId: e.connId,
          bucket: m?.bucket ?? -1,
          mirrors: [...e.mirrors],
        });
      }
    }
  }

  /** Advances the clock by `dt` ms in 1 ms slices: deliveries, then every node's tick. */
  run(dt: number, check = true): void {
    const end = this.now + dt;
    while (this.now < end) {
      this.now = Math.min(end, this.now + 1);
      this.queue.sort((a, b) => a.at - b.at || a.order - b.order);
      while (this.queue.length > 0 && this.queue[0]!.at <= this.now) {
        const d = this.queue.shift()!;
        const n = this.nodes.get(d.to);
        if (!n || !this.connected(d.from, d.to)) continue;
        this.delivered++;
        n.receive(d.bytes, this.now);
        this.collect(d.to);
      }
      // One turn per node per millisecond: everything it generated in it leaves together (SSLACC §5.8).
      for (const [id, n] of this.live()) {
        n.tick(this.now);
        this.collect(id, true);
      }
      if (check) this.checkSafety();
    }
  }

  // --- workload -----------------------------------------------------------------

  /** One checkpoint on whichever live node owns `bucket` (none: skipped). */
  checkpoint(connId: number, bucket: number): boolean {
    for (const [id, n] of this.live()) {
      if (!n.owns(bucket, this.now)) continue;
      const r = n.replicate(connId, bucket, new Uint8Array([connId & 0xff, (connId >> 8) & 0xff, this.rng.int(256)]), this.now);
      this.collect(id);
      return r.ok;
    }
    return false;
  }

  close(connId: number): void {
    for (const [id, n] of this.live()) {
      if (n.replication.active.has(connId)) {
        n.closeConnection(connId, this.now);
        this.closed.add(connId);
        this.collect(id);
      }
    }
  }

  addSession(on: number, idByte: number): SessionData {
    const s: SessionData = {
      id: new Uint8Array(32).fill(idByte),
      version: 0x0303,
      cipherSuite: 0x002f,
      masterSecret: new Uint8Array(48).fill(idByte ^ 0x5a),
      extendedMasterSecret: true,
      serverName: idByte % 2 ? "example.test" : null,
      createdAt: this.now,
    };
    this.node(on).sessions.put(s);
    this.sessionsMade.push(s);
    this.makers.set(s, { id: on, epoch: this.node(on).epoch });
    this.collect(on);
    return s;
  }

  removeSession(on: number, s: SessionData): void {
    this.node(on).sessions.remove(s.id);
    this.removed.add(s.id.join(","));
    this.collect(on);
  }

  // --- invariants -------------------------------------------------------------------

  fail(what: string): never {
    const states = this.live().map(([id, n]) => {
      const st = n.status(this.now);
      return `  ${id}: epoch ${st.epoch} master ${st.master} isMaster ${st.isMaster} map v${st.mapVersion}/${st.mapIssuer} owned ${st.owned} handoffs ${st.handoffs} members ${JSON.stringify(st.members.map((m) => [m.id, m.buckets]))} active ${st.active} mirrored ${st.mirrored} inFlight ${st.inFlight}`;
    });
    throw new Error(`t=${this.now}: ${what}\n${states.join("\n")}`);
  }

  /** Checked after every millisecond. */
  checkSafety(): void {
    this.checks++;
    const owners = new Int32Array(BUCKETS).fill(-1);
    for (const [id, n] of this.live()) {
      const owned = n.ownedBuckets(this.now);
      if (owned.size === 0) continue;
      // No member acts on a map it knows is old: every live peer it hears announced nothing newer.
      for (const p of n.membership.peerIds) {
        if (!n.membership.alive(p, this.now)) continue;
        const v = n.membership.peerMapVersion(p);
        if (newer(v, n.map)) this.fail(`node ${id} owns buckets under map v${n.map.version} but heard v${v.version} from ${p}`);
      }
      for (const b of owned) {
        if (owners[b] !== -1) this.fail(`bucket ${b} owned by both ${owners[b]} and ${id}`);
        owners[b] = id;
      }
    }
    // Every acknowledged checkpoint exists on the mirrors that acknowledged it, while they live as the same incarnation and hold the bucket.
    for (const a of this.acks.values()) {
      if (this.closed.has(a.connId) || a.bucket < 0) continue;
      for (const m of a.mirrors) {
        const n = this.nodes.get(m.id);
        if (!n || n.epoch !== m.epoch) continue;
        if (!holdersOf(n.map, a.bucket, this.extra.policy ?? { kind: "all" }).includes(m.id)) continue;
        if (!n.replication.mirror.has(a.connId) && !n.replication.active.has(a.connId)) {
          this.fail(`checkpoint rid ${a.rid} of conn ${a.connId} (bucket ${a.bucket}) acked by ${m.id} but absent there`);
        }
      }
    }
  }

  /** After the network healed and settled: one owner per bucket, one map, every session everywhere. */
  checkConverged(): void {
    const live = this.live();
    const owners = new Int32Array(BUCKETS).fill(-1);
    for (const [id, n] of live) for (const b of n.ownedBuckets(this.now)) owners[b] = id;
    const missing = [...owners].filter((o) => o === -1).length;
    if (missing > 0) this.fail(`${missing} buckets have no owner after settling`);
    const v = live[0]![1].map;
    for (const [id, n] of live) if (n.map.version !== v.version || n.map.issuer !== v.issuer) this.fail(`node ${id} has map v${n.map.version}/${n.map.issuer}, not v${v.version}/${v.issuer}`);
    for (const s of this.sessionsMade) {
      if (this.removed.has(s.id.join(","))) continue;
      // A session whose maker died before anyone got it (made while cut off) is legitimately gone.
      const maker = this.makers.get(s)!;
      const makerAlive = this.nodes.get(maker.id)?.epoch === maker.epoch;
      if (!makerAlive && !live.some(([, n]) => n.sessions.get(s.id))) continue;
      for (const [id, n] of live) if (!n.sessions.get(s.id)) this.fail(`session ${s.id[0]} not resumable on node ${id}`);
    }
    for (const key of this.removed) {
      const id = new Uint8Array(key.split(",").map(Number));
      for (const [nid, n] of live) if (n.sessions.get(id)) this.fail(`removed session ${id[0]} still on node ${nid}`);
    }
  }
}
