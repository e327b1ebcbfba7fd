// Observability: GET /metrics on the admin endpoint exposes the counters
// after real traffic (curl handshakes, a garbage client, a refused
// backend), and the pino log is JSON with the fields named, filtered by level.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { Writable } from "node:stream";
import { startAdmin } from "../../src/node/admin.js";
import { createLogger } from "../../src/node/log.js";
import { createMetrics } from "../../src/node/metrics.js";
import { curl, startBackend, startDaemon } from "./helpers.js";

/** The value of one sample line (`name{labels} value`), 0 if absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test("metrics: /metrics exposes handshakes, failures, bytes, checkpoints, RSA latency after traffic", async () => {
  const backend = await startBackend();
  const metrics = createMetrics();
  const { daemon, port } = await startDaemon(backend.port, { observe: metrics.observer });
  const admin = await startAdmin(daemon, { address: "127.0.0.1", port: 0 }, metrics);
  try {
    for (let i = 0; i < 3; i++) assert.equal((await curl([`https://127.0.0.1:${port}/`])).code, 0);
    await new Promise<void>((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.end(Buffer.from("GET / HTTP/1.0\r\n\r\n")));
      s.on("data", () => {});
      s.on("close", () => resolve());
    });
    const res = await fetch(`http://127.0.0.1:${admin.endpoint.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    const text = await res.text();
    assert.equal(sample(text, 'sslacc_handshakes_total{kind="full"}'), 3, text);
    assert.ok(sample(text, "sslacc_connections_accepted_total") >= 4);
    assert.ok(sample(text, 'sslacc_bytes_total{direction="to_client"}') > 0);
    assert.ok(sample(text, 'sslacc_bytes_total{direction="from_backend"}') > 0);
    assert.ok(sample(text, "sslacc_checkpoints_total") >= 3 * 4);
    assert.equal(sample(text, 'sslacc_rsa_latency_seconds_count{result="ok"}'), 3);
    assert.ok(sample(text, "sslacc_checkpoint_latency_seconds_count") >= 3);
    const failures = text.split("\n").filter((l) => l.startsWith("sslacc_handshake_failures_total{"));
    assert.equal(failures.length, 1, text);
    assert.match(failures[0]!, /reason="[a-z_]+"} 1$/);
    for (const name of [
      "sslacc_connections_active", "sslacc_rsa_queue_depth", "sslacc_shard_restarts_total", "sslacc_failovers_total", "sslacc_backend_failures_total",
      "sslacc_bucket_moves_total", "sslacc_poison_aborts_total", "sslacc_no_shard_timeouts_total",
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    }
    // Shard lifecycle gauges, one sample per shard.
    assert.equal(sample(text, 'sslacc_shard_up{shard="0"}'), 1);
    assert.equal(sample(text, 'sslacc_shard_backoff_seconds{shard="0"}'), 0);
  } finally {
    await admin.close();
    await daemon.stop();
    await backend.close();
  }
});

test("log: pino JSON lines with fields, filtered by level", async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  // A backend nobody listens on: the failure is logged at warn; the
  // alert-closed connection at info is below the level and not written.
  const gone = (await startBackend());
  const port0 = gone.port;
  await gone.close();
  const { daemon, port } = await startDaemon(port0, { logger: createLogger("warn", sink) });
  try {
    const c = await curl([`https://127.0.0.1:${port}/`]);
    assert.notEqual(c.code, 0);
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const warn = lines.find((l) => l["msg"] === "backend failed; alerting the client");
    assert.ok(warn, JSON.stringify(lines));
    assert.equal(warn["level"], 40);
    assert.equal(warn["reason"], "refused");
    assert.equal(typeof warn["conn"], "number");
    assert.ok(lines.every((l) => (l["level"] as number) >= 40), JSON.stringify(lines));
  } finally {
    await daemon.stop();
  }
});
