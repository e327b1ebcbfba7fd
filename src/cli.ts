#!/usr/bin/env node
// The `sslacc` command.
import { parseArgs } from "node:util";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { selfSignedCertificate } from "./cert.js";
import { startAdmin, startStatusAdmin } from "./node/admin.js";
import { CertificateError, type CertificateSource } from "./node/certificates.js";
import { parseEndpoint, parseStartConfig, StartConfigError, DEFAULT_ADMIN, type ClusterStartConfig, type RawStart, type StartConfig } from "./node/config.js";
import { Daemon } from "./node/daemon.js";
import { ClusterLink } from "./node/cluster-link.js";
import { ChannelError } from "./cluster/channel.js";
import { ClusterConfigError, type ClusterNodeConfig } from "./cluster/run-node.js";
import { CtcpDaemon } from "./node/ctcp-daemon.js";
import { startDemoBackend } from "./node/demo-backend.js";
import { createLogger } from "./node/log.js";
import { createCtcpMetrics, createMetrics } from "./node/metrics.js";
import { DaemonStartError } from "./node/messages.js";
import { macToString } from "./transport/ether/mac.js";

const USAGE = `usage: sslacc <command> [options]

commands:
  cert    write a self-signed certificate and key
            --cn NAME        subject common name (default localhost)
            --san NAME,...   extra subjectAltNames (DNS names or IPs)
            --bits N         RSA modulus size: 1024|2048|3072|4096 (default 2048)
            --days N         validity in days (default 365)
            --cert FILE      where to write the certificate (default cert.pem)
            --key FILE       where to write the private key (default key.pem)
  start   run the daemon; with no options: a certificate generated under
          .sslacc/, a built-in demo backend, listening on 127.0.0.1:8443;
          SIGHUP re-reads the certificate files (open connections keep theirs),
          SIGTERM drains (ctcp clustered: LEAVE, the peers take the connections over), SIGINT stops
            --listen HOST:PORT      where clients connect (default 127.0.0.1:8443)
            --backend HOST:PORT     the plaintext backend (default: built-in demo backend)
            --cert FILE --key FILE  PEM certificate chain and RSA key (default: generated in the state dir);
                                    repeat the pair for several certificates: the first is the default,
                                    the others are chosen by the client's server_name (SNI) among their
                                    subjectAltName DNS names
            --config FILE           JSON with the same fields: listen, backend, cert, key, shards,
                                    rsaWorkers, rsaProvider, stateDir, admin, maxConnections,
                                    handshakeTimeout, idleTimeout, backendConnectTimeout, maxBuffer, drainTimeout, logLevel,
                                    proxyProtocol, sessionCacheSize, sessionTtl, shardRespawn, shardRespawnMax, poisonLimit, and the cluster fields below (flags win);
                                    certificates: [{cert, key, names?}] instead of cert/key for SNI
            --shards N              worker threads running connections
            --rsa-workers N         RSA pool threads; 0 runs RSA inside the shards, no thread hop
                                    (default 0 with native RSA, min(4, cores) with wasm)
            --rsa-provider P        wasm | native (default native)
            --state-dir DIR         generated certificate and state (default .sslacc)
            --admin HOST:PORT|off   local status endpoint (default 127.0.0.1:8444)
            --max-connections N     open client connections at most (default 10000)
            --handshake-timeout T   whole-handshake deadline, e.g. 10s (default 10s)
            --idle-timeout T        close after no byte either way for T (default 60s)
            --backend-connect-timeout T  (default 5s)
            --max-buffer BYTES      bytes held per direction before reading pauses, e.g. 512k (default 1m)
            --shard-respawn T       a dead shard is respawned after T, doubling per death in a row (default 100ms);
                                    its buckets run on the live shards meanwhile
            --shard-respawn-max T   the doubling stops at T (default 30s); 10 s up resets it
            --poison-limit N        a connection whose shard died handling it N times in a row is aborted (default 3)
            --session-cache-size N  TLS sessions kept for resumption, shared by the shards (default 20000)
            --session-ttl T         a session's lifetime, e.g. 5m (default 120m, at most 24 h)
            --drain-timeout T       SIGTERM: open connections may finish for T, then are cut (default 30s;
                                    SIGINT stops at once)
            --proxy-protocol V      off | v1 | v2: PROXY protocol header with the client's addresses first
                                    on each backend connection (HAProxy's proxy-protocol.txt; default off)
            --log-level L           fatal|error|warn|info|debug|trace|silent (default info; JSON lines on stderr)
          cluster (docs/cluster-protocol.md; all need --peers; file fields in parentheses):
            --peers LIST            every member, this one included: HOST:PORT,... (ids 1, 2, ... by position)
                                    or ID@HOST:PORT,...; without it the node runs alone (peers)
            --node-id N             this member's id in --peers, 1..65534 (nodeId)
            --cluster-key FILE      shared key, at least 32 bytes, raw or hex (openssl rand -hex 32) (clusterKey)
            --cluster-id N          0..4294967295, the same on every member (default 1) (clusterId)
            --cluster-port PORT     UDP port (default: this member's --peers entry) (clusterPort)
            --replication R         all | k=N mirrors per bucket (default all) (replication)
            --cluster-aggregation A on | off: batch messages per peer into datagrams (default on) (clusterAggregation)
            --cluster-keepalive T   keepalive period (default 100ms) (clusterKeepalive)
            --cluster-dead-after T  silence before a member is declared dead, > 3 × keepalive (default 400ms)
                                    (clusterDeadAfter)
          clustered TCP (docs/ctcp.md; root, a wire from scripts/ctcp-wire.sh; file fields in parentheses):
            --transport T           kernel | ctcp: our own TCP on a shared Ethernet wire (default kernel) (transport)
            --vip A.B.C.D[:PORT]    the cluster's virtual IP and TLS port (default port 443) (vip)
            --wire TAP              this node's TAP on the hub-mode bridge (wire)
            --vmac MAC              virtual MAC (default 02:53:53 + the VIP's last three octets) (vmac)
            --wire-node-port N      UDP port of this node for its socat relay (default 4330) (wireNodePort)
            --wire-relay-port N     UDP port socat binds (default 4331) (wireRelayPort)
            --recovery R            eager | selective | selective-probe takeover of a dead node's connections (default eager) (recovery)
                                    --backend must be an IPv4 address on the wire; --listen and --shards do not apply
  status  show a running daemon's shards, bucket map, connections, counters
            --admin HOST:PORT       its admin endpoint (default 127.0.0.1:8444)
            --json                  the raw status
  help    this text
`;

