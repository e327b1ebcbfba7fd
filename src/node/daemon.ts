// The main thread of a node: the node's "TCP stack" and bucket dispatcher
// (DESIGN.md "Shape of one node", kernel transport).
//
//   client socket ──data──> keep (until a checkpoint says consumed) ──> shard owning the bucket
//   backend socket ─data──> keep ──────────────────────────────────────> same shard
//   shard batch ──> checkpoint: fold into the store, trim kept input
//               ──> bytes: write what was not written yet (forward-ACK rule, SSLACC §4.6)
//               ──> rsa: RSA pool (piscina) ──> result back to the owning shard
//   shard dies ──> respawn it, restore each of its connections from the store,
//                  replay kept input (SSLACC §4.8 cases 1-5 become replays here)
//
// The main thread runs no TLS: everything here survives a shard crash, and
// nothing a shard holds is needed after one.
import { EventEmitter } from "node:events";
import { connect, createServer, isIP, type Server, type Socket } from "node:net";
import { Worker } from "node:worker_threads";
import { RsaPool, type RsaPoolStats, type RsaProviderName } from "../crypto/rsa-pool.js";
import { decodeRelayCheckpoint, encodeRelaySnapshot, foldRelay, type RelaySnapshot } from "../relay/checkpoint.js";
import { BucketMap, bucketOf, NO_SHARD, SourcePorts, type Endpoint } from "./buckets.js";
import type { ClusterLink } from "./cluster-link.js";
import { prepareCertificates, type CertificateSource, type PreparedCertificates } from "./certificates.js";
import { DEFAULT_LIMITS, type Limits } from "./config.js";
import { DaemonErrors, type CertificateGeneration, type ShardInit, type ShardItem, type ToMain, type ToMainConn, type ToShard, type ToShardTurn } from "./messages.js";
import { proxyHeader, type ProxyProtocol } from "./proxy-protocol.js";
import { MemoryNodeSessionCache, type NodeSessionCache, type SessionChange } from "./sessions.js";
import { Backoff, checkRespawnPolicy, DEFAULT_RESPAWN, evacuate, rebalanceStep, type Move, type RespawnPolicy } from "./shard-lifecycle.js";

export interface DaemonOptions {
  readonly listen: Endpoint;
  readonly backend: Endpoint;
  /**
   * Certificates, the first the default; the others chosen by the client's
   * server_name (RFC 6066 §3). Checked at construction (CertificateError
   * naming the entry's field).
   */
  readonly certificates: readonly CertificateSource[];
  readonly shards: number;
  /**
   * RSA pool threads; 0: no pool, each shard runs the provider's
   * rsaDecryptPremaster itself when its relay asks (no thread hop).
   */
  readonly rsaWorkers: number;
  readonly rsaProvider: RsaProviderName;
  /** Largest backend→client record plaintext (default 2^14). */
  readonly maxRecord?: number;
  /** Any limit not given takes its default (src/node/config.ts DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
  /** PROXY protocol header written first on each backend connection (default off). */
  readonly proxyProtocol?: ProxyProtocol;
  /** Structured log (pino's call shape: fields, then message); default: none. */
  readonly logger?: DaemonLogger;
  /** Latency observations for /metrics (src/node/metrics.ts). */
  readonly observe?: DaemonObserver;
  /**
   * This process's cluster member (docs/cluster-protocol.md §10.1), already
   * started (ClusterLink.start); the daemon serves with it and closes it on
   * stop. Absent: the node runs alone.
   */
  readonly cluster?: ClusterLink;
  /**
   * The node's session cache, shared by its shards (src/node/sessions.ts);
   * default: a MemoryNodeSessionCache bounded by limits.sessionCacheSize / sessionTtlMs.
   */
  readonly sessions?: NodeSessionCache;
  /** Respawn delays of a dead shard (src/node/shard-lifecycle.ts DEFAULT_RESPAWN for what is not given). */
  readonly respawn?: Partial<RespawnPolicy>;
  /**
   * A connection whose shard died while handling it this many times in a
   * row (no checkpoint stored in between) is aborted instead of restored
   * again: one bad input must not take shards down forever (default 3).
   */
  readonly poisonLimit?: number;
  /** Tests only: a shard dies (process.exit) when it produces backend plaintext containing this string (a "poison" input). */
  readonly testDieOnPlaintext?: string;
  /** Tests only: the shard with this index throws while loading (start() must clean up what it started). */
  readonly testShardFailsToLoad?: number;
}

type LogFn = (fields: Record<string, unknown>, msg: string) => void;
export interface DaemonLogger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
}

export interface DaemonObserver {
  /** Seconds from the last input sent to a shard to a checkpoint of that connection stored. */
  checkpointStored(seconds: number): void;
  /** Seconds an RSA private operation took in the pool, queueing included. */
  rsaDone(seconds: number, ok: boolean): void;
}

export interface CheckpointInfo {
  readonly conn: number;
  readonly shard: number;
  readonly seq: number;
  readonly phase: string;
  readonly snapshot: RelaySnapshot;
}

export interface DaemonCounters {
  accepted: number;
  closed: number;
  handshakes: number;
  resumed: number;
  checkpoints: number;
  shardRestarts: number;
  restoredConnections: number;
  /** Buckets moved between shards (a dead shard's to survivors, then back home). */
  bucketMoves: number;
  /** Batches of an earlier incarnation of their connection (a shard that has since lost it): ignored. */
  staleBatches: number;
  /** Connections aborted because their shard died while handling them poisonLimit times in a row. */
  poisonAborts: number;
  /** Connections closed by a timeout while no shard was up to run them. */
  noShardTimeouts: number;
  rsaRequests: number;
  duplicateBytesDropped: number;
  backendPortFallbacks: number;
  connErrors: number;
  bytesFromClients: number;
  bytesToClients: number;
  bytesFromBackends: number;
  bytesToBackends: number;
  /** Refused at accept: max connections reached. */
  rejectedConnections: number;
  handshakeTimeouts: number;
  idleTimeouts: number;
  /** Times a client socket stopped reading (the backend leg is full), and a backend socket (the client leg is full). */
  clientPauses: number;
  backendPauses: number;
  /** Certificate sets taken by reloadCertificates (SIGHUP). */
  certificateReloads: number;
}

/** Failures counted by reason (the alert we sent or received, or the backend's error). */
export interface DaemonFailures {
  /** Connections that closed before the handshake completed, by alert / reason. */
  readonly handshake: Record<string, number>;
  /** Backend legs that failed: refused, reset, timeout, unreachable, other. */
  readonly backend: Record<string, number>;
}

interface Kept {
  readonly offset: number;
  readonly data: Buffer;
}

