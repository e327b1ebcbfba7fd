// The clustered-TCP node core (src/transport/ctcp/node.ts) frame by frame:
// only the bucket's owner answers, a SYN leaves no state, RSTs are
// suppressed for 2·MSL in a taken-over bucket, the master answers ARP and
// announces itself, mirrored state is restored eagerly or on the first
// packet, and a broken mirrored entry is counted, not fatal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { bucketOf, BUCKETS } from "../../src/node/buckets.js";
import { defaultProvider } from "../../src/crypto/provider.js";
import { ARP_OP_REPLY, ARP_OP_REQUEST, parseArp, writeArp } from "../../src/transport/ether/arp.js";
import { ETHERTYPE_ARP, parseFrame, writeFrame } from "../../src/transport/ether/frame.js";
import { BROADCAST_MAC, macFromString } from "../../src/transport/ether/mac.js";
import { DEFAULT_LINK_CONFIG, EtherLink } from "../../src/transport/ether/link.js";
import { CtcpNode, type CtcpNodeConfig, type Recovery } from "../../src/transport/ctcp/node.js";
import { decodeCtcpSnapshot } from "../../src/transport/ctcp/record.js";
import { DEFAULT_TCP_CONFIG, TcpConnection, type TcpConfig } from "../../src/transport/tcp/connection.js";
import { ipv4FromString, ipv4ToString } from "../../src/transport/tcp/ipv4.js";
import { ACK, RST, SYN, type TcpSegment } from "../../src/transport/tcp/segment.js";
import { seededRandom, testConfig } from "../helpers/engine-harness.js";
import { measureTakeover, overheardTakeover, peersGone, runSim } from "./ctcp-sim.js";

const VIP = ipv4FromString("198.51.100.1");
const CLIENT = ipv4FromString("192.0.2.10");
const BACKEND = ipv4FromString("192.0.2.20");
const VMAC = macFromString("02:00:5e:00:01:01");
const CMAC = macFromString("02:00:00:00:00:0a");
const tcp: TcpConfig = { ...DEFAULT_TCP_CONFIG, mslMs: 1000, fingerMac: (b) => new Uint8Array(createHmac("sha256", "node test").update(b).digest()) };

function makeNode(opts: { master?: boolean; recovery?: Recovery; buckets?: number[]; connIdStart?: number } = {}): { node: CtcpNode; replicated: number[] } {
  const replicated: number[] = [];
  const cfg: CtcpNodeConfig = {
    nodeId: 1,
    link: { ...DEFAULT_LINK_CONFIG, mac: VMAC, ip: VIP, arpMac: VMAC, clusterMacs: [VMAC], answerArp: opts.master ?? false },
    tcp,
    tls: testConfig(),
    engine: { provider: defaultProvider, random: seededRandom("node test"), now: () => 0, sessions: null },
    listenPort: 443,
    backend: { addr: BACKEND, port: 8080 },
    recovery: opts.recovery ?? "eager",
    selectiveSweepMs: 1000,
    ...(opts.connIdStart !== undefined && { connIdStart: opts.connIdStart }),
  };
  let rid = 0;
  const node = new CtcpNode(cfg, { replicate: (connId) => (replicated.push(connId), { ok: true, rid: ++rid }), closeConnection: () => {} });
  node.setBuckets(opts.buckets ?? [], 0);
  // As if the client had ARPed the VIP (RFC 826: the target learns the sender).
  node.link.arp.insert(CLIENT, CMAC, 0);
  return { node, replicated };
}

/** A client link that knows the VIP's MAC: frames for any segment we craft. */
function client(): EtherLink {
  const l = new EtherLink({ ...DEFAULT_LINK_CONFIG, mac: CMAC, ip: CLIENT, arpMac: CMAC, clusterMacs: [], answerArp: true });
  l.arp.insert(VIP, VMAC, 0);
  return l;
}

function frameOf(l: EtherLink, seg: TcpSegment, dst = VIP, now = 0): Uint8Array {
  l.sendTcp(dst, seg, now);
  return l.drain().frames[0]!;
}

function segment(srcPort: number, dstPort: number, p: Partial<TcpSegment>): TcpSegment {
  return { srcPort, dstPort, seq: 1000, ack: 0, flags: SYN, window: 65535, urgent: 0, options: { mss: 1460 }, payload: new Uint8Array(0), ...p };
}

