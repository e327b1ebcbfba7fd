// Lazy folding of mirrored state (src/cluster/replication.ts TableEntry,
// src/node/cluster-link.ts foldRelayChain): a mirror keeps the relay
// checkpoints it receives and folds them only when the state is read. The
// state it gives must be byte-identical to folding every checkpoint on
// arrival, whenever it is read (after each checkpoint, at random points,
// only at the end), across the MAX_UNFOLDED bound, after a takeover (the
// heir's active table) and in a state shipment to a new member. Checkpoints
// are the real ones of a relay serving a recorded Node TLS client (the relay
// simulation, test/relay/sim.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { foldRelayBytes, foldRelayChain } from "../../src/node/cluster-link.js";
import { MAX_UNFOLDED, Replication } from "../../src/cluster/replication.js";
import { EMPTY_MAP } from "../../src/cluster/bucket-map.js";
import { prng, recordClient, simulate } from "../relay/sim.js";
import { Sim } from "../cluster/sim.js";

function bytes(seed: number, n: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => (r() * 256) | 0);
}

/** The relay checkpoints of one connection: handshake, 20 KB up, ~400 KB down in 40 uneven chunks. */
async function relayCheckpoints(version: "TLSv1" | "TLSv1.2"): Promise<Uint8Array[]> {
  const rec = await recordClient({
    minVersion: version, maxVersion: version, ciphers: version === "TLSv1" ? "AES128-SHA:@SECLEVEL=0" : "AES128-SHA", request: bytes(1, 20_000),
  });
  const response = Array.from({ length: 40 }, (_, i) => bytes(10 + i, 1 + ((i * 7919) % 20_000)));
  const out: Uint8Array[] = [];
  const r = simulate(rec, { seed: 3, crashAt: [], response, onCheckpoint: (b) => out.push(b) });
  assert.ok(r.clientEnded);
  assert.ok(out.length > 2 * MAX_UNFOLDED, `${out.length} checkpoints: enough to cross the unfolded bound twice`);
  return out;
}

