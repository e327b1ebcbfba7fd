// The daemon's configuration: `sslacc start` flags over an optional JSON
// file over the embedded defaults, validated field by field — every error
// names the flag or file field at fault (the same rule as src/tls/config.ts).
//
//   argv / --config FILE ──parseStartConfig──> StartConfig ──cli.ts──> Daemon (+ demo backend, admin endpoint)
import { availableParallelism } from "node:os";
import type { RsaProviderName } from "../crypto/rsa-pool.js";
import type { Endpoint } from "./buckets.js";
import { LOG_LEVELS, type LogLevel } from "./log.js";
import { PROXY_PROTOCOLS, type ProxyProtocol } from "./proxy-protocol.js";
import type { ReplicationPolicy } from "../cluster/bucket-map.js";
import type { PeerAddress } from "../cluster/channel.js";
import { ClusterConfigError, parsePeers, parseReplication } from "../cluster/run-node.js";
import { DEFAULT_RESPAWN, type RespawnPolicy } from "./shard-lifecycle.js";
import { CTCP_FIELDS, CtcpConfigError, ctcpConfig, type CtcpStartConfig } from "./ctcp-config.js";

export interface StartConfig {
  readonly listen: Endpoint;
  /** null: run the built-in demo backend. */
  readonly backend: Endpoint | null;
  /** Certificate files, the first the default (SNI picks among them); null: a self-signed one generated (once) under stateDir. */
  readonly certificates: readonly CertificateFiles[] | null;
  readonly shards: number;
  readonly rsaWorkers: number;
  readonly rsaProvider: RsaProviderName;
  readonly stateDir: string;
  /** Local admin endpoint for `sslacc status`; null: none. */
  readonly admin: Endpoint | null;
  readonly limits: Limits;
  readonly logLevel: LogLevel;
  /** PROXY protocol header towards the backend. */
  readonly proxyProtocol: ProxyProtocol;
  /** Dead shards: respawn backoff and poison connections (src/node/shard-lifecycle.ts, DaemonOptions). */
  readonly shardLifecycle: { readonly respawn: RespawnPolicy; readonly poisonLimit: number };
  /** Cluster membership (docs/cluster-protocol.md §10); null without `--peers`: the node runs alone. */
  readonly cluster: ClusterStartConfig | null;
  /** `--transport ctcp` (src/node/ctcp-config.ts); null: kernel sockets. */
  readonly ctcp: CtcpStartConfig | null;
}

/**
 * The cluster flags as validated here; the key file is read (and `peers`
 * parsed again into addresses) by startClusterNode, whose ClusterConfigError
 * names a flag: `fields` maps it to what the user actually wrote (the flag
 * or the file field), so the error still names the source.
 */
export interface ClusterStartConfig {
  readonly nodeId: number;
  readonly clusterId: number;
  /** null: our own `--peers` entry's port. */
  readonly port: number | null;
  readonly peers: readonly PeerAddress[];
  readonly keyFile: string;
  readonly replication: ReplicationPolicy;
  /** SSLACC §5.8 batching; off = one message per datagram (the paper's "norm" line). */
  readonly aggregation: boolean;
  readonly keepaliveMs: number;
  readonly deadAfterMs: number;
  /** Derived from the two above (docs §5.3: 2·keepalive < lease < deadAfter − keepalive). */
  readonly leaseMs: number;
  /** ClusterConfigError field (a flag name) → the flag or file field the value came from. */
  readonly fields: Readonly<Record<string, string>>;
}

/** One certificate's files; `fields` name them in errors (flags or file fields). */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
  /** Names served; default: the certificate's subjectAltName DNS names. */
  readonly names?: readonly string[];
  readonly fields: { readonly cert: string; readonly key: string; readonly names: string };
}

