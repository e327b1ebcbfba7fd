// ClusteredSessionCache.onChange: what a node's shard copies follow — local
// and remote adds and removes, and the cache's own drops (LRU eviction,
// expiry), so a copy needs no bounds of its own; nothing of it is broadcast.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusteredSessionCache, type SessionCacheChange } from "../../src/cluster/session-cache.js";
import type { SessionData } from "../../src/tls/session-cache.js";

function session(idByte: number, createdAt: number): SessionData {
  return { id: new Uint8Array(32).fill(idByte), version: 0x0303, cipherSuite: 0x002f, masterSecret: new Uint8Array(48).fill(idByte), extendedMasterSecret: true, serverName: "a.test", createdAt };
}

test("onChange reports local and remote adds/removes, LRU evictions and expiry; only local changes are broadcast", () => {
  let now = 1000;
  const sent: string[] = [];
  const cache = new ClusteredSessionCache({ maxEntries: 2, ttlMs: 500, now: () => now, broadcast: (m) => sent.push(`${m.type}:${(m.type === "sessionAdd" ? m.session.id : m.id)[0]}`) });
  const seen: string[] = [];
  const show = (c: SessionCacheChange) => seen.push(`${c.type}:${(c.type === "add" ? c.session.id : c.id)[0]}`);
  cache.onChange(show);
  cache.put(session(1, now));
  cache.added(session(2, now));
  cache.added(session(3, now)); // evicts 1 (least recently used)
  assert.deepEqual(seen, ["add:1", "add:2", "remove:1", "add:3"]);
  assert.deepEqual(cache.entries().map((s) => s.id[0]), [2, 3]);
  cache.removed(new Uint8Array(32).fill(2));
  cache.remove(new Uint8Array(32).fill(3));
  assert.deepEqual(seen.slice(4), ["remove:2", "remove:3"]);
  cache.put(session(4, now));
  cache.added(session(5, now - 400));
  now += 150; // 5 is past its TTL, 4 is not
  cache.sweep();
  assert.deepEqual(seen.slice(6), ["add:4", "add:5", "remove:5"]);
  now += 400;
  assert.equal(cache.get(new Uint8Array(32).fill(4)), undefined, "expired on lookup");
  assert.deepEqual(seen.slice(9), ["remove:4"]);
  assert.deepEqual(sent, ["sessionAdd:1", "sessionRemove:3", "sessionAdd:4"], "evictions, expiry and peers' changes are not sent on");
});

/** The settled digest as the O(n) sweep computed it: XOR of FNV-1a(id) over live sessions created before the horizon. */
function fnvXor(sessions: readonly SessionData[], before = Infinity): number {
  let x = 0;
  for (const s of sessions) {
    if (s.createdAt >= before) continue;
    let h = 0x811c9dc5;
    for (const b of s.id) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    x ^= h;
  }
  return x >>> 0;
}

test("sweep is incremental yet gives what a full scan gives: expiry, settled digest, digest (random operations)", async () => {
  const { Rng } = await import("../helpers/rng.js");
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Rng(seed);
    let now = 10_000;
    const cache = new ClusteredSessionCache({ maxEntries: 60, ttlMs: 3000, now: () => now, broadcast: () => {} });
    const removedSeen: number[] = [];
    cache.onChange((c) => c.type === "remove" && removedSeen.push(c.id[0]!));
    const id = () => new Uint8Array(32).map((_, i) => (i === 0 ? rng.int(200) : rng.int(256)));
    const some = () => cache.entries()[rng.int(Math.max(1, cache.size))]?.id ?? id();
    let horizon = -Infinity;
    for (let step = 0; step < 3000; step++) {
      const op = rng.int(10);
      const mk = (createdAt: number): SessionData => ({ ...session(0, createdAt), id: id() });
      if (op < 3) cache.put(mk(now));
      else if (op < 5) cache.added(mk(now - rng.int(4000))); // a peer's, some old (a dump), some already expired
      else if (op === 5) cache.remove(some());
      else if (op === 6) cache.removed(some());
      else if (op === 7) cache.get(some());
      else if (op === 8) cache.put({ ...session(0, now), id: some() }); // the same id again (replaced)
      else now += rng.int(200);
      if (step % 7 === 0) {
        // The node's horizon: 2 keepalive-dead periods back, in steps (cluster-node.ts sendKeepalives).
        horizon = rng.next() < 0.05 ? horizon - 500 : Math.floor((now - 800) / 400) * 400;
        cache.sweep(horizon);
        const live = cache.entries();
        assert.equal(live.length, cache.size, `seed ${seed} step ${step}: an expired session outlived the sweep`);
        assert.equal(cache.settledDigest, fnvXor(live, horizon), `seed ${seed} step ${step}: settled digest`);
        assert.equal(cache.digest, fnvXor(live), `seed ${seed} step ${step}: digest`);
      }
    }
    assert.ok(removedSeen.length > 100, `seed ${seed}: removals exercised (${removedSeen.length})`);
  }
});
