// Full TLS handshakes per second and server CPU per handshake
// (`npm run bench:handshake -- [--json FILE] [--repeats N] [--ms N] [--only NAME] [--sslacc-args "--max-buffer 1m ..."] [--client s_time|node] [--conc N (16)]
// [--node-args "--max-semi-space-size=16 ..."] [--baseline DIST [--baseline-wasm] [--baseline-args "..."] [--baseline-node-args "..."]]`:
// also run another build's dist/, e.g. a `git worktree` of the previous commit built with tsc (or this
// one with other --baseline-args / --baseline-node-args), as "base-native" (and "base-wasm"), for an
// A/B in the same run).
//
//   load client (never resumes) ──TLS 1.2 AES128-SHA, RSA-2048──> candidate ──> backend (100-byte reply, close)
//
// Candidates run side by side in one run, interleaved round-robin (the
// machine is shared and noisy; bench/harness.ts), medians of --repeats runs:
// sslacc with native RSA, sslacc with WASM RSA, a plain Node `tls` proxy
// (bench/node-tls-proxy.ts), HAProxy and nginx (stream module) if installed.
//
// Client: `openssl s_time -new` (a new session per connection; with the
// -no-CA* flags it does not rescan /etc/ssl/certs each time, NOTES.md),
// --conc processes in parallel; or --client node: tls.connect without a
// session, --conc connections in flight. Server CPU is the candidate
// process's utime+stime over the run (/proc/PID/stat), all threads.
import { spawn } from "node:child_process";
import { connect } from "node:tls";
import { argValue, argWords, benchArgs, interleaved, machine, median, printRows, round, writeJson } from "./harness.js";
import { benchIdentity, serverCpuMs, startBackendProc, startHaproxy, startNginx, startNodeTls, startSslacc, tempDir, type ServerProc } from "./servers.js";

interface Sample {
  readonly handshakes: number;
  readonly seconds: number;
  readonly cpuMs: number;
  readonly errors: number;
}

