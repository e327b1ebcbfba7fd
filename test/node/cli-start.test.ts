// `sslacc start` / `sslacc status`: the embedded default (certificate
// generated under the state directory and reused, demo backend, curl line),
// clean stop on SIGTERM, and validation messages naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS, parseStartConfig, StartConfigError } from "../../src/node/config.js";
import { curl } from "./helpers.js";

const cli = new URL("../../src/cli.js", import.meta.url).pathname;

/** Starts the daemon; resolves once it printed its curl line. */
function startCli(cwd: string, args: string[]): Promise<{ url: string; admin: string; stop: (sig: NodeJS.Signals) => Promise<number | null>; out: () => string }> {
  const p = spawn(process.execPath, [cli, "start", ...args], { cwd });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /try: curl -k (\S+)/.exec(out);
      const a = /status --admin (\S+)\)/.exec(out);
      if (m && a) resolve({
        url: m[1]!, admin: a[1]!, out: () => out,
        stop: (sig) => new Promise((r) => {
          p.once("exit", (code) => r(code));
          p.kill(sig);
        }),
      });
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    p.once("exit", (code) => reject(new Error(`sslacc start exited ${code}: ${out}`)));
  });
}

test("sslacc start: embedded default (generated certificate reused, demo backend), status, SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-start-"));
  const args = ["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--shards", "2", "--rsa-workers", "1"];
  const a = await startCli(dir, args);
  const r = await curl([a.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hello from the sslacc demo backend/);
  const st = spawnSync(process.execPath, [cli, "status", "--admin", a.admin], { encoding: "utf8" });
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /shards: #0 up \(512 buckets, 0 deaths\), #1 up \(512 buckets, 0 deaths\)/);
  assert.match(st.stdout, /handshakes=1/);
  assert.equal(await a.stop("SIGTERM"), 0, "clean exit on SIGTERM");
  const cert1 = readFileSync(join(dir, ".sslacc", "cert.pem"), "utf8");
  assert.match(a.out(), /generated a self-signed certificate/);
  const b = await startCli(dir, args);
  assert.doesNotMatch(b.out(), /generated/, "the certificate is reused");
  assert.equal(readFileSync(join(dir, ".sslacc", "cert.pem"), "utf8"), cert1);
  assert.equal((await curl([b.url])).code, 0);
  assert.equal(await b.stop("SIGINT"), 0, "clean exit on SIGINT");
});

test("sslacc start: every bad field is named", () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-bad-"));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "start", ...args], { encoding: "utf8", cwd: dir, timeout: 10_000 });
  const cases: [string[], RegExp][] = [
    [["--shards", "0"], /--shards: expected an integer from 1 to 256, got "0"/],
    [["--rsa-workers", "x"], /--rsa-workers: expected an integer/],
    [["--rsa-provider", "gpu"], /--rsa-provider: expected wasm or native, got "gpu"/],
    [["--listen", "8443"], /--listen: expected HOST:PORT/],
    [["--backend", "127.0.0.1:70000"], /--backend: port 70000 is above 65535/],
    [["--cert", "c.pem"], /--key: --cert and --key go together/],
    [["--cert", "nope.pem", "--key", "nope.pem"], /--cert: cannot read nope.pem/],
    [["--config", "missing.json"], /--config: cannot read missing.json/],
    [["--max-connections", "0"], /--max-connections: expected an integer from 1 to 1000000/],
    [["--handshake-timeout", "soon"], /--handshake-timeout: expected a duration/],
    [["--idle-timeout", "5ms"], /--idle-timeout: expected a duration from 10 ms/],
    [["--backend-connect-timeout", "3h"], /--backend-connect-timeout: expected a duration/],
    [["--max-buffer", "1k"], /--max-buffer: expected a byte count from 32768/],
    [["--session-cache-size", "0"], /--session-cache-size: expected an integer from 1 to 10000000/],
    [["--session-ttl", "500ms"], /--session-ttl: expected a duration from 1000 ms/],
    [["--poison-limit", "0"], /--poison-limit: expected an integer from 1 to 100/],
    [["--shard-respawn", "1s", "--shard-respawn-max", "200ms"], /--shard-respawn-max: must be at least the first respawn delay \(1000 ms\), got 200 ms/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
  }
  writeFileSync(join(dir, "c.json"), JSON.stringify({ shards: 2, colour: "blue" }));
  const r = run("--config", "c.json");
  assert.match(r.stderr, /c\.json: colour: unknown field/);
  writeFileSync(join(dir, "d.json"), "{ nope");
  assert.match(run("--config", "d.json").stderr, /--config: d\.json is not JSON/);
});

