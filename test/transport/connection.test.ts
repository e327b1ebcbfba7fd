// Unit tests of the TCP engine's SSLACC rules and of its RFC machinery,
// driven segment by segment with an injected clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { DEFAULT_TCP_CONFIG, TcpConnection, type TcpConfig } from "../../src/transport/tcp/connection.js";
import { listen } from "../../src/transport/tcp/listener.js";
import { ACK, FIN, SYN, type TcpSegment } from "../../src/transport/tcp/segment.js";

const mac = (b: Uint8Array) => new Uint8Array(createHmac("sha256", "unit secret").update(b).digest());
const cfg: TcpConfig = { ...DEFAULT_TCP_CONFIG, rcvBuffer: 64 * 1024, wscale: 2, minRtoMs: 200, initialRtoMs: 1000, mslMs: 1000, keepaliveIdleMs: 5000, keepaliveIntervalMs: 1000, keepaliveProbes: 2, fingerMac: mac };
const SRV = { localAddr: 0x0a000001, localPort: 443, remoteAddr: 0x0a000002, remotePort: 50000 };
const CLI = { localAddr: 0x0a000002, localPort: 50000, remoteAddr: 0x0a000001, remotePort: 443 };

function seg(p: Partial<TcpSegment>): TcpSegment {
  return { srcPort: 50000, dstPort: 443, seq: 0, ack: 0, flags: ACK, window: 1024, urgent: 0, options: {}, payload: new Uint8Array(0), ...p };
}
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

/** A server connection accepted through the fingered listener; the peer's ISN is 1000, window 65535 << 7. */
function accepted(now = 0): { c: TcpConnection; iss: number } {
  const syn = listen(cfg, SRV, seg({ seq: 1000, flags: SYN, options: { mss: 1460, wscale: 7 }, window: 65535 }), now, { suppressRst: false });
  assert.equal(syn.kind, "syn-ack");
  if (syn.kind !== "syn-ack") throw new Error();
  assert.deepEqual(syn.segment.options, { mss: cfg.mss, wscale: cfg.wscale });
  const iss = syn.segment.seq;
  const acc = listen(cfg, SRV, seg({ seq: 1001, ack: (iss + 1) >>> 0, window: 512 }), now, { suppressRst: false });
  assert.equal(acc.kind, "accept");
  if (acc.kind !== "accept") throw new Error();
  const out = acc.connection.drain();
  assert.deepEqual(out.events, [{ kind: "established", iss, irs: 1000 }]);
  assert.equal(out.segments.length, 0);
  return { c: acc.connection, iss };
}

test("active open (§4.3-4.4): SYN carries MSS and WS; the ACK of the SYN-ACK and any data wait for appAck", () => {
  const c = TcpConnection.connect(cfg, CLI, 0xfffffff0, 0); // ISN near the wrap
  const [syn] = c.drain().segments;
  assert.equal(syn!.flags, SYN);
  assert.equal(syn!.seq, 0xfffffff0);
  assert.deepEqual(syn!.options, { mss: 1460, wscale: 2 });
  assert.equal(syn!.window, 65535); // RFC 7323: a SYN's window is not scaled
  c.onSegment(seg({ seq: 7000, ack: 0xfffffff1, flags: SYN | ACK, options: { mss: 1400, wscale: 3 }, window: 8000 }), 10);
  let out = c.drain();
  assert.deepEqual(out.events, [{ kind: "established", iss: 0xfffffff0, irs: 7000 }]);
  assert.equal(out.segments.length, 0, "no ACK before the relay allows it");
  c.write(bytes(100), 11);
  assert.equal(c.drain().segments.length, 0, "no data before the handshake ACK");
  c.checkpointAcked(c.checkpoint(), 12);
  out = c.drain();
  assert.equal(out.segments.length, 1);
  assert.equal(out.segments[0]!.ack, 7001);
  assert.equal(out.segments[0]!.seq, 0xfffffff1);
  assert.equal(out.segments[0]!.payload.length, 100);
  assert.equal(out.segments[0]!.window, (64 * 1024) >> 2);
  // A retransmitted SYN-ACK is now answered at once (§4.3 case 2).
  c.onSegment(seg({ seq: 7000, ack: 0xfffffff1, flags: SYN | ACK, window: 8000 }), 13);
  assert.equal(c.drain().segments.at(-1)!.ack, 7001);
  assert.deepEqual(c.windowScales, { snd: 3, rcv: 2 });
});