/**
 * Per-connection and per-daemon limits. The defaults follow what HAProxy and
 * nginx ship or recommend: a bound on connections (nginx
 * worker_connections, HAProxy maxconn), a whole-handshake deadline against
 * slowloris (HAProxy's recommended `timeout http-request 10s`), an
 * inactivity timeout (HAProxy `timeout client`/`server` 30-60 s in its
 * examples; nginx `proxy_timeout` 10 min for streams: we take 60 s), a
 * backend connect timeout (HAProxy `timeout connect 5s`) and a bound on
 * the bytes held per direction (HAProxy holds two 16 KiB buffers per
 * connection; nginx 8 × 4-8 KiB proxy buffers: we keep up to 128 KiB per
 * direction so a 16 KiB TLS record and the socket's read chunks fit).
 */
export interface Limits {
  readonly maxConnections: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly backendConnectTimeoutMs: number;
  /**
   * Bytes held per direction (kept input not yet consumed + bytes waiting
   * in the other leg's socket); above it the source socket stops reading.
   */
  readonly maxBufferBytes: number;
  /** SIGTERM: how long open connections may take to finish before they are cut. */
  readonly drainTimeoutMs: number;
  /** Sessions the node's cache keeps for resumption (src/node/sessions.ts), shared by its shards. */
  readonly sessionCacheSize: number;
  /** A session's lifetime from its full handshake (RFC 5246 §F.1.4 suggests at most 24 h). */
  readonly sessionTtlMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxConnections: 10_000,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  backendConnectTimeoutMs: 5_000,
  // 1 MiB: `node dist/bench/throughput.js --repeats 3 --mib 128 --baseline dist
  // --sslacc-args "--max-buffer 1m" --baseline-args ""` on this 2-core machine:
  // 191.6 MB/s (6.88 CPU-ms/MiB) vs 171.0 (7.42) with 128 KiB, same run; 4 MiB
  // gave no more (222.6 vs 219.2). A bound, not an allocation: idle
  // connections hold nothing (test/node/limits.test.ts).
  maxBufferBytes: 1024 * 1024,
  drainTimeoutMs: 30_000,
  // The engine's defaults before the cache was shared (20,000 per shard, 2 h);
  // nginx's ssl_session_timeout is 5 min, HAProxy's tune.ssl.lifetime 5 min,
  // cachesize 20,000.
  sessionCacheSize: 20_000,
  sessionTtlMs: 2 * 3600_000,
};

/**
 * A buffer bound must hold one whole client record (2^14 + 2048 bytes of
 * ciphertext + 5 of header, RFC 5246 §6.2.3) with room to spare, or a
 * connection could stall waiting for the rest of a record it may not read.
 */
export const MIN_BUFFER_BYTES = 32 * 1024;

