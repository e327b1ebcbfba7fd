// Real `sslacc start` processes forming a cluster on loopback (distinct TLS,
// admin and UDP ports, one generated key file), a bounded handshake load of
// Node `tls` clients spread over them, and status polling through the admin
// endpoint — for test/node/cluster-nodes.test.ts and bench/cluster-nodes.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { selfSignedCertificate } from "../../src/cert.js";
import type { Daemon } from "../../src/node/daemon.js";
import { freePorts } from "../cluster/channel-helpers.js";

const cli = new URL("../../src/cli.js", import.meta.url).pathname;

export type NodeStatus = ReturnType<Daemon["status"]>;
export type ClusterView = NonNullable<NodeStatus["cluster"]>;

export interface SslaccNode {
  readonly id: number;
  readonly proc: ChildProcess;
  readonly tlsPort: number;
  readonly adminPort: number;
  readonly pid: number;
  status(): Promise<NodeStatus>;
  output(): string;
  /** SIGKILL; resolves when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful: LEAVE, drain); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ClusterFixture {
  readonly dir: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly nodes: SslaccNode[];
  /** UDP port of each member (index = id − 1). */
  readonly clusterPorts: number[];
  /** Kills whatever is still running. */
  close(): Promise<void>;
}

export async function startSslaccNode(id: number, args: string[], cwd: string): Promise<SslaccNode> {
  const proc = spawn(process.execPath, [cli, "start", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const ports = await new Promise<{ tls: number; admin: number }>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /try: curl -k https:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      const a = /status --admin 127\.0\.0\.1:(\d+)\)/.exec(out);
      if (m && a) resolve({ tls: Number(m[1]), admin: Number(a[1]) });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`node ${id}: sslacc start exited ${code}: ${out}`)));
  });
  return {
    id, proc, tlsPort: ports.tls, adminPort: ports.admin, pid: proc.pid!,
    output: () => out,
    async status() {
      const r = await fetch(`http://127.0.0.1:${ports.admin}/status`);
      return (await r.json()) as NodeStatus;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
      return proc.exitCode;
    },
  };
}

/**
 * n members, ids 1..n, `--peers` in the HOST:PORT form (ids by position), one
 * shard and one RSA thread each; `alone`: the same n processes without the
 * cluster flags (a bench's baseline).
 */
export async function startCluster(n: number, extra: string[] = [], alone = false): Promise<ClusterFixture> {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-nodes-"));
  const keyFile = join(dir, "cluster.key");
  writeFileSync(keyFile, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
  const pair = selfSignedCertificate({ commonName: "localhost", altNames: ["127.0.0.1"] });
  const certFile = join(dir, "cert.pem");
  writeFileSync(certFile, pair.certPem);
  writeFileSync(join(dir, "key.pem"), pair.keyPem, { mode: 0o600 });
  const clusterPorts = await freePorts(n);
  const peers = clusterPorts.map((p) => `127.0.0.1:${p}`).join(",");
  const nodes: SslaccNode[] = [];
  const fixture: ClusterFixture = {
    dir, keyFile, certFile, nodes, clusterPorts,
    async close() {
      await Promise.all(nodes.map((x) => x.kill9()));
    },
  };
  try {
    const started = await Promise.all(Array.from({ length: n }, (_, i) => startSslaccNode(i + 1, [
      "--cert", certFile, "--key", join(dir, "key.pem"), "--shards", "1", "--rsa-workers", "1", "--log-level", "warn",
      ...(alone ? [] : ["--peers", peers, "--node-id", String(i + 1), "--cluster-key", keyFile]), ...extra,
    ], dir)));
    nodes.push(...started);
  } catch (e) {
    await fixture.close();
    throw e;
  }
  return fixture;
}

/**
 * Whether `views` agree on one balanced map: every bucket on a live member,
 * each member its share (a member that rejoined after a false suspicion
 * gets its buckets back gradually, docs §6.2), none to `without`.
 */
export function converged(views: ClusterView[], without: readonly number[] = []): boolean {
  const v = views[0]!;
  if (views.some((x) => x.mapVersion !== v.mapVersion || x.mapIssuer !== v.mapIssuer || x.master !== v.master)) return false;
  const share = Math.floor(1024 / views.length) - 1;
  return views.every((x) => {
    const total = x.members.reduce((s, m) => s + m.buckets, 0);
    return total === 1024 && x.members.every((m) => m.alive && !without.includes(m.id) && m.buckets >= share) && x.members.length === views.length && x.handoffs === 0;
  });
}

export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface HandshakeResult {
  readonly node: number;
  /** performance.now() at connect and at the end. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** One full handshake (no session offered) and a GET through the demo backend. */
export function handshakeOnce(port: number, timeoutMs = 5000): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    let body = "";
    let done = false;
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(error === undefined ? { ok } : { ok, error });
    };
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, maxVersion: "TLSv1.2", ciphers: "AES128-SHA:AES128-SHA256:AES256-SHA" }, () => {
      s.write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    });
    const timer = setTimeout(() => finish(false, "timeout"), timeoutMs);
    s.on("data", (d: Buffer) => (body += d.toString("latin1")));
    s.on("end", () => finish(/hello from the sslacc demo backend/.test(body), body.length === 0 ? "empty reply" : undefined));
    s.on("error", (e: NodeJS.ErrnoException) => finish(false, e.code ?? e.message));
  });
}

/** Handshake loops (`perNode` at a time per node) until stop(); a node is skipped once `skip` says so. */
export function handshakeLoad(nodes: readonly SslaccNode[], perNode: number, skip: (id: number) => boolean): { stop(): Promise<HandshakeResult[]> } {
  const results: HandshakeResult[] = [];
  let running = true;
  const loop = async (n: SslaccNode) => {
    // Also ends with the process (a failed assertion that skips stop() must not leave a loop spinning on refusals).
    while (running && !skip(n.id) && n.proc.exitCode === null && n.proc.signalCode === null) {
      const startedAt = performance.now();
      const r = await handshakeOnce(n.tlsPort);
      results.push({ node: n.id, startedAt, endedAt: performance.now(), ...r });
      if (!r.ok) await new Promise((res) => setTimeout(res, 5));
    }
  };
  const loops = nodes.flatMap((n) => Array.from({ length: perNode }, () => loop(n)));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}