function fail(message: string): never {
  console.error(`sslacc: ${message}`);
  process.exit(2);
}

function positiveInt(field: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${field} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function cert(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      cn: { type: "string" },
      san: { type: "string" },
      bits: { type: "string" },
      days: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
    },
    strict: true,
  });
  const bits = positiveInt("bits", values.bits, 2048);
  if (![1024, 2048, 3072, 4096].includes(bits)) fail(`--bits must be 1024, 2048, 3072 or 4096, got ${bits}`);
  const pair = selfSignedCertificate({
    commonName: values.cn ?? "localhost",
    altNames: values.san ? values.san.split(",").filter(Boolean) : [],
    bits,
    days: positiveInt("days", values.days, 365),
  });
  const certFile = values.cert ?? "cert.pem";
  const keyFile = values.key ?? "key.pem";
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  console.log(`wrote ${certFile} and ${keyFile}`);
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: "string" }, backend: { type: "string" }, cert: { type: "string", multiple: true }, key: { type: "string", multiple: true },
      config: { type: "string" }, shards: { type: "string" }, "rsa-workers": { type: "string" },
      "rsa-provider": { type: "string" }, "state-dir": { type: "string" }, admin: { type: "string" },
      "max-connections": { type: "string" }, "handshake-timeout": { type: "string" }, "idle-timeout": { type: "string" },
      "backend-connect-timeout": { type: "string" }, "max-buffer": { type: "string" }, "log-level": { type: "string" }, "drain-timeout": { type: "string" },
      "proxy-protocol": { type: "string" }, "session-cache-size": { type: "string" }, "session-ttl": { type: "string" },
      "shard-respawn": { type: "string" }, "shard-respawn-max": { type: "string" }, "poison-limit": { type: "string" },
      peers: { type: "string" }, "node-id": { type: "string" }, "cluster-key": { type: "string" }, "cluster-id": { type: "string" },
      "cluster-port": { type: "string" }, replication: { type: "string" }, "cluster-aggregation": { type: "string" },
      "cluster-keepalive": { type: "string" }, "cluster-dead-after": { type: "string" },
      help: { type: "boolean", short: "h" },
      transport: { type: "string" }, vip: { type: "string" }, wire: { type: "string" }, vmac: { type: "string" },
      "wire-node-port": { type: "string" }, "wire-relay-port": { type: "string" }, recovery: { type: "string" },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(USAGE);
  let file: unknown;
  if (values.config !== undefined) {
    let raw: string;
    try {
      raw = readFileSync(values.config, "utf8");
    } catch (e) {
      fail(`--config: cannot read ${values.config}: ${(e as Error).message}`);
    }
    try {
      file = JSON.parse(raw);
    } catch (e) {
      fail(`--config: ${values.config} is not JSON: ${(e as Error).message}`);
    }
  }
  const flags: RawStart = {
    listen: values.listen, backend: values.backend, cert: values.cert, key: values.key, shards: values.shards,
    rsaWorkers: values["rsa-workers"], rsaProvider: values["rsa-provider"], stateDir: values["state-dir"], admin: values.admin,
    maxConnections: values["max-connections"], handshakeTimeout: values["handshake-timeout"], idleTimeout: values["idle-timeout"],
    backendConnectTimeout: values["backend-connect-timeout"], maxBuffer: values["max-buffer"], logLevel: values["log-level"], drainTimeout: values["drain-timeout"],
    proxyProtocol: values["proxy-protocol"], sessionCacheSize: values["session-cache-size"], sessionTtl: values["session-ttl"],
    shardRespawn: values["shard-respawn"], shardRespawnMax: values["shard-respawn-max"], poisonLimit: values["poison-limit"],
    peers: values.peers, nodeId: values["node-id"], clusterKey: values["cluster-key"], clusterId: values["cluster-id"],
    clusterPort: values["cluster-port"], replication: values.replication, clusterAggregation: values["cluster-aggregation"],
    clusterKeepalive: values["cluster-keepalive"], clusterDeadAfter: values["cluster-dead-after"],
    transport: values.transport, vip: values.vip, wire: values.wire, vmac: values.vmac,
    wireNodePort: values["wire-node-port"], wireRelayPort: values["wire-relay-port"], recovery: values.recovery,
  };
  const cfg = parseStartConfig(flags, file, values.config ?? "config");

  if (cfg.certificates === null) {
    // The embedded default: one certificate per state directory, reused.
    mkdirSync(cfg.stateDir, { recursive: true });
    const certFile = join(cfg.stateDir, "cert.pem");
    const keyFile = join(cfg.stateDir, "key.pem");
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      const pair = selfSignedCertificate({ commonName: "localhost", altNames: ["127.0.0.1", "::1"] });
      writeFileSync(certFile, pair.certPem);
      writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
      console.log(`sslacc: generated a self-signed certificate in ${certFile}`);
    }
  }
  let certificates: CertificateSource[];
  try {
    certificates = readCertificates(cfg);
  } catch (e) {
    fail((e as Error).message);
  }
  if (cfg.ctcp !== null) return startCtcp(cfg, certificates);
  const logger = createLogger(cfg.logLevel);
  // One member per process, started before the daemon (its session cache is the node's, §10.1 item 5).
  let cluster: ClusterLink | undefined;
  if (cfg.cluster) {
    const fields = cfg.cluster.fields;
    try {
      cluster = await ClusterLink.start(clusterOptions(cfg.cluster, cfg.limits), (level, msg, f) => logger[level](f ?? {}, msg));
    } catch (e) {
      if (e instanceof ClusterConfigError) fail(`${fields[e.field] ?? e.field}: ${e.message.slice(e.field.length + 2)}`);
      if (e instanceof ChannelError) fail(`${fields["--cluster-port"] ?? "--cluster-port"}: ${e.message}`);
      throw e;
    }
  }
  const demo = cfg.backend === null ? await startDemoBackend() : null;
  const backend = cfg.backend ?? demo!.endpoint;
  const metrics = createMetrics();
  const daemon = new Daemon({
    listen: cfg.listen, backend, certificates, shards: cfg.shards, rsaWorkers: cfg.rsaWorkers, rsaProvider: cfg.rsaProvider, limits: cfg.limits, proxyProtocol: cfg.proxyProtocol,
    respawn: cfg.shardLifecycle.respawn, poisonLimit: cfg.shardLifecycle.poisonLimit,
    logger, observe: metrics.observer, ...(cluster && { cluster }),
  });
  let at;
  try {
    at = await daemon.start();
  } catch (e) {
    // start() stopped what it had started.
    await demo?.close();
    if (e instanceof DaemonStartError && e.part === "listen") fail(`--listen ${cfg.listen.address}:${cfg.listen.port}: ${(e.cause as Error).message}`);
    fail((e as Error).message);
  }
  const admin = cfg.admin ? await startAdmin(daemon, cfg.admin, metrics).catch((e: Error) => fail(`--admin: ${e.message}`)) : null;
  const host = at.address.includes(":") ? `[${at.address}]` : at.address;
  console.log(`sslacc: listening on ${host}:${at.port} (${plural(cfg.shards, "shard")}, ${plural(cfg.rsaWorkers, "RSA worker")}, ${cfg.rsaProvider} RSA)`);
  console.log(`sslacc: backend ${backend.address}:${backend.port}${demo ? " (built-in demo backend)" : ""}`);
  if (cfg.cluster) {
    const c = cfg.cluster;
    console.log(`sslacc: cluster member ${c.nodeId} of ${c.peers.length} (cluster id ${c.clusterId}, replication ${c.replication.kind === "all" ? "all" : `k=${c.replication.k}`}, aggregation ${c.aggregation ? "on" : "off"})`);
  }
  if (admin) {
    const base = `http://${admin.endpoint.address}:${admin.endpoint.port}`;
    console.log(`sslacc: status at ${base}/status (sslacc status --admin ${admin.endpoint.address}:${admin.endpoint.port}), Prometheus metrics at ${base}/metrics`);
  }
  console.log(`try: curl -k https://${host}:${at.port}/`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    if (sig === "SIGTERM") {
      // Graceful: no new connections; open ones finish within the deadline.
      console.log(`sslacc: SIGTERM, draining ${daemon.activeConnections} connections (deadline ${cfg.limits.drainTimeoutMs} ms)`);
      void daemon.drain(cfg.limits.drainTimeoutMs).then(async (cut) => {
        await Promise.all([admin?.close(), demo?.close()]);
        console.log(`sslacc: drained${cut > 0 ? `, ${cut} connections cut at the deadline` : ""}; stopped`);
        process.exit(0);
      });
      return;
    }
    console.log(`sslacc: ${sig}, stopping`);
    void Promise.all([daemon.stop(), admin?.close(), demo?.close()]).then(() => process.exit(0));
  };
  // SIGHUP (nginx, HAProxy's reload): re-read the certificate files; a bad
  // file is logged and the certificates in use stay (never a crash).
  process.on("SIGHUP", () => {
    try {
      const r = daemon.reloadCertificates(readCertificates(cfg));
      logger.info({ generation: r.generation, certificates: r.certificates }, "certificates reloaded");
    } catch (e) {
      logger.error({ err: (e as Error).message, ...(e instanceof CertificateError && { field: e.field }) }, "certificate reload failed; keeping the current certificates");
    }
  });
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** The cluster member's options from the validated flags (docs/cluster-protocol.md §10). */
function clusterOptions(c: ClusterStartConfig, limits: StartConfig["limits"]): ClusterNodeConfig {
  return {
    nodeId: c.nodeId, clusterId: c.clusterId, keyFile: c.keyFile, peers: c.peers, replication: c.replication,
    ...(c.port !== null && { port: c.port }),
    core: {
      keepaliveMs: c.keepaliveMs, deadAfterMs: c.deadAfterMs, leaseMs: c.leaseMs, aggregate: c.aggregation,
      // The clustered cache is the node's: --session-cache-size / --session-ttl bound it.
      sessions: { maxEntries: limits.sessionCacheSize, ttlMs: limits.sessionTtlMs },
    },
  };
}