interface Conn {
  readonly id: number;
  readonly bucket: number;
  /** The certificate generation the connection was accepted under (kept for its whole life). */
  readonly gen: number;
  readonly client: Socket;
  /** The client's address and the one it connected to, kept for the PROXY header. */
  readonly peer: Endpoint;
  readonly local: Endpoint;
  backend: Socket | null;
  backendState: "none" | "connecting" | "connected" | "failed";
  readonly clientIn: Kept[];
  clientInEnd: number;
  clientEof: number | null;
  readonly backendIn: Kept[];
  backendInEnd: number;
  backendEof: number | null;
  clientWritten: number;
  backendWritten: number;
  snapshot: RelaySnapshot | undefined;
  /**
   * Incarnation: restores so far. Shards echo it in their batches; anything
   * from an earlier incarnation (a dead shard's RSA result, a batch the old
   * owner posted before it dropped a moved connection) is ignored.
   */
  epoch: number;
  /** Shard deaths while handling this connection since its last stored checkpoint (poison detection). */
  crashes: number;
  phase: string;
  /** Bytes in clientIn / backendIn (kept, not yet consumed). */
  clientKept: number;
  backendKept: number;
  clientPaused: boolean;
  backendPaused: boolean;
  readonly acceptedAt: number;
  /** Last byte read or written on either leg (idle timeout). */
  lastActivity: number;
  handshakeDone: boolean;
  /** Why the backend leg failed (set from its 'error' event). */
  backendError: string | null;
  /** performance.now() of the first input sent to the shard since the last stored checkpoint (checkpoint latency). */
  inputAt: number;
}

interface Slot {
  readonly index: number;
  /** The current incarnation (after a death: the dead one until the respawn). */
  worker: Worker;
  /** down: dead, respawn scheduled (backoff); messages to it are dropped (the init of the next carries what it needs). */
  state: "starting" | "ready" | "down";
  /** Messages for a worker that is starting: sent in order on `ready`. */
  pending: { m: ToShard; transfer: ArrayBuffer[] }[];
  /** This turn's messages for a ready worker: one postMessage in setImmediate (flushTurn). */
  out: ToShard[];
  outTransfer: ArrayBuffer[];
  readonly backoff: Backoff;
  respawnTimer: NodeJS.Timeout | null;
  /** Date.now() of the scheduled respawn (status). */
  respawnAt: number;
  deaths: number;
  /** The connection the worker is handling (0: none), in shared memory: still readable once the worker is dead. */
  busy: Float64Array;
  /** killShard() asked for this incarnation's death: not the fault of the connection it was running. */
  killed: boolean;
}

/**
 * A certificate generation in the main thread: its RSA pool (keys are
 * given to a pool at creation) and how many connections still use it.
 */
interface Generation {
  readonly gen: number;
  readonly prepared: PreparedCertificates;
  /** null: rsaWorkers 0, the shards run RSA. */
  readonly pool: RsaPool | null;
  /** Open connections accepted under it. */
  conns: number;
  /** Of those, the ones whose handshake is not done: only they may still ask for RSA. */
  handshaking: number;
  poolClosed: boolean;
}

const PORT_TRIES = 8;
/**
 * Buckets return to a respawned shard this many at a time, at most this
 * many connections per step (a bucket is never split), a step every
 * RETURN_STEP_MS: a returning shard restores its connections in small
 * bursts rather than all at once while it also takes new ones.
 */
const RETURN_STEP = { buckets: 64, connections: 256 };
const RETURN_STEP_MS = 10;
/** Expired sessions are dropped (and the shards told) this often; a lookup refuses them anyway. */
const SESSION_SWEEP_MS = 10_000;
/** How long a session change that no shard of ours made waits to share one post per shard (sessionChanged). */
const SESSION_BATCH_MS = 20;

/** rsaStats() without a pool (rsaWorkers 0): nothing ever queues. */
const NO_POOL_STATS: RsaPoolStats = {
  threads: 0, queued: 0, completed: 0, refused: 0, failed: 0,
  waitTimeMs: { p50: 0, p99: 0, max: 0 }, runTimeMs: { p50: 0, p99: 0, max: 0 }, utilization: 0,
};

export class Daemon extends EventEmitter {
  readonly counters: DaemonCounters = {
    accepted: 0, closed: 0, handshakes: 0, resumed: 0, checkpoints: 0, shardRestarts: 0, restoredConnections: 0,
    rsaRequests: 0, duplicateBytesDropped: 0, backendPortFallbacks: 0, connErrors: 0, bytesFromClients: 0, bytesToClients: 0,
    bytesFromBackends: 0, bytesToBackends: 0, rejectedConnections: 0, handshakeTimeouts: 0, idleTimeouts: 0, clientPauses: 0, backendPauses: 0,
    certificateReloads: 0, bucketMoves: 0, staleBatches: 0, poisonAborts: 0, noShardTimeouts: 0,
  };
  readonly failures: DaemonFailures = { handshake: {}, backend: {} };
  readonly limits: Limits;
  /** The node's session cache: the shards hold copies and send their changes here. */
  readonly sessions: NodeSessionCache;
  private sweeper: NodeJS.Timeout | null = null;
  private lastSessionSweep = 0;
  private readonly conns = new Map<number, Conn>();
  private readonly slots: Slot[] = [];
  private readonly buckets: BucketMap;
  private readonly gens = new Map<number, Generation>();
  private current: Generation;
  private nextGen = 2;
  private readonly server: Server;
  private readonly ports: SourcePorts;
  private readonly localAddress: string | undefined;
  private nextConn = 1;
  private stopping = false;
  private draining = false;
  private address: Endpoint | null = null;
  private turnScheduled = false;
  /** Connections by bucket: what moves with a bucket. */
  private readonly byBucket = new Map<number, Set<Conn>>();
  private readonly respawnPolicy: RespawnPolicy;
  private readonly poisonLimit: number;
  private rebalanceTimer: NodeJS.Timeout | null = null;
  /** Session changes not made by our shards (a peer's, the cache's evictions), waiting for flushSessions. */
  private sessionQueue: SessionChange[] = [];
  private sessionTimer: NodeJS.Timeout | null = null;
  /** Set while a shard's own change goes into the node's cache (sessionFromShard). */
  private shardSessionChange = false;
  /** Buckets moved by the rebalancing under way ("rebalanced" is emitted when it is done). */
  private rebalancing = false;
  /** armShards is in force: the first shard to die of it disarms the others (one death per test). */
  private armed = false;
  private readonly cluster: ClusterLink | null;

