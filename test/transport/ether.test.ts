// The Ethernet II (RFC 894) and ARP (RFC 826) codecs and the sans-I/O link
// (src/transport/ether/): hand-written frame vectors, the master-only ARP
// responder for the virtual IP, the bounded ARP cache with expiry on
// injected time, next-hop resolution with a bounded pending queue, and every
// drop reason counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BROADCAST_MAC, isGroupMac, macFromString, macToString, readMac, writeMac } from "../../src/transport/ether/mac.js";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, parseFrame, writeFrame } from "../../src/transport/ether/frame.js";
import { ARP_OP_REPLY, ARP_OP_REQUEST, parseArp, writeArp, type ArpPacket } from "../../src/transport/ether/arp.js";
import { ArpCache } from "../../src/transport/ether/arp-cache.js";
import { DEFAULT_LINK_CONFIG, EtherLink, newLinkDrops, type LinkConfig, type LinkDrops } from "../../src/transport/ether/link.js";
import { IPPROTO_TCP, ipv4FromString, writeIpv4 } from "../../src/transport/tcp/ipv4.js";
import { ACK, SYN, writeSegment, type TcpSegment } from "../../src/transport/tcp/segment.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

const VMAC = macFromString("02:00:5e:10:00:01");
const NODE_B = macFromString("02:00:00:00:00:0b");
const CLIENT_MAC = macFromString("02:00:00:00:00:0a");
const BACKEND_MAC = macFromString("02:00:00:00:00:be");
const VIP = ipv4FromString("10.0.0.100");
const CLIENT = ipv4FromString("10.0.0.10");
const BACKEND = ipv4FromString("10.0.0.200");

function node(p: Partial<LinkConfig> = {}): EtherLink {
  return new EtherLink({ ...DEFAULT_LINK_CONFIG, mac: VMAC, ip: VIP, arpMac: VMAC, clusterMacs: [VMAC, NODE_B], answerArp: true, ...p });
}

function arpFrame(dst: number, src: number, a: ArpPacket): Uint8Array {
  return writeFrame({ dst, src, ethertype: ETHERTYPE_ARP }, writeArp(a));
}
const whoHas = (ip: number, fromMac = CLIENT_MAC, fromIp = CLIENT): Uint8Array =>
  arpFrame(BROADCAST_MAC, fromMac, { op: ARP_OP_REQUEST, senderMac: fromMac, senderIp: fromIp, targetMac: 0, targetIp: ip });

function seg(p: Partial<TcpSegment> = {}): TcpSegment {
  return { srcPort: 50000, dstPort: 443, seq: 1, ack: 0, flags: SYN, window: 1024, urgent: 0, options: {}, payload: new Uint8Array(0), ...p };
}
function tcpFrame(o: { src?: number; dst?: number; macDst?: number; macSrc?: number; protocol?: number; seg?: TcpSegment } = {}): Uint8Array {
  const src = o.src ?? CLIENT;
  const dst = o.dst ?? VIP;
  const ip = writeIpv4({ src, dst, protocol: o.protocol ?? IPPROTO_TCP, id: 1, ttl: 64, dontFragment: true, tos: 0 }, writeSegment(o.seg ?? seg(), src, dst));
  return writeFrame({ dst: o.macDst ?? VMAC, src: o.macSrc ?? CLIENT_MAC, ethertype: ETHERTYPE_IPV4 }, ip);
}

/** The drop counters that are not zero. */
function nonZero(d: LinkDrops): Partial<LinkDrops> {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== 0));
}

test("MAC: string round trip, byte round trip over all 48 bits, the group bit", () => {
  assert.equal(macToString(macFromString("02:00:5E:10:00:01")), "02:00:5e:10:00:01");
  assert.equal(macFromString("ff-ff-ff-ff-ff-ff"), BROADCAST_MAC);
  assert.throws(() => macFromString("02:00:5e:10:00"), /not a MAC/);
  assert.equal(isGroupMac(BROADCAST_MAC), true);
  assert.equal(isGroupMac(macFromString("01:00:5e:00:00:01")), true);
  assert.equal(isGroupMac(VMAC), false);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), (hi, lo) => {
      const mac = hi * 0x1_0000_0000 + lo;
      const b = new Uint8Array(8);
      writeMac(b, 1, mac);
      return readMac(b, 1) === mac && b[0] === 0 && b[7] === 0 && macFromString(macToString(mac)) === mac;
    }),
    { seed: 11, numRuns: 500 },
  );
});