test("rcv_appack (§4.6): data is delivered but not ACKed until the relay allows it; no duplicate ACKs meanwhile", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.onSegment(seg({ seq: 1001, ack: a, payload: bytes(500) }), 1);
  c.onSegment(seg({ seq: 1501, ack: a, payload: bytes(500) }), 2);
  let out = c.drain();
  assert.deepEqual(out.events, [
    { kind: "data", seq: 1001, bytes: bytes(500) },
    { kind: "data", seq: 1501, bytes: bytes(500) },
  ]);
  assert.equal(out.segments.length, 0, "naked ACKs are suppressed");
  assert.equal(c.rcvNxt, 2001);
  assert.equal(c.rcvAppack, 1001);
  // Out of order while bytes are withheld: no duplicate ACK (it would repeat rcv_appack).
  c.onSegment(seg({ seq: 3001, ack: a, payload: bytes(100) }), 3);
  // A retransmission of withheld bytes: silently absorbed.
  c.onSegment(seg({ seq: 1001, ack: a, payload: bytes(500) }), 4);
  assert.equal(c.drain().segments.length, 0);
  // The relay commits part of it (a partial ACK, §4.8): one ACK for exactly that.
  c.appAck(1501, 5);
  out = c.drain();
  assert.equal(out.segments.length, 1);
  assert.equal(out.segments[0]!.ack, 1501);
  assert.equal(out.segments[0]!.window, (64 * 1024) >> 2);
  // Bytes already ACKed arrive again: the peer missed our ACK, answer at once.
  c.onSegment(seg({ seq: 1001, ack: a, payload: bytes(500) }), 6);
  assert.equal(c.drain().segments[0]!.ack, 1501);
  // The checkpoint commits everything received in order; rcv_nxt = rcv_appack in it (§4.8).
  const cp = c.checkpoint();
  assert.equal(cp.rcvNxt, 2001);
  c.appAck(999_999, 7); // clamped to rcv_nxt
  assert.equal(c.rcvAppack, 2001);
  // Nothing withheld now: an out-of-order segment gets its duplicate ACK (RFC 5681 §4.2).
  c.drain();
  c.onSegment(seg({ seq: 4001, ack: a, payload: bytes(10) }), 8);
  assert.equal(c.drain().segments[0]!.ack, 2001);
});

test("figure 13: checkpoints carry absolute numbers; a late acknowledgement of an older one moves nothing back", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.onSegment(seg({ seq: 1001, ack: a, payload: bytes(300) }), 1);
  const cp1 = c.checkpoint();
  c.onSegment(seg({ seq: 1301, ack: a, payload: bytes(200) }), 2);
  const cp2 = c.checkpoint();
  assert.equal(cp1.rcvNxt, 1301);
  assert.equal(cp2.rcvNxt, 1501);
  c.checkpointAcked(cp2, 3);
  c.checkpointAcked(cp1, 4);
  assert.equal(c.rcvAppack, 1501);
  assert.deepEqual(c.lastClustered, { rcvNxt: 1501, sndNxt: a });
  const acks = c.drain().segments.map((s) => s.ack);
  assert.deepEqual(acks, [1501]);
});

test("restore (§4.8): one immediate ACK, window scale and MSS from the checkpoint, then the peer's retransmission is read", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.onSegment(seg({ seq: 1001, ack: a, payload: bytes(400) }), 1);
  c.write(bytes(3000, 7), 1);
  const cp = c.checkpoint({ rcvNxt: 1201 }); // only 200 bytes safe downstream
  assert.equal(cp.sndNxt, a);
  assert.equal(cp.sndWscale, 7);
  assert.equal(cp.rcvWscale, 2);
  const before = TcpConnection.instances;
  const r = TcpConnection.restore(cfg, cp, 1000);
  assert.equal(TcpConnection.instances, before + 1);
  const out = r.drain();
  assert.equal(out.segments.length, 1);
  assert.equal(out.segments[0]!.flags, ACK);
  assert.equal(out.segments[0]!.ack, 1201);
  assert.equal(out.segments[0]!.seq, a);
  assert.equal(out.segments[0]!.window, (64 * 1024) >> 2);
  r.onSegment(seg({ seq: 1001, ack: a, payload: bytes(400, 9) }), 1001);
  const ev = r.drain().events;
  assert.deepEqual(ev, [{ kind: "data", seq: 1201, bytes: bytes(200, 9) }]);
  // A checkpoint of a restored connection keeps the absolute numbers.
  assert.equal(r.checkpoint().rcvNxt, 1401);
});