export class StartConfigError extends Error {
  override readonly name = "StartConfigError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

export const DEFAULT_LISTEN: Endpoint = { address: "127.0.0.1", port: 8443 };
export const DEFAULT_ADMIN: Endpoint = { address: "127.0.0.1", port: 8444 };

/** What the file may hold (JSON); flags use the kebab-case names. */
const FILE_FIELDS = [
  "listen", "backend", "cert", "key", "certificates", "shards", "rsaWorkers", "rsaProvider", "stateDir", "admin",
  "maxConnections", "handshakeTimeout", "idleTimeout", "backendConnectTimeout", "maxBuffer", "drainTimeout", "logLevel",
  "proxyProtocol", "sessionCacheSize", "sessionTtl", "nodeId", "clusterId", "clusterPort", "peers", "clusterKey", "replication", "clusterAggregation",
  "clusterKeepalive", "clusterDeadAfter", "shardRespawn", "shardRespawnMax", "poisonLimit",
  ...CTCP_FIELDS.map(([k]) => k),
] as const;
type FileField = (typeof FILE_FIELDS)[number];

export type RawStart = Partial<Record<FileField, unknown>>;

export function parseEndpoint(field: string, v: unknown): Endpoint {
  if (typeof v !== "string") throw new StartConfigError(field, `expected "HOST:PORT", got ${JSON.stringify(v)}`);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  if (!m) throw new StartConfigError(field, `expected HOST:PORT (IPv6 as [::1]:PORT), got ${JSON.stringify(v)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new StartConfigError(field, `port ${port} is above 65535`);
  return { address: m[1] ?? m[2]!, port };
}

/** RSA pool threads when none are asked for: none for native RSA (the shards run it), one per core up to 4 for WASM. */
export function defaultRsaWorkers(provider: RsaProviderName, cores: number): number {
  return provider === "native" ? 0 : Math.max(1, Math.min(4, cores));
}

function count(field: string, v: unknown, max: number, min = 1): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new StartConfigError(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Milliseconds: a number, or a string "250ms", "10s", "2m", "1500". */
export function duration(field: string, v: unknown, minMs = 1, maxMs = 24 * 3600_000): number {
  let ms: number | undefined;
  if (typeof v === "number") ms = v;
  else if (typeof v === "string") {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
    if (m) ms = Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 1);
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < minMs || ms > maxMs) {
    throw new StartConfigError(field, `expected a duration from ${minMs} ms to ${maxMs / 3600_000} h (e.g. 500ms, 10s, 2m), got ${JSON.stringify(v)}`);
  }
  return Math.round(ms);
}

/** Bytes: a number, or a string "65536", "64k", "1m". */
export function size(field: string, v: unknown, min: number, max: number): number {
  let n: number | undefined;
  if (typeof v === "number") n = v;
  else if (typeof v === "string") {
    const m = /^(\d+)([kKmM])?$/.exec(v.trim());
    if (m) n = Number(m[1]) * (m[2] === undefined ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024);
  }
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw new StartConfigError(field, `expected a byte count from ${min} to ${max} (e.g. 131072, 128k, 1m), got ${JSON.stringify(v)}`);
  }
  return n;
}

function text(field: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) throw new StartConfigError(field, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Merges the file (if any) under the flags and validates. `fileName` is used
 * in messages ("config.json: shards: ..."); flags are named "--shards".
 */
export function parseStartConfig(flags: RawStart, file: unknown, fileName = "config"): StartConfig {
  if (file !== undefined && (typeof file !== "object" || file === null || Array.isArray(file))) {
    throw new StartConfigError(fileName, "expected a JSON object");
  }
  const f = (file ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (!(FILE_FIELDS as readonly string[]).includes(k)) throw new StartConfigError(`${fileName}: ${k}`, `unknown field (known: ${FILE_FIELDS.join(", ")})`);
  }
  const pick = (k: FileField, flag: string): { name: string; v: unknown } | undefined =>
    flags[k] !== undefined ? { name: flag, v: flags[k] } : f[k] !== undefined ? { name: `${fileName}: ${k}`, v: f[k] } : undefined;
  const get = <T>(k: FileField, flag: string, parse: (name: string, v: unknown) => T, dflt: T): T => {
    const p = pick(k, flag);
    return p ? parse(p.name, p.v) : dflt;
  };
  const certificates = certificateFiles(flags, f, fileName);
  const cores = availableParallelism();
  const rsaProvider = get("rsaProvider", "--rsa-provider", (n, v) => {
    if (v !== "wasm" && v !== "native") throw new StartConfigError(n, `expected wasm or native, got ${JSON.stringify(v)}`);
    return v;
  }, "native" as RsaProviderName);
  // RSA pool threads; 0 = no pool, each shard runs RSA itself (src/node/daemon.ts
  // DaemonOptions.rsaWorkers). Native RSA-2048 (~0.24 ms) costs less than the
  // pool's two thread hops and piscina's wake-up: same-run A/B here
  // (`node dist/bench/handshake.js --repeats 5 --only native --ms 4000 --baseline dist
  // --sslacc-args "--rsa-workers 0" --baseline-args ""`, docs/daemon.md "Benches")
  // gave 1.31 vs 1.59 CPU-ms per handshake (less in 5 of 5 runs) and 523 vs
  // 423/s, so native runs in the shard by default. WASM RSA (~2-3 ms) would
  // block the shard (353 vs 441/s): it keeps a pool.
  const rsaWorkersDefault = defaultRsaWorkers(rsaProvider, cores);
  const backendAt = pick("backend", "--backend");
  const backend = backendAt ? parseEndpoint(backendAt.name, backendAt.v) : null;
  let ctcp: CtcpStartConfig | null;
  try {
    ctcp = ctcpConfig(pick, backend && { endpoint: backend, field: backendAt!.name });
  } catch (e) {
    if (e instanceof CtcpConfigError) throw new StartConfigError(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
  return {
    listen: get("listen", "--listen", parseEndpoint, DEFAULT_LISTEN),
    backend,
    ctcp,
    certificates,
    shards: get("shards", "--shards", (n, v) => count(n, v, 256), Math.max(1, Math.min(4, cores - 1))),
    rsaWorkers: get("rsaWorkers", "--rsa-workers", (n, v) => count(n, v, 256, 0), rsaWorkersDefault),
    rsaProvider,
    stateDir: get("stateDir", "--state-dir", text, ".sslacc"),
    admin: get("admin", "--admin", (n, v) => (v === "off" ? null : parseEndpoint(n, v)), DEFAULT_ADMIN as Endpoint | null),
    logLevel: get("logLevel", "--log-level", (n, v) => {
      if (!(LOG_LEVELS as readonly unknown[]).includes(v)) throw new StartConfigError(n, `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(v)}`);
      return v as LogLevel;
    }, (LOG_LEVELS as readonly string[]).includes(process.env["SSLACC_LOG_LEVEL"] ?? "") ? process.env["SSLACC_LOG_LEVEL"] as LogLevel : "info"),
    proxyProtocol: get("proxyProtocol", "--proxy-protocol", (n, v) => {
      if (!(PROXY_PROTOCOLS as readonly unknown[]).includes(v)) throw new StartConfigError(n, `expected one of ${PROXY_PROTOCOLS.join(", ")}, got ${JSON.stringify(v)}`);
      return v as ProxyProtocol;
    }, "off" as ProxyProtocol),
    cluster: clusterConfig(pick),
    shardLifecycle: shardLifecycle(get, pick),
    limits: {
      maxConnections: get("maxConnections", "--max-connections", (n, v) => count(n, v, 1_000_000), DEFAULT_LIMITS.maxConnections),
      handshakeTimeoutMs: get("handshakeTimeout", "--handshake-timeout", (n, v) => duration(n, v, 10), DEFAULT_LIMITS.handshakeTimeoutMs),
      idleTimeoutMs: get("idleTimeout", "--idle-timeout", (n, v) => duration(n, v, 10), DEFAULT_LIMITS.idleTimeoutMs),
      backendConnectTimeoutMs: get("backendConnectTimeout", "--backend-connect-timeout", (n, v) => duration(n, v, 10), DEFAULT_LIMITS.backendConnectTimeoutMs),
      drainTimeoutMs: get("drainTimeout", "--drain-timeout", (n, v) => duration(n, v, 0), DEFAULT_LIMITS.drainTimeoutMs),
      maxBufferBytes: get("maxBuffer", "--max-buffer", (n, v) => size(n, v, MIN_BUFFER_BYTES, 64 * 1024 * 1024), DEFAULT_LIMITS.maxBufferBytes),
      sessionCacheSize: get("sessionCacheSize", "--session-cache-size", (n, v) => count(n, v, 10_000_000), DEFAULT_LIMITS.sessionCacheSize),
      sessionTtlMs: get("sessionTtl", "--session-ttl", (n, v) => duration(n, v, 1000), DEFAULT_LIMITS.sessionTtlMs),
    },
  };
}

/** Cluster flags (file fields in camelCase) in the order they are checked. */
const CLUSTER_FIELDS: readonly [FileField, string][] = [
  ["nodeId", "--node-id"], ["clusterId", "--cluster-id"], ["clusterPort", "--cluster-port"], ["clusterKey", "--cluster-key"],
  ["replication", "--replication"], ["clusterAggregation", "--cluster-aggregation"], ["clusterKeepalive", "--cluster-keepalive"],
  ["clusterDeadAfter", "--cluster-dead-after"],
];

type PickField = (k: FileField, flag: string) => { name: string; v: unknown } | undefined;

/**
 * `--peers` turns the cluster on; every other cluster flag without it is a
 * mistake (named), not silently ignored. Syntax is checked here by the
 * cluster's own parsers (one rule for the daemon and startClusterNode);
 * a ClusterConfigError is re-raised under the name the user wrote.
 */
function clusterConfig(pick: PickField): ClusterStartConfig | null {
  const peersAt = pick("peers", "--peers");
  const given = CLUSTER_FIELDS.map(([k, flag]) => ({ k, at: pick(k, flag) }));
  if (!peersAt) {
    const stray = given.find((g) => g.at !== undefined);
    if (stray) throw new StartConfigError(stray.at!.name, "is a cluster setting and needs --peers (peers in the file)");
    return null;
  }
  const at = (k: FileField) => given.find((g) => g.k === k)!.at;
  const fields: Record<string, string> = { "--peers": peersAt.name };
  for (const [k, flag] of CLUSTER_FIELDS) fields[flag] = at(k)?.name ?? flag;
  const named = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ClusterConfigError) throw new StartConfigError(fields[e.field] ?? e.field, e.message.slice(e.field.length + 2));
      throw e;
    }
  };
  const peers = named(() => parsePeers(text(peersAt.name, peersAt.v)));
  const nodeAt = at("nodeId");
  if (!nodeAt) throw new StartConfigError("--node-id", "required with --peers (this member's id in the list)");
  const nodeId = count(nodeAt.name, nodeAt.v, 0xfffe);
  if (!peers.some((p) => p.id === nodeId)) {
    throw new StartConfigError(nodeAt.name, `${nodeId} is not in ${peersAt.name} (ids ${peers.map((p) => p.id).join(", ")}; HOST:PORT entries are numbered from 1)`);
  }
  if (peers.length < 2) throw new StartConfigError(peersAt.name, "names no member but this one");
  const keyAt = at("clusterKey");
  if (!keyAt) throw new StartConfigError("--cluster-key", "required with --peers (a file of at least 32 bytes, e.g. openssl rand -hex 32 > FILE)");
  const idAt = at("clusterId");
  const portAt = at("clusterPort");
  const replAt = at("replication");
  const aggAt = at("clusterAggregation");
  const kaAt = at("clusterKeepalive");
  const deadAt = at("clusterDeadAfter");
  const keepaliveMs = kaAt ? duration(kaAt.name, kaAt.v, 5, 10_000) : 100;
  const deadAfterMs = deadAt ? duration(deadAt.name, deadAt.v, 20, 60_000) : 400;
  // docs §5.3: a lease strictly between 2·keepalive and deadAfter − keepalive; the midpoint (250 for the defaults).
  if (!(deadAfterMs - keepaliveMs - 2 * keepaliveMs >= 2)) {
    throw new StartConfigError(deadAt?.name ?? kaAt!.name, `dead-after (${deadAfterMs} ms) must exceed 3 × keepalive (${keepaliveMs} ms) so a lease fits between them (docs/cluster-protocol.md §5.3)`);
  }
  const leaseMs = Math.floor((2 * keepaliveMs + deadAfterMs - keepaliveMs) / 2);
  const replication = replAt ? named(() => parseReplication(text(replAt.name, replAt.v))) : ({ kind: "all" } as ReplicationPolicy);
  if (replication.kind === "k" && replication.k >= peers.length) {
    throw new StartConfigError(replAt!.name, `k=${replication.k} needs more than ${replication.k} members; ${peers.length} configured (use all)`);
  }
  return {
    nodeId,
    clusterId: idAt ? count(idAt.name, idAt.v, 0xffffffff, 0) : 1,
    port: portAt ? count(portAt.name, portAt.v, 65535) : null,
    peers,
    keyFile: text(keyAt.name, keyAt.v),
    replication,
    aggregation: aggAt ? onOff(aggAt.name, aggAt.v) : true,
    keepaliveMs,
    deadAfterMs,
    leaseMs,
    fields,
  };
}

function onOff(field: string, v: unknown): boolean {
  if (v === "on" || v === true) return true;
  if (v === "off" || v === false) return false;
  throw new StartConfigError(field, `expected on or off, got ${JSON.stringify(v)}`);
}

/** `--shard-respawn`, `--shard-respawn-max`, `--poison-limit` (file: shardRespawn, shardRespawnMax, poisonLimit). */
function shardLifecycle(
  get: <T>(k: FileField, flag: string, parse: (name: string, v: unknown) => T, dflt: T) => T,
  pick: (k: FileField, flag: string) => { name: string; v: unknown } | undefined,
): StartConfig["shardLifecycle"] {
  const initialMs = get("shardRespawn", "--shard-respawn", (n, v) => duration(n, v, 1, 3600_000), DEFAULT_RESPAWN.initialMs);
  const maxMs = get("shardRespawnMax", "--shard-respawn-max", (n, v) => duration(n, v, 1, 3600_000), Math.max(initialMs, DEFAULT_RESPAWN.maxMs));
  if (maxMs < initialMs) {
    throw new StartConfigError(pick("shardRespawnMax", "--shard-respawn-max")!.name, `must be at least the first respawn delay (${initialMs} ms), got ${maxMs} ms`);
  }
  return {
    respawn: { ...DEFAULT_RESPAWN, initialMs, maxMs },
    poisonLimit: get("poisonLimit", "--poison-limit", (n, v) => count(n, v, 100), 3),
  };
}

/**
 * Certificates from repeated `--cert FILE --key FILE` flags (paired in
 * order), or the file's `cert`/`key` or `certificates: [{cert, key, names?}]`.
 * Flags replace the file's certificates as a whole.
 */
function certificateFiles(flags: RawStart, f: Record<string, unknown>, fileName: string): CertificateFiles[] | null {
  const list = (name: string, v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => text(name, x));
  const certs = list("--cert", flags.cert);
  const keys = list("--key", flags.key);
  if (certs.length > 0 || keys.length > 0) {
    if (certs.length !== keys.length) {
      throw new StartConfigError(certs.length < keys.length ? "--cert" : "--key", `--cert and --key go together (${certs.length} --cert, ${keys.length} --key)`);
    }
    const at = (flag: string, i: number) => (certs.length === 1 ? flag : `${flag} #${i + 1}`);
    return certs.map((cert, i) => ({ cert, key: keys[i]!, fields: { cert: at("--cert", i), key: at("--key", i), names: `${at("--cert", i)} (names)` } }));
  }
  const hasPair = f["cert"] !== undefined || f["key"] !== undefined;
  if (f["certificates"] !== undefined) {
    if (hasPair) throw new StartConfigError(`${fileName}: certificates`, "give either cert and key, or certificates, not both");
    const v = f["certificates"];
    if (!Array.isArray(v) || v.length === 0) throw new StartConfigError(`${fileName}: certificates`, `expected a non-empty array of {cert, key, names?}, got ${JSON.stringify(v)}`);
    return v.map((e: unknown, i) => {
      const at = `${fileName}: certificates[${i}]`;
      if (typeof e !== "object" || e === null || Array.isArray(e)) throw new StartConfigError(at, `expected {cert, key, names?}, got ${JSON.stringify(e)}`);
      const o = e as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!["cert", "key", "names"].includes(k)) throw new StartConfigError(`${at}.${k}`, "unknown field (known: cert, key, names)");
      const fields = { cert: `${at}.cert`, key: `${at}.key`, names: `${at}.names` };
      const names = o["names"];
      if (names !== undefined && (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string" || n === ""))) {
        throw new StartConfigError(fields.names, `expected a non-empty array of DNS names, got ${JSON.stringify(names)}`);
      }
      return { cert: text(fields.cert, o["cert"]), key: text(fields.key, o["key"]), ...(names !== undefined && { names: names as string[] }), fields };
    });
  }
  if (!hasPair) return null;
  const cert = f["cert"] === undefined ? null : text(`${fileName}: cert`, f["cert"]);
  const key = f["key"] === undefined ? null : text(`${fileName}: key`, f["key"]);
  if (cert === null || key === null) throw new StartConfigError(`${fileName}: ${cert === null ? "cert" : "key"}`, "cert and key go together");
  return [{ cert, key, fields: { cert: `${fileName}: cert`, key: `${fileName}: key`, names: `${fileName}: cert (names)` } }];
}
