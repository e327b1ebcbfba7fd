// Random schedules (fast-check, fixed seed, bounded): loss 0-30 %,
// duplication, reordering, kills, restarts, partitions and heals, under a
// checkpoint and session load. Safety is checked after every simulated
// millisecond; after a heal with a clean network, convergence.
import { test } from "node:test";
import fc from "fast-check";
import { Sim } from "./sim.js";

type Op =
  | { op: "run"; ms: number }
  | { op: "kill"; id: number }
  | { op: "restart"; id: number }
  | { op: "partition"; cut: number }
  | { op: "heal" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("run" as const), ms: fc.integer({ min: 50, max: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("kill" as const), id: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("restart" as const), id: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("partition" as const), cut: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("heal" as const) }) },
);

test("random schedules keep the invariants and converge after healing", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.double({ min: 0, max: 0.3, noNaN: true }),
      fc.array(opArb, { minLength: 3, maxLength: 6 }),
      fc.constantFrom<"all" | "k">("all", "k"),
      (seed, loss, ops, policy) => {
        const ids = [1, 2, 3, 4, 5];
        const sim = new Sim(ids, seed, { policy: policy === "all" ? { kind: "all" } : { kind: "k", k: 2 } });
        sim.load(800, { sessionEvery: 40 });
        sim.net = { loss, duplicate: 0.05, jitterMs: 3, latencyMs: 0.5 };
        for (const o of ops) {
          switch (o.op) {
            case "run":
              sim.load(o.ms, { sessionEvery: 40 });
              break;
            case "kill":
              if (sim.live().length > 1) sim.kill(o.id);
              break;
            case "restart":
              if (!sim.nodes.get(o.id)) sim.start(o.id);
              break;
            case "partition":
              sim.partition(ids.slice(0, o.cut), ids.slice(o.cut));
              break;
            case "heal":
              sim.heal();
              break;
          }
        }
        // Heal everything and let it settle on a clean network.
        sim.heal();
        sim.net = { loss: 0, duplicate: 0, jitterMs: 0, latencyMs: 0.5 };
        for (const id of ids) if (!sim.nodes.get(id)) sim.start(id);
        sim.load(2500, { sessionEvery: 50 });
        sim.run(1000);
        sim.checkConverged();
      },
    ),
    { seed: Number(process.env.CLUSTER_SEED ?? 20250101), numRuns: Number(process.env.CLUSTER_RUNS ?? 3), endOnFailure: true },
  );
});
