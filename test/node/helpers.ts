// Test fixtures for the daemon: a real HTTP backend, a daemon on loopback
// with a test certificate, and clients (curl, Node https) that report the
// SHA-256 of what they received.
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { request } from "node:https";
import { bucketOf } from "../../src/node/buckets.js";
import { Daemon, type DaemonOptions } from "../../src/node/daemon.js";
import { testIdentity } from "../helpers/engine-harness.js";

export { bodyBlocks, bodySha } from "../../bench/body.js";
import { backendRoutes, writeAll } from "../../bench/body.js";

export interface Backend {
  readonly port: number;
  /** Requests seen per x-req-id header (the backend must see each exactly once). */
  readonly seen: Map<string, number>;
  close(): Promise<void>;
}

/** A backend on 127.0.0.1 with backendRoutes (bench/body.ts); `seen` counts requests per x-req-id. */
export async function startBackend(): Promise<Backend> {
  const seen = new Map<string, number>();
  const server: Server = createServer(backendRoutes((id) => seen.set(id, (seen.get(id) ?? 0) + 1), { showPeer: false }));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export async function startDaemon(backendPort: number, extra: Partial<DaemonOptions> = {}): Promise<{ daemon: Daemon; port: number }> {
  const id = testIdentity();
  const daemon = new Daemon({
    listen: { address: "127.0.0.1", port: 0 }, backend: { address: "127.0.0.1", port: backendPort },
    certificates: [{ certPem: id.cert.certPem, keyPem: id.cert.keyPem }], shards: 2, rsaWorkers: 1, rsaProvider: "native", ...extra,
  });
  // A failed start stops what it started itself (daemon-start.test.ts).
  const addr = await daemon.start();
  return { daemon, port: addr.port };
}

export interface Fetched {
  readonly status: number;
  readonly sha: string;
  readonly length: number;
  readonly text: string;
}

/**
 * Every child process a test starts is killed after this long (SIGKILL), and
 * a Node client with no progress for this long is destroyed, so a stuck
 * client fails its test instead of hanging the run; it is far above what
 * any request here takes even on a starved machine.
 */
export const CHILD_TIMEOUT_MS = 120_000;

/** Node https client (OpenSSL underneath), never resuming. */
export function nodeFetch(port: number, path: string, opts: { id: string; method?: string; body?: Iterable<Buffer>; tls?: object } = { id: "x" }): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1", port, path, method: opts.method ?? "GET", rejectUnauthorized: false, agent: false,
      headers: { "x-req-id": opts.id, connection: "close" }, ...opts.tls,
    }, (res) => {
      const h = createHash("sha256");
      let length = 0;
      const head: Buffer[] = [];
      res.on("data", (d: Buffer) => {
        h.update(d);
        if (length < 4096) head.push(d);
        length += d.length;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, sha: h.digest("hex"), length, text: Buffer.concat(head).toString("latin1") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    // Nothing in either direction for this long: fail rather than hang the run.
    req.setTimeout(CHILD_TIMEOUT_MS, () => req.destroy(new Error(`${opts.id}: no progress in ${CHILD_TIMEOUT_MS} ms`)));
    if (opts.body) writeAll(req, opts.body);
    else req.end();
  });
}

/** curl -k; resolves with exit code (null → -1: killed, e.g. by the timeout), SHA-256 of stdout and stderr. */
export function curl(args: string[]): Promise<{ code: number; sha: string; length: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("curl", ["-sS", "-k", "--no-sessionid", ...args], { timeout: CHILD_TIMEOUT_MS, killSignal: "SIGKILL" });
    const h = createHash("sha256");
    let length = 0;
    let head = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      h.update(d);
      if (head.length < 4096) head += d.toString("latin1");
      length += d.length;
    });
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, sha: h.digest("hex"), length, stdout: head, stderr }));
  });
}

/** openssl s_client -quiet (stays until the server closes); resolves with stdout. */
export function sClient(port: number, input: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-quiet", ...extra], { timeout: CHILD_TIMEOUT_MS, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(input);
  });
}

/** Source ports handed out in this process, so two tests (or two calls) never pick the same one. */
const handedOut = new Set<number>();

/**
 * Client source ports on 127.0.0.1 whose bucket the daemon's current map
 * gives to `shard`: a test picks the shard that runs a connection (openssl
 * s_client -bind, curl --local-port, Node localPort). They come from below
 * Linux's ephemeral range (32768-60999), so no connection the kernel numbers
 * itself takes one, and below the daemons' own backend source ports
 * (SourcePorts: 20000-32767, on loopback), which every daemon on this
 * machine binds. A port can still be in use (another process bound it, or
 * an earlier connection from it is in TIME_WAIT): run the client through
 * fromSourcePort(), which retries from another port.
 */
export function clientPortsFor(daemon: Daemon, listen: number): (shard: number) => number {
  const map = daemon.status().bucketMap;
  const low = 10_000;
  const span = 10_000;
  let next = low + Math.floor(Math.random() * span);
  return (shard: number): number => {
    for (let n = 0; n < span; n++) {
      const p = low + ((next++ - low) % span);
      if (handedOut.has(p)) continue;
      if (map[bucketOf({ address: "127.0.0.1", port: p }, { address: "127.0.0.1", port: listen })] !== shard) continue;
      handedOut.add(p);
      return p;
    }
    throw new Error(`no unused client source port for shard ${shard}`);
  };
}

/** What a client run from a chosen source port reports when that port could not be bound. */
export class SourcePortInUse extends Error {
  constructor(readonly port: number, detail: string) {
    super(`source port ${port} in use: ${detail}`);
  }
}

/** Node's error for a bind clash (net.connect with localPort). */
export function isBindClash(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "EADDRINUSE" || code === "EADDRNOTAVAIL";
}

/**
 * Runs `client` from a port `pick()` chooses; when the port is in use (the
 * client threw SourcePortInUse or a Node bind error) it runs again from the
 * next port, up to `tries` times. Only a failed bind is retried: nothing
 * reached the daemon then, so the retry changes nothing the test checks.
 */
export async function fromSourcePort<T>(pick: () => number, client: (port: number) => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    const port = pick();
    try {
      return await client(port);
    } catch (e) {
      if (i >= tries || !(e instanceof SourcePortInUse || isBindClash(e))) throw e;
    }
  }
}

/** curl's exit code when it could not bind --local-port (CURLE_INTERFACE_FAILED). */
export const CURL_BIND_FAILED = 45;

/** curl from a chosen source port (`--local-port`), retried on a bind clash. */
export function curlFrom(pick: () => number, args: string[]): ReturnType<typeof curl> {
  return fromSourcePort(pick, async (port) => {
    const c = await curl(["--local-port", String(port), ...args]);
    if (c.code === CURL_BIND_FAILED) throw new SourcePortInUse(port, c.stderr);
    return c;
  });
}

/**
 * `p`, or a rejection naming `what` after `ms`: a test awaits its daemon's
 * events through this, so a missing event fails the test (and its finally
 * stops the daemon) rather than hanging the run.
 */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once every shard is up and every bucket is on its home shard:
 * a test that arms shards to die waits for this, so no connection is being
 * moved (run briefly by its old owner and its new one) when it starts.
 */
export async function settled(daemon: Daemon, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = daemon.status();
    if (st.shards.every((s) => s.state === "ready") && st.bucketMap.every((s, b) => s === b % st.shards.length)) return;
    if (Date.now() > until) throw new Error(`shards not settled after ${timeoutMs} ms: ${JSON.stringify(st.shards)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
