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
import { argValue, argWords, benchArgs, interleaved, machine, median, printRows, round, writeJson } from "./harness.js";
import { benchIdentity, cpuMs, startBackendProc, startHaproxy, startNodeTls, startSslacc, tempDir, type ServerProc } from "./servers.js";

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
      provider: "native", extraArgs: argWords(argValue("--sslacc-args")), nodeArgs: argWords(argValue("--node-args")),
    }),
    argValue("--baseline") !== undefined
      ? await startSslacc(id, backend.port, {
          provider: "native", dist: argValue("--baseline")!, name: "base-native",
          extraArgs: argWords(argValue("--baseline-args") ?? argValue("--sslacc-args")),
          nodeArgs: argWords(argValue("--baseline-node-args") ?? argValue("--node-args")),
        })
      : null,
    await startNodeTls(id, backend.port),
    await startHaproxy(id, backend.port, dir),
  ];
  const measured = await interleaved(all, backend, {
    repeats: args.repeats, only: args.only,
    warmUp: (s) => download(s.port, 16 * 2 ** 20),
    run: async (s) => {
      const c0 = cpuMs(s.pid);
      const x = await download(s.port, bytes);
      return { ...x, cpuMsPerMiB: (cpuMs(s.pid) - c0) / mib };
    },
    describe: (x) => `${x.mbPerSec.toFixed(1)} MB/s${x.ok ? "" : " (FAILED)"}`,
  });
  const results = measured.map(({ server: s, samples: xs }) => ({
    name: s.name,
    mbPerSec: round(median(xs.map((x) => x.mbPerSec))),
    cpuMsPerMiB: round(median(xs.map((x) => x.cpuMsPerMiB)), 2),
    errors: xs.filter((x) => !x.ok).length,
    samples: xs.map((x) => round(x.mbPerSec)),
  }));
  const ref = results.find((r) => r.name === "node-tls")?.mbPerSec;
  printRows(
    ["candidate", "MB/s", "CPU-ms/MiB", "errors", "vs node-tls", "runs"],
    results.map((r) => [r.name, r.mbPerSec.toFixed(1), r.cpuMsPerMiB.toFixed(2), String(r.errors), ref ? (r.mbPerSec / ref).toFixed(2) : "-", r.samples.join(" ")]),
  );
  console.log(`client: curl, one ${mib} MiB download per run, median of ${args.repeats}; TLS 1.2 AES128-SHA`);
  if (args.json) writeJson(args.json, { machine: machine(), download: { mib, repeats: args.repeats }, results });
}

await main();
