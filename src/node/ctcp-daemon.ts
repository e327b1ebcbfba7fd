// The daemon on the wire (`sslacc start --transport ctcp`, docs/ctcp.md "The
// daemon on the wire"): the sans-I/O clustered-TCP node core
// (src/transport/ctcp/node.ts — link, listener, relayed connections,
// takeover) driven by the real-wire shell instead of kernel sockets.
//
//   TAP ⇄ socat (SocatRelay) ⇄ UdpFramePort ⇄ FrameDriver ⇄ CtcpNode ─"rsa"─> RsaPool ─> rsaDone
//                                                           │   ▲
//                      replicate / closeConnection ─────────┘   └── replicated, bucketAcquired/Lost, map, master
//                                                     ClusterChannel (clustered) or LocalReplicator (alone)
//
// One process, one thread for the data path (the core runs TLS and the relay
// itself; RSA goes to the pool, the paper's "crypto coprocessor"). Clustered,
// the core and the ClusterNode share one clock (monotonicNow) so times in
// both mean the same; alone, this node owns every bucket, is the master (it
// answers ARP for the VIP) and its checkpoints are "stored" at once — the
// Laws hold trivially with no mirror, and no takeover is possible.
import { randomBytes, createHmac } from "node:crypto";
import { defaultProvider } from "../crypto/provider.js";
import { RsaPool, type RsaProviderName } from "../crypto/rsa-pool.js";
import { monotonicNow } from "../cluster/channel.js";
import { loadClusterKey, startClusterNode, type ClusterNodeConfig, type RunningClusterNode } from "../cluster/run-node.js";
import type { ClusterEvent } from "../cluster/cluster-node.js";
import { MemorySessionCache } from "../tls/session-cache.js";
import { BUCKETS } from "./buckets.js";
import { prepareCertificates, tlsConfigOf, type CertificateSource } from "./certificates.js";
import type { CtcpStartConfig } from "./ctcp-config.js";
import type { Logger } from "pino";
import { CTCP_LEG_WINDOW, CtcpNode, type CtcpEvent, type Replicator } from "../transport/ctcp/node.js";
import { foldCtcp } from "../transport/ctcp/record.js";
import { DEFAULT_LINK_CONFIG } from "../transport/ether/link.js";
import { DEFAULT_TCP_CONFIG } from "../transport/tcp/connection.js";
import { FrameDriver, type FrameMachine } from "../transport/shell/frame-driver.js";
import { SocatRelay, openUdpFramePort, type UdpFramePort } from "../transport/shell/tap-relay.js";

export interface CtcpDaemonOptions {
  readonly ctcp: CtcpStartConfig;
  readonly certificates: readonly CertificateSource[];
  readonly rsaWorkers: number;
  readonly rsaProvider: RsaProviderName;
  /** Cluster membership; null: this node alone (owns every bucket, answers ARP). */
  readonly cluster: (Omit<ClusterNodeConfig, "channel" | "core"> & { readonly core?: ClusterNodeConfig["core"] }) | null;
  readonly logger: Logger;
  /** The socat binary (tests). */
  readonly socat?: string;
}

export interface CtcpDaemonCounters {
  rsaRequests: number;
  rsaFailures: number;
  handshakes: number;
  resumed: number;
  closed: number;
  restored: number;
  done: number;
  /** Connections the core dropped on an internal error (event "failed"). */
  failed: number;
}

/** What a drain did (SIGTERM, docs/ctcp.md "Drain"). */
export interface CtcpDrainResult {
  /**
   * handover: clustered with live peers, this member said LEAVE and went
   * silent; the master gave its buckets to the peers at once and they took
   * the connections over from their mirrored state (the takeover of a dead
   * member, without waiting for the death timeout). finish: alone (or no
   * peer alive), new SYNs were refused and the live connections ran to
   * their close.
   */
  readonly how: "handover" | "finish";
  /** Connections this node held when the drain began (live + dormant). */
  readonly connections: number;
  /** finish: connections still open at the deadline, then cut. */
  readonly cut: number;
}

/** How often a finishing drain looks whether its connections are done. */
const DRAIN_POLL_MS = 20;

