// The real wire (docs/ctcp.md "The real wire"): Linux kernel peers in network
// namespaces on a hub-mode bridge, our node on a persistent TAP through a
// socat relay (src/transport/shell/). Each test builds its own wire with
// scripts/ctcp-wire.sh under a unique id and removes it, whatever happens.
// Needs root, /dev/net/tun, socat, ip, curl: under CI a missing one fails the
// test, elsewhere it is skipped loudly (test/helpers/netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { macFromString } from "../../src/transport/ether/mac.js";
import { ipv4FromString } from "../../src/transport/tcp/ipv4.js";
import { SocatRelay, freeUdpPort } from "../../src/transport/shell/tap-relay.js";
import { TcpConnection } from "../../src/transport/tcp/connection.js";
import { nodeOnWire, requireWire, teardown, wireUp, type Wire } from "../helpers/netns.js";
import { HttpResponderNode } from "./wire-responder.js";
import { TcpSniffer } from "../../bench/wire/sniffer.js";

const run = promisify(execFile);
const VMAC = macFromString("02:00:5e:10:00:01");

function body(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** curl in the client namespace; resolves with the body (never throws on curl's exit code: returns it). */
async function curlIn(w: Wire, url: string, extra: string[] = []): Promise<{ code: number; body: Buffer; stderr: string }> {
  try {
    const r = await run("ip", ["netns", "exec", w.clientNs, "curl", "-sS", "--max-time", "60", ...extra, "-o", "-", url], { encoding: "buffer", maxBuffer: 256 << 20 });
    return { code: 0, body: r.stdout, stderr: r.stderr.toString() };
  } catch (e) {
    const x = e as { code?: number; stdout?: Buffer; stderr?: Buffer };
    return { code: typeof x.code === "number" ? x.code : -1, body: x.stdout ?? Buffer.alloc(0), stderr: x.stderr?.toString() ?? String(e) };
  }
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("real wire: a kernel client in its namespace ARPs the VIP, connects and downloads 1 MiB from one node (EtherLink + fingered listener + TcpConnection) through socat and a TAP", async (t) => {
  if (!requireWire(t)) return;
  const later = teardown(t);
  const w = wireUp(2);
  later(() => w.down());
  const payload = body(1 << 20, 7);
  const node = new HttpResponderNode({ vip: ipv4FromString(w.vip), vmac: VMAC, port: 80, body: payload, secret: "netns" });
  const n = await nodeOnWire(w.taps[0]!, node);
  later(() => n.stop());
  // A second port on the hub sees the unicast conversation too (hub mode: ageing_time 0).
  const sniffer = new TcpSniffer();
  const s = await nodeOnWire(w.taps[1]!, sniffer);
  later(() => s.stop());

  const r = await curlIn(w, `http://${w.vip}/`);
  assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
  assert.equal(r.body.length, payload.length);
  assert.equal(sha256(r.body), sha256(payload));
  await until("the connection to close", () => node.stats.closed.normal === 1);

  // The kernel asked who has the VIP and took our answer; its checksums and ours were valid (no offload on TAP frames).
  assert.ok(node.link.stats.arpRepliesSent >= 1, "answered ARP for the VIP");
  assert.equal(node.stats.accepted, 1);
  assert.equal(node.stats.answered, 1);
  assert.equal(node.link.drops["ipv4-checksum"] + node.link.drops["tcp-checksum"], 0, JSON.stringify(node.link.drops));
  assert.equal(node.open, 0);
  const neigh = (await run("ip", ["-n", w.clientNs, "neigh", "show", w.vip])).stdout;
  assert.match(neigh, /lladdr 02:00:5e:10:00:01/, `client's ARP entry for the VIP: ${neigh}`);
  assert.equal(n.port.stats.sendErrors, 0);
  assert.equal(n.relay.stats.starts, 1, "socat ran once, never restarted");
  const syn = sniffer.lines.filter((l) => / > [\d.]+:80 \[SYN\]/.test(l));
  const synAck = sniffer.lines.filter((l) => l.includes("02:00:5e:10:00:01") && /:80 > .*\[SYN,ACK\]/.test(l));
  assert.equal(syn.length, 1, sniffer.lines.slice(0, 5).join("\n"));
  assert.equal(synAck.length, 1);
  assert.ok(sniffer.lines.length > 500, `the spare port saw ${sniffer.lines.length} segments of the 1 MiB download`);
});

test("real wire: socat killed in the middle of a download is restarted on the persistent TAP; the client's TCP retransmits and the download completes byte-exact", async (t) => {
  if (!requireWire(t)) return;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const payload = body(4 << 20, 11);
  const node = new HttpResponderNode({ vip: ipv4FromString(w.vip), vmac: VMAC, port: 80, body: payload, secret: "netns" });
  const n = await nodeOnWire(w.taps[0]!, node);
  later(() => n.stop());

  const download = curlIn(w, `http://${w.vip}/`, ["--limit-rate", "4M"]);
  await until("the download to start", () => n.port.stats.framesOut > 200, 10_000);
  const pid = n.relay.socatPid();
  assert.ok(pid !== null, "socat runs under its guard");
  process.kill(pid, "SIGKILL");
  const r = await download;
  assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
  assert.equal(sha256(r.body), sha256(payload));
  assert.equal(n.relay.stats.starts, 2, "restarted once");
  assert.equal(n.relay.stats.exits, 1);
  assert.ok(n.relay.ready());
});

test("real wire: socat does not outlive its node — after kill -9 of the node process the relay exits and the TAP can be taken again", async (t) => {
  if (!requireWire(t, ["socat", "ip"])) return;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const host = "127.0.0.1";
  const cfg = { tap: w.taps[0]!, host, relayPort: await freeUdpPort(host), nodePort: await freeUdpPort(host), bufferBytes: 1 << 20 };
  const module = fileURLToPath(new URL("../../src/transport/shell/tap-relay.js", import.meta.url));
  const script = `const { SocatRelay } = await import(${JSON.stringify(module)});
const r = new SocatRelay({ relay: ${JSON.stringify(cfg)} });
await r.start();
process.stdout.write(String(r.socatPid()) + "\\n");
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  later(() => child.kill("SIGKILL"));
  const socatPid = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (code) => reject(new Error(`node exited ${code} before starting its relay`)));
  });
  assert.ok(socatPid > 0, "child reported its socat");
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(alive(socatPid));
  child.kill("SIGKILL");
  await until("the orphaned socat to exit", () => !alive(socatPid), 3000);

  const again = new SocatRelay({ relay: cfg });
  await again.start();
  assert.ok(again.ready());
  await again.stop();
  assert.equal(again.socatPid(), null);
});

const SYN_FLOOD = fileURLToPath(new URL("../../../test/fixtures/syn-flood.py", import.meta.url));

test("real wire: a SYN flood from the kernel's raw socket leaves no per-SYN state — each SYN that arrives is answered statelessly, no engine created, a real client still served", async (t) => {
  if (!requireWire(t, ["socat", "ip", "curl", "python3"])) return;
  const later = teardown(t);
  const w = wireUp(1);
  later(() => w.down());
  const payload = body(64 << 10, 3);
  const node = new HttpResponderNode({ vip: ipv4FromString(w.vip), vmac: VMAC, port: 80, body: payload, secret: "netns" });
  const n = await nodeOnWire(w.taps[0]!, node);
  later(() => n.stop());
  // Resolve the VIP first, so no SYN waits in the kernel's unresolved-neighbour queue (it holds few).
  assert.equal((await curlIn(w, `http://${w.vip}/`)).code, 0);
  await until("the first connection to close", () => node.stats.closed.normal === 1);

  const SYNS = 5000;
  const engines = TcpConnection.instances;
  const before = node.stats.synAcks;
  const sent = await run("ip", ["netns", "exec", w.clientNs, "python3", SYN_FLOOD, w.clientIp, w.vip, "80", String(SYNS)]);
  assert.equal(Number(sent.stdout.trim()), SYNS);
  // The flood crosses socat's UDP buffers at a rate no client reaches: a burst may lose frames, never create state.
  await until("the flood to be answered", () => node.stats.synAcks - before >= SYNS * 0.5, 10_000);
  await sleep(200);
  const answered = node.stats.synAcks - before;
  assert.ok(answered <= SYNS);
  assert.equal(TcpConnection.instances, engines, "no engine for a SYN (§4.2)");
  assert.equal(node.open, 0);
  t.diagnostic(`${SYNS} SYNs sent, ${answered} SYN-ACKs (${node.link.drops["tcp-checksum"]} checksum drops), listener drops ${node.stats.listenerDrops} (the kernel's RSTs)`);
  assert.equal(node.link.drops["tcp-checksum"] + node.link.drops["ipv4-checksum"], 0);

  const r = await curlIn(w, `http://${w.vip}/`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha256(r.body), sha256(payload));
});

test("socat relay: a missing TAP is refused before socat runs (socat would create a private TAP on no bridge)", async () => {
  const relay = new SocatRelay({ relay: { tap: "sslaccnone0", host: "127.0.0.1", relayPort: 1, nodePort: 2, bufferBytes: 1 << 20 } });
  await assert.rejects(relay.start(), /no interface sslaccnone0 \(create the wire first/);
  assert.equal(relay.stats.starts, 0);
});