test("RFC 826/894: a who-has written byte for byte as the RFC lays it out, padded to 60 bytes, and parsed back", () => {
  const expected = hex(`
    ffffffffffff 02000000000a 0806
    0001 0800 06 04 0001 02000000000a 0a00000a 000000000000 0a000064
    000000000000000000000000000000000000`);
  const frame = whoHas(VIP);
  assert.deepEqual(frame, expected);
  assert.equal(frame.length, 60);
  const f = parseFrame(frame);
  assert.equal(f.kind, "ok");
  if (f.kind !== "ok") return;
  assert.deepEqual(f.header, { dst: BROADCAST_MAC, src: CLIENT_MAC, ethertype: ETHERTYPE_ARP });
  assert.deepEqual(parseArp(f.payload), { kind: "ok", packet: { op: ARP_OP_REQUEST, senderMac: CLIENT_MAC, senderIp: CLIENT, targetMac: 0, targetIp: VIP } });
});

test("Ethernet/ARP parsers: VLAN tags, short and oversize frames, foreign ARP formats are refused; never throw", () => {
  assert.deepEqual(parseFrame(new Uint8Array(13)), { kind: "drop", reason: "short" });
  const tagged = hex("ffffffffffff 02000000000a 8100 0064 0806");
  assert.deepEqual(parseFrame(tagged), { kind: "drop", reason: "vlan" });
  tagged[12] = 0x88;
  tagged[13] = 0xa8;
  assert.deepEqual(parseFrame(tagged), { kind: "drop", reason: "vlan" });
  assert.deepEqual(parseFrame(new Uint8Array(1515)), { kind: "drop", reason: "oversize" });
  assert.throws(() => writeFrame({ dst: 0, src: 0, ethertype: ETHERTYPE_IPV4 }, new Uint8Array(1501)), /exceeds/);
  const arp = writeArp({ op: ARP_OP_REPLY, senderMac: 1, senderIp: 2, targetMac: 3, targetIp: 4 });
  assert.equal(parseArp(arp.subarray(0, 27)).kind, "drop");
  for (const [i, v, reason] of [[1, 6, "arp-format"], [3, 0xdd, "arp-format"], [4, 8, "arp-format"], [5, 16, "arp-format"], [7, 3, "arp-op"]] as const) {
    const bad = arp.slice();
    bad[i] = v;
    assert.deepEqual(parseArp(bad), { kind: "drop", reason }, `byte ${i}`);
  }
  const link = node();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1600 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (raw, at, v) => {
      parseFrame(raw);
      parseArp(raw);
      link.onFrame(raw, 0);
      // Mutate one byte of valid frames of each kind.
      for (const f of [whoHas(VIP), tcpFrame()]) {
        f[at % f.length] = v;
        link.onFrame(f, 0);
      }
      return true;
    }),
    { seed: 12, numRuns: 2000 },
  );
});

test("ARP responder (RFC 826): the master answers who-has VIP with the virtual MAC, unicast; a non-master stays silent and counts it; both learn the requester", () => {
  const master = node();
  master.onFrame(whoHas(VIP), 0);
  const [reply, ...rest] = master.drain().frames;
  assert.equal(rest.length, 0);
  const f = parseFrame(reply!);
  assert.ok(f.kind === "ok");
  assert.deepEqual(f.header, { dst: CLIENT_MAC, src: VMAC, ethertype: ETHERTYPE_ARP });
  assert.deepEqual(parseArp(f.payload), { kind: "ok", packet: { op: ARP_OP_REPLY, senderMac: VMAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT } });
  assert.equal(master.arp.lookup(CLIENT, 0), CLIENT_MAC);
  assert.equal(master.stats.arpRepliesSent, 1);

  // Multicast-VMAC mode: frames leave from the node's own MAC, ARP still names the VMAC.
  const peer = node({ mac: NODE_B, answerArp: false });
  peer.onFrame(whoHas(VIP), 0);
  assert.deepEqual(peer.drain().frames, []);
  assert.deepEqual(nonZero(peer.drops), { "arp-not-master": 1 });
  assert.equal(peer.arp.lookup(CLIENT, 0), CLIENT_MAC);
  peer.setAnswerArp(true); // it became the master
  peer.onFrame(whoHas(VIP), 1);
  const f2 = parseFrame(peer.drain().frames[0]!);
  assert.ok(f2.kind === "ok");
  assert.equal(f2.header.src, NODE_B);
  const a2 = parseArp(f2.payload);
  assert.ok(a2.kind === "ok");
  assert.equal(a2.packet.senderMac, VMAC);
});

