// Known-answer and round-trip tests for the clustered-TCP wire codecs:
// RFC 1071 checksum, IPv4 header, TCP segment with options and pseudo-header
// checksum, fingered ISNs, the TCP checkpoint record. The checksums are
// cross-checked against an independent RFC 1071 written below (and the SYN
// vector was computed with a separate Python implementation).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { internetChecksum } from "../../src/transport/tcp/checksum.js";
import { IPPROTO_TCP, ipv4FromString, ipv4ToString, newIpv4Counters, parseIpv4, writeIpv4 } from "../../src/transport/tcp/ipv4.js";
import { ACK, PSH, SYN, parseSegment, tcpChecksum, writeSegment, type TcpSegment } from "../../src/transport/tcp/segment.js";
import { checkFinger, fingeredIsn, MSS_TABLE } from "../../src/transport/tcp/finger.js";
import { decodeTcpCheckpoint, encodeTcpCheckpoint, type TcpCheckpoint } from "../../src/transport/tcp/checkpoint.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

/** RFC 1071 §4.1 "C" example, transcribed independently: 32-bit accumulator over 16-bit words. */
function rfc1071(...parts: Uint8Array[]): number {
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  const padded = all.length % 2 ? Buffer.concat([all, Buffer.alloc(1)]) : all;
  let sum = 0;
  for (let i = 0; i < padded.length; i += 2) sum += padded.readUInt16BE(i);
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudo(src: number, dst: number, len: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(src, 0);
  b.writeUInt32BE(dst, 4);
  b[9] = 6;
  b.writeUInt16BE(len, 10);
  return b;
}

const A = ipv4FromString("10.0.0.2");
const B = ipv4FromString("10.0.0.1");

test("RFC 1071 §3 worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2", () => {
  const data = hex("0001f203f4f5f6f7");
  assert.equal(internetChecksum(data), ~0xddf2 & 0xffff);
  assert.equal(internetChecksum(hex("0001f203f4f5f6")), rfc1071(hex("0001f203f4f5f6"))); // odd length
});

test("checksum agrees with the independent RFC 1071 on random data", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (d) => internetChecksum(d) === rfc1071(d)),
    { seed: 7, numRuns: 300 },
  );
});

test("IPv4: a textbook header (Wikipedia's 192.168.0.1 → .199, checksum b861) parses and is rebuilt byte for byte", () => {
  const header = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  const dgram = new Uint8Array(0x73);
  dgram.set(header);
  const p = parseIpv4(dgram);
  assert.equal(p.kind, "ok");
  if (p.kind !== "ok") return;
  assert.equal(ipv4ToString(p.header.src), "192.168.0.1");
  assert.equal(ipv4ToString(p.header.dst), "192.168.0.199");
  assert.equal(p.header.protocol, 17);
  assert.equal(p.payload.length, 0x73 - 20);
  const again = writeIpv4(p.header, p.payload);
  assert.deepEqual(again.subarray(0, 20), header);
});

test("IPv4: fragments, bad checksums, short and non-v4 datagrams are dropped and counted", () => {
  const payload = new Uint8Array(8);
  const base = { src: A, dst: B, protocol: IPPROTO_TCP, id: 1, ttl: 64, dontFragment: false, tos: 0 };
  const good = writeIpv4(base, payload);
  const c = newIpv4Counters();
  assert.equal(parseIpv4(good, c).kind, "ok");
  const withFlags = (ff: number) => {
    const d = good.slice();
    d[6] = ff >> 8;
    d[7] = ff & 0xff;
    d[10] = d[11] = 0;
    const cs = internetChecksum(d.subarray(0, 20));
    d[10] = cs >> 8;
    d[11] = cs & 0xff;
    return d;
  };
  assert.deepEqual(parseIpv4(withFlags(0x2000), c), { kind: "drop", reason: "fragment" }); // MF
  assert.deepEqual(parseIpv4(withFlags(0x0010), c), { kind: "drop", reason: "fragment" }); // offset
  const bad = good.slice();
  bad[15] ^= 1;
  assert.deepEqual(parseIpv4(bad, c), { kind: "drop", reason: "checksum" });
  assert.deepEqual(parseIpv4(good.subarray(0, 19), c), { kind: "drop", reason: "short" });
  const v6 = good.slice();
  v6[0] = 0x65;
  assert.deepEqual(parseIpv4(v6, c), { kind: "drop", reason: "version" });
  const long = good.slice();
  long[3] += 1;
  assert.equal(parseIpv4(long, c).kind, "drop");
  assert.equal(c.fragment, 2);
  assert.equal(c.checksum >= 1, true);
  assert.equal(c.short, 1);
  assert.equal(c.version, 1);
  // Ethernet padding after Total Length is cut off.
  const padded = new Uint8Array(good.length + 6);
  padded.set(good);
  const pp = parseIpv4(padded);
  assert.ok(pp.kind === "ok" && pp.payload.length === 8);
  assert.throws(() => ipv4FromString("10.0.0.256"));
});

