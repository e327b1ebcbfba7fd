// Properties of the clustered TCP engine in the deterministic simulator
// (test/transport/tcp-sim.ts): exact transfer both ways under loss,
// duplication and reordering; close completes; a server node crash at a
// random event is invisible to the client (byte-exact, no RST) and the
// backend gets every byte once; fingered-ACK takeover; SYN flood.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { DEFAULT_TCP_CONFIG, TcpConnection, type TcpConfig } from "../../src/transport/tcp/connection.js";
import { listen } from "../../src/transport/tcp/listener.js";
import { SYN, ACK } from "../../src/transport/tcp/segment.js";
import { runSim, streamBytes, type SimResult, VIP, CLIENT_ADDR } from "./tcp-sim.js";

const mac = (b: Uint8Array) => new Uint8Array(createHmac("sha256", "sim cluster secret").update(b).digest());
const fast = { initialRtoMs: 300, minRtoMs: 200, maxRtoMs: 4000, mslMs: 1000, keepaliveIdleMs: 5000, keepaliveIntervalMs: 1000 };
export const clientCfg: TcpConfig = { ...DEFAULT_TCP_CONFIG, ...fast, rcvBuffer: 24 * 1024, wscale: 3, fingerMac: () => new Uint8Array(4) };
export const serverCfg: TcpConfig = { ...DEFAULT_TCP_CONFIG, ...fast, rcvBuffer: 16 * 1024, wscale: 2, fingerMac: mac };

function explain(r: SimResult): string {
  return `done=${r.done} t=${r.timeMs.toFixed(0)} events=${r.events} crashed=${r.crashed} from=${r.restoredFrom} rst=${r.clientSawRst} close=${r.clientClose}/${r.serverClose} rx=${r.clientReceived.length} backend=${r.backendReceived.length}\n${r.trace.slice(-40).join("\n")}`;
}

function check(r: SimResult, upload: number, download: number): void {
  const why = explain(r);
  assert.ok(r.done, why);
  assert.equal(r.clientSawRst, false, why);
  assert.equal(r.clientClose, "normal", why);
  assert.deepEqual(r.clientReceived, streamBytes(2, 0, download), why);
  assert.deepEqual(r.backendReceived, streamBytes(1, 0, upload), why);
}

const wireArb = fc.record({
  loss: fc.double({ min: 0, max: 0.1, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.05, noNaN: true }),
  latencyMs: fc.integer({ min: 1, max: 20 }),
  jitterMs: fc.integer({ min: 0, max: 10 }),
});

test("sim: streams transfer exactly and in order both ways and the close completes (0-10 % loss, duplication, reordering)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0x7fffffff }), wireArb, fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 1, max: 90_000 }), (seed, wire, upload, download) => {
      const r = runSim({ seed, wire, upload, download, clientCfg, serverCfg, partialCommits: seed % 3 === 0 });
      check(r, upload, download);
    }),
    { seed: 0x5eed, numRuns: 150 },
  );
});

test("sim: a server node crash at a random event is invisible to the client; the backend gets each byte once", () => {
  let crashes = 0;
  let fromCheckpoint = 0;
  let fromFinger = 0;
  let partials = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0x7fffffff }), wireArb, fc.integer({ min: 1, max: 400 }), fc.integer({ min: 50, max: 800 }), (seed, wire, crashAt, deadMs) => {
      const upload = 20_000;
      const download = 60_000;
      const r = runSim({ seed, wire, upload, download, clientCfg, serverCfg, crashAtEvent: crashAt, deadMs, partialCommits: seed % 2 === 0 });
      check(r, upload, download);
      if (r.crashed) crashes++;
      if (r.restoredFrom === "checkpoint") fromCheckpoint++;
      if (r.restoredFrom === "finger") fromFinger++;
      partials += r.partials;
    }),
    { seed: 0xc0ffee, numRuns: 500 },
  );
  assert.ok(crashes >= 200, `only ${crashes} runs crashed`);
  assert.ok(fromCheckpoint >= 100, `only ${fromCheckpoint} restores from a checkpoint`);
  assert.ok(fromFinger >= 1, `no fingered-ACK takeover happened (${fromFinger})`);
  assert.ok(partials >= 100, `only ${partials} partial commits`);
});

test("sim: fingered-ACK takeover — the node that sent the SYN-ACK dies before anything was clustered", () => {
  let fingered = 0;
  for (let seed = 1; seed <= 30; seed++) {
    // Event 2 is the SYN reaching the server; crash on event 3 (the SYN-ACK in flight).
    const r = runSim({ seed, wire: { loss: 0, duplicate: 0, latencyMs: 5, jitterMs: 0 }, upload: 5000, download: 5000, clientCfg, serverCfg, crashAtEvent: 3, deadMs: 100 });
    check(r, 5000, 5000);
    assert.ok(r.crashed, explain(r));
    if (r.restoredFrom === "finger") fingered++;
  }
  assert.equal(fingered, 30);
});

test("SYN flood (§4.2): 20,000 SYNs create no engine object; only an ACK with the finger does", () => {
  const before = TcpConnection.instances;
  let synAcks = 0;
  const seen = new Set<number>();
  for (let i = 0; i < 20_000; i++) {
    const port = 1024 + (i % 60000);
    const tuple = { localAddr: VIP, localPort: 443, remoteAddr: (CLIENT_ADDR + (i >>> 8)) >>> 0, remotePort: port };
    const r = listen(serverCfg, tuple, { srcPort: port, dstPort: 443, seq: (i * 7919) >>> 0, ack: 0, flags: SYN, window: 65535, urgent: 0, options: { mss: 1460, wscale: 7 }, payload: new Uint8Array(0) }, i, { suppressRst: false });
    if (r.kind === "syn-ack") {
      synAcks++;
      seen.add(r.segment.seq);
    }
  }
  assert.equal(synAcks, 20_000);
  assert.ok(seen.size > 19_000, "ISNs should differ between connections");
  assert.equal(TcpConnection.instances, before);
  // A forged ACK without the finger is dropped quietly (it could be a later segment of a real handshake).
  const tuple = { localAddr: VIP, localPort: 443, remoteAddr: CLIENT_ADDR, remotePort: 5555 };
  const forged = { srcPort: 5555, dstPort: 443, seq: 1001, ack: 123456, flags: ACK, window: 512, urgent: 0, options: {}, payload: new Uint8Array(0) };
  assert.deepEqual(listen(serverCfg, tuple, forged, 0, { suppressRst: false }), { kind: "drop", reason: "bad-finger" });
  // An unknown SYN-ACK gets a RST, except in a bucket taken over within 2·MSL (§4.6).
  assert.equal(listen(serverCfg, tuple, { ...forged, flags: SYN | ACK }, 0, { suppressRst: false }).kind, "rst");
  assert.equal(listen(serverCfg, tuple, { ...forged, flags: SYN | ACK }, 0, { suppressRst: true }).kind, "drop");
  assert.equal(TcpConnection.instances, before);
  const syn = listen(serverCfg, tuple, { ...forged, seq: 1000, ack: 0, flags: SYN, options: { mss: 1400 } }, 0, { suppressRst: false });
  assert.equal(syn.kind, "syn-ack");
  if (syn.kind !== "syn-ack") return;
  const ok = listen(serverCfg, tuple, { ...forged, ack: (syn.segment.seq + 1) >>> 0 }, 0, { suppressRst: false });
  assert.equal(ok.kind, "accept");
  assert.equal(TcpConnection.instances, before + 1);
  if (ok.kind === "accept") assert.equal(ok.connection.state, "ESTABLISHED");
});