/** The state after each checkpoint, folded on arrival (what a mirror held before lazy folding). */
function eagerPrefixes(cps: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s: Uint8Array | undefined;
  for (const c of cps) out.push((s = foldRelayBytes(s, c)));
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function mirrorReplication(): Replication {
  return new Replication({
    self: () => 2, policy: { kind: "all" }, fold: foldRelayBytes, foldChain: foldRelayChain,
    sendReliable: () => {}, isAlive: () => true, epochOf: () => 1,
  });
}

for (const version of ["TLSv1.2", "TLSv1"] as const) {
  test(`foldRelayChain equals folding one by one (${version}), over any split of the chain`, async () => {
    const cps = await relayCheckpoints(version);
    const eager = eagerPrefixes(cps);
    assert.equal(hex(foldRelayChain(undefined, cps)), hex(eager.at(-1)!));
    const r = prng(7);
    for (let run = 0; run < 20; run++) {
      let s: Uint8Array | undefined;
      let i = 0;
      while (i < cps.length) {
        const n = 1 + ((r() * 9) | 0);
        s = foldRelayChain(s, cps.slice(i, i + n));
        i = Math.min(cps.length, i + n);
        assert.equal(hex(s), hex(eager[i - 1]!), `run ${run}: after ${i} checkpoints`);
      }
    }
  });

  test(`a mirror folding lazily holds the eagerly folded bytes, read at any point (${version})`, async () => {
    const cps = await relayCheckpoints(version);
    const eager = eagerPrefixes(cps);
    const r = prng(11);
    for (const readEvery of ["each", "random", "end"] as const) {
      const rep = mirrorReplication();
      cps.forEach((c, i) => {
        // The checkpoint arrives as a view into a datagram, which is reused or freed after the turn.
        const datagram = Uint8Array.from(c);
        rep.onMessage(EMPTY_MAP, 1, { type: "checkpoint", rid: i + 1, connId: 5, bucket: 3, full: false, data: datagram }, 1000 + i);
        datagram.fill(0xee);
        const read = readEvery === "each" || (readEvery === "random" && r() < 0.2);
        if (read) assert.equal(hex(rep.mirror.get(5)!.state), hex(eager[i]!), `${readEvery}: after checkpoint ${i + 1}`);
      });
      const e = rep.mirror.get(5)!;
      assert.equal(hex(e.state), hex(eager.at(-1)!), `${readEvery}: at the end`);
      assert.equal(e.rid, cps.length);
      assert.equal(e.owner, 1);
      assert.equal(rep.stats.foldErrors, 0);
      assert.deepEqual(rep.takeAcks(), [{ to: 1, rid: cps.length }]);
    }
  });
}

test("a delta that does not fold is counted; the entry keeps the last state that folded", async () => {
  const cps = await relayCheckpoints("TLSv1.2");
  const eager = eagerPrefixes(cps);
  const rep = mirrorReplication();
  const bad = Uint8Array.from(cps[5]!);
  bad[0] = 99; // an unknown relay checkpoint format
  const seq = [...cps.slice(0, 5), bad, cps[5]!, cps[6]!];
  seq.forEach((data, i) => rep.onMessage(EMPTY_MAP, 1, { type: "checkpoint", rid: i + 1, connId: 9, bucket: 1, full: false, data }, 1000 + i));
  assert.equal(hex(rep.mirror.get(9)!.state), hex(eager[4]!));
  assert.equal(rep.stats.foldErrors, 1);
  // Acknowledged all the same: the owner's stream goes on (the fold is the mirror's business).
  assert.deepEqual(rep.takeAcks(), [{ to: 1, rid: seq.length }]);
});

test("a connection's first delta that does not fold alone (a mirror that missed its start) makes no entry; the full snapshot that follows does", async () => {
  const cps = await relayCheckpoints("TLSv1.2");
  const eager = eagerPrefixes(cps);
  // The ctcp fold refuses a first record without a relay checkpoint; here: any delta but the first needs a base.
  const fold = (prev: Uint8Array | undefined, d: Uint8Array) => {
    if (prev === undefined && hex(d) !== hex(cps[0]!)) throw new Error("no base");
    return foldRelayBytes(prev, d);
  };
  const rep = new Replication({ self: () => 2, policy: { kind: "all" }, fold, sendReliable: () => {}, isAlive: () => true, epochOf: () => 1 });
  rep.onMessage(EMPTY_MAP, 1, { type: "checkpoint", rid: 7, connId: 4, bucket: 2, full: false, data: cps[6]! }, 1000);
  assert.equal(rep.mirror.get(4), undefined, "no entry without a state");
  assert.equal(rep.stats.foldErrors, 1);
  assert.deepEqual(rep.takeAcks(), [{ to: 1, rid: 7 }], "acknowledged: the owner's stream goes on");
  // The owner's resync: a full snapshot, then deltas fold on it.
  rep.onMessage(EMPTY_MAP, 1, { type: "checkpoint", rid: 8, connId: 4, bucket: 2, full: true, data: eager[6]! }, 1001);
  rep.onMessage(EMPTY_MAP, 1, { type: "checkpoint", rid: 9, connId: 4, bucket: 2, full: false, data: cps[7]! }, 1002);
  assert.equal(hex(rep.mirror.get(4)!.state), hex(eager[7]!));
  assert.equal(rep.stats.foldErrors, 1);
  // Owner side: a first checkpoint that does not fold is refused the same way (counted, no entry).
  rep.replicate(EMPTY_MAP, 5, 3, cps[3]!, 1003);
  assert.equal(rep.active.get(5), undefined);
  assert.equal(rep.stats.foldErrors, 2);
});

test("cluster simulation: mirrors, the heir after the owner dies, and a newcomer's shipment hold the eagerly folded state", async () => {
  const cps = await relayCheckpoints("TLSv1.2");
  const want = hex(eagerPrefixes(cps).at(-1)!);
  const sim = new Sim([1, 2, 3, 4], 5, { fold: foldRelayBytes, foldChain: foldRelayChain }, [4]);
  sim.run(1500);
  const bucket = [...sim.node(2).ownedBuckets(sim.now)][0]!;
  for (const c of cps) {
    assert.ok(sim.node(2).replicate(77, bucket, c, sim.now).ok);
    sim.run(1);
  }
  sim.run(50);
  assert.equal(hex(sim.node(2).replication.active.get(77)!.state), want, "the owner's active table");
  // Member 4 starts: the owner ships it the (lazily folded) state as a full snapshot.
  sim.start(4);
  sim.run(2500);
  sim.checkConverged();
  const holder = [1, 3, 4].find((id) => sim.node(id).owns(bucket, sim.now));
  const at4 = sim.node(4).replication.mirror.get(77) ?? sim.node(4).replication.active.get(77);
  assert.ok(at4, "the newcomer holds the connection");
  assert.equal(hex(at4.state), want, "shipped to the newcomer");
  // The owner dies; whoever owns the bucket next holds the state in its active table, never read before.
  sim.kill(holder ?? 2);
  sim.run(3000);
  const heir = sim.live().find(([, n]) => n.owns(bucket, sim.now));
  assert.ok(heir, "some member owns the bucket after the owner's death");
  assert.equal(hex(heir[1].replication.active.get(77)!.state), want, `the heir (member ${heir[0]})`);
  for (const [id, n] of sim.live()) {
    const e = n.replication.mirror.get(77) ?? n.replication.active.get(77);
    assert.equal(e && hex(e.state), want, `member ${id}`);
  }
});
