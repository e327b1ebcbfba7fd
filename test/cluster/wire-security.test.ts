// Wire security (docs/cluster-protocol.md §3.5): forged MAC, replayed,
// foreign-cluster, truncated, oversized and otherwise bad datagrams are
// dropped and counted by reason, never thrown; plus codec round trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { wasmProvider } from "../../src/crypto/provider.js";
import { WireReceiver, sealDatagram, HEADER_BYTES, TAG_BYTES, DEFAULT_MAX_DATAGRAM } from "../../src/cluster/wire.js";
import { Aggregator } from "../../src/cluster/aggregator.js";
import { decodeMessages, encodeMessage, type Message } from "../../src/cluster/messages.js";
import { concatBytes } from "../../src/bytes.js";
import { KEY } from "./sim.js";

const base = { clusterId: 7, key: KEY, provider: wasmProvider, members: [1, 2, 3] };
const receiver = (): WireReceiver => new WireReceiver({ ...base, nodeId: 2, epoch: () => 500 });
const from1 = { ...base, nodeId: 1 };
const ka: Message = { type: "keepalive", sentAt: 5, echo: 0, master: true, mapVersion: 1, mapIssuer: 1, readyVersion: 1, streamNext: 0, streamAck: 0, checkpointAck: 0, sessionDigest: 0xdeadbeef, follows: 1 };
const dgram = (seq: number, destEpoch = 500, cfg = from1): Uint8Array => sealDatagram(cfg, 2, 100, destEpoch, seq, encodeMessage(ka));

test("a good datagram opens; the same bytes again are a replay", () => {
  const r = receiver();
  assert.equal(r.open(dgram(1)).ok, true);
  assert.deepEqual(r.open(dgram(1)), { ok: false, reason: "replayed" });
  assert.equal(r.open(dgram(3)).ok, true);
  assert.equal(r.open(dgram(2)).ok, true, "inside the window, unseen: accepted (reordering)");
  assert.equal(r.open(dgram(2)).ok, false);
  assert.equal(r.open(dgram(5000)).ok, true);
  assert.deepEqual(r.open(dgram(4)), { ok: false, reason: "too_old" });
  assert.equal(r.drops.replayed, 2);
  assert.equal(r.drops.too_old, 1);
});

test("forged MAC, wrong key, foreign cluster, unknown sender, wrong destination, stale epochs: dropped and counted", () => {
  const r = receiver();
  const d = dgram(1);
  const forged = d.slice();
  forged[HEADER_BYTES] ^= 1;
  assert.deepEqual(r.open(forged), { ok: false, reason: "bad_mac" });
  const tagFlip = d.slice();
  tagFlip[tagFlip.length - 1] ^= 0x80;
  assert.deepEqual(r.open(tagFlip), { ok: false, reason: "bad_mac" });
  assert.deepEqual(r.open(dgram(2, 500, { ...from1, key: new Uint8Array(32) })), { ok: false, reason: "bad_mac" });
  assert.deepEqual(r.open(dgram(2, 500, { ...from1, clusterId: 8 })), { ok: false, reason: "foreign_cluster" });
  assert.deepEqual(r.open(dgram(2, 500, { ...from1, nodeId: 9 })), { ok: false, reason: "unknown_sender" });
  assert.deepEqual(r.open(dgram(2, 500, { ...from1, nodeId: 2 })), { ok: false, reason: "own_sender" });
  assert.deepEqual(r.open(sealDatagram(from1, 3, 100, 500, 2, encodeMessage(ka))), { ok: false, reason: "wrong_destination" });
  assert.deepEqual(r.open(dgram(2, 499)), { ok: false, reason: "stale_destination_epoch" });
  assert.equal(r.open(dgram(2)).ok, true, "a forgery did not move the window");
  assert.deepEqual(r.open(sealDatagram(from1, 2, 99, 500, 3, encodeMessage(ka))), { ok: false, reason: "stale_epoch" });
  assert.equal(r.open(sealDatagram(from1, 2, 101, 500, 1, encodeMessage(ka))).ok, true, "a new incarnation starts a new window");
  for (const reason of ["bad_mac", "foreign_cluster", "unknown_sender", "own_sender", "wrong_destination", "stale_destination_epoch", "stale_epoch"] as const) {
    assert.ok(r.drops[reason] >= 1, reason);
  }
});

