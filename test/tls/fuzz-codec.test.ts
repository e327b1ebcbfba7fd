// Bounded, reproducible fuzzing of the codec in `npm test`: fixed seed, a
// few thousand runs per target. Long runs with random seeds:
// `node scripts/fuzz.mjs` (see there).
import { test } from "node:test";
import fc from "fast-check";
import { targets } from "./fuzz-targets.js";

const SEED = 0x5eed;

for (const t of targets) {
  test(`fuzz: ${t.name}`, () => {
    fc.assert(t.property, { seed: SEED, numRuns: t.testRuns });
  });
}
