// The aggregator's urgencies (aggregator.ts header): urgent batches leave at
// the end of the turn; stream batches too unless the caller holds their
// destination (Nagle's rule: our last checkpoints unacknowledged), then with
// the next unheld turn, urgent company, or maxDelayMs at a tick; lazy batches
// (session adds) only with company or after lazyDelayMs. Order per
// destination is kept whatever the urgency. And, in the simulation, what the
// node does with them: fewer datagrams per checkpoint with the hold, session
// adds riding with keepalives, and no CONNECTION_CLOSED to members that never
// held the connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Aggregator, type Urgency } from "../../src/cluster/aggregator.js";
import { HEADER_BYTES, TAG_BYTES } from "../../src/cluster/wire.js";
import { wasmProvider } from "../../src/crypto/provider.js";
import { Sim } from "./sim.js";

function aggregator(): Aggregator {
  return new Aggregator({ clusterId: 1, nodeId: 1, key: new Uint8Array(32).fill(3), provider: wasmProvider, destEpoch: () => 0, maxDelayMs: 2, lazyDelayMs: 100 }, 5);
}

/** The framed messages of a datagram, as the one-byte markers this test queues. */
const markers = (bytes: Uint8Array) => [...bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)];

test("urgent and stream batches leave at the end of the turn; a held stream batch waits for urgent company or the delay", () => {
  const a = aggregator();
  const q = (to: number, m: number, u: Urgency, now = 10) => a.enqueue(to, Uint8Array.of(m), now, u);
  q(2, 1, "stream");
  q(3, 2, "urgent");
  a.flush(() => true);
  assert.deepEqual(a.take().map((d) => [d.to, markers(d.bytes)]), [[3, [2]]], "2's stream batch is held, 3's urgent one leaves");
  assert.equal(a.counters.held, 1);
  q(2, 3, "stream", 11);
  a.flush(() => true);
  assert.deepEqual(a.take(), [], "still held");
  q(2, 4, "urgent", 11); // an acknowledgement for 2, say
  a.flush(() => true);
  assert.deepEqual(a.take().map((d) => [d.to, markers(d.bytes)]), [[2, [1, 3, 4]]], "leaves with the urgent message, in order");
  q(2, 5, "stream", 20);
  a.flush(() => true);
  a.tick(21);
  assert.deepEqual(a.take(), [], "not before maxDelayMs");
  a.tick(22);
  assert.deepEqual(a.take().map((d) => markers(d.bytes)), [[5]], "after maxDelayMs at a tick");
  q(2, 6, "stream", 30);
  a.flush(() => false);
  assert.deepEqual(a.take().map((d) => markers(d.bytes)), [[6]], "not held: leaves at the end of the turn");
  q(2, 7, "stream", 40);
  a.flush();
  assert.deepEqual(a.take().map((d) => markers(d.bytes)), [[7]], "no hold function: leaves");
});

test("lazy batches wait for company (any urgency) or lazyDelayMs", () => {
  const a = aggregator();
  a.enqueue(2, Uint8Array.of(1), 0 + 10, "lazy");
  a.flush(() => false);
  a.tick(60);
  assert.deepEqual(a.take(), [], "a lazy batch alone waits");
  a.enqueue(2, Uint8Array.of(2), 70, "stream");
  a.flush(() => false);
  assert.deepEqual(a.take().map((d) => markers(d.bytes)), [[1, 2]], "leaves with a checkpoint");
  a.enqueue(3, Uint8Array.of(3), 100, "lazy");
  a.enqueue(3, Uint8Array.of(4), 150, "lazy");
  a.flush();
  a.tick(199);
  assert.deepEqual(a.take(), []);
  a.tick(200);
  assert.deepEqual(a.take().map((d) => markers(d.bytes)), [[3, 4]], "after lazyDelayMs from the first");
  // Full: leaves at once whatever the urgency.
  for (let i = 0; i < 200; i++) a.enqueue(4, new Uint8Array(100).fill(i), 300, "lazy");
  assert.ok(a.take().length >= 13, "a lazy batch that fills a datagram leaves");
});

test("simulation: checkpoints held for the mirror's acknowledgement share datagrams; session adds ride with keepalives", () => {
  const measure = (holdForAck: boolean) => {
    const sim = new Sim([1, 2, 3], 9, { holdForAck });
    sim.run(1200);
    const before = sim.live().map(([, n]) => ({ ...n.aggregator.counters }));
    sim.net.latencyMs = 2; // a round trip of 4 ms: several checkpoints per round trip
    sim.load(800, { checkpointsPerMs: 2, sessionEvery: 5 });
    sim.net.latencyMs = 0.5;
    sim.run(500);
    sim.checkConverged();
    let msgs = 0;
    let dgrams = 0;
    sim.live().forEach(([, n], i) => {
      msgs += n.aggregator.counters.messages - before[i]!.messages;
      dgrams += n.aggregator.counters.datagrams - before[i]!.datagrams;
    });
    return msgs / dgrams;
  };
  const off = measure(false);
  const on = measure(true);
  assert.ok(on > off * 1.2, `messages per datagram: ${on.toFixed(2)} held for acks, ${off.toFixed(2)} without`);
  console.log(`# messages per datagram: ${on.toFixed(2)} held for acks, ${off.toFixed(2)} without`);
});

test("simulation (k = 1): a connection closed under the map it started under is closed on its mirror only; after a map change, on every member", () => {
  const sim = new Sim([1, 2, 3, 4], 13, { policy: { kind: "k", k: 1 } }, [4]);
  sim.run(1500);
  sim.checkConverged();
  const owner = sim.node(1);
  const bucket = [...owner.ownedBuckets(sim.now)][0]!;
  const applied = () => [2, 3].map((id) => sim.node(id).replication.appliedFrom(1));
  assert.ok(sim.checkpoint(500, bucket));
  sim.run(20);
  const mirror = [2, 3].find((id) => sim.node(id).replication.mirror.has(500))!;
  const other = mirror === 2 ? 3 : 2;
  sim.close(500);
  sim.run(200);
  assert.equal(sim.node(mirror).replication.mirror.has(500), false, "the mirror dropped it");
  assert.equal(sim.node(other).replication.appliedFrom(1), 0, "the other member heard nothing of it");
  // Connections that outlive a map change (member 4 joins): the close of one whose bucket stays ours
  // goes to every member.
  const buckets = [...owner.ownedBuckets(sim.now)].slice(0, 40);
  buckets.forEach((b, i) => assert.ok(sim.checkpoint(600 + i, b)));
  sim.run(20);
  const before = applied();
  sim.start(4);
  sim.run(3000);
  sim.checkConverged();
  const kept = buckets.findIndex((b) => owner.owns(b, sim.now));
  assert.ok(kept >= 0, "member 1 kept one of 40 buckets");
  assert.ok(owner.replication.active.has(600 + kept));
  sim.close(600 + kept);
  sim.run(200);
  for (const id of [2, 3, 4]) assert.equal(sim.node(id).replication.mirror.has(600 + kept), false, `member ${id} holds no closed connection`);
  const after = applied();
  assert.ok(after[0]! > before[0]! && after[1]! > before[1]!, `both other members heard of the close (${before} → ${after})`);
});
