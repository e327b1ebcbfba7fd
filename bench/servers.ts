// The processes the handshake and throughput benches drive, each in its own
// process so its CPU time can be read from /proc/PID/stat:
//
//   load client ──TLS──> candidate (sslacc-native | sslacc-wasm | node-tls | haproxy) ──TCP──> backend
//
// The backend answers a fixed 100-byte HTTP response to each connection
// (handshake bench) or N bytes for GET /bytes/N (throughput bench).
// Every candidate is given the same certificate (RSA-2048) and restricted to
// TLS 1.2 with AES128-SHA by the client.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as netConnect, createServer as netServer } from "node:net";
import { selfSignedCertificate } from "../src/cert.js";

export interface ServerProc {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Every process whose CPU counts (nginx's master and workers); default: `pid` alone. */
  readonly pids?: () => readonly number[];
  stop(): Promise<void>;
}

/** CPU time of a server, all its processes (see `pids`), ms. */
export function serverCpuMs(s: ServerProc): number {
  return (s.pids?.() ?? [s.pid]).reduce((a, pid) => {
    try {
      return a + cpuMs(pid);
    } catch {
      return a; // a worker that exited between the listing and the read
    }
  }, 0);
}

/** A free loopback port (bound and released). */
export async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Process CPU time (user + system, all threads) in ms, from /proc/PID/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at ") ".
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of proc(5), here 11 and 12 (0-based after the name).
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

export function benchIdentity(dir: string): { cert: string; key: string; combined: string } {
  const pair = selfSignedCertificate({ commonName: "localhost", altNames: ["127.0.0.1"], bits: 2048 });
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const combined = join(dir, "combined.pem");
  writeFileSync(cert, pair.certPem);
  writeFileSync(key, pair.keyPem);
  writeFileSync(combined, pair.certPem + pair.keyPem);
  return { cert, key, combined };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sslacc-bench-"));
}

/** Spawns `cmd` and resolves once a line of its output matches `ready`. */
function spawnReady(name: string, port: number, cmd: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, launcher: readonly string[] = []): Promise<ServerProc> {
  return new Promise((resolve, reject) => {
    const [bin, ...pre] = launcher.length > 0 ? launcher : [cmd];
    const p: ChildProcess = spawn(bin!, launcher.length > 0 ? [...pre, cmd, ...args] : args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        p.stdout?.off("data", onData);
        p.stderr?.off("data", onData);
        p.stdout?.resume();
        p.stderr?.resume();
        resolve({
          name, port, pid: p.pid!,
          stop: () => new Promise<void>((r) => {
            if (p.exitCode !== null) return r();
            p.once("exit", () => r());
            p.kill("SIGKILL");
          }),
        });
      }
    };
    p.stdout?.on("data", onData);
    p.stderr?.on("data", onData);
    p.once("exit", (code) => reject(new Error(`${name}: exited (${code}) before ready: ${out.slice(-2000)}`)));
    p.once("error", reject);
  });
}

const here = new URL(".", import.meta.url).pathname;

export async function startBackendProc(): Promise<ServerProc> {
  const port = await freePort();
  return spawnReady("backend", port, process.execPath, [join(here, "bench-backend.js"), String(port)], /ready/);
}

export interface SslaccOptions {
  readonly provider: "native" | "wasm";
  readonly shards?: number;
  readonly rsaWorkers?: number;
  readonly extraArgs?: readonly string[];
  readonly nodeArgs?: readonly string[];
  /** Another build's dist/ (an A/B baseline, bench/handshake.ts --baseline) and the name it runs under. */
  readonly dist?: string;
  readonly name?: string;
  /** Admin endpoint HOST:PORT (default off). */
  readonly admin?: string;
  /** Listen port (default: a free one). */
  readonly port?: number;
  /** Command prefix the process is exec'ed through (a cgroup, bench/cgroup.ts). */
  readonly launcher?: readonly string[];
}

export async function startSslacc(id: { cert: string; key: string }, backendPort: number, o: SslaccOptions): Promise<ServerProc> {
  const port = o.port ?? (await freePort());
  const args = [
    ...(o.nodeArgs ?? []), o.dist !== undefined ? join(o.dist, "src/cli.js") : join(here, "../src/cli.js"), "start", "--listen", `127.0.0.1:${port}`, "--backend", `127.0.0.1:${backendPort}`,
    "--cert", id.cert, "--key", id.key, "--rsa-provider", o.provider, "--admin", o.admin ?? "off",
    ...(o.shards !== undefined ? ["--shards", String(o.shards)] : []),
    ...(o.rsaWorkers !== undefined ? ["--rsa-workers", String(o.rsaWorkers)] : []),
    ...(o.extraArgs ?? []),
  ];
  return spawnReady(o.name ?? `sslacc-${o.provider}`, port, process.execPath, args, /listening on/, { SSLACC_LOG_LEVEL: "warn" }, o.launcher);
}