test("ARP: requests for other addresses are not answered and create no entry; known senders are merged (RFC 826 merge flag)", () => {
  const link = node();
  link.onFrame(whoHas(BACKEND), 0);
  assert.deepEqual(link.drain().frames, []);
  assert.equal(link.arp.lookup(CLIENT, 0), null, "not the target: no new entry");
  assert.equal(link.drops["arp-other-target"], 1);
  link.onFrame(whoHas(VIP), 1); // now it is known
  link.drain();
  const moved = macFromString("02:00:00:00:01:0a");
  link.onFrame(whoHas(BACKEND, moved), 2);
  assert.equal(link.arp.lookup(CLIENT, 2), moved, "merge updates an existing entry even when we are not the target");
  // A probe (sender 0.0.0.0, RFC 5227) is answered but teaches nothing.
  link.onFrame(whoHas(VIP, macFromString("02:00:00:00:00:99"), 0), 3);
  assert.equal(link.drain().frames.length, 1);
  assert.equal(link.arp.lookup(0, 3), null);
});

test("drops, each counted by reason: cluster MACs, wrong MAC, other EtherTypes, VLAN, fragments, bad checksums, other protocols and IPs, claims on our IP", () => {
  const link = node();
  const cases: [Uint8Array, keyof LinkDrops][] = [];
  cases.push([tcpFrame({ macSrc: NODE_B }), "from-cluster"]);
  cases.push([tcpFrame({ macSrc: VMAC }), "from-cluster"]);
  cases.push([arpFrame(BROADCAST_MAC, CLIENT_MAC, { op: ARP_OP_REQUEST, senderMac: NODE_B, senderIp: VIP, targetMac: 0, targetIp: CLIENT }), "from-cluster"]);
  cases.push([tcpFrame({ macDst: macFromString("02:00:00:00:00:33") }), "wrong-dst-mac"]);
  cases.push([tcpFrame({ macDst: macFromString("33:33:00:00:00:01") }), "wrong-dst-mac"]);
  cases.push([writeFrame({ dst: VMAC, src: CLIENT_MAC, ethertype: ETHERTYPE_IPV6 }, new Uint8Array(40)), "ethertype"]);
  cases.push([writeFrame({ dst: VMAC, src: CLIENT_MAC, ethertype: 0x0060 }, new Uint8Array(40)), "ethertype"]); // an 802.3 length
  const tagged = new Uint8Array(64);
  tagged.set(tcpFrame().subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 0x64, 0x08, 0x00], 12);
  cases.push([tagged, "frame-vlan"]);
  const frag = tcpFrame();
  frag[14 + 6] = 0x20; // MF, no DF (checksum then fails first — rebuild it)
  frag[14 + 10] = frag[14 + 11] = 0;
  const ck = (() => {
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (frag[14 + i]! << 8) | frag[14 + i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return ~s & 0xffff;
  })();
  frag[14 + 10] = ck >> 8;
  frag[14 + 11] = ck & 0xff;
  cases.push([frag, "ipv4-fragment"]);
  const badIp = tcpFrame();
  badIp[14 + 8] ^= 1; // TTL changed, header checksum now wrong
  cases.push([badIp, "ipv4-checksum"]);
  const badTcp = tcpFrame({ seg: seg({ payload: new Uint8Array([1, 2, 3]) }) });
  badTcp[14 + 20 + 20] ^= 0x40; // a payload byte
  cases.push([badTcp, "tcp-checksum"]);
  cases.push([tcpFrame({ protocol: 17 }), "ip-protocol"]);
  cases.push([tcpFrame({ dst: BACKEND }), "wrong-dst-ip"]);
  cases.push([whoHas(CLIENT, CLIENT_MAC, VIP), "arp-claims-our-ip"]);
  const expected = newLinkDrops();
  for (const [frame, reason] of cases) {
    link.onFrame(frame, 0);
    expected[reason]++;
    assert.deepEqual(nonZero(link.drops), nonZero(expected), reason);
  }
  const out = link.drain();
  assert.deepEqual(out.frames, [], "nothing answered");
  assert.deepEqual(out.received, []);
  // And the good one gets through, broadcast or unicast to the VMAC.
  link.onFrame(tcpFrame({ seg: seg({ flags: ACK, payload: new Uint8Array([9]) }) }), 0);
  const [r] = link.drain().received;
  assert.equal(r!.src, CLIENT);
  assert.deepEqual(r!.segment.payload, new Uint8Array([9]));
});