/** `--transport ctcp`: the node core on the wire (src/node/ctcp-daemon.ts) instead of kernel sockets and shards. */
async function startCtcp(cfg: StartConfig, certificates: CertificateSource[]): Promise<void> {
  const c = cfg.ctcp!;
  const logger = createLogger(cfg.logLevel);
  const daemon = new CtcpDaemon({ ctcp: c, certificates, rsaWorkers: Math.max(1, cfg.rsaWorkers), rsaProvider: cfg.rsaProvider, cluster: cfg.cluster && clusterOptions(cfg.cluster, cfg.limits), logger });
  try {
    await daemon.start();
  } catch (e) {
    await daemon.stop().catch(() => {});
    if (e instanceof ClusterConfigError) fail(`${cfg.cluster?.fields[e.field] ?? e.field}: ${e.message.slice(e.field.length + 2)}`);
    if (e instanceof ChannelError) fail(`${cfg.cluster?.fields["--cluster-port"] ?? "--cluster-port"}: ${e.message}`);
    fail(`--wire ${c.wire.tap}: ${(e as Error).message}`);
  }
  const metrics = createCtcpMetrics();
  metrics.bind(daemon);
  const admin = cfg.admin ? await startStatusAdmin(() => daemon.status(), cfg.admin, metrics).catch((e: Error) => fail(`--admin: ${e.message}`)) : null;
  console.log(`sslacc: clustered TCP on ${c.wire.tap}: VIP ${c.vipText}:${c.port}, MAC ${macToString(c.vmac)}, ${c.recovery} recovery`);
  console.log(`sslacc: backend ${c.backend.text} (over the wire, from the VIP)`);
  if (admin) {
    const base = `http://${admin.endpoint.address}:${admin.endpoint.port}`;
    console.log(`sslacc: status at ${base}/status, Prometheus metrics at ${base}/metrics`);
  }
  console.log(`try: ip netns exec CLIENT_NS curl -k https://${c.vipText}${c.port === 443 ? "" : `:${c.port}`}/`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    if (sig === "SIGTERM") {
      const n = daemon.core.connectionCount;
      console.log(`sslacc: SIGTERM, draining ${plural(n.live + n.dormant, "connection")} (deadline ${cfg.limits.drainTimeoutMs} ms)`);
      void daemon.drain(cfg.limits.drainTimeoutMs).then(async (r) => {
        await admin?.close();
        console.log(r.how === "handover"
          ? `sslacc: left the cluster; the peers took ${plural(r.connections, "connection")} over; stopped`
          : `sslacc: drained${r.cut > 0 ? `, ${r.cut} connections cut at the deadline` : ""}; stopped`);
        process.exit(0);
      });
      return;
    }
    console.log(`sslacc: ${sig}, stopping`);
    void Promise.all([daemon.stop(), admin?.close()]).then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** Reads the certificate files (at start and on SIGHUP); throws CertificateError naming the flag or file field. */
function readCertificates(cfg: StartConfig): CertificateSource[] {
  const files = cfg.certificates ?? [{
    cert: join(cfg.stateDir, "cert.pem"), key: join(cfg.stateDir, "key.pem"),
    fields: { cert: `${cfg.stateDir}/cert.pem`, key: `${cfg.stateDir}/key.pem`, names: `${cfg.stateDir}/cert.pem (names)` },
  }];
  const read = (field: string, file: string): string => {
    try {
      return readFileSync(file, "utf8");
    } catch (e) {
      throw new CertificateError(field, `cannot read ${file}: ${(e as Error).message}`);
    }
  };
  return files.map((f) => ({
    certPem: read(f.fields.cert, f.cert), keyPem: read(f.fields.key, f.key), fields: f.fields,
    ...(f.names !== undefined && { names: f.names }),
  }));
}

async function status(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { admin: { type: "string" }, json: { type: "boolean" } }, strict: true });
  const at = values.admin !== undefined ? parseEndpoint("--admin", values.admin) : DEFAULT_ADMIN;
  let s: ReturnType<Daemon["status"]>;
  try {
    const res = await fetch(`http://${at.address.includes(":") ? `[${at.address}]` : at.address}:${at.port}/status`);
    s = (await res.json()) as ReturnType<Daemon["status"]>;
  } catch (e) {
    fail(`no daemon answering at ${at.address}:${at.port} (--admin): ${(e as Error).message}`);
  }
  if (values.json) return void console.log(JSON.stringify(s, null, 2));
  console.log(`listening ${s.listen?.address}:${s.listen?.port} → backend ${s.backend.address}:${s.backend.port}`);
  const shardState = (x: (typeof s.shards)[number]) =>
    x.state === "ready" ? "up" : x.state === "starting" ? "starting" : `down, respawn in ${x.respawnInMs} ms (${x.consecutiveDeaths} deaths in a row)`;
  console.log(`shards: ${s.shards.map((x) => `#${x.index} ${shardState(x)} (${x.buckets} buckets, ${x.deaths} deaths)`).join(", ")}`);
  const runs: string[] = [];
  for (let b = 0; b < s.bucketMap.length; ) {
    let e = b;
    while (e + 1 < s.bucketMap.length && s.bucketMap[e + 1] === s.bucketMap[b]) e++;
    runs.push(e === b ? `${b}→${s.bucketMap[b]}` : `${b}-${e}→${s.bucketMap[b]}`);
    b = e + 1;
  }
  console.log(`bucket map v${s.bucketMapVersion} (${s.bucketMap.length} buckets; -1: no shard up): ${runs.length > 8 ? `${runs.slice(0, 8).join(" ")} …` : runs.join(" ")}`);
  console.log(`connections: ${s.connections.length}`);
  for (const c of s.connections.slice(0, 20)) console.log(`  #${c.id} bucket ${c.bucket} shard ${c.shard} ${c.phase} backend ${c.backend} kept ${c.keptClientBytes}/${c.keptBackendBytes} B`);
  console.log(`counters: ${Object.entries(s.counters).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  console.log(`rsa: ${s.rsa.threads} threads, ${s.rsa.completed} done, ${s.rsa.queued} queued`);
  if (s.cluster) printCluster(s.cluster);
}

/** docs/cluster-protocol.md §10.1 item 7: members, master, map, replication, drops, aggregation. */
function printCluster(c: NonNullable<ReturnType<Daemon["status"]>["cluster"]>): void {
  const nonzero = (o: Record<string, number>) => Object.entries(o).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
  console.log(`cluster: member ${c.nodeId} (epoch ${c.epoch})${c.isMaster ? " master" : ""}; master ${c.master}; map v${c.mapVersion} from ${c.mapIssuer}; owns ${c.owned} buckets; ${c.handoffs} handoffs pending`);
  console.log(`  members: ${c.members.map((m) => `${m.id} ${m.alive ? "alive" : "dead"} ${m.buckets} buckets`).join(", ") || "none yet"}`);
  console.log(`  replication: ${c.link.replicating} connections replicated now, ${c.inFlight} checkpoints in flight, ${c.link.awaitingAcks} awaiting acks; active ${c.active}, mirrored ${c.mirrored}; acks ${c.replication["replicated"] ?? 0}, mean ack ${c.replication["replicated"] ? ((c.replication["ackLatencyTotalMs"] ?? 0) / c.replication["replicated"]).toFixed(2) : "-"} ms, max ${c.replication["ackLatencyMaxMs"] ?? 0} ms`);
  console.log(`  connections: ${nonzero({ replicated: c.link.replicatedConnections, unreplicated: c.link.unreplicatedConnections, notOwner: c.link.notOwner, tooLarge: c.link.checkpointTooLarge, detached: c.link.detached })}`);
  console.log(`  sessions: ${c.sessions}`);
  console.log(`  drops: ${nonzero(c.drops)}`);
  const a = c.aggregation;
  console.log(`  aggregation: ${a["messages"] ?? 0} messages in ${a["datagrams"] ?? 0} datagrams (${a["datagrams"] ? ((a["messages"] ?? 0) / a["datagrams"]).toFixed(2) : "-"} per datagram); datagrams in ${c.channel.datagramsIn}, out ${c.channel.datagramsOut}; ${nonzero({ unknownSource: c.channel.unknownSource, sendErrors: c.channel.sendErrors, socketErrors: c.channel.socketErrors, coreErrors: c.channel.coreErrors })}`);
}

const [command = "help", ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case "cert":
      cert(rest);
      break;
    case "start":
      await start(rest);
      break;
    case "status":
      await status(rest);
      break;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      break;
    default:
      process.stderr.write(USAGE);
      fail(`unknown command ${JSON.stringify(command)}`);
  }
} catch (err) {
  if (err instanceof StartConfigError) fail(err.message);
  fail(err instanceof Error ? err.message : String(err));
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
