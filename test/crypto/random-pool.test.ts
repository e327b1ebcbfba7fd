import { test } from "node:test";
import assert from "node:assert/strict";
import { pooledRandom } from "../../src/crypto/random-pool.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("pooledRandom: the lengths asked, fresh buffers, no value repeated across refills", () => {
  const random = pooledRandom(100);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = [32, 46, 0, 7, 100][i % 5]!;
    const v = random(n);
    assert.equal(v.length, n);
    assert.equal(v.byteOffset, 0);
    assert.equal(v.buffer.byteLength, n, "a copy, not a view of the block");
    if (n >= 16) {
      assert.ok(!seen.has(hex(v)), `value ${i} handed out twice`);
      seen.add(hex(v));
    }
  }
});

test("pooledRandom: a value is the caller's (writing it changes no later value) and larger requests bypass the block", () => {
  const random = pooledRandom(64);
  const a = random(32);
  a.fill(0xaa);
  const b = random(32);
  assert.notEqual(hex(b), hex(a));
  const big = random(1000);
  assert.equal(big.length, 1000);
  assert.ok(big.some((x) => x !== 0));
});

test("pooledRandom: bad sizes are refused by name", () => {
  assert.throws(() => pooledRandom(0), /block size must be a positive integer, got 0/);
  const random = pooledRandom();
  assert.throws(() => random(-1), /byte count must be a non-negative integer, got -1/);
  assert.throws(() => random(1.5), /byte count must be a non-negative integer, got 1.5/);
});
