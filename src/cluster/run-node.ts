// Starting one cluster member from its configuration (docs/cluster-protocol.md
// §10): validates the flags the daemon will pass (`--node-id`, `--cluster-id`,
// `--cluster-port`, `--peers`, `--cluster-key`, `--replication`), reads the
// key file, builds the sans-I/O ClusterNode and opens its UDP channel.
//
//   sslacc start flags / config file ──> ClusterNodeConfig ──startClusterNode──>
//     { node: ClusterNode (core), channel: ClusterChannel (UDP, timers), close() }
//
// Every error names the flag at fault (the rule of src/node/config.ts).
import { readFile, stat } from "node:fs/promises";
import { wasmProvider, type CryptoProvider } from "../crypto/provider.js";
import { ClusterNode, type ClusterConfig } from "./cluster-node.js";
import type { ReplicationPolicy } from "./bucket-map.js";
import { ClusterChannel, DEFAULT_CLUSTER_PORT, monotonicNow, type ChannelOptions, type PeerAddress } from "./channel.js";

export class ClusterConfigError extends Error {
  override readonly name = "ClusterConfigError";
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/** docs §3.4: HMAC-SHA256 wants a key as long as its output. */
export const MIN_KEY_BYTES = 32;

/**
 * The cluster key from a file: either raw bytes, or text of hex digits (what
 * `openssl rand -hex 32 > FILE` writes; surrounding whitespace ignored). At
 * least 32 bytes of key material after decoding.
 */
export async function loadClusterKey(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ClusterConfigError("--cluster-key", `${path} is not a regular file`);
    raw = await readFile(path);
  } catch (e) {
    if (e instanceof ClusterConfigError) throw e;
    throw new ClusterConfigError("--cluster-key", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const text = raw.toString("latin1").trim();
  const key = /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, "hex") : raw;
  if (key.length < MIN_KEY_BYTES) {
    throw new ClusterConfigError("--cluster-key", `${path} holds ${key.length} bytes of key material; at least ${MIN_KEY_BYTES} are needed (e.g. openssl rand -hex 32)`);
  }
  return new Uint8Array(key);
}

function parsePort(s: string, field: string, what: string): number {
  const n = Number(s);
  if (!(/^\d+$/.test(s) && n >= 1 && n <= 65535)) throw new ClusterConfigError(field, `${what}: port ${JSON.stringify(s)} is not 1..65535`);
  return n;
}

function parseId(s: string | number, field: string): number {
  const n = typeof s === "number" ? s : Number(s);
  if (!(Number.isInteger(n) && n >= 1 && n <= 0xfffe && (typeof s === "number" || /^\d+$/.test(s)))) {
    throw new ClusterConfigError(field, `member id ${JSON.stringify(s)} is not an integer 1..65534`);
  }
  return n;
}

/**
 * `--peers`: a comma-separated list of `ID@HOST:PORT` (explicit ids), or of
 * `HOST:PORT` (ids 1, 2, ... in list order, so every member can be given the
 * same list, itself included). IPv6 hosts in brackets: `3@[fd00::3]:4320`.
 */
export function parsePeers(spec: string): PeerAddress[] {
  const items = spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new ClusterConfigError("--peers", "empty list");
  const explicit = items.map((s) => s.includes("@"));
  if (explicit.some((e) => e !== explicit[0])) throw new ClusterConfigError("--peers", "mix of ID@HOST:PORT and HOST:PORT entries; use one form");
  const out: PeerAddress[] = [];
  items.forEach((item, i) => {
    const at = item.indexOf("@");
    const id = at >= 0 ? parseId(item.slice(0, at), "--peers") : i + 1;
    const addr = at >= 0 ? item.slice(at + 1) : item;
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]+)$/.exec(addr);
    if (!m) throw new ClusterConfigError("--peers", `${JSON.stringify(item)} is not HOST:PORT`);
    const host = m[1] ?? m[2]!;
    out.push({ id, host, port: parsePort(m[3]!, "--peers", item) });
  });
  const seen = new Set<number>();
  for (const p of out) {
    if (seen.has(p.id)) throw new ClusterConfigError("--peers", `member id ${p.id} listed twice`);
    seen.add(p.id);
  }
  return out;
}

/** `--replication all` or `k=N` / `N` (N mirrors per bucket, docs §7.1). */
export function parseReplication(spec: string): ReplicationPolicy {
  if (spec === "all") return { kind: "all" };
  const m = /^(?:k=)?(\d+)$/.exec(spec);
  const k = m ? Number(m[1]) : NaN;
  if (!(k >= 1 && k <= 64)) throw new ClusterConfigError("--replication", `${JSON.stringify(spec)}: expected "all" or k=N with N in 1..64`);
  return { kind: "k", k };
}

