// Measurement helpers shared by the benches.
//
// The machine is shared and noisy, so every bench measures all candidates
// interleaved in one run (round-robin, several repeats) and reports medians
// and ratios against a reference measured in the same run.
import { cpus, totalmem } from "node:os";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import cliProgress from "cli-progress";

const { SingleBar, Presets } = cliProgress;

export interface Candidate {
  readonly primitive: string;
  readonly provider: string;
  /** Bytes processed per op (0 for per-op primitives like RSA). */
  readonly size: number;
  readonly run: () => void;
}

export interface Result {
  readonly primitive: string;
  readonly provider: string;
  readonly size: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number | null;
  readonly ratioVsNative: number | null;
  /** Set by benches that have a pure-JS baseline (node-forge). */
  readonly ratioVsForge?: number | null;
  readonly samples: readonly number[];
}

export function machine() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    openssl: process.versions.openssl,
    date: new Date().toISOString(),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Ops/s of `fn` over roughly `ms` milliseconds (after one warm-up call). */
export function opsPerSecond(fn: () => void, ms: number): number {
  fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  // Check the clock every few calls so cheap ops are not dominated by hrtime.
  let batch = 1;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    elapsed = process.hrtime.bigint() - start;
    if (elapsed < budget / 20n) batch *= 2;
  }
  return n / (Number(elapsed) / 1e9);
}

/**
 * Round-robin over the candidates `repeats` times, `ms` each turn; the
 * reference for each (primitive, size) is the candidate named `reference`.
 */
export function measure(candidates: readonly Candidate[], opts: { repeats: number; ms: number; reference: string }): Result[] {
  const samples = candidates.map(() => [] as number[]);
  for (let r = 0; r < opts.repeats; r++) {
    candidates.forEach((c, i) => samples[i]!.push(opsPerSecond(c.run, opts.ms)));
  }
  const medians = samples.map(median);
  return candidates.map((c, i) => {
    const ref = candidates.findIndex((o) => o.primitive === c.primitive && o.size === c.size && o.provider === opts.reference);
    const ops = medians[i]!;
    return {
      primitive: c.primitive,
      provider: c.provider,
      size: c.size,
      opsPerSec: round(ops),
      mbPerSec: c.size > 0 ? round((ops * c.size) / 1e6) : null,
      ratioVsNative: ref >= 0 ? round(ops / medians[ref]!, 3) : null,
      samples: samples[i]!.map((x) => round(x)),
    };
  });
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function printTable(results: readonly Result[]): void {
  const withForge = results.some((r) => r.ratioVsForge !== undefined);
  const ratio = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(3));
  const rows = results.map((r) => [
    r.primitive,
    r.provider,
    r.size ? String(r.size) : "-",
    r.opsPerSec.toFixed(0),
    r.mbPerSec === null ? "-" : r.mbPerSec.toFixed(1),
    ratio(r.ratioVsNative),
    ...(withForge ? [ratio(r.ratioVsForge)] : []),
  ]);
  const head = ["primitive", "provider", "size", "ops/s", "MB/s", "vs native", ...(withForge ? ["vs forge"] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
}

/** `--json FILE`, `--repeats N`, `--ms N`, `--only SUBSTR` from argv. */
export function benchArgs(argv = process.argv.slice(2)) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (flag: string, dflt: number) => {
    const v = get(flag);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  return { json: get("--json"), repeats: int("--repeats", 3), ms: int("--ms", 300), only: get("--only") };
}

/** A plain table: the first column left-aligned, the others right-aligned. */
export function printRows(head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

/**
 * A progress bar on stderr while a bench runs (cli-progress); without a
 * terminal, one line per step instead, so logs still show where it is.
 */
export function progress(label: string, total: number): { step(what: string): void; stop(): void } {
  if (!process.stderr.isTTY) {
    let i = 0;
    return { step: (what) => console.error(`${label} ${++i}/${total} ${what}`), stop: () => {} };
  }
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {what}`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  bar.start(total, 0, { what: "" });
  return { step: (what) => bar.increment(1, { what }), stop: () => bar.stop() };
}

/** The word after `flag` in argv, or undefined. */
export function argValue(flag: string, argv = process.argv): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A flag whose value is a space-separated list of arguments (`--sslacc-args "--shards 2"`); [] when absent. */
export function argWords(value: string | undefined): string[] {
  return (value ?? "").split(" ").filter(Boolean);
}

/** What the server benches measure: a name, and a way to stop it (bench/servers.ts ServerProc). */
export interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

/**
 * The server benches' loop (bench/handshake.ts, bench/throughput.ts): the
 * candidates of `all` that exist (null: not installed) and match `--only`,
 * one warm-up each, then `repeats` rounds measuring every candidate once per
 * round — interleaved, so the shared machine's noise falls on all of them
 * alike. Whatever happens, every candidate and the backend are stopped.
 * Returns each candidate with its samples in the order taken.
 */
export async function interleaved<S extends Stoppable, T>(
  all: readonly (S | null)[],
  backend: Stoppable,
  o: { readonly repeats: number; readonly only: string | undefined; warmUp(s: S): Promise<unknown>; run(s: S): Promise<T>; describe(x: T): string },
): Promise<{ readonly server: S; readonly samples: T[] }[]> {
  const servers = all.filter((s): s is S => s !== null && (o.only === undefined || s.name.includes(o.only)));
  const out = servers.map((server) => ({ server, samples: [] as T[] }));
  try {
    for (const s of servers) await o.warmUp(s);
    for (let r = 0; r < o.repeats; r++) {
      for (const e of out) {
        const x = await o.run(e.server);
        e.samples.push(x);
        console.error(`run ${r + 1}/${o.repeats} ${e.server.name}: ${o.describe(x)}`);
      }
    }
  } finally {
    for (const s of all) await s?.stop();
    await backend.stop();
  }
  return out;
}