test("start config: flags win over the file, the file over defaults", () => {
  const c = parseStartConfig({ shards: "3" }, { shards: 5, rsaWorkers: 2, listen: "[::1]:9443", backend: "10.0.0.1:80", admin: "off" }, "f.json");
  assert.equal(c.shards, 3);
  assert.equal(c.rsaWorkers, 2);
  assert.deepEqual(c.listen, { address: "::1", port: 9443 });
  assert.deepEqual(c.backend, { address: "10.0.0.1", port: 80 });
  assert.equal(c.admin, null);
  assert.equal(c.rsaProvider, "native");
  // 0: RSA in the shards (an option; the default is a pool of min(4, cores) threads, config.ts).
  assert.equal(parseStartConfig({ rsaWorkers: "0" }, undefined).rsaWorkers, 0);
  assert.equal(parseStartConfig({}, undefined).rsaWorkers, 0, "native RSA runs in the shards by default");
  assert.equal(parseStartConfig({ rsaProvider: "wasm" }, undefined).rsaWorkers, Math.max(1, Math.min(4, availableParallelism())));
  assert.throws(() => parseStartConfig({}, { rsaWorkers: -1 }, "f.json"), /f\.json: rsaWorkers: expected an integer from 0 to 256/);
  assert.throws(() => parseStartConfig({}, { shards: 1.5 }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: shards");
  assert.throws(() => parseStartConfig({}, [1], "f.json"), /f\.json: expected a JSON object/);
});

test("start config: limits from flags and file, with defaults", () => {
  const d = parseStartConfig({}, undefined);
  assert.deepEqual(d.limits, DEFAULT_LIMITS);
  const c = parseStartConfig(
    { handshakeTimeout: "2s", maxBuffer: "64k", sessionTtl: "5m" },
    { idleTimeout: "2m", maxConnections: 50, backendConnectTimeout: 750, maxBuffer: "1m", sessionCacheSize: 300, sessionTtl: "1m" }, "f.json",
  );
  assert.deepEqual(c.limits, {
    maxConnections: 50, handshakeTimeoutMs: 2000, idleTimeoutMs: 120_000, backendConnectTimeoutMs: 750, maxBufferBytes: 65536, drainTimeoutMs: 30_000,
    sessionCacheSize: 300, sessionTtlMs: 300_000,
  });
  assert.throws(() => parseStartConfig({}, { maxBuffer: "1g" }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: maxBuffer");
  assert.throws(() => parseStartConfig({}, { sessionCacheSize: "many" }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: sessionCacheSize");
  assert.throws(() => parseStartConfig({}, { sessionTtl: "2d" }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: sessionTtl");
});

test("start config: shard respawn backoff and poison limit from flags and file, with defaults", () => {
  assert.deepEqual(parseStartConfig({}, undefined).shardLifecycle, { respawn: { initialMs: 100, maxMs: 30_000, stableMs: 10_000 }, poisonLimit: 3 });
  const c = parseStartConfig({ poisonLimit: "5" }, { shardRespawn: "250ms", shardRespawnMax: "1m", poisonLimit: 2 }, "f.json");
  assert.deepEqual(c.shardLifecycle, { respawn: { initialMs: 250, maxMs: 60_000, stableMs: 10_000 }, poisonLimit: 5 });
  assert.equal(parseStartConfig({ shardRespawn: "45s" }, undefined).shardLifecycle.respawn.maxMs, 45_000, "the cap follows a larger first delay");
  assert.throws(() => parseStartConfig({}, { shardRespawnMax: "5ms", shardRespawn: "10ms" }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: shardRespawnMax");
  assert.throws(() => parseStartConfig({}, { poisonLimit: "x" }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: poisonLimit");
});