const SYN_VECTOR = hex("9c4001bb01020304000000008002faf0be1c0000020405b40103030701010402");

test("TCP: a SYN with MSS, WS and SACK-permitted matches the hand-checked vector (checksum be1c)", () => {
  const seg: TcpSegment = {
    srcPort: 40000,
    dstPort: 443,
    seq: 0x01020304,
    ack: 0,
    flags: SYN,
    window: 64240,
    urgent: 0,
    options: { mss: 1460, wscale: 7, sackPermitted: true },
    payload: new Uint8Array(0),
  };
  const bytes = writeSegment(seg, A, B);
  assert.deepEqual(bytes, SYN_VECTOR);
  assert.equal(rfc1071(pseudo(A, B, bytes.length), bytes), 0);
  const p = parseSegment(SYN_VECTOR, A, B);
  assert.equal(p.kind, "ok");
  if (p.kind === "ok") assert.deepEqual(p.segment, { ...seg, payload: p.segment.payload });
  // The checksum is bound to the addresses (pseudo-header).
  assert.deepEqual(parseSegment(SYN_VECTOR, A, ipv4FromString("10.0.0.3")), { kind: "drop", reason: "checksum" });
});

test("TCP options: timestamps are recognised but never written; bad option lengths drop; unknown kinds are skipped", () => {
  const mk = (opts: number[]) => {
    const h = Buffer.alloc(20 + opts.length);
    h.writeUInt16BE(1, 0);
    h.writeUInt16BE(2, 2);
    h[12] = ((20 + opts.length) / 4) << 4;
    h[13] = SYN;
    Buffer.from(opts).copy(h, 20);
    h.writeUInt16BE(tcpChecksum(A, B, h), 16);
    return new Uint8Array(h);
  };
  const ts = parseSegment(mk([8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1]), A, B);
  assert.ok(ts.kind === "ok" && ts.segment.options.timestamps === true);
  assert.deepEqual(parseSegment(mk([2, 3, 5, 0]), A, B), { kind: "drop", reason: "option" });
  assert.deepEqual(parseSegment(mk([2, 9, 5, 0]), A, B), { kind: "drop", reason: "option" });
  const unk = parseSegment(mk([30, 4, 0, 0, 3, 3, 20, 0]), A, B); // unknown kind 30, then WS 20 (clamped to 14)
  assert.ok(unk.kind === "ok" && unk.segment.options.wscale === 14);
  assert.throws(() => writeSegment({ ...(ts.kind === "ok" ? ts.segment : ({} as TcpSegment)) }, A, B), /timestamps/);
});

const segArb = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.nat({ max: 0xffffffff }),
  ack: fc.nat({ max: 0xffffffff }),
  flags: fc.constantFrom(ACK, ACK | PSH, SYN, SYN | ACK, 0x11, 0x04),
  window: fc.integer({ min: 0, max: 0xffff }),
  urgent: fc.constant(0),
  options: fc.record({ mss: fc.integer({ min: 0, max: 0xffff }), wscale: fc.integer({ min: 0, max: 14 }), sackPermitted: fc.boolean() }, { requiredKeys: [] }),
  payload: fc.uint8Array({ maxLength: 1500 }),
});

test("TCP: write then parse is the identity, and the checksum matches the independent RFC 1071", () => {
  fc.assert(
    fc.property(segArb, fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (seg, src, dst) => {
      const opts = { ...seg.options };
      if (opts.sackPermitted === false) delete opts.sackPermitted;
      const s = { ...seg, options: opts };
      const bytes = writeSegment(s, src, dst);
      assert.equal(rfc1071(pseudo(src, dst, bytes.length), bytes), 0);
      const p = parseSegment(bytes, src, dst);
      assert.equal(p.kind, "ok");
      if (p.kind === "ok") assert.deepEqual({ ...p.segment, payload: Array.from(p.segment.payload) }, { ...s, payload: Array.from(s.payload) });
    }),
    { seed: 11, numRuns: 300 },
  );
});

