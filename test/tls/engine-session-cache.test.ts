import { test } from "node:test";
import assert from "node:assert/strict";
import { MemorySessionCache, type SessionData } from "../../src/tls/session-cache.js";

function session(n: number, createdAt = 0): SessionData {
  return {
    id: Uint8Array.of(n, n, n), version: 0x0303, cipherSuite: 0x2f, masterSecret: new Uint8Array(48).fill(n),
    extendedMasterSecret: true, serverName: null, createdAt,
  };
}

test("get/put/remove", () => {
  const c = new MemorySessionCache({ maxEntries: 10, ttlMs: 1000, now: () => 0 });
  c.put(session(1));
  assert.equal(c.get(Uint8Array.of(1, 1, 1))?.cipherSuite, 0x2f);
  assert.equal(c.get(Uint8Array.of(1, 1)), undefined);
  assert.equal(c.get(new Uint8Array(0)), undefined);
  c.remove(Uint8Array.of(1, 1, 1));
  assert.equal(c.get(Uint8Array.of(1, 1, 1)), undefined);
  c.put({ ...session(2), id: new Uint8Array(0) }); // no id: not cacheable
  assert.equal(c.size, 0);
});

test("TTL on the injected clock", () => {
  let now = 0;
  const c = new MemorySessionCache({ maxEntries: 10, ttlMs: 1000, now: () => now });
  c.put(session(1, 0));
  c.put(session(2, 500));
  now = 999;
  assert.ok(c.get(Uint8Array.of(1, 1, 1)));
  now = 1000;
  assert.equal(c.get(Uint8Array.of(1, 1, 1)), undefined);
  assert.ok(c.get(Uint8Array.of(2, 2, 2)));
  now = 1500;
  assert.equal(c.sweep(), 1);
  assert.equal(c.size, 0);
});

test("size bound evicts the least recently used", () => {
  const c = new MemorySessionCache({ maxEntries: 3, ttlMs: 1e9, now: () => 0 });
  for (const n of [1, 2, 3]) c.put(session(n));
  assert.ok(c.get(Uint8Array.of(1, 1, 1))); // 1 is now the most recent
  c.put(session(4));
  assert.equal(c.size, 3);
  assert.equal(c.get(Uint8Array.of(2, 2, 2)), undefined);
  for (const n of [1, 3, 4]) assert.ok(c.get(Uint8Array.of(n, n, n)), `session ${n}`);
  c.put(session(3)); // re-put refreshes, no growth
  assert.equal(c.size, 3);
});

test("options are checked", () => {
  assert.throws(() => new MemorySessionCache({ maxEntries: 0, ttlMs: 1, now: () => 0 }), RangeError);
  assert.throws(() => new MemorySessionCache({ maxEntries: 1, ttlMs: 0, now: () => 0 }), RangeError);
});