test("forward ACK after a restore (§4.6): regenerated output the peer already has is discarded, not resent", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  const cp = c.checkpoint();
  const r = TcpConnection.restore(cfg, cp, 0);
  r.drain();
  // The dead node had sent 3000 bytes and the peer ACKs them all.
  r.onSegment(seg({ seq: 1001, ack: (a + 3000) >>> 0, window: 1024 }), 1);
  r.drain();
  r.write(bytes(2000, 1), 2);
  assert.equal(r.drain().segments.length, 0, "the first 2000 regenerated bytes are discarded");
  r.write(bytes(2000, 2), 3);
  const segs = r.drain().segments;
  assert.deepEqual(segs.map((s) => s.seq), [(a + 3000) >>> 0]);
  assert.equal(segs[0]!.payload.length, 1000);
  assert.ok(segs[0]!.payload.every((b) => b === 2));
  // Without a restore, an ACK for unsent data is answered and ignored (RFC 9293).
  const { c: plain } = accepted();
  plain.onSegment(seg({ seq: 1001, ack: (a + 3000) >>> 0 }), 1);
  const o = plain.drain();
  assert.equal(o.segments.length, 1);
  assert.equal(o.segments[0]!.seq, a);
  plain.write(bytes(10), 2);
  assert.equal(plain.drain().segments[0]!.seq, a);
});

test("RFC 6298: retransmission after RTO with exponential backoff; an RTT sample sets RTO = SRTT + 4·RTTVAR", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.write(bytes(100), 0);
  assert.equal(c.drain().segments.length, 1);
  assert.equal(c.nextTimeout(), 1000);
  c.onTimer(1000);
  let s = c.drain().segments;
  assert.equal(s.length, 1);
  assert.equal(s[0]!.seq, a);
  assert.equal(c.nextTimeout(), 3000); // backed off to 2 s
  c.onTimer(3000);
  assert.equal(c.drain().segments.length, 1);
  c.onSegment(seg({ seq: 1001, ack: (a + 100) >>> 0 }), 3100);
  assert.equal(c.nextTimeout(), null);
  // Karn: that ACK gave no sample (retransmitted). Time a fresh one: 80 ms.
  c.write(bytes(100), 4000);
  c.drain();
  c.onSegment(seg({ seq: 1001, ack: (a + 200) >>> 0 }), 4080);
  assert.equal(c.retransmitTimeout, 80 + 4 * 40); // SRTT = R, RTTVAR = R/2 (§2.2)
  c.write(bytes(100), 5000);
  c.drain();
  assert.equal(c.nextTimeout(), 5000 + 240);
});

test("NewReno (RFC 6582): three duplicate ACKs → fast retransmit, partial ACK → next hole, full ACK → deflate", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  const big = 1024 * 64;
  c.onSegment(seg({ seq: 1001, ack: a, window: big >> 7 }), 0);
  c.write(bytes(1460 * 4), 0);
  let s = c.drain().segments;
  assert.equal(s.length, 3); // initial window: min(4·SMSS, max(2·SMSS, 4380)) = 4380 bytes (RFC 5681 eq. 1)
  // ACK the first two: slow start grows cwnd by ≤ SMSS per ACK.
  c.onSegment(seg({ seq: 1001, ack: (a + 1460) >>> 0, window: big >> 7 }), 10);
  c.onSegment(seg({ seq: 1001, ack: (a + 2920) >>> 0, window: big >> 7 }), 10);
  c.write(bytes(1460 * 10), 10);
  s = c.drain().segments;
  const sndMax = (s.at(-1)!.seq + s.at(-1)!.payload.length) >>> 0;
  const flight = (sndMax - ((a + 2920) >>> 0)) >>> 0;
  for (let i = 0; i < 3; i++) c.onSegment(seg({ seq: 1001, ack: (a + 2920) >>> 0, window: big >> 7 }), 20 + i);
  s = c.drain().segments;
  assert.equal(s[0]!.seq, (a + 2920) >>> 0, "fast retransmit of the first unacknowledged segment");
  const ssthresh = Math.max(Math.floor(flight / 2), 2 * 1460);
  assert.equal(c.congestionWindow, ssthresh + 3 * 1460);
  // Partial ACK: the next hole goes out at once.
  c.onSegment(seg({ seq: 1001, ack: (a + 4380) >>> 0, window: big >> 7 }), 30);
  s = c.drain().segments;
  assert.equal(s[0]!.seq, (a + 4380) >>> 0);
  // Full ACK (covers `recover`): cwnd = min(ssthresh, flight + SMSS).
  c.onSegment(seg({ seq: 1001, ack: sndMax, window: big >> 7 }), 40);
  assert.ok(c.congestionWindow <= ssthresh, `cwnd ${c.congestionWindow} > ssthresh ${ssthresh}`);
});