test("parsers never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      parseIpv4(b);
      parseSegment(b, A, B);
    }),
    { seed: 13, numRuns: 2000 },
  );
  // Mutations of a valid SYN: either a drop or a parse, never an exception.
  fc.assert(
    fc.property(fc.nat({ max: SYN_VECTOR.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const m = SYN_VECTOR.slice();
      m[i] ^= x;
      const p = parseSegment(m, A, B);
      return p.kind === "drop" || p.kind === "ok";
    }),
    { seed: 17, numRuns: 500 },
  );
});

const mac = (b: Uint8Array) => new Uint8Array(createHmac("sha256", "cluster secret").update(b).digest());
const T = { localAddr: B, localPort: 443, remoteAddr: A, remotePort: 40000 };

test("fingered ISN (§4.2): checks for its tuple and client ISN only, and carries MSS and window scale", () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 536, max: 9000 }), fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }), (irs, mss, ws) => {
      const isn = fingeredIsn(mac, T, irs, mss, ws);
      const info = checkFinger(mac, T, irs, isn);
      assert.ok(info);
      assert.equal(info.peerWscale, ws);
      assert.ok(info.peerMss <= mss && MSS_TABLE.includes(info.peerMss));
      assert.equal(checkFinger(mac, { ...T, remotePort: 40001 }, irs, isn), null);
      assert.equal(checkFinger(mac, T, (irs + 1) >>> 0, isn), null);
      // Any change inside bits 3-20 breaks the finger.
      assert.equal(checkFinger(mac, T, irs, (isn ^ (1 << 11)) >>> 0), null);
    }),
    { seed: 19, numRuns: 200 },
  );
  const other = (b: Uint8Array) => new Uint8Array(createHmac("sha256", "another secret").update(b).digest());
  let accepted = 0;
  for (let irs = 0; irs < 200; irs++) if (checkFinger(other, T, irs, fingeredIsn(mac, T, irs, 1460, 7))) accepted++;
  assert.ok(accepted <= 1, `a foreign secret matched ${accepted} of 200 fingers`);
});

test("TCP checkpoint: encode/decode round trip per field, version and range checks", () => {
  const cpArb = fc.record({
    version: fc.constant(1 as const),
    tuple: fc.record({ localAddr: fc.nat({ max: 0xffffffff }), localPort: fc.integer({ min: 0, max: 0xffff }), remoteAddr: fc.nat({ max: 0xffffffff }), remotePort: fc.integer({ min: 0, max: 0xffff }) }),
    state: fc.constantFrom("SYN_SENT" as const, "ESTABLISHED" as const, "CLOSE_WAIT" as const),
    iss: fc.nat({ max: 0xffffffff }),
    irs: fc.nat({ max: 0xffffffff }),
    rcvNxt: fc.nat({ max: 0xffffffff }),
    sndNxt: fc.nat({ max: 0xffffffff }),
    sndWscale: fc.integer({ min: 0, max: 14 }),
    rcvWscale: fc.integer({ min: 0, max: 14 }),
    peerMss: fc.integer({ min: 0, max: 0xffff }),
    sndWnd: fc.nat({ max: 0xffffffff }),
  });
  fc.assert(
    fc.property(cpArb, (cp: TcpCheckpoint) => {
      assert.deepEqual(decodeTcpCheckpoint(encodeTcpCheckpoint(cp)), { ...cp, tuple: { ...cp.tuple } });
    }),
    { seed: 23, numRuns: 200 },
  );
  const good = encodeTcpCheckpoint({ version: 1, tuple: T, state: "ESTABLISHED", iss: 1, irs: 2, rcvNxt: 3, sndNxt: 4, sndWscale: 7, rcvWscale: 7, peerMss: 1460, sndWnd: 65535 });
  const v2 = good.slice();
  v2[0] = 2;
  assert.throws(() => decodeTcpCheckpoint(v2), /version/);
  assert.throws(() => decodeTcpCheckpoint(good.subarray(1)), /bytes/);
  const ws = good.slice();
  ws[30] = 15;
  assert.throws(() => decodeTcpCheckpoint(ws), /scale/);
});