const bucketFor = (port: number) => bucketOf({ address: ipv4ToString(CLIENT), port }, { address: ipv4ToString(VIP), port: 443 });

/** Segments in a node's output frames, as the client sees them. */
function segmentsOut(node: CtcpNode): TcpSegment[] {
  const c = client();
  for (const f of node.drain().frames) c.onFrame(f, 0);
  return c.drain().received.map((r) => r.segment);
}

test("only the bucket's owner answers a SYN; the others count the segment and stay silent", () => {
  const b = bucketFor(40000);
  const owner = makeNode({ buckets: [b] });
  const other = makeNode({ buckets: [...Array(BUCKETS).keys()].filter((x) => x !== b) });
  const f = frameOf(client(), segment(40000, 443, {}));
  owner.node.onFrame(f, 0);
  other.node.onFrame(f, 0);
  const out = segmentsOut(owner.node);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.flags, SYN | ACK);
  assert.equal(out[0]!.ack, 1001);
  assert.equal(other.node.drain().frames.length, 0);
  assert.equal(other.node.drops["not-owner"], 1);
  assert.equal(owner.node.stats.synAcks, 1);
});

test("a SYN flood leaves no per-SYN state (§4.2): 5,000 SYNs, 5,000 SYN-ACKs, no connection, no engine object", () => {
  const { node } = makeNode({ buckets: [...Array(BUCKETS).keys()] });
  const c = client();
  const before = TcpConnection.instances;
  for (let i = 0; i < 5000; i++) {
    node.onFrame(frameOf(c, segment(1024 + i, 443, { seq: i * 7919 })), i);
    node.drain();
  }
  assert.equal(node.stats.synAcks, 5000);
  assert.equal(TcpConnection.instances, before);
  assert.deepEqual(node.connectionCount, { live: 0, dormant: 0 });
  assert.equal(node.nextTimeout(), null);
});

test("a stray SYN-ACK gets a RST, except within 2·MSL of a takeover of its bucket (§4.6); unknown ACKs are dropped quietly", () => {
  const port = 40001;
  const b = bucketOf({ address: ipv4ToString(CLIENT), port }, { address: ipv4ToString(VIP), port: 20000 });
  const stray = (n: CtcpNode, now: number) => {
    n.onFrame(frameOf(client(), segment(port, 20000, { flags: SYN | ACK, ack: 5 }), VIP, now), now);
    return segmentsOut(n);
  };
  const plain = makeNode({ buckets: [b] });
  assert.equal(stray(plain.node, 0)[0]!.flags & RST, RST);
  const heir = makeNode();
  heir.node.bucketAcquired(b, [], 100);
  assert.equal(stray(heir.node, 101).length, 0);
  assert.equal(heir.node.drops["listen-syn-with-ack"], 1);
  assert.equal(stray(heir.node, 100 + 2 * tcp.mslMs).length, 1, "after 2·MSL the RST is back");
  const b443 = bucketFor(port);
  heir.node.bucketAcquired(b443, [], 2000);
  heir.node.onFrame(frameOf(client(), segment(port, 443, { flags: ACK, seq: 5, ack: 77 })), 3000);
  assert.equal(segmentsOut(heir.node).length, 0);
  assert.equal(heir.node.drops["listen-bad-finger"], 1);
});

test("ARP: only the master answers who-has VIP; becoming master sends a gratuitous ARP (RFC 5227 §3)", () => {
  const { node } = makeNode({ master: false });
  const whoHas = writeFrame(
    { dst: BROADCAST_MAC, src: CMAC, ethertype: ETHERTYPE_ARP },
    writeArp({ op: ARP_OP_REQUEST, senderMac: CMAC, senderIp: CLIENT, targetMac: 0, targetIp: VIP }),
  );
  node.onFrame(whoHas, 0);
  assert.equal(node.drain().frames.length, 0);
  assert.equal(node.linkDrops["arp-not-master"], 1);
  node.setMaster(true);
  const [announce] = node.drain().frames;
  const a = parseFrame(announce!);
  assert.ok(a.kind === "ok");
  const ap = parseArp(a.payload);
  assert.ok(ap.kind === "ok" && ap.packet.senderIp === VIP && ap.packet.targetIp === VIP && ap.packet.senderMac === VMAC);
  node.onFrame(whoHas, 1);
  const [reply] = node.drain().frames;
  const r = parseFrame(reply!);
  assert.ok(r.kind === "ok");
  const rp = parseArp(r.payload);
  assert.ok(rp.kind === "ok" && rp.packet.op === ARP_OP_REPLY && rp.packet.senderMac === VMAC);
});