/** The core with the events the shell acts on; a FrameMachine for the driver. */
class CoreMachine implements FrameMachine {
  constructor(
    readonly core: CtcpNode,
    private readonly onEvents: (events: readonly CtcpEvent[]) => void,
  ) {}
  onFrame(frame: Uint8Array, now: number): void {
    this.core.onFrame(frame, now);
  }
  onTimer(now: number): void {
    this.core.onTimer(now);
  }
  endOfTurn(now: number): void {
    this.core.endOfTurn(now);
  }
  nextTimeout(): number | null {
    return this.core.nextTimeout();
  }
  takeFrames(): Uint8Array[] {
    const out = this.core.drain();
    if (out.events.length > 0) this.onEvents(out.events);
    return out.frames;
  }
}

/**
 * Alone: nothing to wait for, but "replicated" still arrives asynchronously
 * (at the end of the turn, as the channel would), so the core sees the same
 * order of events as when clustered.
 */
class LocalReplicator implements Replicator {
  private rid = 0;
  private due: number[] = [];
  deliver: (rids: number[]) => void = () => undefined;
  replicate(): { ok: true; rid: number } {
    const rid = ++this.rid;
    if (this.due.push(rid) === 1) setImmediate(() => this.flush());
    return { ok: true, rid };
  }
  closeConnection(): void {}
  private flush(): void {
    const rids = this.due;
    this.due = [];
    this.deliver(rids);
  }
}

export class CtcpDaemon {
  readonly counters: CtcpDaemonCounters = { rsaRequests: 0, rsaFailures: 0, handshakes: 0, resumed: 0, closed: 0, restored: 0, done: 0, failed: 0 };
  private pool: RsaPool | null = null;
  private cluster: RunningClusterNode | null = null;
  private relay: SocatRelay | null = null;
  private port: UdpFramePort | null = null;
  private driver: FrameDriver | null = null;
  private machine: CoreMachine | null = null;
  private masterPoll: NodeJS.Timeout | null = null;
  private master = false;
  private owned: ReadonlySet<number> = new Set();
  private stopped = false;
  private draining = false;

  constructor(private readonly opts: CtcpDaemonOptions) {}

  get core(): CtcpNode {
    if (this.machine === null) throw new Error("ctcp daemon: not started");
    return this.machine.core;
  }

  async start(): Promise<void> {
    const o = this.opts;
    const prepared = prepareCertificates(o.certificates, "ctcp");
    this.pool = new RsaPool({ keys: prepared.keys, provider: o.rsaProvider, threads: Math.max(1, o.rsaWorkers) });
    const clock = monotonicNow;
    let replicator: Replicator;
    let secret: Uint8Array;
    let local: LocalReplicator | null = null;
    if (o.cluster !== null) {
      this.cluster = await startClusterNode({
        ...o.cluster,
        core: { ...o.cluster.core, fold: foldCtcp },
        // The channel logs what its core throws (with the stack) and socket errors: without it a ctcp node counted coreErrors silently.
        channel: { now: clock, log: (level, msg, fields) => o.logger[level]({ ...fields }, msg), onEvents: (ev) => this.onCluster(ev) },
      });
      const ch = this.cluster.channel;
      replicator = { replicate: (c, b, s) => ch.replicate(c, b, s), closeConnection: (c) => void ch.closeConnection(c) };
      // §4.2: every node must verify every other node's fingers: the key is the cluster's.
      secret = createHmac("sha256", "sslacc ctcp finger").update(await clusterKey(o.cluster)).digest();
    } else {
      local = new LocalReplicator();
      replicator = local;
      secret = randomBytes(32);
    }
    const c = o.ctcp;
    const core = new CtcpNode(
      {
        nodeId: o.cluster?.nodeId ?? 1,
        // Connection ids must not repeat across restarts while mirrors still hold the old ones (node.ts).
        connIdStart: Date.now(),
        link: { ...DEFAULT_LINK_CONFIG, mac: c.vmac, ip: c.vip, arpMac: c.vmac, clusterMacs: [c.vmac], answerArp: false },
        tcp: { ...DEFAULT_TCP_CONFIG, rcvBuffer: CTCP_LEG_WINDOW, fingerMac: (b) => new Uint8Array(createHmac("sha256", secret).update(b).digest()) },
        tls: tlsConfigOf(prepared.shard),
        engine: {
          provider: defaultProvider,
          random: (n) => new Uint8Array(randomBytes(n)),
          now: () => Date.now(),
          sessions: this.cluster?.node.sessions ?? new MemorySessionCache({ maxEntries: 20_000, ttlMs: 2 * 3600_000, now: () => Date.now() }),
        },
        listenPort: c.port,
        backend: { addr: c.backend.addr, port: c.backend.port },
        recovery: c.recovery,
        selectiveSweepMs: 2000,
        // A burst of segments is one relay step (full TLS records, one record to replicate): docs/ctcp.md "Throughput".
        batchTurns: true,
      },
      replicator,
    );
    this.machine = new CoreMachine(core, (ev) => this.onCore(ev));
    const driver = new FrameDriver(this.machine, clock);
    this.driver = driver;
    if (local !== null) local.deliver = (rids) => driver.run((now) => rids.forEach((r) => core.replicated(r, now)));

    this.port = await openUdpFramePort(c.wire, driver);
    this.relay = new SocatRelay({
      relay: c.wire,
      ...(o.socat !== undefined && { socat: o.socat }),
      log: (level, msg, fields) => o.logger[level]({ ...fields }, msg),
    });
    await this.relay.start();
    driver.attach(this.port);
    if (this.cluster === null) {
      driver.run((now) => {
        core.setBuckets(Array.from({ length: BUCKETS }, (_, i) => i), now);
        core.setMaster(true);
      });
      this.master = true;
    } else {
      this.syncMap();
      // Ownership is leased (docs/cluster-protocol.md §5.3): a lease starts or lapses with no map event,
      // and there is no "master changed" event either. Look at each map change and on a short period.
      this.masterPoll = setInterval(() => this.syncMap(), 50);
    }
    o.logger.info({ vip: c.vipText, port: c.port, tap: c.wire.tap, recovery: c.recovery, clustered: this.cluster !== null }, "ctcp node on the wire");
  }