export interface ClusterNodeConfig {
  /** `--node-id`. */
  readonly nodeId: number;
  /** `--cluster-id` (u32). */
  readonly clusterId: number;
  /** `--cluster-key FILE`; or the key itself (tests, an embedding that read it already). */
  readonly keyFile?: string;
  readonly key?: Uint8Array;
  /** `--peers` (string form parsed by parsePeers), self may be listed. */
  readonly peers: string | readonly PeerAddress[];
  /** Bind address (default 0.0.0.0). */
  readonly host?: string;
  /** `--cluster-port`; default our own entry's port in `peers`, else 4320. */
  readonly port?: number;
  /** `--replication` (default all). */
  readonly replication?: string | ReplicationPolicy;
  /** Core options: timers, partition rule, aggregation, session cache size (docs §10 table). */
  readonly core?: Partial<Omit<ClusterConfig, "nodeId" | "clusterId" | "key" | "members" | "epoch" | "provider" | "policy">>;
  /** Channel options: multicast, tick, flush mode, logging, events. */
  readonly channel?: Omit<ChannelOptions, "host" | "port" | "peers">;
  /**
   * HMAC provider. Default the WASM core: cluster datagrams are short, and on
   * 100-byte inputs its HMAC is 3.2× node:crypto's (src/crypto/provider.ts).
   */
  readonly provider?: Pick<CryptoProvider, "hmac">;
}

export interface RunningClusterNode {
  readonly node: ClusterNode;
  readonly channel: ClusterChannel;
  /** LEAVE (unless leave: false), stop timers, close sockets. */
  close(opts?: { leave?: boolean }): Promise<void>;
}

export async function startClusterNode(cfg: ClusterNodeConfig): Promise<RunningClusterNode> {
  const nodeId = parseId(cfg.nodeId, "--node-id");
  if (!(Number.isInteger(cfg.clusterId) && cfg.clusterId >= 0 && cfg.clusterId <= 0xffffffff)) {
    throw new ClusterConfigError("--cluster-id", `${cfg.clusterId} is not an integer 0..4294967295`);
  }
  const peers = typeof cfg.peers === "string" ? parsePeers(cfg.peers) : [...cfg.peers];
  const members = [...new Set([nodeId, ...peers.map((p) => p.id)])].sort((a, b) => a - b);
  if (members.length < 2) throw new ClusterConfigError("--peers", "names no member but this one");
  let key: Uint8Array;
  if (cfg.key) {
    if (cfg.key.length < MIN_KEY_BYTES) throw new ClusterConfigError("--cluster-key", `${cfg.key.length} bytes of key material; at least ${MIN_KEY_BYTES} are needed`);
    key = cfg.key;
  } else if (cfg.keyFile) {
    key = await loadClusterKey(cfg.keyFile);
  } else {
    throw new ClusterConfigError("--cluster-key", "required (a file of at least 32 bytes, e.g. openssl rand -hex 32)");
  }
  const policy = typeof cfg.replication === "string" ? parseReplication(cfg.replication) : (cfg.replication ?? { kind: "all" });
  if (policy.kind === "k" && policy.k >= members.length) {
    throw new ClusterConfigError("--replication", `k=${policy.k} needs more than ${policy.k} members; ${members.length} configured (use all)`);
  }
  const self = peers.find((p) => p.id === nodeId);
  const port = cfg.port ?? self?.port ?? DEFAULT_CLUSTER_PORT;
  const now = cfg.channel?.now ?? monotonicNow;
  let node: ClusterNode;
  try {
    node = new ClusterNode(
      {
        ...cfg.core,
        nodeId,
        clusterId: cfg.clusterId,
        key,
        members,
        // docs §3.2: the incarnation is the start time; a restart must come back under a higher one, so
        // wall time, not the process-relative monotonic clock.
        epoch: Date.now(),
        provider: cfg.provider ?? wasmProvider,
        policy,
      },
      now(),
    );
  } catch (e) {
    // Timer relations (docs §5.3) and ids are checked by the core; name the option group.
    throw new ClusterConfigError("cluster options", (e as Error).message);
  }
  const channel = await ClusterChannel.open(node, { ...cfg.channel, now, host: cfg.host ?? self?.host ?? "0.0.0.0", port, peers });
  return { node, channel, close: (opts) => channel.close(opts) };
}