test("takeover of mirrored connections: eager restores all at once (one ACK each), selective none until a packet; a corrupt entry is counted", async () => {
  // A real mirrored connection: crash the owner in the middle of the download and keep what the mirrors held.
  const r = await runSim({ seed: 5, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: [{ upload: 500, download: 60_000, resume: false }], crashAt: { phase: "s2c", nth: 10 } });
  assert.equal(r.conns[0]!.ok, true, r.conns[0]!.why);
  assert.equal(r.mirroredAtTakeover.length, 1);
  const state = r.mirroredAtTakeover[0]!;
  const eager = measureTakeover(state, 200, "eager");
  assert.equal(eager.restoredAtTakeover, 200);
  assert.ok(eager.framesAtTakeover >= 200, `${eager.framesAtTakeover} frames`);
  const selective = measureTakeover(state, 200, "selective");
  assert.equal(selective.restoredAtTakeover, 0);
  assert.equal(selective.framesAtTakeover, 0);
  assert.equal(selective.restoredAfterOnePacket, 1);
  const { node } = makeNode();
  node.bucketAcquired(3, [{ connId: 1, state: Uint8Array.of(1, 2, 3) }], 0);
  assert.equal(node.stats.badEntries, 1);
});

test("selective-probe: one keep-alive probe per taken-over connection to its client (RFC 9293 §3.8.4: SEG.SEQ = mirrored SND.NXT − 1, ACK = mirrored RCV.NXT), nothing restored until a packet", async () => {
  const r = await runSim({ seed: 5, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: [{ upload: 500, download: 60_000, resume: false }], crashAt: { phase: "s2c", nth: 10 } });
  assert.equal(r.conns[0]!.ok, true, r.conns[0]!.why);
  const state = r.mirroredAtTakeover[0]!;
  const s = decodeCtcpSnapshot(state);
  const probe = measureTakeover(state, 200, "selective-probe");
  assert.equal(probe.restoredAtTakeover, 0);
  assert.equal(probe.framesAtTakeover, 200);
  assert.equal(probe.restoredAfterOnePacket, 1);
  const seg = probe.toClientAtTakeover!;
  assert.ok(seg, "the client got its probe");
  assert.equal(seg.seq, (s.client.sndNxt - 1) >>> 0);
  assert.equal(seg.ack, s.client.rcvNxt >>> 0);
  assert.equal(seg.flags, ACK);
  assert.equal(seg.payload.length, 0);
});

test("drain (stopAccepting): a SYN and a fingered handshake ACK get a RST; within 2·MSL of a takeover they are dropped quietly (counted)", () => {
  const port = 40100;
  const b = bucketFor(port);
  const { node } = makeNode({ buckets: [...Array(BUCKETS).keys()] });
  // A SYN-ACK taken before the drain: its fingered ACK would open the connection.
  node.onFrame(frameOf(client(), segment(port, 443, {})), 0);
  const synAck = segmentsOut(node)[0]!;
  node.stopAccepting();
  node.onFrame(frameOf(client(), segment(port + 1, 443, {})), 1);
  const refused = segmentsOut(node);
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.flags, RST | ACK, "RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>");
  assert.equal(refused[0]!.ack, 1001);
  node.onFrame(frameOf(client(), segment(port, 443, { flags: ACK, seq: 1001, ack: synAck.seq + 1, options: {} })), 2);
  const ackRefused = segmentsOut(node);
  assert.equal(ackRefused.length, 1);
  assert.equal(ackRefused[0]!.flags, RST);
  assert.equal(ackRefused[0]!.seq, synAck.seq + 1);
  assert.deepEqual(node.connectionCount, { live: 0, dormant: 0 });
  assert.equal(node.stats.accepted, 0);
  assert.equal(node.stats.resets, 2);

  const heir = makeNode();
  heir.node.bucketAcquired(b, [], 100);
  heir.node.stopAccepting();
  heir.node.onFrame(frameOf(client(), segment(port, 443, {}), VIP, 101), 101);
  assert.equal(segmentsOut(heir.node).length, 0);
  assert.equal(heir.node.drops["listen-closed"], 1);
  assert.equal(heir.node.stats.takeovers, 1);
});