  /**
   * Graceful stop (SIGTERM). Clustered with a live peer: LEAVE and go silent
   * — the peers take every connection over with its mirrored state, the
   * clustered way (SSLACC §3.1; the Laws make any moment safe, as for a
   * crash, and LEAVE spares the clients the death timeout). Otherwise: new
   * SYNs get a RST and the live connections finish, until `deadlineMs`;
   * what is left then is cut. Then everything stops.
   */
  async drain(deadlineMs: number): Promise<CtcpDrainResult> {
    const count = this.core.connectionCount;
    const connections = count.live + count.dormant;
    this.draining = true;
    const peers = this.livePeers();
    if (peers > 0) {
      this.opts.logger.info({ connections, peers }, "drain: leaving the cluster; the peers take the connections over from their mirrors");
      await this.stop();
      return { how: "handover", connections, cut: 0 };
    }
    this.opts.logger.info({ connections, deadlineMs }, "drain: refusing new connections, letting the live ones finish");
    this.driver!.run(() => this.core.stopAccepting());
    const until = Date.now() + deadlineMs;
    while (this.core.openConnections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    const cut = this.core.openConnections;
    if (cut > 0) this.opts.logger.warn({ connections: cut, deadlineMs }, "drain deadline reached; cutting the remaining connections");
    await this.stop();
    return { how: "finish", connections, cut };
  }

  /** Other members heard from within the death timeout. */
  private livePeers(): number {
    const running = this.cluster;
    if (running === null) return 0;
    const m = running.node.membership;
    const now = monotonicNow();
    return m.peerIds.filter((id) => m.alive(id, now)).length;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.masterPoll !== null) clearInterval(this.masterPoll);
    // Silent on the wire first, then LEAVE at once (the peers' takeover starts now, not after socat's
    // exit, up to a second), then the rest.
    this.driver?.close();
    await this.cluster?.close();
    await this.relay?.stop();
    this.port?.close();
    await this.pool?.close();
  }

  status() {
    const core = this.machine?.core;
    return {
      transport: "ctcp" as const,
      vip: `${this.opts.ctcp.vipText}:${this.opts.ctcp.port}`,
      tap: this.opts.ctcp.wire.tap,
      master: this.master,
      draining: this.draining,
      owned: this.cluster === null ? BUCKETS : this.owned.size,
      counters: { ...this.counters },
      connections: core?.connectionCount ?? null,
      // The newest connections with both legs, the relay offsets and the records in flight (diagnosis).
      connectionList: core ? core.connectionsDebug(32) : null,
      now: monotonicNow(),
      node: core ? { stats: core.stats, drops: core.drops, link: core.link.stats, linkDrops: core.linkDrops } : null,
      wire: { port: this.port?.stats ?? null, relay: this.relay?.stats ?? null },
      cluster: this.cluster ? this.cluster.channel.status() : null,
    };
  }