test("close (§4.10): FIN after the data, FIN_WAIT_2 guarded by keepalives that drop a vanished peer", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.write(bytes(10), 0);
  c.close(0);
  const s = c.drain().segments;
  assert.deepEqual(s.map((x) => x.flags & FIN), [0, FIN]);
  assert.equal(s[1]!.seq, (a + 10) >>> 0);
  assert.throws(() => c.checkpoint(), /cluster the close/);
  assert.throws(() => c.write(bytes(1), 1), /after close/);
  c.onSegment(seg({ seq: 1001, ack: (a + 11) >>> 0 }), 5);
  assert.equal(c.state, "FIN_WAIT_2");
  assert.equal(c.nextTimeout(), 5 + 5000);
  c.onTimer(5005);
  let probe = c.drain().segments;
  assert.equal(probe.length, 1);
  assert.equal(probe[0]!.seq, (a + 10) >>> 0); // SND.NXT − 1 (RFC 9293 §3.8.4)
  c.onTimer(6005);
  probe = c.drain().segments;
  assert.equal(probe.length, 1);
  c.onTimer(7005);
  assert.equal(c.state, "CLOSED");
  assert.deepEqual(c.drain().events, [{ kind: "closed", reason: "keepalive" }]);
});

test("close: the peer's FIN is ACKed only once every byte before it is allowed; LAST_ACK → CLOSED", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.onSegment(seg({ seq: 1001, ack: a, flags: ACK | FIN, payload: bytes(50) }), 1);
  let out = c.drain();
  assert.deepEqual(out.events.map((e) => e.kind), ["data", "peer-fin"]);
  assert.equal(out.segments.length, 0);
  assert.equal(c.state, "CLOSE_WAIT");
  c.appAck(1051, 2);
  assert.equal(c.drain().segments[0]!.ack, 1052); // data + FIN
  c.close(3);
  out = c.drain();
  assert.equal(c.state, "LAST_ACK");
  assert.equal(out.segments[0]!.flags, FIN | ACK);
  c.onSegment(seg({ seq: 1052, ack: (a + 1) >>> 0 }), 4);
  assert.deepEqual(c.drain().events, [{ kind: "closed", reason: "normal" }]);
});

test("window scaling (RFC 7323 §2): only when both SYNs carry WS; the peer's window is shifted by its scale", () => {
  const syn = listen(cfg, SRV, seg({ seq: 5000, flags: SYN, options: { mss: 1460 }, window: 65535 }), 0, { suppressRst: false });
  assert.ok(syn.kind === "syn-ack");
  if (syn.kind !== "syn-ack") return;
  assert.deepEqual(syn.segment.options, { mss: cfg.mss });
  const acc = listen(cfg, SRV, seg({ seq: 5001, ack: (syn.segment.seq + 1) >>> 0, window: 3000 }), 0, { suppressRst: false });
  assert.ok(acc.kind === "accept");
  if (acc.kind !== "accept") return;
  assert.deepEqual(acc.connection.windowScales, { snd: 0, rcv: 0 });
  acc.connection.drain();
  acc.connection.write(bytes(5000), 1);
  // Unscaled window of 3000 bytes: two segments (1460 + 1460) fit, the rest waits.
  const sent = acc.connection.drain().segments.reduce((n, s) => n + s.payload.length, 0);
  assert.equal(sent, 2920);
  assert.equal(acc.connection.checkpoint().sndWscale, 0);
});