test("resolution: a datagram to an unknown backend waits for ARP (request from VIP/VMAC), flushes on the reply, later ones go direct", () => {
  const link = node({ arpRetryMs: 100 });
  link.sendTcp(BACKEND, seg({ seq: 1 }), 0);
  link.sendTcp(BACKEND, seg({ seq: 2 }), 1);
  const [req, ...more] = link.drain().frames;
  assert.equal(more.length, 0, "one request for both");
  const f = parseFrame(req!);
  assert.ok(f.kind === "ok");
  assert.deepEqual(f.header, { dst: BROADCAST_MAC, src: VMAC, ethertype: ETHERTYPE_ARP });
  assert.deepEqual(parseArp(f.payload), { kind: "ok", packet: { op: ARP_OP_REQUEST, senderMac: VMAC, senderIp: VIP, targetMac: 0, targetIp: BACKEND } });
  assert.equal(link.nextTimeout(), 100);
  link.onFrame(arpFrame(VMAC, BACKEND_MAC, { op: ARP_OP_REPLY, senderMac: BACKEND_MAC, senderIp: BACKEND, targetMac: VMAC, targetIp: VIP }), 5);
  const flushed = link.drain().frames.map((x) => parseFrame(x));
  assert.equal(flushed.length, 2);
  for (const [i, x] of flushed.entries()) {
    assert.ok(x.kind === "ok");
    assert.deepEqual(x.header, { dst: BACKEND_MAC, src: VMAC, ethertype: ETHERTYPE_IPV4 });
    assert.equal(new DataView(x.payload.buffer, x.payload.byteOffset).getUint32(20 + 4), i + 1, "in order");
  }
  assert.equal(link.nextTimeout(), null);
  link.sendTcp(BACKEND, seg(), 6);
  assert.equal(link.drain().frames.length, 1);
  assert.equal(link.stats.arpRequestsSent, 1);
});

test("resolution: retries on injected time, gives up after arpRequests and counts the dropped datagrams; queue and pending bounds", () => {
  const link = node({ arpRetryMs: 100, arpRequests: 3, arpQueuePerHop: 2, arpMaxPending: 2 });
  for (let i = 0; i < 3; i++) link.sendTcp(BACKEND, seg(), 0);
  assert.equal(link.drops["out-queue-full"], 1);
  link.sendTcp(CLIENT, seg(), 0);
  link.sendTcp(ipv4FromString("10.0.0.77"), seg(), 0);
  assert.equal(link.drops["out-pending-full"], 1);
  assert.equal(link.drain().frames.length, 2);
  link.onTimer(99);
  assert.equal(link.drain().frames.length, 0);
  link.onTimer(100);
  assert.equal(link.drain().frames.length, 2);
  link.onTimer(200);
  assert.equal(link.drain().frames.length, 2);
  link.onTimer(300);
  assert.equal(link.drain().frames.length, 0);
  assert.equal(link.drops["out-unresolved"], 3);
  assert.equal(link.nextTimeout(), null);
  assert.equal(link.stats.arpRequestsSent, 6);
});

test("ARP cache: bounded (least recently confirmed evicted), entries expire on injected time, then the next send asks again", () => {
  const c = new ArpCache({ maxEntries: 3, ttlMs: 1000 });
  for (let i = 1; i <= 3; i++) c.insert(i, 100 + i, 0);
  c.merge(1, 201, 10); // refresh 1
  c.insert(4, 104, 20);
  assert.equal(c.size, 3);
  assert.equal(c.evictions, 1);
  assert.equal(c.lookup(2, 20), null, "2 was the oldest");
  assert.equal(c.lookup(1, 20), 201);
  assert.equal(c.lookup(1, 1009), 201);
  assert.equal(c.lookup(1, 1010), null, "expired");
  assert.equal(c.merge(1, 1, 1011), false);
  // Expired entries are swept before anything live is evicted.
  const d = new ArpCache({ maxEntries: 2, ttlMs: 10 });
  d.insert(1, 1, 0);
  d.insert(2, 2, 5);
  d.insert(3, 3, 12);
  assert.equal(d.evictions, 0);
  assert.equal(d.lookup(2, 12), 2);

  const link = node({ arpCacheTtlMs: 1000 });
  link.onFrame(whoHas(VIP), 0);
  link.drain();
  link.sendTcp(CLIENT, seg(), 500);
  assert.equal(parseFrame(link.drain().frames[0]!).kind === "ok", true);
  assert.equal(link.stats.arpRequestsSent, 0);
  link.sendTcp(CLIENT, seg(), 1000);
  assert.equal(link.stats.arpRequestsSent, 1, "expired: asked again");
});

test("next hop: an off-link destination is resolved through the gateway; the announcement is a gratuitous request", () => {
  const gw = ipv4FromString("10.0.0.1");
  const link = node({ nextHop: (d) => ((d >>> 8) === (VIP >>> 8) ? d : gw) });
  link.sendTcp(ipv4FromString("192.0.2.5"), seg(), 0);
  const f = parseFrame(link.drain().frames[0]!);
  assert.ok(f.kind === "ok");
  const a = parseArp(f.payload);
  assert.ok(a.kind === "ok");
  assert.equal(a.packet.targetIp, gw);
  link.announce();
  const g = parseFrame(link.drain().frames[0]!);
  assert.ok(g.kind === "ok");
  assert.deepEqual(parseArp(g.payload), { kind: "ok", packet: { op: ARP_OP_REQUEST, senderMac: VMAC, senderIp: VIP, targetMac: 0, targetIp: VIP } });
});
