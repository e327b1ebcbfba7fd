// Scenarios on the deterministic simulation (sim.ts): formation, joins,
// deaths, master death, simultaneous deaths, rejoin, partitions and heals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sim } from "./sim.js";

test("three nodes form a cluster: one master, 1024 buckets spread, sessions everywhere", () => {
  const sim = new Sim([1, 2, 3], 1);
  sim.run(1500);
  sim.checkConverged();
  const st = sim.node(2).status(sim.now);
  assert.equal(st.master, 1);
  assert.deepEqual(st.members.map((m) => m.buckets).sort(), [341, 341, 342]);
  sim.addSession(2, 9);
  sim.run(50);
  sim.checkConverged();
});

test("aggregation: the same load in far fewer datagrams than messages; off, one message per datagram", () => {
  const measure = (aggregate: boolean): { msgs: number; dgrams: number; bytes: number } => {
    const sim = new Sim([1, 2, 3], 5, { aggregate });
    sim.run(1200);
    const before = sim.live().map(([, n]) => ({ ...n.aggregator.counters }));
    sim.load(500, { checkpointsPerMs: 4, sessionEvery: 10 });
    let msgs = 0;
    let dgrams = 0;
    let bytes = 0;
    sim.live().forEach(([, n], i) => {
      msgs += n.aggregator.counters.messages - before[i]!.messages;
      dgrams += n.aggregator.counters.datagrams - before[i]!.datagrams;
      bytes += n.aggregator.counters.bytes - before[i]!.bytes;
    });
    return { msgs, dgrams, bytes };
  };
  const on = measure(true);
  const off = measure(false);
  assert.ok(on.msgs / on.dgrams > 2, `messages/datagram with aggregation: ${(on.msgs / on.dgrams).toFixed(2)}`);
  assert.equal(off.msgs, off.dgrams);
  assert.ok(on.bytes < off.bytes);
  for (const [, n] of new Sim([1, 2], 5).live()) assert.ok(n.aggregator.counters.datagrams >= 0);
});

test("a message that cannot be encoded throws once and leaves no gap in the reliable stream: the next checkpoint reaches the mirrors", () => {
  const sim = new Sim([1, 2, 3], 3);
  sim.run(1500);
  sim.checkConverged();
  const bucket = [...sim.node(2).ownedBuckets(sim.now)][0]!;
  // A connection id beyond the 53-bit wire field (docs §3): its checkpoint's encoding throws.
  assert.throws(() => sim.node(2).replicate(2 ** 60, bucket, new Uint8Array([1]), sim.now), RangeError);
  const r = sim.node(2).replicate(42, bucket, new Uint8Array([42, 0, 7]), sim.now);
  assert.ok(r.ok);
  sim.run(200);
  for (const id of [1, 3]) assert.ok(sim.node(id).replication.mirror.has(42), `mirror ${id} holds the next checkpoint`);
  assert.equal(sim.node(2).counters.retransmits, 0, "nothing to NACK: no sequence number was spent on the message that failed");
});