test("§4.3/§5.3: a SYN_SENT checkpoint restores to a SYN with the same ISN; the backend's SYN-ACK completes it", () => {
  const c = TcpConnection.connect(cfg, CLI, 123456, 0);
  c.drain();
  const cp = c.checkpoint();
  assert.equal(cp.state, "SYN_SENT");
  const r = TcpConnection.restore(cfg, cp, 50);
  const [syn] = r.drain().segments;
  assert.equal(syn!.flags, SYN);
  assert.equal(syn!.seq, 123456);
  r.onSegment(seg({ seq: 9000, ack: 123457, flags: SYN | ACK, options: { mss: 1460, wscale: 7 } }), 60);
  assert.equal(r.state, "ESTABLISHED");
  r.appAck(9001, 61);
  assert.equal(r.drain().segments[0]!.ack, 9001);
  // A SYN-ACK for another ISN gets a RST; a RST with the right ACK closes a SYN_SENT connection.
  const d = TcpConnection.connect(cfg, CLI, 777, 0);
  d.drain();
  d.onSegment(seg({ seq: 1, ack: 5, flags: SYN | ACK }), 1);
  assert.equal(d.drain().segments[0]!.flags & 0x04, 0x04);
  d.onSegment(seg({ seq: 0, ack: 778, flags: 0x04 | ACK }), 2);
  assert.deepEqual(d.drain().events, [{ kind: "closed", reason: "reset" }]);
});

test("RST (RFC 5961 §3.2): exactly at RCV.NXT it resets; elsewhere in the window it draws a challenge ACK", () => {
  const { c, iss } = accepted();
  c.onSegment(seg({ seq: 1500, flags: 0x04 }), 1);
  assert.equal(c.state, "ESTABLISHED");
  const ch = c.drain().segments;
  assert.equal(ch.length, 1);
  assert.equal(ch[0]!.ack, 1001);
  assert.equal(ch[0]!.seq, (iss + 1) >>> 0);
  c.onSegment(seg({ seq: 1001, flags: 0x04 }), 2);
  assert.equal(c.state, "CLOSED");
  assert.deepEqual(c.drain().events, [{ kind: "closed", reason: "reset" }]);
});

test("challenge ACKs are throttled (RFC 5961 §7): one per 500 ms, however many in-window RSTs and SYNs arrive", () => {
  const { c } = accepted();
  const acks = (t: number, s: Partial<TcpSegment>) => {
    c.onSegment(seg(s), t);
    return c.drain().segments.length;
  };
  assert.equal(acks(1, { seq: 1500, flags: 0x04 }), 1);
  assert.equal(acks(2, { seq: 1600, flags: 0x04 }), 0);
  assert.equal(acks(300, { seq: 1001, flags: SYN }), 0);
  assert.equal(acks(501, { seq: 1700, flags: 0x04 }), 1);
  assert.equal(c.state, "ESTABLISHED");
});

test("RST at rcv_appack while bytes are withheld resets (the peer's answer to our ACK), no challenge-ACK loop", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.onSegment(seg({ seq: 1001, ack: a, payload: bytes(500) }), 1);
  c.drain();
  assert.equal(c.rcvNxt, 1501);
  assert.equal(c.rcvAppack, 1001);
  // A peer with no such connection answers our ACK (ack = rcv_appack) with RST, SEQ = that ACK.
  c.onSegment(seg({ seq: 1001, flags: 0x04 }), 2);
  assert.equal(c.state, "CLOSED");
  const out = c.drain();
  assert.deepEqual(out.events, [{ kind: "closed", reason: "reset" }]);
  assert.equal(out.segments.length, 0, "no challenge ACK");
});

test("RST one past the peer's FIN (our ACK field) resets a LAST_ACK connection, no challenge-ACK loop", () => {
  const { c, iss } = accepted();
  const a = (iss + 1) >>> 0;
  c.onSegment(seg({ seq: 1001, ack: a, flags: ACK | FIN, payload: bytes(50) }), 1);
  c.appAck(1051, 2);
  assert.equal(c.drain().segments[0]!.ack, 1052); // data + FIN
  c.write(bytes(53), 3); // a close_notify the peer will never read
  c.close(3);
  const sent = c.drain().segments;
  assert.equal(c.state, "LAST_ACK");
  assert.ok(sent.every((s) => s.ack === 1052));
  // The peer closed and forgot the connection: RFC 9293 §3.10.7.1, its RST's SEQ is our segment's ACK.
  c.onSegment(seg({ seq: 1052, flags: 0x04 }), 4);
  assert.equal(c.state, "CLOSED");
  const out = c.drain();
  assert.deepEqual(out.events, [{ kind: "closed", reason: "reset" }]);
  assert.equal(out.segments.length, 0, "no challenge ACK");
});

