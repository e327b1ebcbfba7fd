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