/** P parallel `openssl s_time -new` for `ms`; connections counted from their reports. */
async function sTime(port: number, ms: number, conc: number): Promise<{ handshakes: number; errors: number }> {
  const secs = Math.max(1, Math.round(ms / 1000));
  const one = () => new Promise<{ handshakes: number; errors: number }>((resolve) => {
    const p = spawn("openssl", [
      "s_time", "-connect", `127.0.0.1:${port}`, "-new", "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0", "-www", "/",
      "-time", String(secs), "-no-CAfile", "-no-CApath", "-no-CAstore",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    p.on("close", (code) => {
      // "1234 connections in 5.01s; 246.3 connections/user sec, bytes read 123400"
      const m = /(\d+) connections in [\d.]+s;/.exec(out);
      const errors = (out.match(/ERROR|error/g) ?? []).length + (code === 0 ? 0 : 1);
      resolve({ handshakes: m ? Number(m[1]) : 0, errors });
    });
  });
  const rs = await Promise.all(Array.from({ length: conc }, one));
  return { handshakes: rs.reduce((a, r) => a + r.handshakes, 0), errors: rs.reduce((a, r) => a + r.errors, 0) };
}

/** `conc` Node TLS clients in a loop, no session reuse: connect, GET, read to the end. */
async function nodeClients(port: number, ms: number, conc: number): Promise<{ handshakes: number; errors: number }> {
  const end = Date.now() + ms;
  let handshakes = 0;
  let errors = 0;
  const one = () => new Promise<void>((resolve) => {
    let got = 0;
    const s = connect({
      host: "127.0.0.1", port, rejectUnauthorized: false, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES128-SHA:@SECLEVEL=0",
    }, () => s.end("GET / HTTP/1.0\r\n\r\n"));
    s.on("data", (d: Buffer) => (got += d.length));
    s.on("error", () => {});
    s.on("close", () => {
      if (got >= 100) handshakes++;
      else errors++;
      resolve();
    });
  });
  await Promise.all(Array.from({ length: conc }, async () => {
    while (Date.now() < end) await one();
  }));
  return { handshakes, errors };
}

async function sample(server: ServerProc, client: string, ms: number, conc: number): Promise<Sample> {
  const cpu0 = serverCpuMs(server);
  const t0 = process.hrtime.bigint();
  const r = client === "node" ? await nodeClients(server.port, ms, conc) : await sTime(server.port, ms, conc);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { handshakes: r.handshakes, seconds, cpuMs: serverCpuMs(server) - cpu0, errors: r.errors };
}

async function main(): Promise<void> {
  const args = benchArgs();
  const client = argValue("--client") ?? "s_time";
  if (client !== "s_time" && client !== "node") throw new RangeError(`--client must be s_time or node, got ${client}`);
  const ms = args.ms === 300 ? 5000 : args.ms; // harness default is for micro-benches
  const conc = Number(argValue("--conc") ?? 16);
  const shards = argValue("--shards");
  const rsaWorkers = argValue("--rsa-workers");
  const baseline = argValue("--baseline");
  const dir = tempDir();
  const id = benchIdentity(dir);
  const backend = await startBackendProc();
  const sslaccOpts = {
    ...(shards !== undefined && { shards: Number(shards) }),
    ...(rsaWorkers !== undefined && { rsaWorkers: Number(rsaWorkers) }),
    extraArgs: argWords(argValue("--sslacc-args")),
    nodeArgs: argWords(argValue("--node-args")),
  };
  const baselineArgs = argValue("--baseline-args");
  const baselineNodeArgs = argValue("--baseline-node-args");
  const baseOpts = {
    ...sslaccOpts,
    ...(baselineArgs !== undefined && { extraArgs: argWords(baselineArgs) }),
    ...(baselineNodeArgs !== undefined && { nodeArgs: argWords(baselineNodeArgs) }),
  };
  const all: (ServerProc | null)[] = [
    await startSslacc(id, backend.port, { provider: "native", ...sslaccOpts }),
    await startSslacc(id, backend.port, { provider: "wasm", ...sslaccOpts }),
    ...(baseline !== undefined
      ? [
          await startSslacc(id, backend.port, { provider: "native", ...baseOpts, dist: baseline, name: "base-native" }),
          process.argv.includes("--baseline-wasm") ? await startSslacc(id, backend.port, { provider: "wasm", ...baseOpts, dist: baseline, name: "base-wasm" }) : null,
        ]
      : []),
    await startNodeTls(id, backend.port),
    await startHaproxy(id, backend.port, dir),
    await startNginx(id, backend.port, dir),
  ];
  const measured = await interleaved(all, backend, {
    repeats: args.repeats, only: args.only,
    // Warm-up: JIT, WASM compile, RSA pool threads.
    warmUp: (s) => sample(s, client, 1000, conc),
    run: (s) => sample(s, client, ms, conc),
    describe: (x) => `${(x.handshakes / x.seconds).toFixed(0)}/s, ${(x.cpuMs / Math.max(1, x.handshakes)).toFixed(2)} CPU-ms/hs, ${x.errors} errors`,
  });
  const results = measured.map(({ server: s, samples: xs }) => ({
    name: s.name,
    handshakesPerSec: round(median(xs.map((x) => x.handshakes / x.seconds))),
    cpuMsPerHandshake: round(median(xs.map((x) => x.cpuMs / Math.max(1, x.handshakes))), 3),
    errors: xs.reduce((a, x) => a + x.errors, 0),
    samples: xs.map((x) => round(x.handshakes / x.seconds)),
  }));
  const ref = (name: string) => results.find((r) => r.name === name)?.handshakesPerSec;
  const ratio = (v: number, name: string) => {
    const b = ref(name);
    return b ? (v / b).toFixed(2) : "-";
  };
  printRows(
    ["candidate", "handshakes/s", "CPU-ms/hs", "errors", "vs node-tls", "vs haproxy", "vs nginx", "runs"],
    results.map((r) => [
      r.name, r.handshakesPerSec.toFixed(0), r.cpuMsPerHandshake.toFixed(2), String(r.errors),
      ratio(r.handshakesPerSec, "node-tls"), ratio(r.handshakesPerSec, "haproxy"), ratio(r.handshakesPerSec, "nginx"), r.samples.join(" "),
    ]),
  );
  console.log(`client: ${client} ×${conc}, ${ms} ms per run, median of ${args.repeats}; TLS 1.2 AES128-SHA, RSA-2048, 100-byte reply`);
  if (args.json) writeJson(args.json, { machine: machine(), client: { kind: client, concurrency: conc, msPerRun: ms, repeats: args.repeats }, results });
}

await main();
