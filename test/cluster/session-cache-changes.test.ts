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
