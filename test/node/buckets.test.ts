// Buckets: the 4-tuple hash is symmetric and spreads connections; source
// ports chosen for a backend leg land in the client leg's bucket (SSLACC §4.5).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BucketMap, BUCKETS, bucketOf, NO_SHARD, SourcePorts } from "../../src/node/buckets.js";

test("bucketOf is symmetric and spreads client ports over the buckets", () => {
  const server = { address: "127.0.0.1", port: 8443 };
  const counts = new Array<number>(BUCKETS).fill(0);
  for (let p = 30000; p < 30000 + 20 * BUCKETS; p++) {
    const client = { address: "127.0.0.1", port: p };
    const b = bucketOf(client, server);
    assert.equal(b, bucketOf(server, client));
    counts[b]!++;
  }
  // 20 per bucket on average: none empty, none above 3x.
  assert.ok(Math.min(...counts) > 0, "every bucket used");
  assert.ok(Math.max(...counts) < 60, `max ${Math.max(...counts)}`);
});

test("source ports: every candidate puts the backend leg in the wanted bucket", () => {
  const backend = { address: "127.0.0.1", port: 8080 };
  const ports = new SourcePorts("127.0.0.1", backend);
  for (const bucket of [0, 1, 511, 1023]) {
    const c = ports.candidates(bucket, 8);
    assert.ok(c.length >= 4, `bucket ${bucket}: ${c.length} candidates`);
    for (const p of c) assert.equal(bucketOf({ address: "127.0.0.1", port: p }, backend), bucket);
    assert.notEqual(ports.candidates(bucket, 8)[0], c[0], "rotates");
  }
});

test("bucket map: round robin homes, versioned moves", () => {
  const m = new BucketMap(3);
  assert.equal(m.bucketsOf(0).length + m.bucketsOf(1).length + m.bucketsOf(2).length, BUCKETS);
  assert.equal(m.home(5), 2);
  assert.equal(m.version, 1);
  assert.equal(m.apply([{ bucket: 5, to: 0 }, { bucket: 6, to: NO_SHARD }]), 2);
  assert.equal(m.shardOf(5), 0);
  assert.equal(m.shardOf(6), NO_SHARD);
  assert.equal(m.home(5), 2, "home unchanged");
  assert.equal(m.apply([]), 2, "no moves, same version");
  assert.throws(() => m.apply([{ bucket: 1, to: 3 }]), /no shard 3/);
  assert.throws(() => new BucketMap(0), /shards must be a positive integer/);
});
