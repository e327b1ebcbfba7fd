// Prometheus metrics for the admin endpoint's GET /metrics (prom-client).
//
//   Daemon counters / failures / pool stats ──collect() at scrape time──> counters and gauges
//   Daemon observe hooks (checkpoint stored, RSA done) ──────────────────> histograms
//   CtcpDaemon status (`--transport ctcp`) ──collect() at scrape time──> sslacc_ctcp_* (createCtcpMetrics)
//
// Counters are read from the daemon when scraped rather than incremented
// on the data path: the daemon already counts, and a scrape every few
// seconds costs less than a prom-client call per byte event.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ClusterStatus } from "../cluster/cluster-node.js";
import type { ChannelCounters } from "../cluster/channel.js";
import type { CtcpDaemon } from "./ctcp-daemon.js";
import type { Daemon, DaemonObserver } from "./daemon.js";

export interface Metrics {
  readonly registry: Registry;
  readonly observer: DaemonObserver;
  /** Attach the daemon whose counters the collectors read. */
  bind(daemon: Daemon): void;
}

/** What the cluster metrics read: the channel's status (both transports have it). */
type ChannelStatus = ClusterStatus & { readonly channel: ChannelCounters };
type Samples = [Record<string, string>, number][];

/** docs/cluster-protocol.md §10.1 item 7: membership, map, replication, drops, aggregation (nothing when alone). */
function clusterMetrics(registry: Registry, st: () => ChannelStatus | null): void {
  const gauge = (name: string, help: string, labelNames: string[], read: (s: ChannelStatus) => Samples) =>
    new Gauge({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        const s = st();
        if (s) for (const [labels, v] of read(s)) this.set(labels, v);
      },
    });
  const counter = (name: string, help: string, labelNames: string[], read: (s: ChannelStatus) => Samples) =>
    mirroredCounter(registry, name, help, labelNames, () => {
      const s = st();
      return s ? read(s) : [];
    });
  gauge("sslacc_cluster_members_alive", "Members of the bucket map heard from within the death timeout (this one included).", [], (s) => [[{}, s.members.filter((m) => m.alive).length]]);
  gauge("sslacc_cluster_is_master", "1 if this member is the master.", [], (s) => [[{}, s.isMaster ? 1 : 0]]);
  gauge("sslacc_cluster_map_version", "Version of the bucket map this member acts on.", [], (s) => [[{}, s.mapVersion]]);
  gauge("sslacc_cluster_buckets", "Buckets per member in the current map.", ["member"], (s) => s.members.map((m) => [{ member: String(m.id) }, m.buckets]));
  gauge("sslacc_cluster_buckets_owned", "Buckets this member acts for now (map, lease and handoffs permitting).", [], (s) => [[{}, s.owned]]);
  gauge("sslacc_cluster_checkpoints_in_flight", "Checkpoints sent and not yet acknowledged by every required mirror.", [], (s) => [[{}, s.inFlight]]);
  gauge("sslacc_cluster_connections", "Replicated connections: active (our buckets), mirrored (others').", ["table"], (s) => [[{ table: "active" }, s.active], [{ table: "mirror" }, s.mirrored]]);
  gauge("sslacc_cluster_sessions", "Sessions in the clustered cache.", [], (s) => [[{}, s.sessions]]);
  counter("sslacc_cluster_drops_total", "Cluster datagrams dropped, by reason (forged, replayed, foreign, truncated, ...).", ["reason"], (s) => Object.entries(s.drops).map(([reason, v]) => [{ reason }, v]));
  counter("sslacc_cluster_datagrams_total", "Cluster datagrams received and sent.", ["direction"], (s) => [[{ direction: "in" }, s.channel.datagramsIn], [{ direction: "out" }, s.channel.datagramsOut]]);
  counter("sslacc_cluster_messages_total", "Cluster messages put into datagrams (aggregation: messages / datagrams sent).", [], (s) => [[{}, s.aggregation["messages"] ?? 0]]);
  counter("sslacc_cluster_checkpoints_replicated_total", "Relay checkpoints acknowledged by their mirrors.", [], (s) => [[{}, s.replication["replicated"] ?? 0]]);
}