test("a restored connection whose peers are gone ends on their RSTs: no RST/challenge-ACK storm (found on the real wire)", async () => {
  const r = await runSim({ seed: 5, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: [{ upload: 500, download: 60_000, resume: false }], crashAt: { phase: "s2c", nth: 10 } });
  assert.equal(r.mirroredAtTakeover.length, 1);
  const state = r.mirroredAtTakeover[0]!;
  for (const pending of [0, 3]) {
    const g = peersGone(state, pending);
    assert.equal(g.live, 0, `pending ${pending}: the connection ended (${g.frames} frames, ${g.resets} RSTs)`);
    assert.ok(g.frames <= 8 && g.resets <= 8, `pending ${pending}: ${g.frames} frames, ${g.resets} RSTs in 500 ms`);
  }
});

test("overheard retransmissions: the backend's data heard in the dead interval (bucket not ours yet) is fed to the restored connection, whose ACK of new data ends the backend's RTO backoff (eager, selective, selective-probe)", async () => {
  // Found on the real wire (docs/ctcp.md "Where the time went"): the restore's ACK only repeated the
  // dead owner's last ACK, a duplicate that a sender in RTO recovery ignores, and the download waited
  // for the backend's next backed-off retransmission (0.6, 1.5, 3.3 s ... after the kill).
  const r = await runSim({ seed: 5, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: [{ upload: 500, download: 60_000, resume: false }], crashAt: { phase: "s2c", nth: 10 } });
  assert.equal(r.mirroredAtTakeover.length, 1);
  const state = r.mirroredAtTakeover[0]!;
  for (const recovery of ["eager", "selective", "selective-probe"] as const) {
    const o = overheardTakeover(state, recovery);
    assert.equal(o.restoredAtTakeover, 1, `${recovery}: restored at the takeover (selective: the overheard segment was its first packet)`);
    assert.equal(o.fed, 1, `${recovery}: the overheard segment was fed`);
    assert.ok(o.backendAckedAfterMs !== null && o.backendAckedAfterMs <= 50, `${recovery}: the backend got an ACK of new data ${o.backendAckedAfterMs} ms after the takeover`);
  }
});

test("output dropped while the owned set lapsed for a moment goes out again as soon as the bucket is ours, not at the 1 s RTO", async () => {
  // Found on the wire (docs/ctcp.md "Where recovery's time went", "Port reuse, continued"): a node's owned
  // set can be empty for tens of ms during a map change; a restored connection's segments sent then were
  // dropped (not-owner-out) and waited for its retransmission timer, 1 s without an RTT sample.
  const r = await runSim({ seed: 5, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: [{ upload: 500, download: 60_000, resume: false }], crashAt: { phase: "s2c", nth: 10 } });
  const state = r.mirroredAtTakeover[0]!;
  const o = overheardTakeover(state, "eager", 1000, 300, { fromMs: 0, toMs: 60 });
  assert.equal(o.fed, 1);
  assert.ok(o.backendAckedAfterMs !== null && o.backendAckedAfterMs >= 60 && o.backendAckedAfterMs <= 70, `the backend's ACK of new data ${o.backendAckedAfterMs} ms after the takeover (ownership back at 60 ms)`);
});

test("connection ids: a restarted member (same node id, later start) never reuses an id of its previous incarnation", () => {
  // Found on the wire: a node restarted after kill -9 numbered its connections from 1 again; the cluster
  // still mirrored its previous incarnation's connection 1 (in TIME_WAIT for 2·MSL, restored elsewhere), so
  // the new connection's records folded onto the old state (or were dropped as someone else's), the mirrors
  // held nothing usable, and its takeover found nothing: the download stalled.
  const accept = (connIdStart: number, port: number): number => {
    const { node } = makeNode({ buckets: [...Array(BUCKETS).keys()], connIdStart });
    const c = client();
    node.onFrame(frameOf(c, segment(port, 443, {})), 0);
    const synAck = segmentsOut(node)[0]!;
    node.onFrame(frameOf(c, segment(port, 443, { flags: ACK, seq: 1001, ack: (synAck.seq + 1) >>> 0 })), 1);
    assert.equal(node.stats.accepted, 1);
    return node.connectionsDebug(1)[0]!.connId;
  };
  const before = accept(1_795_000_000_000, 40100);
  const after = accept(1_795_000_002_500, 40101); // restarted 2.5 s later
  assert.notEqual(after, before);
  assert.equal(Math.floor(after / 2 ** 32), 1, "the node id stays in the high bits");
  assert.equal(after - before, 2500);
});
