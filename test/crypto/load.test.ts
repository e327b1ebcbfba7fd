import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCore } from "../../src/crypto/wasm/load.js";

test("both core modules load and expose a scratch region", () => {
  for (const name of ["rsa", "sym"] as const) {
    const core = loadCore(name);
    assert.ok(core.scratch > 0, `${name}: scratch pointer`);
    assert.ok(core.scratchSize >= 64 * 1024, `${name}: scratch size`);
    assert.ok(core.scratch + core.scratchSize <= core.heap.length, `${name}: scratch inside memory`);
  }
});