test("§4.3 case 1: the relay dies between the backend's SYN-ACK and its checkpoint; a new relay reconnects with the same ISN and gets the same SYN-ACK", () => {
  const BK = { localAddr: 0x0a000003, localPort: 8080, remoteAddr: 0x0a000001, remotePort: 40404 };
  const RL = { localAddr: 0x0a000001, localPort: 40404, remoteAddr: 0x0a000003, remotePort: 8080 };
  const clientIsn = 0x8badf00d; // §4.3: the backend connect uses the client's ISN
  const backend = (s: TcpSegment) => listen(cfg, BK, s, 0, { suppressRst: false });
  const first = TcpConnection.connect(cfg, RL, clientIsn, 0);
  const synAck1 = backend(first.drain().segments[0]!);
  assert.ok(synAck1.kind === "syn-ack");
  if (synAck1.kind !== "syn-ack") return;
  first.onSegment(synAck1.segment, 1);
  // Cluster, then commit: nothing reaches the backend before the checkpoint is acknowledged.
  assert.equal(first.drain().segments.length, 0);
  // Crash. The mirror has nothing; the new owner connects again with the client's ISN.
  const second = TcpConnection.connect(cfg, RL, clientIsn, 400);
  const synAck2 = backend(second.drain().segments[0]!);
  assert.ok(synAck2.kind === "syn-ack");
  if (synAck2.kind !== "syn-ack") return;
  assert.deepEqual(synAck2.segment, synAck1.segment, "a stateless backend listener answers identically");
  second.onSegment(synAck2.segment, 401);
  second.checkpointAcked(second.checkpoint(), 402);
  const [ack] = second.drain().segments;
  const acc = backend(ack!);
  assert.equal(acc.kind, "accept");
});

test("holdFinAck: the peer's FIN is ACKed only once a CLOSE_WAIT checkpoint is acknowledged; LAST_ACK then waits in TIME_WAIT and re-ACKs a retransmitted FIN", () => {
  const hold: TcpConfig = { ...cfg, holdFinAck: true };
  const syn = listen(hold, SRV, seg({ seq: 1000, flags: SYN, options: { mss: 1460, wscale: 7 }, window: 65535 }), 0, { suppressRst: false });
  if (syn.kind !== "syn-ack") throw new Error(syn.kind);
  const iss = syn.segment.seq;
  const acc = listen(hold, SRV, seg({ seq: 1001, ack: (iss + 1) >>> 0, window: 512 }), 0, { suppressRst: false });
  if (acc.kind !== "accept") throw new Error(acc.kind);
  const c = acc.connection;
  c.drain();
  c.onSegment(seg({ seq: 1001, ack: (iss + 1) >>> 0, flags: ACK | FIN, payload: bytes(10) }), 1);
  assert.deepEqual(c.drain().events.map((e) => e.kind), ["data", "peer-fin"]);
  c.appAck(1011, 2);
  assert.equal(c.drain().segments.at(-1)!.ack, 1011, "data ACKed, the FIN not yet");
  const cp = c.checkpoint();
  assert.equal(cp.state, "CLOSE_WAIT");
  c.close(3);
  const fin = c.drain().segments.at(-1)!;
  assert.equal(fin.flags & FIN, FIN);
  assert.equal(fin.ack, 1011);
  assert.equal(c.state, "LAST_ACK");
  c.checkpointAcked(cp, 4);
  assert.equal(c.drain().segments.at(-1)!.ack, 1012, "the FIN is ACKed once a CLOSE_WAIT checkpoint is clustered");
  c.onSegment(seg({ seq: 1012, ack: (iss + 2) >>> 0 }), 5);
  assert.equal(c.state, "TIME_WAIT", "our FIN may have carried the old ACK: wait, do not vanish");
  c.onSegment(seg({ seq: 1011, ack: (iss + 2) >>> 0, flags: ACK | FIN }), 6);
  assert.equal(c.drain().segments.at(-1)!.ack, 1012, "a retransmitted FIN is answered");
});