/** The kernel transport's cluster link: how each connection's replication went (docs/cluster-protocol.md §10.1). */
function clusterLinkMetrics(registry: Registry, st: () => ReturnType<Daemon["clusterStatus"]>): void {
  mirroredCounter(registry, "sslacc_cluster_connections_total", "Connections by how the cluster took them: replicated, unreplicated (another member's bucket), refused (not_owner or too large: closed), detached (bucket lost).", ["kind"], () => {
    const s = st();
    return s ? [
      [{ kind: "replicated" }, s.link.replicatedConnections], [{ kind: "unreplicated" }, s.link.unreplicatedConnections],
      [{ kind: "not_owner" }, s.link.notOwner], [{ kind: "too_large" }, s.link.checkpointTooLarge], [{ kind: "detached" }, s.link.detached],
    ] : [];
  });
}

/** A counter whose value is read from `read()` at scrape time (per label set). */
function mirroredCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Samples): void {
  new Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (v > 0) this.inc(labels, v);
    },
  });
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  let d: Daemon | null = null;
  const c = () => d?.counters;
  const one = (v: number | undefined): [Record<string, string>, number][] => [[{}, v ?? 0]];
  const byReason = (m: Record<string, number> | undefined): [Record<string, string>, number][] =>
    Object.entries(m ?? {}).map(([reason, v]) => [{ reason }, v]);

  mirroredCounter(registry, "sslacc_handshakes_total", "Completed TLS handshakes by kind (full: an RSA operation; resumed: from the session cache).", ["kind"], () => {
    const x = c();
    return x ? [[{ kind: "full" }, x.handshakes - x.resumed], [{ kind: "resumed" }, x.resumed]] : [];
  });
  mirroredCounter(registry, "sslacc_handshake_failures_total", "Connections closed before their handshake completed, by the alert sent or received or by timeout.", ["reason"], () => byReason(d?.failures.handshake));
  mirroredCounter(registry, "sslacc_backend_failures_total", "Backend connections that failed (refused, reset, timeout, unreachable, other).", ["reason"], () => byReason(d?.failures.backend));
  mirroredCounter(registry, "sslacc_connections_accepted_total", "Client connections accepted.", [], () => one(c()?.accepted));
  mirroredCounter(registry, "sslacc_connections_rejected_total", "Client connections closed at accept: max connections reached.", [], () => one(c()?.rejectedConnections));
  mirroredCounter(registry, "sslacc_timeouts_total", "Connections closed by a timeout.", ["kind"], () => {
    const x = c();
    return x ? [[{ kind: "handshake" }, x.handshakeTimeouts], [{ kind: "idle" }, x.idleTimeouts]] : [];
  });
  mirroredCounter(registry, "sslacc_bytes_total", "Bytes through the daemon: ciphertext from/to clients, plaintext from/to backends.", ["direction"], () => {
    const x = c();
    return x ? [
      [{ direction: "from_client" }, x.bytesFromClients], [{ direction: "to_client" }, x.bytesToClients],
      [{ direction: "from_backend" }, x.bytesFromBackends], [{ direction: "to_backend" }, x.bytesToBackends],
    ] : [];
  });
  mirroredCounter(registry, "sslacc_backpressure_pauses_total", "Times a socket stopped reading because the other leg held maxBuffer bytes.", ["side"], () => {
    const x = c();
    return x ? [[{ side: "client" }, x.clientPauses], [{ side: "backend" }, x.backendPauses]] : [];
  });
  mirroredCounter(registry, "sslacc_checkpoints_total", "Relay checkpoints stored.", [], () => one(c()?.checkpoints));
  mirroredCounter(registry, "sslacc_shard_restarts_total", "Shards that died and were respawned.", [], () => one(c()?.shardRestarts));
  mirroredCounter(registry, "sslacc_certificate_reloads_total", "Certificate sets taken on SIGHUP (a refused reload is logged, not counted).", [], () => one(c()?.certificateReloads));
  mirroredCounter(registry, "sslacc_bucket_moves_total", "Buckets moved between shards: a dead shard's to the survivors, then back home.", [], () => one(c()?.bucketMoves));
  mirroredCounter(registry, "sslacc_poison_aborts_total", "Connections aborted because their shard died handling them poisonLimit times in a row.", [], () => one(c()?.poisonAborts));
  mirroredCounter(registry, "sslacc_no_shard_timeouts_total", "Connections closed by a timeout while no shard was up to run them.", [], () => one(c()?.noShardTimeouts));
  mirroredCounter(registry, "sslacc_failovers_total", "Connections restored from their checkpoint on another shard incarnation.", [], () => one(c()?.restoredConnections));
  mirroredCounter(registry, "sslacc_rsa_operations_total", "RSA private operations requested from the pool.", [], () => one(c()?.rsaRequests));

  new Gauge({
    name: "sslacc_connections_active", help: "Open client connections.", registers: [registry],
    collect() {
      this.set(d?.activeConnections ?? 0);
    },
  });
  new Gauge({
    name: "sslacc_shard_up", help: "1 while the shard's worker is ready, 0 while it starts or waits out its respawn delay.", labelNames: ["shard"], registers: [registry],
    collect() {
      this.reset();
      for (const sh of d?.shardStatus() ?? []) this.set({ shard: String(sh.index) }, sh.state === "ready" ? 1 : 0);
    },
  });
  new Gauge({
    name: "sslacc_shard_backoff_seconds", help: "Time left before a dead shard is respawned (0 when up); the delay doubles per death in a row, up to the cap.", labelNames: ["shard"], registers: [registry],
    collect() {
      this.reset();
      for (const sh of d?.shardStatus() ?? []) this.set({ shard: String(sh.index) }, sh.respawnInMs / 1000);
    },
  });
  new Gauge({
    name: "sslacc_rsa_queue_depth", help: "RSA operations waiting for a pool thread.", registers: [registry],
    collect() {
      this.set(d?.rsaStats().queued ?? 0);
    },
  });
  clusterMetrics(registry, () => d?.clusterStatus() ?? null);
  clusterLinkMetrics(registry, () => d?.clusterStatus() ?? null);
  // Buckets: a stored checkpoint is one thread hop (~0.1 ms) plus the
  // shard's work; an RSA-2048 operation ~0.25 ms (native) to ~2 ms (WASM)
  // plus queueing under load.
  const checkpointLatency = new Histogram({
    name: "sslacc_checkpoint_latency_seconds", help: "From an input sent to the shard to the checkpoint it caused being stored.",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1], registers: [registry],
  });
  const rsaLatency = new Histogram({
    name: "sslacc_rsa_latency_seconds", help: "RSA private operation in the pool, queueing included.", labelNames: ["result"],
    buckets: [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: [registry],
  });
  return {
    registry,
    observer: {
      checkpointStored: (s) => checkpointLatency.observe(s),
      rsaDone: (s, ok) => rsaLatency.observe({ result: ok ? "ok" : "error" }, s),
    },
    bind(daemon) {
      d = daemon;
    },
  };
}