  private onCore(events: readonly CtcpEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case "rsa":
          this.rsa(e);
          break;
        case "handshake-complete":
          this.counters.handshakes++;
          if (e.resumed) this.counters.resumed++;
          break;
        case "closed":
          this.counters.closed++;
          this.opts.logger.debug({ conn: e.connId, reason: e.reason, alert: e.alert }, "connection closed");
          break;
        case "restored":
          this.counters.restored++;
          this.opts.logger.debug({ conn: e.connId, how: e.how }, "connection restored");
          break;
        case "done":
          this.counters.done++;
          break;
        case "failed":
          this.counters.failed++;
          this.opts.logger.warn({ conn: e.connId, err: e.message }, "connection dropped on an internal error");
          break;
        default:
          exhaustive(e);
      }
    }
    this.cluster?.channel.kick(); // session-cache changes made by the engines go out this turn
  }

  private rsa(e: Extract<CtcpEvent, { kind: "rsa" }>): void {
    this.counters.rsaRequests++;
    this.pool!.decryptPremaster(e.keyId, e.ciphertext, e.clientVersion, e.random46).then(
      (premaster) => {
        if (!this.stopped) this.driver!.run((now) => this.core.rsaDone(e.connId, e.id, premaster, now));
      },
      (err: Error) => {
        this.counters.rsaFailures++;
        this.opts.logger.error({ conn: e.connId, err: err.message }, "RSA operation failed; the handshake will time out");
      },
    );
  }

  private onCluster(events: readonly ClusterEvent[]): void {
    const driver = this.driver;
    if (driver === null) return; // before the wire is up: syncMap() after start() catches up
    driver.run((now) => {
      for (const e of events) {
        switch (e.kind) {
          case "replicated":
            this.core.replicated(e.rid, now);
            break;
          case "bucketAcquired":
            this.core.bucketAcquired(e.bucket, e.entries, now);
            break;
          case "bucketLost":
            this.core.bucketLost(e.bucket);
            break;
          case "movesAborted":
            // docs/cluster-protocol.md §6.2: a step of moves that did not complete in moveTimeoutMs.
            this.opts.logger.warn({ buckets: e.buckets, targets: e.targets }, "cluster: a step of bucket moves timed out; cancelled, a fresh one follows");
            break;
          case "expelled":
            // docs/cluster-protocol.md: the others declared us dead while we were alive; we rejoin with empty tables.
            this.opts.logger.warn({ epoch: e.epoch }, "cluster: expelled (declared dead while alive); rejoining as a new incarnation");
            break;
          case "mapAdopted":
            break;
          default:
            exhaustive(e);
        }
      }
    });
    if (events.some((e) => e.kind !== "replicated")) this.syncMap();
  }

  /** The buckets this member acts for (when they changed), and whether it answers ARP. */
  private syncMap(): void {
    const running = this.cluster;
    if (running === null || this.driver === null) return;
    const owned = running.node.ownedBuckets(monotonicNow());
    if (owned.size !== this.owned.size || [...owned].some((b) => !this.owned.has(b))) {
      this.owned = owned;
      this.driver.run((now) => this.core.setBuckets(owned, now));
      this.opts.logger.info({ buckets: owned.size }, "buckets owned");
    }
    this.syncMaster();
  }

  private syncMaster(): void {
    const running = this.cluster;
    if (running === null || this.driver === null) return;
    const on = running.node.isMaster(monotonicNow());
    if (on === this.master) return;
    this.master = on;
    this.driver.run(() => this.core.setMaster(on));
    this.opts.logger.info({ master: on }, on ? "master: answering ARP for the VIP" : "no longer master");
  }
}

async function clusterKey(c: NonNullable<CtcpDaemonOptions["cluster"]>): Promise<Uint8Array> {
  return c.key ?? loadClusterKey(c.keyFile!);
}

function exhaustive(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