  constructor(private readonly opts: DaemonOptions) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.buckets = new BucketMap(opts.shards);
    this.respawnPolicy = { ...DEFAULT_RESPAWN, ...opts.respawn };
    checkRespawnPolicy(this.respawnPolicy);
    this.poisonLimit = opts.poisonLimit ?? 3;
    if (!(Number.isInteger(this.poisonLimit) && this.poisonLimit >= 1)) throw new RangeError(`daemon: poisonLimit must be a positive integer, got ${opts.poisonLimit}`);
    // Clustered: the cluster's cache is the node's (docs/cluster-protocol.md §10.1 item 5), so a peer's
    // sessions reach the shards' copies and the shards' reach the peers.
    this.sessions = opts.sessions ?? opts.cluster?.sessions ?? new MemoryNodeSessionCache({ maxEntries: this.limits.sessionCacheSize, ttlMs: this.limits.sessionTtlMs, now: Date.now });
    // Every change, a shard's or a cluster peer's, reaches every shard's copy
    // (a shard not yet ready gets it after its init, which held entries()).
    this.sessions.onChange((change) => this.sessionChanged(change));
    this.cluster = opts.cluster ?? null;
    if (this.cluster) this.attachCluster(this.cluster);
    // Checked before anything starts: a bad certificate fails `start`, not each handshake.
    this.current = this.generation(1, prepareCertificates(opts.certificates, "g1"));
    // SSLACC §4.5: bind the backend leg to a port in the client's bucket.
    // With a loopback backend the local address is known; otherwise the OS
    // picks it and the hash uses the wildcard (the bucket may then differ:
    // harmless on one node, fixed by the clustered-TCP transport).
    this.localAddress = isLoopback(opts.backend.address) ? (isIP(opts.backend.address) === 6 ? "::1" : "127.0.0.1") : undefined;
    this.ports = new SourcePorts(this.localAddress ?? "0.0.0.0", opts.backend);
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.accept(s));
    // Node closes connections above maxConnections right after accept(2)
    // and says so with 'drop' (HAProxy would leave them in the backlog;
    // Node cannot stop accepting without closing the listener).
    this.server.maxConnections = this.limits.maxConnections;
    this.server.on("drop", () => {
      this.counters.rejectedConnections++;
    });
  }

  private log(level: keyof DaemonLogger, fields: Record<string, unknown>, msg: string): void {
    this.opts.logger?.[level](fields, msg);
  }

  /**
   * Starts the shards, then listens. If any step fails, whatever was started
   * (workers, the RSA pool, timers, the cluster member) is stopped before the
   * error is rethrown, naming the shard or the address: a failed start
   * leaves nothing running that would keep the process alive.
   */
  async start(): Promise<Endpoint> {
    try {
      return await this.startAll();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async startAll(): Promise<Endpoint> {
    for (let i = 0; i < this.opts.shards; i++) this.slots.push(this.spawn(i));
    await Promise.all(this.slots.map((s) => new Promise<void>((resolve, reject) => {
      s.worker.once("message", () => resolve());
      s.worker.once("error", (e) => reject(DaemonErrors.shardStartFailed(s.index, e)));
      s.worker.once("exit", (code) => reject(DaemonErrors.shardStartFailed(s.index, `exited with code ${code} before it was ready`)));
    })));
    const { address, port } = this.opts.listen;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", (e) => reject(DaemonErrors.listenFailed(address, port, e)));
      // HAProxy's default backlog is maxconn (nginx: 511, Node: 511): with
      // 511 a burst of connects overflows the accept queue and each dropped
      // SYN costs its client a 1 s retransmit (measured: 5,000 connects in
      // batches of 250 took 9.5 s, with this 1.2 s). The kernel caps it at
      // net.core.somaxconn.
      this.server.listen({ port: this.opts.listen.port, host: this.opts.listen.address, backlog: Math.min(this.limits.maxConnections, 65535) }, () => resolve());
    });
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("listen: no address");
    this.address = { address: a.address, port: a.port };
    // One sweep over all connections for both timeouts, not a timer per
    // connection: 5,000 idle connections cost one interval. Its period
    // bounds how late a timeout fires (a quarter of the shorter one).
    const period = Math.max(5, Math.min(1000, Math.floor(Math.min(this.limits.handshakeTimeoutMs, this.limits.idleTimeoutMs) / 4)));
    this.sweeper = setInterval(() => this.sweep(), period);
    this.sweeper.unref();
    return this.address;
  }

  /**
   * Graceful stop: stop accepting, let open connections finish until
   * `deadlineMs`, then close what is left and stop (HAProxy's soft stop with
   * `hard-stop-after`; nginx's graceful shutdown with
   * `worker_shutdown_timeout`). Resolves with the connections cut at the deadline.
   */
  async drain(deadlineMs: number): Promise<number> {
    this.draining = true;
    // LEAVE first, so the master reassigns our buckets at once (docs/cluster-protocol.md §10.1 item 8).
    await this.cluster?.close();
    this.server.close();
    const until = Date.now() + deadlineMs;
    while (this.conns.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const cut = this.conns.size;
    if (cut > 0) this.log("warn", { connections: cut, deadlineMs }, "drain deadline reached; closing the remaining connections");
    await this.stop();
    return cut;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    for (const s of this.slots) if (s.respawnTimer) clearTimeout(s.respawnTimer);
    await this.cluster?.close();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      for (const c of this.conns.values()) {
        c.client.destroy();
        c.backend?.destroy();
      }
    });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    await Promise.all([...this.gens.values()].filter((g) => !g.poolClosed).map((g) => g.pool?.close()));
  }

  // --- cluster ---------------------------------------------------------------------------

  private attachCluster(link: ClusterLink): void {
    link.attach({
      stored: (conn, seq, epoch) => {
        const c = this.conns.get(conn);
        // A restore since (epoch moved): the new relay started from the stored snapshot and asks anew.
        if (c && c.epoch === epoch) this.send(c, { t: "stored", conn, seq });
      },
      local: (conn, why) => {
        const c = this.conns.get(conn);
        if (!c) return;
        // The shard's relay releases every checkpoint it waits on ("stored" up to its last): this
        // thread already folded them, and it is an unreplicated connection's store, as on one node.
        this.log("debug", { conn, bucket: c.bucket, why }, "connection goes on unreplicated");
        this.send(c, { t: "local", conn });
      },
    });
  }

  /** Simulates this member's crash for tests: the cluster falls silent (no LEAVE). */
  async silenceCluster(): Promise<void> {
    await this.cluster?.close({ leave: false });
  }

  // --- certificates ----------------------------------------------------------------------

  private generation(gen: number, prepared: PreparedCertificates): Generation {
    const g: Generation = {
      gen, prepared, conns: 0, handshaking: 0, poolClosed: false,
      pool: this.opts.rsaWorkers > 0 ? new RsaPool({ keys: prepared.keys, provider: this.opts.rsaProvider, threads: this.opts.rsaWorkers }) : null,
    };
    this.gens.set(gen, g);
    return g;
  }

  private shardInit(index: number): Omit<ShardInit, "busy"> {
    const generations: CertificateGeneration[] = [...this.gens.values()].map((g) => this.shardGeneration(g.gen, g.prepared));
    return {
      shard: index, generations, provider: "default",
      ...(this.opts.rsaWorkers === 0 && { rsaInShard: this.opts.rsaProvider }),
      ...(this.opts.maxRecord !== undefined && { maxRecord: this.opts.maxRecord }),
      sessions: this.sessions.entries(), sessionTtlMs: this.limits.sessionTtlMs,
      ...(this.opts.testDieOnPlaintext !== undefined && { dieOnPlaintext: this.opts.testDieOnPlaintext }),
      ...(this.opts.testShardFailsToLoad === index && { failToLoad: true }),
    };
  }

  /** What a shard gets of a generation: the chains and key ids, and the private keys only if it runs RSA itself. */
  private shardGeneration(gen: number, prepared: PreparedCertificates): CertificateGeneration {
    return { gen, certificates: prepared.shard, ...(this.opts.rsaWorkers === 0 && { keys: prepared.keys }) };
  }

  /**
   * SIGHUP: new connections get `sources` (checked first: a CertificateError
   * leaves the current set in place). Open connections keep the set they
   * were accepted under, including one mid-handshake, whose restore needs
   * the same certificate index and key id: each set is a generation with
   * its own RSA pool (a pool takes its keys at creation), retired once its
   * connections are done with RSA / gone.
   */
  reloadCertificates(sources: readonly CertificateSource[]): { generation: number; certificates: PreparedCertificates["summary"] } {
    const gen = this.nextGen;
    const prepared = prepareCertificates(sources, `g${gen}`);
    this.nextGen++;
    const old = this.current;
    this.current = this.generation(gen, prepared);
    // Before any "open" naming it: a shard's port is FIFO.
    this.broadcast({ t: "certificates", generation: this.shardGeneration(gen, prepared) });
    this.counters.certificateReloads++;
    this.retire(old);
    return { generation: gen, certificates: prepared.summary };
  }

  /** The certificates served to new connections: names, subject, expiry. */
  get certificates(): PreparedCertificates["summary"] {
    return this.current.prepared.summary;
  }

  // --- shards ------------------------------------------------------------------------

  private spawn(index: number): Slot {
    const busy = new Float64Array(new SharedArrayBuffer(8));
    const init: ShardInit = { ...this.shardInit(index), busy };
    const worker = new Worker(new URL("../shard/shard.js", import.meta.url), { workerData: init });
    const slot: Slot = this.slots[index] ?? {
      index, worker, state: "starting", pending: [], out: [], outTransfer: [],
      backoff: new Backoff(this.respawnPolicy), respawnTimer: null, respawnAt: 0, deaths: 0, busy, killed: false,
    };
    slot.worker = worker;
    slot.state = "starting";
    slot.busy = busy;
    slot.killed = false;
    worker.on("message", (m: ToMain) => {
      if (slot.worker !== worker) return; // a dead incarnation
      this.fromShard(slot, m);
    });
    worker.on("error", (e) => this.log("error", { shard: index, err: e.message }, "shard failed"));
    worker.on("exit", (code) => {
      if (slot.worker !== worker || this.stopping) return;
      this.shardDied(slot, code);
    });
    return slot;
  }

  /** Shards whose worker is ready: the only ones given buckets. */
  private liveShards(): number[] {
    return this.slots.filter((s) => s.state === "ready").map((s) => s.index);
  }

  /**
   * A shard died. Its buckets move at once to the live shards, which
   * restore each connection from the store and get its kept input replayed
   * (NO_SHARD if none is live: the connections wait, bounded by their
   * timeouts). The shard is respawned after its backoff delay; once ready,
   * rebalance() brings its buckets back. The connection it was handling when
   * it died (`busy`, shared memory) is blamed: poisonLimit deaths in a row
   * and it is aborted rather than restored again. A death that was asked
   * for (killShard, armShards) blames nothing: a connection that happens to
   * be running each time shards are killed from outside is no poison.
   */
  private shardDied(slot: Slot, code: number): void {
    const now = Date.now();
    // Asked for (killShard, or the death armShards set up): whatever the shard was running did not cause it.
    const deliberate = slot.killed || this.armed;
    this.counters.shardRestarts++;
    slot.deaths++;
    slot.state = "down";
    slot.pending = [];
    // Not posted yet: lost with the dead incarnation, like what it had not read.
    slot.out = [];
    slot.outTransfer = [];
    if (this.armed) {
      this.armed = false;
      for (const other of this.slots) if (other !== slot) this.postTo(other, { t: "die-at", phase: "none", how: "exit", when: "after-post" }, []);
    }
    const delay = slot.backoff.died(now);
    slot.respawnAt = now + delay;
    const handling = this.conns.get(slot.busy[0]!);
    const blamed = deliberate ? undefined : handling;
    this.log("error", { shard: slot.index, code, deliberate, respawnInMs: delay, consecutiveDeaths: slot.backoff.consecutive, handling: handling?.id ?? null },
      "shard exited; its buckets move to the live shards; respawn after the backoff delay");
    if (blamed && this.buckets.shardOf(blamed.bucket) === slot.index && ++blamed.crashes >= this.poisonLimit) this.poisonAbort(blamed);
    this.moveBuckets(evacuate(this.buckets, slot.index, this.liveShards()));
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = null;
      if (!this.stopping) this.spawn(slot.index);
    }, delay);
    this.emit("shard-died", slot.index);
  }

  /** SSLACC §4.8 has no answer for an input that kills every node it reaches; here it is cut off. */
  private poisonAbort(c: Conn): void {
    this.counters.poisonAborts++;
    this.log("error", { conn: c.id, bucket: c.bucket, phase: c.phase, crashes: c.crashes, peer: `${c.peer.address}:${c.peer.port}` },
      "a shard died handling this connection each time it was restored; aborting it (poison)");
    // A reset, not a FIN: the client must not take it for the end of the stream.
    c.client.resetAndDestroy();
    c.backend?.destroy();
    this.forget(c);
  }

  /**
   * Applies moves to the map (a new version) and carries each bucket's
   * connections: the old owner, if alive, drops them (whatever it posts for
   * them meanwhile has the old epoch and is ignored); the new one restores
   * them from the latest stored checkpoint with the kept input replayed, so
   * no byte is lost (kept until a stored checkpoint covers it) or written
   * twice (forward-ACK rule on the regenerated output).
   */
  private moveBuckets(moves: readonly Move[]): void {
    if (moves.length === 0) return;
    const version = this.buckets.apply(moves);
    this.counters.bucketMoves += moves.length;
    let connections = 0;
    for (const m of moves) {
      const conns = this.byBucket.get(m.bucket);
      if (!conns) continue;
      const from = m.from === NO_SHARD ? undefined : this.slots[m.from];
      for (const c of conns) {
        if (from) this.postTo(from, { t: "drop", conn: c.id }, []);
        this.restore(c);
        connections++;
      }
    }
    this.log("info", { version, buckets: moves.length, connections, to: [...new Set(moves.map((m) => m.to))] }, "buckets moved");
  }

  /** After a shard is ready: ownerless buckets to live shards, then the others home, one bounded step per RETURN_STEP_MS. */
  private rebalance(): void {
    if (this.rebalanceTimer !== null || this.stopping) return;
    const moves = rebalanceStep(this.buckets, this.liveShards(), RETURN_STEP, (b) => this.byBucket.get(b)?.size ?? 0);
    if (moves.length === 0) {
      if (this.rebalancing) {
        this.rebalancing = false;
        this.emit("rebalanced", this.buckets.version);
      }
      return;
    }
    this.rebalancing = true;
    this.moveBuckets(moves);
    this.rebalanceTimer = setTimeout(() => {
      this.rebalanceTimer = null;
      this.rebalance();
    }, RETURN_STEP_MS);
  }

  /** Hands a connection to its bucket's shard from the store (nothing to do while no shard runs the bucket). */
  private restore(c: Conn): void {
    c.epoch++;
    if (this.buckets.shardOf(c.bucket) === NO_SHARD) return;
    this.counters.restoredConnections++;
    const snapshot = c.snapshot ? encodeRelaySnapshot(c.snapshot) : null;
    const replicated = this.cluster?.isReplicated(c.id) === true;
    this.send(c, { t: "restore", conn: c.id, epoch: c.epoch, gen: c.gen, snapshot, ...(replicated && { replicated: true as const }) }, snapshot ? [snapshot.buffer as ArrayBuffer] : []);
    if (c.backendState === "connected") this.send(c, { t: "backend-connected", conn: c.id });
    if (c.backendState === "failed") this.send(c, { t: "backend-failed", conn: c.id, reason: c.backendError ?? "failed" });
    for (const k of c.clientIn) this.sendData(c, "client", k);
    if (c.clientEof !== null) this.send(c, { t: "client-end", conn: c.id, offset: c.clientEof });
    for (const k of c.backendIn) this.sendData(c, "backend", k);
    if (c.backendEof !== null) this.send(c, { t: "backend-end", conn: c.id, offset: c.backendEof });
  }

  /** To the shard running the connection's bucket; none: dropped (the restore that gives the bucket a shard replays all of it). */
  private send(c: Conn, m: ToShard, transfer: ArrayBuffer[] = []): void {
    const owner = this.buckets.shardOf(c.bucket);
    if (owner === NO_SHARD) return;
    if (c.inputAt < 0 && this.opts.observe) c.inputAt = performance.now();
    this.postTo(this.slots[owner]!, m, transfer);
  }

  /**
   * Every message to a shard goes through here, in order: queued for the
   * turn and posted once per shard in setImmediate (after this loop
   * iteration's I/O callbacks), so a shard is woken once per turn, not once
   * per socket event. Measured in docs/daemon.md "Benches".
   */
  private postTo(slot: Slot, m: ToShard, transfer: ArrayBuffer[]): void {
    if (slot.state === "down") return;
    if (slot.state === "starting") return void slot.pending.push({ m, transfer });
    slot.out.push(m);
    for (const t of transfer) slot.outTransfer.push(t);
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  private readonly flushTurn = (): void => {
    this.turnScheduled = false;
    for (const slot of this.slots) {
      if (slot.out.length === 0 || slot.state !== "ready") continue;
      const ms: ToShardTurn = slot.out;
      const transfer = slot.outTransfer;
      slot.out = [];
      slot.outTransfer = [];
      slot.worker.postMessage(ms, transfer);
    }
  };

  private sendData(c: Conn, side: "client" | "backend", k: Kept): void {
    // The main thread keeps its copy (law 2); the shard gets its own.
    const data = new Uint8Array(k.data);
    this.send(c, { t: side, conn: c.id, offset: k.offset, data }, [data.buffer]);
  }

  private fromShard(slot: Slot, m: ToMain): void {
    switch (m.t) {
      case "ready":
        slot.state = "ready";
        slot.backoff.up(Date.now());
        for (const p of slot.pending.splice(0)) this.postTo(slot, p.m, p.transfer);
        if (slot.deaths > 0) {
          this.log("info", { shard: slot.index, deaths: slot.deaths }, "shard respawned; its buckets return");
          this.emit("shard-restarted", slot.index);
        }
        this.rebalance();
        return;
      case "batches":
        for (const b of m.list) {
          if (b.t === "session") this.sessionFromShard(b.change);
          else this.fromShardConn(slot, b);
        }
        this.uncorkAll();
        return;
      default:
        exhaustive(m);
    }
  }

  /**
   * Sockets written during one shard message are corked until its end, so a
   * turn's records for a connection leave in one writev: ChangeCipherSpec +
   * Finished, a reply + close_notify (strace: 5 client writes per handshake
   * became 3; each loopback write ~40 µs of main-thread CPU).
   */
  private readonly corked: Socket[] = [];

  private writeCorked(s: Socket, data: Uint8Array): void {
    if (s.writableCorked === 0) {
      s.cork();
      this.corked.push(s);
    }
    s.write(data);
  }

  private uncorkAll(): void {
    for (const s of this.corked) if (s.writableCorked > 0) s.uncork();
    this.corked.length = 0;
  }

  /** A shard's engine cached a session or invalidated one (RFC 5246 §7.2.2): the node's cache decides, onChange tells every shard. */
  private sessionFromShard(change: SessionChange): void {
    this.shardSessionChange = true;
    try {
      switch (change.type) {
        case "add": return void this.sessions.put(change.session);
        case "remove": return void this.sessions.remove(change.id);
        default: exhaustive(change);
      }
    } finally {
      this.shardSessionChange = false;
    }
  }

  /**
   * A change of the node's session cache, to every shard's copy. A shard's
   * own change goes at once (a fatal alert's removal must reach the other
   * shards before they resume the session). Everything else — in a cluster,
   * a session add from every peer's every handshake — waits up to
   * SESSION_BATCH_MS and goes in one post per shard: on a mirror these posts,
   * one per datagram turn, were ~24 % of the main thread (docs/performance.md).
   * A session that reaches a shard a few ms late costs at most one full
   * handshake instead of a resumption. Order is kept: a shard's change first
   * sends what waits.
   */
  private sessionChanged(change: SessionChange): void {
    if (this.shardSessionChange) {
      this.flushSessions();
      return this.broadcast({ t: "session", change });
    }
    this.sessionQueue.push(change);
    if (this.sessionTimer === null) {
      this.sessionTimer = setTimeout(this.flushSessions, SESSION_BATCH_MS);
      this.sessionTimer.unref();
    }
  }

  private readonly flushSessions = (): void => {
    if (this.sessionTimer !== null) clearTimeout(this.sessionTimer);
    this.sessionTimer = null;
    const changes = this.sessionQueue;
    this.sessionQueue = [];
    for (const change of changes) this.broadcast({ t: "session", change });
  };

  private fromShardConn(slot: Slot, m: ToMainConn): void {
    switch (m.t) {
      case "batch": {
        const c = this.conns.get(m.conn);
        if (!c) return;
        if (m.epoch !== c.epoch) return void this.counters.staleBatches++;
        for (const item of m.items) {
          if (!this.conns.has(c.id)) return;
          this.item(c, slot, item);
        }
        this.flow(c);
        return;
      }
      case "conn-error": {
        const c = this.conns.get(m.conn);
        if (c && m.epoch !== c.epoch) return void this.counters.staleBatches++;
        this.counters.connErrors++;
        this.log("error", { conn: m.conn, err: m.message }, "shard could not run the connection; closing it");
        c?.client.destroy();
        c?.backend?.destroy();
        return;
      }
      default:
        exhaustive(m);
    }
  }

  private item(c: Conn, slot: Slot, it: ShardItem): void {
    switch (it.k) {
      case "checkpoint": {
        // The store of a one-node "cluster": fold, then trim what is consumed (law 2).
        c.snapshot = foldRelay(c.snapshot, decodeRelayCheckpoint(it.bytes));
        this.counters.checkpoints++;
        const f = c.snapshot.fields;
        c.clientKept -= trim(c.clientIn, f.clientConsumed);
        c.backendKept -= trim(c.backendIn, f.backendConsumed);
        c.phase = c.snapshot.engine.phase;
        c.crashes = 0;
        if (c.inputAt >= 0) {
          this.opts.observe?.checkpointStored((performance.now() - c.inputAt) / 1000);
          c.inputAt = -1;
        }
        this.emit("checkpoint", { conn: c.id, shard: slot.index, seq: it.seq, phase: c.phase, snapshot: c.snapshot } satisfies CheckpointInfo);
        // Law 1 across members: a replicated connection's relay gets "stored" on the mirrors' ack.
        // Folded locally first all the same: a shard restored meanwhile starts from it (its kernel
        // sockets are only here, so no other member could serve it anyway).
        this.cluster?.checkpoint(c.id, c.epoch, it.seq, it.bytes);
        return;
      }
      case "client": {
        const n = this.writeOnce(it.data, it.offset, c.clientWritten, "client", c);
        if (n === null) return;
        c.clientWritten += n.length;
        this.counters.bytesToClients += n.length;
        if (n.length > 0 && !c.client.destroyed) {
          this.writeCorked(c.client, n);
          c.lastActivity = Date.now();
        }
        return;
      }
      case "backend": {
        const n = this.writeOnce(it.data, it.offset, c.backendWritten, "backend", c);
        if (n === null) return;
        c.backendWritten += n.length;
        if (n.length > 0 && c.backend && !c.backend.destroyed) {
          this.writeCorked(c.backend, n);
          this.counters.bytesToBackends += n.length;
          c.lastActivity = Date.now();
        }
        return;
      }
      case "rsa": {
        this.counters.rsaRequests++;
        const epoch = c.epoch;
        const t0 = performance.now();
        const pool = this.gens.get(c.gen)?.pool;
        if (!pool) {
          this.log("error", { conn: c.id, gen: c.gen }, "RSA request for a retired certificate generation; closing");
          c.client.destroy();
          return;
        }
        pool.decryptPremaster(it.keyId, it.ciphertext, it.clientVersion, it.random46).then(
          (premaster) => {
            this.opts.observe?.rsaDone((performance.now() - t0) / 1000, true);
            if (this.conns.get(c.id) !== c || c.epoch !== epoch) return; // restored since: it asks again
            this.send(c, { t: "rsa-done", conn: c.id, id: it.id, premaster }, [premaster.buffer as ArrayBuffer]);
          },
          (e: Error) => {
            this.opts.observe?.rsaDone((performance.now() - t0) / 1000, false);
            this.log("error", { conn: c.id, err: e.message }, "RSA operation failed; closing");
            c.client.destroy();
          },
        );
        return;
      }
      case "rsa-local":
        this.counters.rsaRequests++;
        this.opts.observe?.rsaDone(it.ms / 1000, it.ok);
        return;
      case "connect-backend":
        this.connectBackend(c);
        return;
      case "end-client":
        if (!c.client.destroyed) c.client.end();
        return;
      case "end-backend":
        if (c.backend && !c.backend.destroyed) c.backend.end();
        return;
      case "handshake-complete":
        this.counters.handshakes++;
        if (it.resumed) this.counters.resumed++;
        if (!c.handshakeDone) this.handshakeEnded(c);
        c.handshakeDone = true;
        return;
      case "closed":
        if (!c.handshakeDone) bump(this.failures.handshake, it.alert ?? it.reason);
        if (it.reason !== "close_notify") {
          this.log("info", { conn: c.id, reason: it.reason, alert: it.alert, detail: it.detail, handshakeDone: c.handshakeDone }, "TLS connection closed with an alert");
        }
        return;
      default:
        exhaustive(it);
    }
  }

  /** SSLACC §4.6 forward-ACK rule: regenerated output already written is dropped; a gap is a bug. */
  private writeOnce(data: Uint8Array, offset: number, written: number, side: string, c: Conn): Uint8Array | null {
    if (offset > written) {
      this.log("error", { conn: c.id, side, offset, written }, "output beyond what was written (a gap: a bug); closing");
      c.client.destroy();
      c.backend?.destroy();
      return null;
    }
    const skip = written - offset;
    if (skip > 0) this.counters.duplicateBytesDropped += Math.min(skip, data.length);
    return skip >= data.length ? new Uint8Array(0) : skip > 0 ? data.subarray(skip) : data;
  }

  // --- sockets -------------------------------------------------------------------------

  private accept(s: Socket): void {
    if (!s.remoteAddress || s.remotePort === undefined || !s.localAddress || s.localPort === undefined) {
      s.destroy();
      return;
    }
    this.counters.accepted++;
    const peer = { address: s.remoteAddress, port: s.remotePort };
    const local = { address: s.localAddress, port: s.localPort };
    const c: Conn = {
      id: this.nextConn++, gen: this.current.gen,
      bucket: bucketOf(peer, local),
      client: s, peer, local, backend: null, backendState: "none",
      clientIn: [], clientInEnd: 0, clientEof: null, backendIn: [], backendInEnd: 0, backendEof: null,
      clientWritten: 0, backendWritten: 0, snapshot: undefined, epoch: 0, phase: "new",
      clientKept: 0, backendKept: 0, clientPaused: false, backendPaused: false,
      acceptedAt: Date.now(), lastActivity: Date.now(), handshakeDone: false, backendError: null, inputAt: -1, crashes: 0,
    };
    this.conns.set(c.id, c);
    let inBucket = this.byBucket.get(c.bucket);
    if (!inBucket) this.byBucket.set(c.bucket, (inBucket = new Set()));
    inBucket.add(c);
    this.current.conns++;
    this.current.handshaking++;
    const replicated = this.cluster?.accept(c.id, c.bucket) === true;
    this.send(c, { t: "open", conn: c.id, epoch: c.epoch, gen: c.gen, ...(replicated && { replicated: true as const }) });
    s.on("data", (d: Buffer) => {
      const k = { offset: c.clientInEnd, data: d };
      c.clientInEnd += d.length;
      c.clientKept += d.length;
      c.lastActivity = Date.now();
      this.counters.bytesFromClients += d.length;
      c.clientIn.push(k);
      this.sendData(c, "client", k);
      this.flow(c);
    });
    s.on("drain", () => this.flow(c));
    s.on("end", () => {
      c.clientEof = c.clientInEnd;
      this.send(c, { t: "client-end", conn: c.id, offset: c.clientEof });
    });
    s.on("error", () => {});
    s.on("close", () => this.forget(c));
    this.emit("accept", c.id);
  }

  private forget(c: Conn): void {
    if (this.conns.get(c.id) !== c) return;
    this.conns.delete(c.id);
    const inBucket = this.byBucket.get(c.bucket);
    inBucket?.delete(c);
    if (inBucket?.size === 0) this.byBucket.delete(c.bucket);
    this.counters.closed++;
    c.backend?.destroy();
    // SSLACC §4.10: the state is destroyed on the store with the connection.
    this.send(c, { t: "drop", conn: c.id });
    this.cluster?.connectionClosed(c.id);
    const g = this.gens.get(c.gen);
    if (g) {
      g.conns--;
      if (!c.handshakeDone) this.handshakeEnded(c);
      else this.retire(g);
    }
  }

  /** The connection will not ask for RSA again (its handshake is done, or it is gone). */
  private handshakeEnded(c: Conn): void {
    const g = this.gens.get(c.gen);
    if (!g) return;
    g.handshaking--;
    this.retire(g);
  }

  /**
   * An old generation's RSA pool closes once none of its connections can
   * ask for RSA (threads are not kept for long-lived connections); its
   * shard configuration goes once no connection uses it (a restore needs
   * it: the snapshot's certIndex points into it).
   */
  private retire(g: Generation): void {
    if (g === this.current) return;
    if (g.handshaking === 0 && !g.poolClosed) {
      g.poolClosed = true;
      void g.pool?.close();
      this.log("info", { gen: g.gen }, "old certificate generation's RSA pool closed");
    }
    if (g.conns === 0) {
      this.gens.delete(g.gen);
      this.broadcast({ t: "forget-certificates", gen: g.gen });
    }
  }

  private broadcast(m: ToShard): void {
    for (const slot of this.slots) this.postTo(slot, m, []);
  }

  /** SSLACC §5.3 / §4.5: connect once, from a port in the connection's bucket. */
  private connectBackend(c: Conn): void {
    if (c.backendState === "connected") return this.send(c, { t: "backend-connected", conn: c.id });
    if (c.backendState !== "none") return;
    c.backendState = "connecting";
    const tries = this.localAddress ? this.ports.candidates(c.bucket, PORT_TRIES) : [];
    const attempt = (i: number): void => {
      if (this.conns.get(c.id) !== c) return;
      const port = tries[i];
      if (i === tries.length && tries.length > 0) {
        this.counters.backendPortFallbacks++;
        this.log("warn", { conn: c.id, bucket: c.bucket, tries: tries.length }, "no free source port in the bucket; using an OS-chosen port");
      }
      const b = connect({
        host: this.opts.backend.address, port: this.opts.backend.port, allowHalfOpen: true, noDelay: true,
        ...(port !== undefined && { localAddress: this.localAddress, localPort: port }),
      });
      b.once("connect", () => {
        b.setTimeout(0);
        if (this.conns.get(c.id) !== c) return void b.destroy();
        // Written here, outside the relay's offsets (src/node/proxy-protocol.ts): the
        // relay's first backend byte still has offset 0, and a restore that asks to
        // connect again is answered "connected" above without a second header.
        const mode = this.opts.proxyProtocol ?? "off";
        if (mode !== "off") b.write(proxyHeader(mode, c.peer, c.local));
        c.backend = b;
        c.backendState = "connected";
        this.send(c, { t: "backend-connected", conn: c.id });
        b.on("data", (d: Buffer) => {
          const k = { offset: c.backendInEnd, data: d };
          c.backendInEnd += d.length;
          c.backendKept += d.length;
          c.lastActivity = Date.now();
          this.counters.bytesFromBackends += d.length;
          c.backendIn.push(k);
          this.sendData(c, "backend", k);
          this.flow(c);
        });
        b.on("drain", () => this.flow(c));
        b.on("error", (e: NodeJS.ErrnoException) => {
          c.backendError ??= backendReason(e);
        });
        b.on("end", () => {
          c.backendEof = c.backendInEnd;
          this.send(c, { t: "backend-end", conn: c.id, offset: c.backendEof });
        });
        b.on("close", (hadError) => {
          if (hadError && c.backendEof === null && this.conns.get(c.id) === c) {
            c.backendError ??= "reset";
            this.backendFailed(c, `${c.backendError} by ${this.opts.backend.address}:${this.opts.backend.port}`);
          }
        });
      });
      // HAProxy's `timeout connect`: a backend that never answers the SYN.
      b.setTimeout(this.limits.backendConnectTimeoutMs, () => {
        if (c.backendState !== "connecting" || c.backend === b) return;
        b.destroy();
        c.backendError = "timeout";
        this.backendFailed(c, `connect to ${this.opts.backend.address}:${this.opts.backend.port}: no answer in ${this.limits.backendConnectTimeoutMs} ms`);
      });
      b.once("error", (e: NodeJS.ErrnoException) => {
        if (c.backendState !== "connecting") return; // after connect: 'close' reports it
        b.destroy();
        if ((e.code === "EADDRINUSE" || e.code === "EADDRNOTAVAIL") && port !== undefined) return attempt(i + 1);
        c.backendError = backendReason(e);
        this.backendFailed(c, `${this.opts.backend.address}:${this.opts.backend.port}: ${e.message}`);
      });
    };
    attempt(0);
  }

  /** The backend leg failed: count it by reason, log it, and let the relay alert the client. */
  private backendFailed(c: Conn, detail: string): void {
    if (c.backendState === "failed") return;
    c.backendState = "failed";
    const reason = c.backendError ?? "other";
    bump(this.failures.backend, reason);
    this.log("warn", { conn: c.id, reason, detail }, "backend failed; alerting the client");
    this.send(c, { t: "backend-failed", conn: c.id, reason: `${reason} (${detail})` });
  }

  /**
   * Backpressure. Bytes held for one direction are the kept input of its
   * source (not yet consumed) plus what waits in the other leg's socket;
   * above maxBufferBytes the source socket stops reading, so TCP's window
   * pushes back on the sender; it reads again below half (hysteresis, so a
   * connection does not flap around the bound on every chunk). The bytes a
   * shard holds are a subset of the kept input, so they are bounded too.
   */
  private flow(c: Conn): void {
    const max = this.limits.maxBufferBytes;
    const up = c.clientKept + (c.backend?.writableLength ?? 0);
    if (!c.clientPaused && up > max) {
      c.clientPaused = true;
      this.counters.clientPauses++;
      c.client.pause();
    } else if (c.clientPaused && up <= max >> 1) {
      c.clientPaused = false;
      c.client.resume();
    }
    if (!c.backend) return;
    const down = c.backendKept + c.client.writableLength;
    if (!c.backendPaused && down > max) {
      c.backendPaused = true;
      this.counters.backendPauses++;
      c.backend.pause();
    } else if (c.backendPaused && down <= max >> 1) {
      c.backendPaused = false;
      c.backend.resume();
    }
  }

  /** Handshake deadline (slowloris: bytes trickling in keep no timer alive) and idle timeout. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSessionSweep >= SESSION_SWEEP_MS) {
      this.lastSessionSweep = now;
      // Another implementation (a clustered one) expires its own.
      if (this.sessions instanceof MemoryNodeSessionCache) this.sessions.sweep();
    }
    for (const c of this.conns.values()) {
      const timedOut = !c.handshakeDone ? now - c.acceptedAt > this.limits.handshakeTimeoutMs : now - c.lastActivity > this.limits.idleTimeoutMs;
      if (timedOut && this.buckets.shardOf(c.bucket) === NO_SHARD) {
        // Its bytes were kept for a shard that did not come back in time (every shard down, in backoff).
        this.counters.noShardTimeouts++;
        this.log("warn", { conn: c.id, phase: c.phase }, "timeout while no shard was up to run the connection; closing");
      }
      if (!c.handshakeDone && now - c.acceptedAt > this.limits.handshakeTimeoutMs) {
        this.counters.handshakeTimeouts++;
        bump(this.failures.handshake, "timeout");
        this.log("info", { conn: c.id, phase: c.phase, timeoutMs: this.limits.handshakeTimeoutMs }, "handshake timeout; closing");
        this.close(c);
      } else if (c.handshakeDone && now - c.lastActivity > this.limits.idleTimeoutMs) {
        this.counters.idleTimeouts++;
        this.log("debug", { conn: c.id, timeoutMs: this.limits.idleTimeoutMs }, "idle timeout; closing");
        this.close(c);
      }
    }
  }

  private close(c: Conn): void {
    c.client.destroy();
    c.backend?.destroy();
    this.forget(c);
  }

  // --- introspection and tests -----------------------------------------------------------

  get activeConnections(): number {
    return this.conns.size;
  }

  /** The RSA pool of the current certificates (an old generation's pool only finishes handshakes begun before a reload). */
  rsaStats() {
    return this.current.pool?.stats() ?? NO_POOL_STATS;
  }

  get listening(): Endpoint | null {
    return this.address;
  }

  /** The shard running a connection. */
  shardOf(conn: number): number | undefined {
    const c = this.conns.get(conn);
    return c && this.buckets.shardOf(c.bucket);
  }

  /** Kills a shard the way a test asks: terminate(), an uncaught exception, or process.exit(). */
  killShard(index: number, how: "terminate" | "throw" | "exit"): boolean {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no shard ${index}`);
    if (slot.state !== "ready") return false;
    slot.killed = true;
    if (how === "terminate") void slot.worker.terminate();
    else this.postTo(slot, { t: "die", how }, []);
    return true;
  }

  /**
   * Tests: the first shard to produce a checkpoint of `phase` dies (see
   * ToShard "die-at"); the others are disarmed when it does, so the
   * connection restored on a survivor does not kill that one too.
   */
  armShards(phase: string, how: "throw" | "exit", when: "before-post" | "after-post"): void {
    this.armed = phase !== "none";
    for (const s of this.slots) this.postTo(s, { t: "die-at", phase, how, when }, []);
  }

  /** The cluster member's status (docs/cluster-protocol.md §10.1 item 7); null when the node runs alone. */
  clusterStatus() {
    return this.cluster?.status() ?? null;
  }

  /** Each shard: state, buckets run, deaths, backoff (status, metrics). */
  shardStatus() {
    return this.slots.map((s) => ({
      index: s.index, state: s.state, buckets: this.buckets.bucketsOf(s.index).length, deaths: s.deaths,
      consecutiveDeaths: s.backoff.consecutive, respawnInMs: s.state === "down" ? Math.max(0, s.respawnAt - Date.now()) : 0,
    }));
  }

  status() {
    return {
      listen: this.address,
      backend: this.opts.backend,
      proxyProtocol: this.opts.proxyProtocol ?? "off",
      shards: this.shardStatus(),
      bucketMapVersion: this.buckets.version,
      bucketMap: this.buckets.toArray(),
      connections: [...this.conns.values()].map((c) => ({
        id: c.id, bucket: c.bucket, shard: this.buckets.shardOf(c.bucket), phase: c.phase, backend: c.backendState,
        keptClientBytes: c.clientKept,
        keptBackendBytes: c.backendKept,
        toClientBuffered: c.client.writableLength,
        toBackendBuffered: c.backend?.writableLength ?? 0,
        paused: { client: c.clientPaused, backend: c.backendPaused },
      })),
      counters: { ...this.counters },
      failures: { handshake: { ...this.failures.handshake }, backend: { ...this.failures.backend } },
      limits: this.limits,
      rsa: this.current.pool?.stats() ?? NO_POOL_STATS,
      certificates: { generation: this.current.gen, served: this.current.prepared.summary, generationsInUse: [...this.gens.keys()] },
      cluster: this.clusterStatus(),
    };
  }
}

/** Drops kept chunks wholly below `offset` and returns their bytes; a chunk straddling it stays (the relay trims the overlap). */
function trim(kept: Kept[], offset: number): number {
  let n = 0;
  let bytes = 0;
  while (n < kept.length && kept[n]!.offset + kept[n]!.data.length <= offset) bytes += kept[n++]!.data.length;
  if (n > 0) kept.splice(0, n);
  return bytes;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A backend error as a counter label. */
function backendReason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case "ECONNREFUSED": return "refused";
    case "ECONNRESET": case "EPIPE": return "reset";
    case "ETIMEDOUT": return "timeout";
    case "EHOSTUNREACH": case "ENETUNREACH": case "ENOTFOUND": case "EAI_AGAIN": return "unreachable";
    default: return "other";
  }
}

function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || address.startsWith("127.");
}

function exhaustive(x: never): never {
  throw new Error(`daemon bug: unhandled ${JSON.stringify(x)}`);
}