export interface CtcpMetrics {
  readonly registry: Registry;
  /** Attach the ctcp daemon whose status the collectors read. */
  bind(daemon: CtcpDaemon): void;
}

type CtcpStatus = ReturnType<CtcpDaemon["status"]>;

/**
 * `--transport ctcp` (docs/ctcp.md "The daemon on the wire"): the node core's
 * counters (dispatch drops, link drops, records, restores, partial and
 * forward ACKs, takeovers) and the cluster's, read from `status()` at scrape
 * time. Names shared with the kernel transport mean the same there.
 */
export function createCtcpMetrics(): CtcpMetrics {
  const registry = new Registry();
  let d: CtcpDaemon | null = null;
  const read = (f: (s: CtcpStatus) => Samples) => (): Samples => (d ? f(d.status()) : []);
  const node = (f: (n: NonNullable<CtcpStatus["node"]>) => Samples) => read((s) => (s.node ? f(s.node) : []));
  const byLabel = (label: string, m: Record<string, number>): Samples => Object.entries(m).map(([k, v]) => [{ [label]: k }, v]);
  const counter = (name: string, help: string, labelNames: string[], f: () => Samples) => mirroredCounter(registry, name, help, labelNames, f);

  counter("sslacc_handshakes_total", "Completed TLS handshakes by kind (full: an RSA operation; resumed: from the session cache).", ["kind"],
    read((s) => [[{ kind: "full" }, s.counters.handshakes - s.counters.resumed], [{ kind: "resumed" }, s.counters.resumed]]));
  counter("sslacc_rsa_operations_total", "RSA private operations requested from the pool.", [], read((s) => [[{}, s.counters.rsaRequests]]));
  counter("sslacc_connections_accepted_total", "Client connections accepted (a SYN answered and its handshake's ACK taken).", [], node((n) => [[{}, n.stats.accepted]]));
  counter("sslacc_ctcp_drops_total", "Segments the node core dropped, by reason (not-owner: another member's bucket; no-connection; listen-*: the stateless listener's).", ["reason"],
    node((n) => byLabel("reason", n.drops)));
  counter("sslacc_ctcp_link_drops_total", "Frames the Ethernet/ARP/IPv4/TCP layer dropped, by reason (checksums, foreign MACs, ARP, full queues).", ["reason"],
    node((n) => byLabel("reason", n.linkDrops)));
  counter("sslacc_ctcp_records_total", "Connection records handed to the replication channel.", [], node((n) => [[{}, n.stats.records]]));
  counter("sslacc_ctcp_records_refused_total", "Records the replication channel refused, by reason (not_owner, too large): retried, nothing new acknowledged meanwhile.", ["reason"],
    node((n) => byLabel("reason", n.stats.recordsRefused)));
  counter("sslacc_ctcp_restores_total", "Connections restored from mirrored state, by how (eager at takeover; selective: on-packet or by the sweep).", ["how"],
    node((n) => byLabel("how", n.stats.restored)));
  counter("sslacc_ctcp_takeovers_total", "Buckets acquired with their mirrored connections (a dead or leaving member's).", [], node((n) => [[{}, n.stats.takeovers]]));
  counter("sslacc_ctcp_partial_acks_total", "SSLACC §5.5 partial ACKs: bytes read but not consumed, clustered as kept bytes and acknowledged.", [], node((n) => [[{}, n.stats.partialAcks]]));
  counter("sslacc_ctcp_forward_acks_total", "SSLACC §4.6 forward ACKs accepted after a restore (the peer held bytes the previous owner sent).", [], node((n) => [[{}, n.stats.forwardAcks]]));
  counter("sslacc_ctcp_overheard_fed_total", "Peers' data segments heard while another member owned the bucket (a dead one's peers retransmitting) and fed to a connection restored here.", [], node((n) => [[{}, n.stats.overheardFed]]));
  counter("sslacc_ctcp_reopened_total", "SYNs that opened a new connection on the 4-tuple of an older one whose client side was over (a client reusing its port, RFC 9293 §3.10.7.4).", [], node((n) => [[{}, n.stats.reopened]]));
  counter("sslacc_ctcp_bad_entries_total", "Mirrored states that did not decode or restore at a takeover (that connection is lost).", [], node((n) => [[{}, n.stats.badEntries]]));
  counter("sslacc_ctcp_connection_failures_total", "Connections dropped on an internal error (the node goes on).", [], node((n) => [[{}, n.stats.failures]]));
  counter("sslacc_ctcp_frames_total", "Ethernet frames through the link, in and out.", ["direction"],
    node((n) => [[{ direction: "in" }, n.link.framesIn], [{ direction: "out" }, n.link.framesOut]]));
  counter("sslacc_ctcp_relay_restarts_total", "Times the socat relay to the TAP was started again after it exited.", [],
    read((s) => [[{}, Math.max(0, (s.wire.relay?.starts ?? 0) - 1)]]));
  new Gauge({
    name: "sslacc_ctcp_connections", help: "Connections on this node: live (accepted or restored, until TIME_WAIT ends) and dormant (mirrored, selective recovery, not restored yet).",
    labelNames: ["state"], registers: [registry],
    collect() {
      this.reset();
      const c = d?.status().connections;
      if (c) for (const [state, v] of Object.entries(c)) this.set({ state }, v);
    },
  });
  new Gauge({
    name: "sslacc_ctcp_draining", help: "1 once SIGTERM started the drain (no new connections; live ones finish or move to the peers).", registers: [registry],
    collect() {
      this.set(d?.status().draining ? 1 : 0);
    },
  });
  clusterMetrics(registry, () => d?.status().cluster ?? null);
  return {
    registry,
    bind(daemon) {
      d = daemon;
    },
  };
}