export async function startNodeTls(id: { cert: string; key: string }, backendPort: number): Promise<ServerProc> {
  const port = await freePort();
  return spawnReady("node-tls", port, process.execPath, [join(here, "node-tls-proxy.js"), id.cert, id.key, String(port), String(backendPort)], /ready/);
}

/** Resolves once something accepts on the port (for servers that print nothing when ready); rejects if `p` exits first. */
function waitForPort(p: ChildProcess, name: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    p.once("error", reject);
    p.once("exit", (code) => reject(new Error(`${name} exited (${code})`)));
    const poll = () => {
      const s = netConnect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve()));
      s.once("error", () => setTimeout(poll, 50));
    };
    poll();
  });
}

function killable(name: string, port: number, p: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): ServerProc {
  return {
    name, port, pid: p.pid!,
    stop: () => new Promise<void>((r) => {
      if (p.exitCode !== null || p.signalCode !== null) return r();
      p.once("exit", () => r());
      p.kill(signal);
    }),
  };
}

/** HAProxy in TCP mode, SSL offload, 2 threads (one per core here), no session cache help (the client never resumes). */
export async function startHaproxy(id: { combined: string }, backendPort: number, dir: string): Promise<ServerProc | null> {
  const port = await freePort();
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, [
    "global",
    "  nbthread 2",
    "  maxconn 4000",
    "defaults",
    "  mode tcp",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 30s",
    "frontend fe",
    `  bind 127.0.0.1:${port} ssl crt ${id.combined} ssl-min-ver TLSv1.0 ciphers AES128-SHA:@SECLEVEL=0`,
    "  default_backend be",
    "backend be",
    `  server s1 127.0.0.1:${backendPort}`,
    "",
  ].join("\n"));
  try {
    // -db: foreground, no daemon; haproxy prints nothing when ready, so wait for the port.
    const p = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "ignore", "inherit"] });
    await waitForPort(p, "haproxy", port);
    return killable("haproxy", port, p);
  } catch (e) {
    console.error(`haproxy not run: ${(e as Error).message} (apt-get install -y haproxy)`);
    return null;
  }
}

/**
 * nginx as a TLS-terminating TCP proxy (the stream module, as HAProxy's tcp
 * mode), one worker process per core, if nginx and libnginx-mod-stream are
 * installed (`apt-get install nginx-light libnginx-mod-stream`). Its CPU is
 * the master's and the workers' (`pids`).
 */
export async function startNginx(id: { cert: string; key: string }, backendPort: number, dir: string): Promise<ServerProc | null> {
  const module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  const port = await freePort();
  const cfg = join(dir, "nginx.conf");
  writeFileSync(cfg, [
    `load_module ${module};`,
    "daemon off;",
    "master_process on;",
    "worker_processes auto;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "nginx-error.log")} warn;`,
    "events { worker_connections 4096; }",
    "stream {",
    `  server {`,
    `    listen 127.0.0.1:${port} ssl;`,
    `    ssl_certificate ${id.cert};`,
    `    ssl_certificate_key ${id.key};`,
    "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;",
    "    ssl_ciphers AES128-SHA:@SECLEVEL=0;",
    `    proxy_pass 127.0.0.1:${backendPort};`,
    "  }",
    "}",
    "",
  ].join("\n"));
  try {
    if (!existsSync(module)) throw new Error(`${module} missing`);
    const p = spawn("nginx", ["-c", cfg, "-p", dir, "-e", join(dir, "nginx-error.log")], { stdio: ["ignore", "ignore", "inherit"] });
    await waitForPort(p, "nginx", port);
    // SIGTERM: the master stops its workers (SIGKILL would leave them running).
    return { ...killable("nginx", port, p, "SIGTERM"), pids: () => childPids(p.pid!) };
  } catch (e) {
    console.error(`nginx not run: ${(e as Error).message} (apt-get install -y nginx-light libnginx-mod-stream)`);
    return null;
  }
}

/** A process and its direct children (nginx's workers), from /proc. */
function childPids(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return [pid, ...(kids === "" ? [] : kids.split(" ").map(Number))];
  } catch {
    return [pid];
  }
}
