// The namespace failover proof of issue 7, opt-in (`npm run proof:ctcp --
// [--rounds 20] [--down-mib 64] [--up-mib 32] [--hs-mib 1] [--recovery
// eager|selective] [--json FILE] [--signal KILL|TERM] [--log-dir DIR]
// [--log-level info] [--openssl MIB]`): three `sslacc start
// --transport ctcp` processes on a hub-mode wire, curl in the client
// namespace, a real backend; each round kill -9s (or, with --signal TERM,
// drains: LEAVE and hand over) the node holding the connection at a random
// moment of a download and of an upload, then once more as soon as a
// connection exists (its TLS handshake; a download on odd rounds, an upload
// on even ones, of --hs-mib; with --openssl MIB, also an `openssl s_client`
// transfer of MIB killed the same way), restarts it, and checks curl's exit code, the
// SHA-256 and that the backend saw the request once. The nodes' logs go to
// DIR/node-N.log (default: a fresh directory under /tmp, printed). Needs root,
// /dev/net/tun, socat.
import { parseArgs } from "node:util";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wireMissing } from "../../bench/wire/netns.js";
import { failoverRound, startCtcpCluster, type RoundResult } from "../../bench/wire/ctcp-cluster.js";
import { xorshift32 } from "../../src/transport/wire/hub.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "20" },
    "down-mib": { type: "string", default: "64" },
    "up-mib": { type: "string", default: "32" },
    "hs-mib": { type: "string", default: "1" },
    recovery: { type: "string", default: "eager" },
    seed: { type: "string", default: "1" },
    json: { type: "string" },
    signal: { type: "string", default: "KILL" },
    "log-dir": { type: "string" },
    "log-level": { type: "string", default: "warn" },
    openssl: { type: "string", default: "0" },
  },
});
const why = wireMissing(["socat", "ip", "curl", "openssl"]);
if (why !== null) {
  console.error(`proof:ctcp cannot run: ${why}`);
  process.exit(1);
}
const recovery = values.recovery === "selective" ? "selective" : "eager";
if (values.signal !== "KILL" && values.signal !== "TERM") {
  console.error(`--signal: KILL or TERM, got ${JSON.stringify(values.signal)}`);
  process.exit(2);
}
const signal = values.signal === "TERM" ? "SIGTERM" : "SIGKILL";
const how = signal === "SIGTERM" ? "a SIGTERM (drain: LEAVE, handover)" : "a kill -9";
const rng = xorshift32(Number(values.seed) >>> 0 || 1);
const rounds = Number(values.rounds);
const opensslMib = Number(values.openssl);
if (!(opensslMib >= 0)) {
  console.error(`--openssl: MiB per round (0: none), got ${JSON.stringify(values.openssl)}`);
  process.exit(2);
}
const opensslRng = xorshift32((Number(values.seed) >>> 0 || 1) ^ 0x9e3779b9);
const results: RoundResult[] = [];
const logDir = values["log-dir"] ?? mkdtempSync(join(tmpdir(), "sslacc-proof-logs-"));
console.log(`node logs: ${logDir}/node-{1,2,3}.log`);
const cluster = await startCtcpCluster(3, { recovery, logDir, logLevel: values["log-level"] });
const started = Date.now();
// Ctrl-C (or a SIGTERM) still removes the namespaces, the TAPs and the nodes.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.log(`${sig}: stopping the cluster and removing the wire`);
    void cluster.stop().finally(() => process.exit(130));
  });
}
// A harness failure (the cluster did not settle after a restart) ends the run; what ran is still reported.
let aborted: string | null = null;
try {
  for (let r = 1; r <= rounds; r++) {
    const runs: Array<readonly ["down" | "up", number, "transfer" | "handshake", "curl" | "openssl"]> = [
      ["down", Number(values["down-mib"]), "transfer", "curl"],
      ["up", Number(values["up-mib"]), "transfer", "curl"],
      [r % 2 === 1 ? "down" : "up", Number(values["hs-mib"]), "handshake", "curl"],
    ];
    if (opensslMib > 0) runs.push([r % 2 === 1 ? "down" : "up", opensslMib, "transfer", "openssl"]);
    for (const [dir, mib, phase, client] of runs) {
      // Seed-compatible with runs before --openssl: its transfers draw from their own generator.
      const res = await failoverRound(cluster, r, dir, Math.round(mib * 2 ** 20), client === "openssl" ? opensslRng : rng, { signal, phase, client });
      results.push(res);
      console.log(`round ${r} ${client} ${dir} ${mib} MiB, ${signal} in the ${phase}: ${res.ok ? "ok" : "FAIL"} (node ${res.killed ?? "-"} at ${res.killAtMs ?? "-"} ms, ${res.seconds.toFixed(1)} s)${res.ok ? "" : ` ${res.detail}`}`);
    }
  }
} catch (e) {
  aborted = (e as Error).message;
  console.log(`aborted after ${results.length} transfers: ${aborted}`);
} finally {
  await cluster.stop();
}
const failed = results.filter((r) => !r.ok).length;
const minutes = (Date.now() - started) / 60_000;
console.log(`${results.length - failed}/${results.length} transfers survived ${how} of their node (${recovery} recovery), ${minutes.toFixed(1)} min`);
if (values.json) writeFileSync(values.json, JSON.stringify({ recovery, signal, rounds, downMib: Number(values["down-mib"]), upMib: Number(values["up-mib"]), hsMib: Number(values["hs-mib"]), opensslMib, minutes, aborted, results }, null, 2));
process.exit(failed === 0 && aborted === null ? 0 : 1);
