// Bulk throughput: MB/s of one large download through each candidate
// (`npm run bench:throughput -- [--json FILE] [--repeats N] [--mib N] [--only NAME] [--sslacc-args "--max-buffer 1m ..."]
// [--node-args "..."] [--baseline DIST] [--baseline-args "..."] [--baseline-node-args "..."]`: also run
// another build's dist/, or this one with other arguments, as "base-native", for an A/B in the same
// run; as in bench/handshake.ts).
//
//   curl (TLS 1.2 AES128-SHA) ──> candidate ──> backend: GET /bytes/N, N bytes as fast as taken
//
// Same candidates and interleaving as bench/handshake.ts; the reference is
// the plain Node `tls` proxy measured in the same run. curl writes to
// /dev/null and reports its average download speed.
import { spawn } from "node:child_process";
import { benchArgs, machine, median, printRows, round, writeJson } from "./harness.js";
import { benchIdentity, cpuMs, startBackendProc, startHaproxy, startNodeTls, startSslacc, tempDir, type ServerProc } from "./servers.js";

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function download(port: number, bytes: number): Promise<{ mbPerSec: number; ok: boolean }> {
  return new Promise((resolve) => {
    const p = spawn("curl", [
      "-sS", "-k", "--no-sessionid", "--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-SHA", "-o", "/dev/null",
      "-w", "%{size_download} %{time_total}", `https://127.0.0.1:${port}/bytes/${bytes}`,
    ]);
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    p.on("close", (code) => {
      const [size, secs] = out.trim().split(" ").map(Number);
      resolve({ mbPerSec: size! / secs! / 1e6, ok: code === 0 && size === bytes });
    });
  });
}

async function main(): Promise<void> {
  const args = benchArgs();
  const mib = Number(argValue("--mib") ?? 256);
  const bytes = mib * 2 ** 20;
  const dir = tempDir();
  const id = benchIdentity(dir);
  const backend = await startBackendProc();
  const all: (ServerProc | null)[] = [
    await startSslacc(id, backend.port, {
      provider: "native", extraArgs: (argValue("--sslacc-args") ?? "").split(" ").filter(Boolean), nodeArgs: (argValue("--node-args") ?? "").split(" ").filter(Boolean),
    }),
    argValue("--baseline") !== undefined
      ? await startSslacc(id, backend.port, {
          provider: "native", dist: argValue("--baseline")!, name: "base-native",
          extraArgs: (argValue("--baseline-args") ?? argValue("--sslacc-args") ?? "").split(" ").filter(Boolean),
          nodeArgs: (argValue("--baseline-node-args") ?? argValue("--node-args") ?? "").split(" ").filter(Boolean),
        })
      : null,
    await startNodeTls(id, backend.port),
    await startHaproxy(id, backend.port, dir),
  ];
  const servers = all.filter((s): s is ServerProc => s !== null && (args.only === undefined || s.name.includes(args.only)));
  const samples = new Map<string, { mbPerSec: number; cpuMsPerMiB: number; ok: boolean }[]>(servers.map((s) => [s.name, []]));
  try {
    for (const s of servers) await download(s.port, 16 * 2 ** 20); // warm-up
    for (let r = 0; r < args.repeats; r++) {
      for (const s of servers) {
        const c0 = cpuMs(s.pid);
        const x = await download(s.port, bytes);
        const cpu = cpuMs(s.pid) - c0;
        samples.get(s.name)!.push({ ...x, cpuMsPerMiB: cpu / mib });
        console.error(`run ${r + 1}/${args.repeats} ${s.name}: ${x.mbPerSec.toFixed(1)} MB/s${x.ok ? "" : " (FAILED)"}`);
      }
    }
  } finally {
    for (const s of all) await s?.stop();
    await backend.stop();
  }
  const results = servers.map((s) => {
    const xs = samples.get(s.name)!;
    return {
      name: s.name,
      mbPerSec: round(median(xs.map((x) => x.mbPerSec))),
      cpuMsPerMiB: round(median(xs.map((x) => x.cpuMsPerMiB)), 2),
      errors: xs.filter((x) => !x.ok).length,
      samples: xs.map((x) => round(x.mbPerSec)),
    };
  });
  const ref = results.find((r) => r.name === "node-tls")?.mbPerSec;
  printRows(
    ["candidate", "MB/s", "CPU-ms/MiB", "errors", "vs node-tls", "runs"],
    results.map((r) => [r.name, r.mbPerSec.toFixed(1), r.cpuMsPerMiB.toFixed(2), String(r.errors), ref ? (r.mbPerSec / ref).toFixed(2) : "-", r.samples.join(" ")]),
  );
  console.log(`client: curl, one ${mib} MiB download per run, median of ${args.repeats}; TLS 1.2 AES128-SHA`);
  if (args.json) writeJson(args.json, { machine: machine(), download: { mib, repeats: args.repeats }, results });
}

await main();
