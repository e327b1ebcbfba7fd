// Bounded, reproducible fuzzing of the whole engine in `npm test` (fixed
// seed); long runs: `node scripts/fuzz.mjs --target engine`.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkEnd, driveEngine, engineSeeds, engineTargets } from "./fuzz-engine.js";

const SEED = 0x5eed;

test("fuzz seeds: every scripted session runs clean to close_notify, in one piece and byte by byte", () => {
  for (const s of engineSeeds()) {
    const stream = Buffer.concat(s.records);
    checkEnd(driveEngine(s.name, [stream]));
    // Byte by byte, the backend's echo comes before the next record (in one
    // piece it comes after the client's close_notify and is dropped).
    const bytes = [...stream].map((b) => Uint8Array.of(b));
    const eager = driveEngine(s.name, bytes);
    const lazy = driveEngine(s.name, bytes, [false, true, false]);
    checkEnd(eager);
    checkEnd(lazy);
    assert.ok(Buffer.from(lazy.transmitted).equals(Buffer.from(eager.transmitted)), `${s.name}: same bytes out whatever the ack schedule`);
    assert.ok(eager.outputs.filter((o) => o.kind === "plaintext").length >= 2, `${s.name}: reached the data phase`);
  }
});

for (const t of engineTargets) {
  test(`fuzz: ${t.name}`, () => {
    fc.assert(t.property, { seed: SEED, numRuns: t.testRuns });
  });
}
