// The frame wire (src/transport/wire/): the in-process hub's delivery rules
// (everyone but the sender, time order, seeded loss and jitter), the socat
// relay command of NOTES.md, and the end-to-end proof of the link layer: a
// client (our TCP engine in client mode + its own ARP) and a cluster node
// (ARP responder for the VIP + the fingered listener and engine on the VIP)
// exchange byte streams over the hub as real Ethernet/IPv4/TCP frames, every
// checksum verified on the wire by an independent RFC 1071, while a second,
// non-master node sees the same traffic, stays silent and ignores its peer's
// output (hub mode).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { InProcessHub, xorshift32 } from "../../src/transport/wire/hub.js";
import { socatRelayArgs, type FramePort } from "../../src/transport/wire/frame-wire.js";
import { DEFAULT_LINK_CONFIG, EtherLink, type LinkConfig } from "../../src/transport/ether/link.js";
import { macFromString } from "../../src/transport/ether/mac.js";
import { DEFAULT_TCP_CONFIG, TcpConnection, type TcpConfig } from "../../src/transport/tcp/connection.js";
import { listen } from "../../src/transport/tcp/listener.js";
import { ipv4FromString } from "../../src/transport/tcp/ipv4.js";
import type { FourTuple } from "../../src/transport/tcp/tuple.js";
import { StreamClient, streamBytes } from "./tcp-sim.js";

test("hub: every other endpoint gets each frame, in time order, never the sender; closed ports get nothing", () => {
  const hub = new InProcessHub({ latencyMs: 1 });
  const got: string[] = [];
  const ports: FramePort[] = [];
  for (const name of ["a", "b", "c"]) ports.push(hub.attach({ onFrame: (f) => got.push(`${name}${f[0]}@${hub.now}`) }));
  ports[0]!.sendFrame(Uint8Array.of(1));
  hub.deliverUntil(0.5);
  assert.deepEqual(got, []);
  ports[1]!.sendFrame(Uint8Array.of(2)); // at 0.5 → due 1.5
  assert.equal(hub.nextDelivery(), 1);
  hub.deliverUntil(10);
  assert.deepEqual(got, ["b1@1", "c1@1", "a2@1.5", "c2@1.5"]);
  ports[2]!.close();
  ports[0]!.sendFrame(Uint8Array.of(3));
  hub.deliverUntil(20);
  assert.deepEqual(got.slice(4), ["b3@11"]);
  assert.throws(() => ports[2]!.sendFrame(Uint8Array.of(4)), /closed/);
  // The hub keeps a copy: the sender may reuse its buffer.
  const buf = Uint8Array.of(5);
  ports[0]!.sendFrame(buf);
  buf[0] = 6;
  hub.deliverUntil(30);
  assert.equal(got.at(-1), "b5@21");
});

