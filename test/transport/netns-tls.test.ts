// TLS over the real wire (docs/ctcp.md "The daemon on the wire"): curl and
// openssl s_client in the client namespace speak TLS to the VIP; one sslacc
// node (CtcpDaemon: the clustered-TCP node core, the relay and the TLS engine
// on our own TCP, RSA in the pool) relays to a real Node HTTP server in the
// backend namespace, whose own TCP connection comes from the VIP. Each test
// builds its own wire (scripts/ctcp-wire.sh) and removes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CtcpDaemon } from "../../src/node/ctcp-daemon.js";
import { ctcpConfig } from "../../src/node/ctcp-config.js";
import { createLogger } from "../../src/node/log.js";
import { freeUdpPort } from "../../src/transport/shell/tap-relay.js";
import { testIdentity } from "../helpers/engine-harness.js";
import { requireWire, startNsBackend, teardown, wireUp, type Wire } from "../helpers/netns.js";
import { bodySha } from "../node/helpers.js";


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
  if (!requireWire(t, ["socat", "ip", "curl"])) return;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const backend = await startNsBackend(w, 8080);
  later(() => backend.stop());
  const node = await startCtcpNode(w, w.taps[0]!, 8080);
  later(() => node.stop());

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
  if (!requireWire(t, ["socat", "ip", "openssl"])) return;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const backend = await startNsBackend(w, 8080);
  later(() => backend.stop());
  const node = await startCtcpNode(w, w.taps[0]!, 8080);
  later(() => node.stop());
  const r = await inClient(
    w,
    ["openssl", "s_client", "-connect", `${w.vip}:443`, "-tls1_2", "-cipher", "AES128-SHA", "-quiet"],
    "GET / HTTP/1.1\r\nHost: x\r\nx-req-id: s_client\r\nConnection: close\r\n\r\n",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^HTTP\/1\.1 200 OK[\s\S]*hello s_client from /);
  assert.deepEqual(backend.requests, ["s_client GET /"]);
});