test("truncated, oversized, length-mismatched, bad version, reserved encryption flag, malformed payload", () => {
  const r = receiver();
  const d = dgram(1);
  assert.deepEqual(r.open(d.subarray(0, 10)), { ok: false, reason: "truncated" });
  assert.deepEqual(r.open(d.subarray(0, d.length - 1)), { ok: false, reason: "truncated" });
  assert.deepEqual(r.open(concatBytes(d, new Uint8Array(1))), { ok: false, reason: "length_mismatch" });
  assert.deepEqual(r.open(new Uint8Array(DEFAULT_MAX_DATAGRAM + 1)), { ok: false, reason: "oversized" });
  const v1 = d.slice();
  v1[0] = 1; // version 1 had no KEEPALIVE follows field (docs/cluster-protocol.md §3.1)
  assert.deepEqual(r.open(v1), { ok: false, reason: "bad_version" });
  assert.deepEqual(r.open(sealDatagram(from1, 2, 100, 500, 9, encodeMessage(ka), 0x0001)), { ok: false, reason: "unsupported_flags" });
  assert.deepEqual(r.open(sealDatagram(from1, 2, 100, 500, 10, new Uint8Array([99, 0, 0, 0]))), { ok: false, reason: "malformed_payload" });
  assert.equal(r.drops.truncated, 2);
});

test("fuzz: arbitrary bytes and mutated datagrams never throw, and only the untouched one opens", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (junk, pos, bit) => {
      const r = receiver();
      assert.equal(r.open(junk).ok, false);
      const d = dgram(1);
      const m = d.slice();
      m[pos % m.length] ^= 1 << (bit % 8);
      assert.equal(r.open(m).ok, false);
      assert.equal(r.open(d).ok, true);
    }),
    { seed: 42, numRuns: 300 },
  );
});

test("every message type round-trips, several per payload", () => {
  const msgs: Message[] = [
    ka,
    { type: "join" },
    { type: "leave", member: 3, reason: "noAck" },
    { type: "bucketMap", version: 9, issuer: 1, members: [{ id: 1, epoch: 2 ** 40 }, { id: 2, epoch: 7 }], owners: new Uint8Array(1024).map((_, i) => (i % 3 === 2 ? 0xff : i % 2)), handoffs: [{ bucket: 5, to: 2 }] },
    { type: "checkpoint", rid: 2 ** 45, connId: 2 ** 52 + 1, bucket: 1023, full: true, data: new Uint8Array([1, 2, 3]) },
    { type: "checkpointAck", rid: 77 },
    { type: "sessionAdd", session: { id: new Uint8Array(32).fill(1), version: 0x0303, cipherSuite: 0x2f, masterSecret: new Uint8Array(48).fill(2), extendedMasterSecret: true, serverName: "a.test", createdAt: 123 } },
    { type: "sessionRemove", id: new Uint8Array([4, 5]) },
    { type: "connectionClosed", rid: 3, connId: 4, bucket: 5 },
    { type: "nack", from: 3, to: 9 },
    { type: "bucketReleased", mapVersion: 3, mapIssuer: 1, buckets: [1, 2, 1023] },
  ];
  const payload = concatBytes(...msgs.map((m, i) => encodeMessage(m, i % 2 ? i : 0)));
  const back = decodeMessages(payload);
  assert.deepEqual(back.map((f) => f.message), msgs);
  assert.deepEqual(back.map((f) => f.streamSeq), msgs.map((_, i) => (i % 2 ? i : 0)));
  assert.equal(HEADER_BYTES + TAG_BYTES, 52);
});

test("a peer restarts: our sequence numbers to it go on (its new replay window may hold a high one already); restarting at 1 made the rest too_old", () => {
  const agg = new Aggregator({ ...from1, destEpoch: () => 0 }, 100);
  const send = (): Uint8Array => {
    agg.enqueue(2, encodeMessage(ka), 0);
    agg.flush();
    return agg.take()[0]!.bytes;
  };
  for (let i = 0; i < 1500; i++) send(); // a long life: seq 1500 next
  // Member 2 restarts; the first datagram its new incarnation accepts is one sent before we noticed (destination epoch 0).
  const r = receiver();
  assert.equal(r.open(send()).ok, true);
  agg.drop(2); // we noticed the restart
  for (let i = 0; i < 5; i++) assert.equal(r.open(send()).ok, true, "accepted after the drop");
  assert.equal(r.drops.too_old, 0);
});