test("hub: loss and jitter come from the seed — the same seed gives the same deliveries, jitter reorders", () => {
  const run = (seed: number) => {
    const hub = new InProcessHub({ loss: 0.2, latencyMs: 1, jitterMs: 5, seed });
    const got: number[] = [];
    const a = hub.attach({ onFrame: () => undefined });
    hub.attach({ onFrame: (f) => got.push(f[0]!) });
    for (let i = 0; i < 200; i++) a.sendFrame(Uint8Array.of(i));
    hub.deliverUntil(100);
    return { got, stats: { ...hub.stats } };
  };
  const r1 = run(42);
  assert.deepEqual(run(42), r1);
  assert.notDeepEqual(run(43).got, r1.got);
  assert.ok(r1.stats.lost > 20 && r1.stats.lost < 70, `lost ${r1.stats.lost}`);
  assert.equal(r1.stats.delivered + r1.stats.lost, 200);
  assert.ok(r1.got.some((x, i) => i > 0 && x < r1.got[i - 1]!), "reordered");
  const r = xorshift32(7);
  const xs = Array.from({ length: 1000 }, r);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test("socat relay argv is the one NOTES.md measured (UDP-DATAGRAM, persistent TAP, no PI, 4 MiB buffers)", () => {
  assert.deepEqual(socatRelayArgs({ tap: "sslacc0", host: "127.0.0.1", relayPort: 47001, nodePort: 47101, bufferBytes: 4194304 }), [
    "TUN,tun-type=tap,tun-name=sslacc0,iff-up,iff-no-pi",
    "UDP-DATAGRAM:127.0.0.1:47101,bind=127.0.0.1:47001,rcvbuf=4194304,sndbuf=4194304",
  ]);
  assert.throws(() => socatRelayArgs({ tap: "x,evil=1", host: "127.0.0.1", relayPort: 1, nodePort: 2, bufferBytes: 1 }), /interface name/);
  assert.throws(() => socatRelayArgs({ tap: "t", host: "127.0.0.1", relayPort: 0, nodePort: 2, bufferBytes: 1 }), /port/);
});

// --- end to end over the hub ---------------------------------------------------------

const VMAC = macFromString("02:00:5e:10:00:01");
const NODE_B_MAC = macFromString("02:00:00:00:00:0b");
const CLIENT_MAC = macFromString("02:00:00:00:00:0a");
const VIP = ipv4FromString("10.0.0.100");
const CLIENT = ipv4FromString("10.0.0.10");

const fast = { initialRtoMs: 300, minRtoMs: 200, maxRtoMs: 4000, mslMs: 1000, keepaliveIdleMs: 5000, keepaliveIntervalMs: 1000 };
const clientCfg: TcpConfig = { ...DEFAULT_TCP_CONFIG, ...fast, rcvBuffer: 24 * 1024, wscale: 3, fingerMac: () => new Uint8Array(4) };
const serverCfg: TcpConfig = { ...DEFAULT_TCP_CONFIG, ...fast, rcvBuffer: 16 * 1024, wscale: 2, fingerMac: (b) => new Uint8Array(createHmac("sha256", "hub secret").update(b).digest()) };
const linkBase = { ...DEFAULT_LINK_CONFIG, arpRetryMs: 200, arpRequests: 3 };

/** RFC 1071, written again here so the wire check does not trust the code under test. */
function sum16(b: Uint8Array, acc = 0): number {
  for (let i = 0; i < b.length; i += 2) acc += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

/** Checks every frame on the wire; returns how many IPv4/TCP and ARP frames it saw. */
function wireChecker(hub: InProcessHub): { tcp: number; arp: number } {
  const seen = { tcp: 0, arp: 0 };
  hub.taps.push((f) => {
    assert.ok(f.length >= 60 && f.length <= 1514, `frame of ${f.length} bytes`);
    const type = (f[12]! << 8) | f[13]!;
    if (type === 0x0806) return void seen.arp++;
    assert.equal(type, 0x0800);
    const ip = f.subarray(14);
    assert.equal(ip[0], 0x45);
    assert.equal(sum16(ip.subarray(0, 20)), 0xffff, "IPv4 header checksum");
    assert.equal(ip[6]! & 0x40, 0x40, "DF");
    const total = (ip[2]! << 8) | ip[3]!;
    const tcp = ip.subarray(20, total);
    const pseudo = new Uint8Array(12);
    pseudo.set(ip.subarray(12, 20));
    pseudo[9] = 6;
    pseudo[10] = tcp.length >> 8;
    pseudo[11] = tcp.length & 0xff;
    assert.equal(sum16(tcp, sum16(pseudo)), 0xffff, "TCP checksum");
    seen.tcp++;
  });
  return seen;
}

interface HubRun {
  readonly clientRx: Uint8Array;
  readonly serverRx: Uint8Array;
  readonly clientClose: string | null;
  readonly serverState: string;
  readonly client: EtherLink;
  readonly master: EtherLink;
  readonly peer: EtherLink;
  readonly seen: { tcp: number; arp: number };
  readonly timeMs: number;
}

function runOverHub(seed: number, loss: number, jitterMs: number, upload: number, download: number): HubRun {
  const hub = new InProcessHub({ loss, latencyMs: 1, jitterMs, seed });
  const seen = wireChecker(hub);
  const node = (p: Partial<LinkConfig>): EtherLink =>
    new EtherLink({ ...linkBase, mac: VMAC, ip: VIP, arpMac: VMAC, clusterMacs: [VMAC, NODE_B_MAC], answerArp: true, ...p });

  // The client: a plain host, its own ARP, our TCP engine in client mode.
  const clientLink = new EtherLink({ ...linkBase, mac: CLIENT_MAC, ip: CLIENT, arpMac: CLIENT_MAC, clusterMacs: [], answerArp: true });
  const tuple: FourTuple = { localAddr: CLIENT, localPort: 40000 + (seed % 20000), remoteAddr: VIP, remotePort: 443 };
  const client = TcpConnection.connect(clientCfg, tuple, (seed * 2654435761) >>> 0, 0);
  const cl = new StreamClient(client, upload, download);
  let clientPort: FramePort;
  const pumpClient = (now: number) => {
    for (let guard = 0; guard < 8; guard++) {
      const out = cl.step(now);
      for (const s of out.segments) clientLink.sendTcp(VIP, s, now);
      const l = clientLink.drain();
      for (const f of l.frames) clientPort.sendFrame(f);
      for (const r of l.received) if (r.src === VIP && r.segment.srcPort === 443 && r.segment.dstPort === tuple.localPort) client.onSegment(r.segment, now);
      if (out.segments.length === 0 && out.events === 0 && l.received.length === 0 && l.frames.length === 0) break;
    }
  };

  // The master node: ARP for the VIP, the stateless listener, one engine.
  const master = node({});
  const srv: { conn: TcpConnection | null } = { conn: null };
  const serverRx: number[] = [];
  let masterPort: FramePort;
  const pumpMaster = (now: number) => {
    for (let guard = 0; guard < 8; guard++) {
      const l = master.drain();
      for (const f of l.frames) masterPort.sendFrame(f);
      for (const r of l.received) {
        const st: FourTuple = { localAddr: VIP, localPort: r.segment.dstPort, remoteAddr: r.src, remotePort: r.segment.srcPort };
        if (st.localPort !== 443) continue;
        if (srv.conn === null) {
          const res = listen(serverCfg, st, r.segment, now, { suppressRst: false });
          if (res.kind === "syn-ack" || res.kind === "rst") master.sendTcp(r.src, res.segment, now);
          else if (res.kind === "accept") srv.conn = res.connection;
        } else srv.conn.onSegment(r.segment, now);
      }
      let produced = l.frames.length + l.received.length;
      const c = srv.conn;
      if (c !== null) {
        const out = c.drain();
        for (const e of out.events) {
          switch (e.kind) {
            case "established":
              c.write(streamBytes(2, 0, download), now);
              break;
            case "data":
              for (const b of e.bytes) serverRx.push(b);
              c.appAck(e.seq + e.bytes.length, now);
              break;
            case "peer-fin":
              c.appAck(c.rcvNxt, now);
              c.close(now);
              break;
            case "acked":
            case "closed":
              break;
          }
        }
        for (const s of out.segments) master.sendTcp(c.tuple.remoteAddr, s, now);
        produced += out.segments.length + out.events.length;
      }
      if (produced === 0) break;
    }
  };

  // A second node: not the master, owns no bucket. It sees everything.
  const peer = node({ mac: VMAC, answerArp: false });

  clientPort = hub.attach({ onFrame: (f) => (clientLink.onFrame(f, hub.now), pumpClient(hub.now)) });
  masterPort = hub.attach({ onFrame: (f) => (master.onFrame(f, hub.now), pumpMaster(hub.now)) });
  hub.attach({ onFrame: (f) => (peer.onFrame(f, hub.now), peer.drain()) });

  pumpClient(0);
  const done = () => cl.closeReason !== null && (srv.conn === null || srv.conn.state === "CLOSED");
  let now = 0;
  while (!done() && now < 120_000) {
    const ts = [hub.nextDelivery(), clientLink.nextTimeout(), client.nextTimeout(), master.nextTimeout(), srv.conn?.nextTimeout() ?? null].filter((t): t is number => t !== null);
    if (ts.length === 0) break;
    now = Math.max(now, Math.min(...ts));
    hub.deliverUntil(now);
    if ((clientLink.nextTimeout() ?? Infinity) <= now) clientLink.onTimer(now);
    if ((client.nextTimeout() ?? Infinity) <= now) client.onTimer(now);
    pumpClient(now);
    if ((master.nextTimeout() ?? Infinity) <= now) master.onTimer(now);
    const c = srv.conn;
    if (c !== null && (c.nextTimeout() ?? Infinity) <= now) c.onTimer(now);
    pumpMaster(now);
  }
  return {
    clientRx: Uint8Array.from(cl.rx),
    serverRx: Uint8Array.from(serverRx),
    clientClose: cl.closeReason,
    serverState: srv.conn?.state ?? "none",
    client: clientLink,
    master,
    peer,
    seen,
    timeMs: now,
  };
}

test("end to end over the hub: client ARPs the VIP, the master answers with the VMAC, TCP streams cross as checked Ethernet/IPv4/TCP frames, the peer stays silent", () => {
  const r = runOverHub(1, 0, 0, 20_000, 60_000);
  const why = `t=${r.timeMs} close=${r.clientClose}/${r.serverState} rx=${r.clientRx.length}/${r.serverRx.length}`;
  assert.equal(r.clientClose, "normal", why);
  assert.equal(r.serverState, "CLOSED", why);
  assert.deepEqual(r.serverRx, streamBytes(1, 0, 20_000));
  assert.deepEqual(r.clientRx, streamBytes(2, 0, 60_000));
  assert.ok(r.seen.tcp > 50, `${r.seen.tcp} TCP frames checked`);
  // Clean wire: one ARP exchange (the client's request, the master's reply), nothing dropped by anyone but by rule.
  assert.equal(r.seen.arp, 2);
  assert.equal(r.client.stats.arpRequestsSent, 1);
  assert.equal(r.master.stats.arpRepliesSent, 1);
  assert.equal(r.master.stats.arpRequestsSent, 0, "the master learnt the client from its request (RFC 826)");
  assert.equal(Object.values(r.client.drops).reduce((a, b) => a + b, 0), 0, JSON.stringify(r.client.drops));
  assert.equal(Object.values(r.master.drops).reduce((a, b) => a + b, 0), 0, JSON.stringify(r.master.drops));
  // The peer saw the client's frames (and took them in), counted the master's as cluster output, answered nothing.
  assert.equal(r.peer.stats.framesOut, 0);
  assert.equal(r.peer.drops["arp-not-master"], 1);
  assert.ok(r.peer.drops["from-cluster"] > 20, `peer ignored ${r.peer.drops["from-cluster"]} frames from the VMAC`);
  assert.equal(r.peer.stats.segmentsIn + r.peer.drops["from-cluster"] + r.peer.drops["arp-not-master"], r.peer.stats.framesIn);
});

test("end to end over a lossy, reordering hub (0-5 % loss, 0-5 ms jitter, ARP lost too): byte-exact both ways, normal close, every frame's checksums valid", () => {
  let arpRetried = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0x7fffffff }),
      fc.double({ min: 0, max: 0.05, noNaN: true }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 30_000 }),
      fc.integer({ min: 1, max: 60_000 }),
      (seed, loss, jitter, up, down) => {
        const r = runOverHub(seed, loss, jitter, up, down);
        if (r.client.stats.arpRequestsSent > 1) arpRetried++;
        const why = `seed=${seed} loss=${loss} t=${r.timeMs} close=${r.clientClose}/${r.serverState} rx=${r.clientRx.length}/${r.serverRx.length} drops=${JSON.stringify(r.client.drops)}`;
        assert.equal(r.clientClose, "normal", why);
        assert.deepEqual(r.serverRx, streamBytes(1, 0, up), why);
        assert.deepEqual(r.clientRx, streamBytes(2, 0, down), why);
        for (const l of [r.client, r.master]) {
          assert.equal(l.drops["ipv4-checksum"] + l.drops["tcp-checksum"] + l.drops["wrong-dst-mac"] + l.drops["ethertype"], 0, why);
        }
      },
    ),
    { seed: 77, numRuns: 100 },
  );
  assert.ok(arpRetried >= 1, `ARP retried in ${arpRetried} runs`);
});
