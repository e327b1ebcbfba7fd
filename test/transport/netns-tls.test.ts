// TLS over the real wire (docs/ctcp.md "The daemon on the wire"): curl and
// openssl s_client in the client namespace speak TLS to the VIP; one sslacc
// node (CtcpDaemon: the clustered-TCP node core, the relay and the TLS engine
// on our own TCP, RSA in the pool) relays to a real Node HTTP server in the
// backend namespace, whose own TCP connection comes from the VIP. Each test
// builds its own wire (scripts/ctcp-wire.sh) and removes it.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { CtcpDaemon } from "../../src/node/ctcp-daemon.js";
import { ctcpConfig } from "../../src/node/ctcp-config.js";
import { createLogger } from "../../src/node/log.js";
import { createCtcpMetrics, type CtcpMetrics } from "../../src/node/metrics.js";
import { freeUdpPort } from "../../src/transport/shell/tap-relay.js";
import { testIdentity } from "../helpers/engine-harness.js";
import { requireWire, startNsBackend, teardown, wireUp, type NsBackend, type Wire } from "../helpers/netns.js";
import { bodySha } from "../node/helpers.js";


const CLI = fileURLToPath(new URL("../../src/cli.js", import.meta.url));

/** One sslacc node alone on tap `tap` (it owns every bucket and answers ARP for the VIP). */
async function startCtcpNode(w: Wire, tap: string, backendPort: number, recovery: "eager" | "selective" = "eager"): Promise<CtcpDaemon> {
  const flags: Record<string, unknown> = {
    transport: "ctcp", vip: w.vip, wire: tap, wireNodePort: await freeUdpPort("127.0.0.1"), wireRelayPort: await freeUdpPort("127.0.0.1"), recovery,
  };
  const ctcp = ctcpConfig((k, flag) => (flags[k] !== undefined ? { name: flag, v: flags[k] } : undefined), { endpoint: { address: w.backendIp, port: backendPort }, field: "--backend" })!;
  const id = testIdentity();
  const d = new CtcpDaemon({
    ctcp, certificates: [{ certPem: id.cert.certPem, keyPem: id.cert.keyPem }], rsaWorkers: 1, rsaProvider: "native", cluster: null,
    logger: createLogger((process.env["SSLACC_LOG_LEVEL"] as "info" | undefined) ?? "silent"),
  });
  try {
    await d.start();
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

/** A wire with one node alone on it (its metrics bound) and the backend (port 8080) in its namespace, all removed when `t` ends; null (skipped) without a wire here. */
async function oneNode(t: TestContext, tools: string[]): Promise<{ w: Wire; backend: NsBackend; node: CtcpDaemon; metrics: CtcpMetrics } | null> {
  if (!requireWire(t, tools)) return null;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const backend = await startNsBackend(w, 8080);
  later(() => backend.stop());
  const node = await startCtcpNode(w, w.taps[0]!, 8080);
  later(() => node.stop());
  const metrics = createCtcpMetrics();
  metrics.bind(node);
  return { w, backend, node, metrics };
}

async function inClient(w: Wire, argv: string[], input?: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("ip", ["netns", "exec", w.clientNs, ...argv], { encoding: "buffer", maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

test("real wire, TLS: curl -k https://VIP/ through one ctcp node to a real backend in its namespace; 4 MiB download and 1 MiB upload byte-exact, each request seen once", async (t) => {
  const one = await oneNode(t, ["socat", "ip", "curl"]);
  if (one === null) return;
  const { w, backend, node } = one;

  const hello = await inClient(w, ["curl", "-sS", "-k", "--max-time", "30", "-H", "x-req-id: hello", `https://${w.vip}/`]);
  assert.equal(hello.code, 0, hello.stderr);
  // The backend's peer is the VIP (our TCP, §4.3-4.5), not the client.
  assert.match(hello.stdout.toString(), new RegExp(`^hello hello from ${w.vip.replace(/\./g, "\\.")}:\\d+\\n$`));

  const MiB = 1 << 20;
  const down = await inClient(w, ["curl", "-sS", "-k", "--max-time", "60", "-H", "x-req-id: down", "-o", "-", `https://${w.vip}/bytes/${4 * MiB}`]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(down.stdout.length, 4 * MiB);
  assert.equal(sha(down.stdout), bodySha(4 * MiB));

  const upload = Buffer.alloc(MiB, 7);
  const up = await inClient(w, ["sh", "-c", `head -c ${MiB} /dev/zero | tr '\\0' '\\7' | curl -sS -k --max-time 60 -H 'x-req-id: up' --data-binary @- https://${w.vip}/upload`]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout.toString(), `${sha(upload)} ${MiB}`);

  await sleep(100);
  assert.deepEqual([...backend.requests].sort(), ["down GET /bytes/4194304", "hello GET /", "up POST /upload"]);
  const s = node.status();
  assert.ok(s.counters.handshakes >= 3, JSON.stringify(s.counters));
  assert.equal(s.node!.linkDrops["tcp-checksum"] + s.node!.linkDrops["ipv4-checksum"], 0);
  assert.equal(s.wire.relay?.starts, 1, "socat ran once, never restarted");
});

test("real wire, TLS: openssl s_client (TLS 1.2, AES128-SHA) through one ctcp node", async (t) => {
  const one = await oneNode(t, ["socat", "ip", "openssl"]);
  if (one === null) return;
  const { w, backend } = one;
  const r = await inClient(
    w,
    ["openssl", "s_client", "-connect", `${w.vip}:443`, "-tls1_2", "-cipher", "AES128-SHA", "-quiet"],
    "GET / HTTP/1.1\r\nHost: x\r\nx-req-id: s_client\r\nConnection: close\r\n\r\n",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^HTTP\/1\.1 200 OK[\s\S]*hello s_client from /);
  assert.deepEqual(backend.requests, ["s_client GET /"]);
});

/** The value of one sample line (`name{labels} value`), 0 if absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test("real wire, TLS: the ctcp node's counters on /metrics (HELP/TYPE, moving with traffic)", async (t) => {
  const one = await oneNode(t, ["socat", "ip", "curl"]);
  if (one === null) return;
  const { w, node, metrics } = one;
  const before = await metrics.registry.metrics();
  for (const name of [
    "sslacc_handshakes_total", "sslacc_rsa_operations_total", "sslacc_connections_accepted_total", "sslacc_ctcp_drops_total", "sslacc_ctcp_link_drops_total",
    "sslacc_ctcp_records_total", "sslacc_ctcp_records_refused_total", "sslacc_ctcp_restores_total", "sslacc_ctcp_takeovers_total", "sslacc_ctcp_partial_acks_total",
    "sslacc_ctcp_forward_acks_total", "sslacc_ctcp_overheard_fed_total", "sslacc_ctcp_reopened_total", "sslacc_ctcp_bad_entries_total", "sslacc_ctcp_connection_failures_total", "sslacc_ctcp_frames_total",
    "sslacc_ctcp_relay_restarts_total", "sslacc_ctcp_connections", "sslacc_ctcp_draining",
  ]) {
    assert.match(before, new RegExp(`^# HELP ${name} \\S`, "m"), name);
    assert.match(before, new RegExp(`^# TYPE ${name} (counter|gauge)$`, "m"), name);
  }
  assert.equal(sample(before, 'sslacc_handshakes_total{kind="full"}'), 0);
  assert.equal(sample(before, 'sslacc_ctcp_connections{state="live"}'), 0);

  for (const id of ["m1", "m2"]) {
    const r = await inClient(w, ["curl", "-sS", "-k", "--max-time", "30", "-H", `x-req-id: ${id}`, `https://${w.vip}/`]);
    assert.equal(r.code, 0, r.stderr);
  }
  // A 256 KiB upload: the backend leg's §5.5 partial ACKs (the relay consumes in 16 KB records).
  const up = await inClient(w, ["sh", "-c", `head -c 262144 /dev/zero | curl -sS -k --max-time 60 -H 'x-req-id: m3' --data-binary @- https://${w.vip}/upload`]);
  assert.equal(up.code, 0, up.stderr);
  const after = await metrics.registry.metrics();
  assert.equal(sample(after, 'sslacc_handshakes_total{kind="full"}'), 3, after);
  assert.equal(sample(after, "sslacc_rsa_operations_total"), 3);
  assert.equal(sample(after, "sslacc_connections_accepted_total"), 3);
  assert.ok(sample(after, "sslacc_ctcp_records_total") >= 3 * 4, after);
  assert.ok(sample(after, 'sslacc_ctcp_frames_total{direction="in"}') > 0);
  assert.ok(sample(after, 'sslacc_ctcp_frames_total{direction="out"}') > 0);
  assert.equal(sample(after, 'sslacc_ctcp_link_drops_total{reason="tcp-checksum"}'), 0);
  assert.equal(sample(after, "sslacc_ctcp_takeovers_total"), 0, "alone: no takeover");
  assert.equal(sample(after, "sslacc_ctcp_draining"), 0);
  // The metrics read the same counters as /status.
  const s = node.status();
  assert.equal(sample(after, "sslacc_ctcp_records_total"), s.node!.stats.records);
  assert.equal(sample(after, "sslacc_ctcp_partial_acks_total"), s.node!.stats.partialAcks);
});

test("real wire, TLS: drain (SIGTERM) of a lone ctcp node — new connections refused at once, a live download finishes, then it stops", async (t) => {
  const one = await oneNode(t, ["socat", "ip", "curl"]);
  if (one === null) return;
  const { w, backend, node, metrics } = one;
  // 2 MiB at 512 KiB/s: ~4 s, so the drain starts mid-transfer.
  const MiB = 1 << 20;
  const download = spawn("ip", ["netns", "exec", w.clientNs, "curl", "-sS", "-k", "--max-time", "60", "--limit-rate", "512k", "-H", "x-req-id: drained", "-o", "-", `https://${w.vip}/bytes/${2 * MiB}`]);
  const chunks: Buffer[] = [];
  let got = 0;
  download.stdout.on("data", (d: Buffer) => {
    chunks.push(d);
    got += d.length;
  });
  let stderr = "";
  download.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number>((r) => download.once("exit", (code) => r(code ?? -1)));
  for (let i = 0; i < 600 && got < 256 << 10; i++) await sleep(25);
  assert.ok(got >= 256 << 10, `the download started (${got} bytes)`);
  assert.equal(node.core.connectionCount.live, 1);

  const drained = node.drain(60_000);
  assert.equal(sample(await metrics.registry.metrics(), "sslacc_ctcp_draining"), 1);
  // A new client is refused by a RST (curl: "Couldn't connect", exit 7), not left retransmitting its SYN.
  const t0 = Date.now();
  const refused = await inClient(w, ["curl", "-sS", "-k", "--max-time", "20", "-H", "x-req-id: refused", `https://${w.vip}/`]);
  assert.equal(refused.code, 7, refused.stderr);
  assert.ok(Date.now() - t0 < 5000, `refused at once (${Date.now() - t0} ms)`);

  const code = await exited;
  assert.equal(code, 0, stderr);
  const body = Buffer.concat(chunks);
  assert.equal(body.length, 2 * MiB);
  assert.equal(sha(body), bodySha(2 * MiB));
  const r = await drained;
  assert.deepEqual(r, { how: "finish", connections: 1, cut: 0 });
  assert.equal(node.status().node!.drops["listen-closed"] + node.status().node!.stats.resets >= 1, true, "the refused SYN was answered");
  await sleep(100);
  assert.deepEqual(backend.requests, ["drained GET /bytes/2097152"], "the refused client never reached the backend");
});

test("real wire, CLI: sslacc start --transport ctcp serves its counters on the admin /metrics; SIGTERM drains and exits 0", async (t) => {
  if (!requireWire(t, ["socat", "ip", "curl"])) return;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const backend = await startNsBackend(w, 8080);
  later(() => backend.stop());
  const dir = mkdtempSync(join(tmpdir(), "sslacc-ctcp-cli-"));
  later(() => rmSync(dir, { recursive: true, force: true }));
  const id = testIdentity();
  writeFileSync(join(dir, "cert.pem"), id.cert.certPem);
  writeFileSync(join(dir, "key.pem"), id.cert.keyPem);
  const child = spawn(process.execPath, [
    CLI, "start", "--transport", "ctcp", "--vip", w.vip, "--wire", w.taps[0]!,
    "--wire-node-port", String(await freeUdpPort("127.0.0.1")), "--wire-relay-port", String(await freeUdpPort("127.0.0.1")),
    "--backend", `${w.backendIp}:8080`, "--cert", join(dir, "cert.pem"), "--key", join(dir, "key.pem"),
    "--admin", "127.0.0.1:0", "--rsa-workers", "1", "--drain-timeout", "20s", "--log-level", "warn",
  ]);
  later(() => void child.kill("SIGKILL"));
  let out = "";
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Prometheus metrics at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`sslacc start exited ${code}: ${out}`)));
  });
  const r = await inClient(w, ["curl", "-sS", "-k", "--max-time", "30", "-H", "x-req-id: cli", `https://${w.vip}/`]);
  assert.equal(r.code, 0, r.stderr);
  const text = await (await fetch(metricsUrl)).text();
  assert.equal(sample(text, 'sslacc_handshakes_total{kind="full"}'), 1, text);
  assert.match(text, /^# TYPE sslacc_ctcp_forward_acks_total counter$/m);
  child.kill("SIGTERM");
  assert.equal(await exited, 0, out);
  assert.match(out, /SIGTERM, draining \d+ connections? \(deadline 20000 ms\)/);
  assert.match(out, /drained; stopped/);
});
