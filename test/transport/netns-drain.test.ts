// SIGTERM of a clustered ctcp node (docs/ctcp.md "Drain"): three `sslacc
// start --transport ctcp` processes on one wire; the node holding a curl
// download is sent SIGTERM mid-transfer. It says LEAVE and stops (exit 0);
// a peer takes the connection over from its mirrored state at once (no
// death timeout) and the download completes byte-exact, the backend having
// seen the request once. The heir's /metrics count the takeover and the
// restore. The full rounds (downloads and uploads, kill -9 or SIGTERM) are
// `npm run proof:ctcp`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { failoverRound, startCtcpCluster } from "../../bench/wire/ctcp-cluster.js";
import { requireWire, teardown } from "../helpers/netns.js";

/** The value of one sample line (`name{labels} value`), 0 if absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test("real wire, three ctcp nodes: SIGTERM the owner mid-download — it leaves and exits 0, a peer takes the connection over, the download completes", async (t) => {
  if (!requireWire(t, ["socat", "ip", "curl"])) return;
  const later = teardown(t);
  const cluster = await startCtcpCluster(3);
  later(() => cluster.stop());
  // SIGTERM 350 ms after curl starts (failoverRound: 200 ms + rng() · 1.5 s): an 8 MiB download is under way then.
  const r = await failoverRound(cluster, 1, "down", 8 << 20, () => 0.1, { signal: "SIGTERM", restart: false });
  assert.ok(r.killed !== null, "the owner was found and sent SIGTERM");
  assert.ok(r.ok, r.detail);
  assert.equal(r.exitCode, 0);
  // LEAVE, not a silent stop: the node said so, and handed over the connection it held.
  assert.match(cluster.nodes[r.killed - 1]!.log, /SIGTERM, draining 1 connection \(deadline \d+ ms\)[\s\S]*left the cluster; the peers took 1 connection over; stopped/);
  const heirs = cluster.nodes.filter((p) => p.id !== r.killed);
  const texts = await Promise.all(heirs.map(async (p) => (await fetch(`http://127.0.0.1:${p.admin}/metrics`)).text()));
  const sum = (series: string) => texts.reduce((a, x) => a + sample(x, series), 0);
  assert.ok(sum("sslacc_ctcp_takeovers_total") >= 1, "a peer acquired the leaving node's buckets");
  assert.ok(sum('sslacc_ctcp_restores_total{how="eager"}') >= 1, "and restored the connection from its mirror");
});
