// Shard lifecycle (src/node/shard-lifecycle.ts, src/node/daemon.ts): the
// policy alone (backoff delays, a dead shard's buckets spread, the return
// home in bounded steps), then the daemon with real clients: a shard killed
// under load has its connections finish on the survivor before it is
// respawned; a respawned shard takes its buckets back while downloads and
// uploads are running on them (each moved connection restored on its new
// owner, the old owner's in-flight batches ignored); every body byte-exact
// and every request seen once by the backend.
import { createHash } from "node:crypto";
import { request } from "node:https";
import { test } from "node:test";
import assert from "node:assert/strict";
import { BucketMap, BUCKETS, NO_SHARD } from "../../src/node/buckets.js";
import type { CheckpointInfo, Daemon } from "../../src/node/daemon.js";
import { Backoff, checkRespawnPolicy, evacuate, rebalanceStep } from "../../src/node/shard-lifecycle.js";
import { bodyBlocks, bodySha, CHILD_TIMEOUT_MS, clientPortsFor, curlFrom, fromSourcePort, nodeFetch, startBackend, startDaemon } from "./helpers.js";

test("backoff: 100 ms doubling to the cap, reset after a stable run", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 30_000, stableMs: 10_000 });
  const delays: number[] = [];
  let now = 0;
  for (let i = 0; i < 11; i++) {
    b.up(now);
    now += 50; // dies 50 ms after each start: a crash loop
    delays.push(b.died(now));
    now += delays.at(-1)!;
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  assert.equal(b.consecutive, 11);
  b.up(now);
  assert.equal(b.died(now + 10_000), 100, "up for the stable period: starts over");
  assert.equal(b.died(now + 10_001), 200, "died again before coming up: counts on");
  assert.throws(() => checkRespawnPolicy({ initialMs: 0, maxMs: 1, stableMs: 1 }), /respawn\.initialMs/);
  assert.throws(() => checkRespawnPolicy({ initialMs: 10, maxMs: 5, stableMs: 1 }), /respawn\.maxMs/);
  assert.throws(() => checkRespawnPolicy({ initialMs: 1, maxMs: 5, stableMs: Number.NaN }), /respawn\.stableMs/);
});

test("evacuate and rebalance: a dead shard's buckets spread evenly, ownerless at once, home in bounded steps", () => {
  const map = new BucketMap(4);
  const out = evacuate(map, 1, [0, 1, 2, 3]);
  assert.equal(out.length, BUCKETS / 4);
  assert.ok(out.every((m) => m.from === 1 && m.to !== 1 && m.to !== NO_SHARD));
  map.apply(out);
  const per = [0, 2, 3].map((s) => map.bucketsOf(s).length);
  assert.ok(Math.max(...per) - Math.min(...per) <= 1, `even spread: ${per}`);
  // Every other shard dies too: the buckets have no shard.
  for (const dead of [0, 2]) map.apply(evacuate(map, dead, [0, 2, 3].filter((s) => s > dead)));
  map.apply(evacuate(map, 3, []));
  assert.equal(map.bucketsOf(NO_SHARD).length, BUCKETS);
  // Shard 2 comes back: everything goes to it at once (its home buckets and the others').
  const first = rebalanceStep(map, [2], { buckets: 10, connections: 10 }, () => 0);
  assert.equal(first.length, BUCKETS);
  map.apply(first);
  assert.equal(map.bucketsOf(2).length, BUCKETS);
  // Then 0, 1 and 3: their home buckets return in steps bounded by buckets and connections (a bucket is never split).
  let steps = 0;
  for (;;) {
    const moves = rebalanceStep(map, [0, 1, 2, 3], { buckets: 64, connections: 100 }, (b) => (b === 5 ? 500 : 1));
    if (moves.length === 0) break;
    steps++;
    assert.ok(moves.length <= 64);
    assert.ok(moves.every((m) => m.to === map.home(m.bucket) && m.from === 2));
    const conns = moves.reduce((n, m) => n + (m.bucket === 5 ? 500 : 1), 0);
    assert.ok(conns <= 100 || moves.length === 1, `step of ${conns} connections in ${moves.length} buckets`);
    map.apply(moves);
  }
  assert.ok(steps >= 12, `${steps} steps`);
  for (let b = 0; b < BUCKETS; b++) assert.equal(map.shardOf(b), map.home(b));
  assert.deepEqual(rebalanceStep(map, [0, 1, 2, 3], { buckets: 64, connections: 100 }, () => 0), []);
});

/**
 * Node https from a chosen source port; the body (download) or the upload
 * stops halfway until `gate` resolves, so the connection is open, with
 * bytes both behind and ahead, while the test moves its bucket.
 */
function gated(port: number, localPort: number, id: string, gate: Promise<unknown>, upload: number | null, download: number | null): Promise<{ sha: string; length: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1", port, localAddress: "127.0.0.1", localPort, rejectUnauthorized: false, agent: false,
      ...(upload !== null ? { method: "POST", path: "/upload", headers: { "x-req-id": id, connection: "close", "content-length": upload } }
        : { method: "GET", path: `/bytes/${download}`, headers: { "x-req-id": id, connection: "close" } }),
    }, (res) => {
      const h = createHash("sha256");
      let length = 0;
      let text = "";
      let held = false;
      res.on("data", (d: Buffer) => {
        h.update(d);
        length += d.length;
        if (text.length < 200) text += d.toString("latin1");
        if (!held && download !== null && length >= download / 2) {
          held = true;
          res.pause();
          void gate.then(() => res.resume());
        }
      });
      res.on("end", () => resolve({ sha: h.digest("hex"), length, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(CHILD_TIMEOUT_MS, () => req.destroy(new Error(`${id}: no progress in ${CHILD_TIMEOUT_MS} ms`)));
    if (upload === null) return void req.end();
    const blocks = bodyBlocks(upload);
    let sent = 0;
    let waited = false;
    const pump = (): void => {
      for (;;) {
        if (!waited && sent >= upload / 2) {
          waited = true;
          return void gate.then(pump);
        }
        const b = blocks.next();
        if (b.done) return void req.end();
        sent += b.value.length;
        if (!req.write(b.value)) return void req.once("drain", pump);
      }
    };
    pump();
  });
}

/** Kills `shard` once, when a checkpoint shows a connection it runs past `bytes` of the download. */
function killWhen(daemon: Daemon, shard: number, bytes: number): Promise<{ at: number; conns: number }> {
  return new Promise((resolve) => {
    const listener = (i: CheckpointInfo) => {
      if (i.shard !== shard || i.snapshot.fields.backendConsumed < bytes) return;
      daemon.off("checkpoint", listener);
      const conns = daemon.status().connections.filter((c) => c.shard === shard).length;
      daemon.killShard(shard, "terminate");
      resolve({ at: performance.now(), conns });
    };
    daemon.on("checkpoint", listener);
  });
}

test("a dead shard's connections finish on the survivor before the respawn; its buckets come back after it", async () => {
  const backend = await startBackend();
  // Respawn 6 s after the death: the downloads (1.5 MiB at 2 MB/s) end well before.
  const { daemon, port } = await startDaemon(backend.port, { shards: 2, respawn: { initialMs: 6000 } });
  try {
    const on = clientPortsFor(daemon, port);
    const size = 1536 * 1024;
    let respawnedAt = 0;
    daemon.once("shard-restarted", () => (respawnedAt = performance.now()));
    const kill = killWhen(daemon, 0, 256 * 1024);
    const runs = [0, 0, 0, 1].map(async (shard, i) => {
      const id = `surv-${i}`;
      const c = await curlFrom(() => on(shard), ["--limit-rate", "2M", "-H", `x-req-id: ${id}`, `https://127.0.0.1:${port}/bytes/${size}`]);
      return { id, c, at: performance.now() };
    });
    const done = await Promise.all(runs);
    const k = await kill;
    assert.ok(k.conns >= 3, `shard 0 ran ${k.conns} connections when it died`);
    for (const { id, c, at } of done) {
      assert.equal(c.code, 0, `${id}: ${c.stderr}`);
      assert.equal(c.sha, bodySha(size), id);
      assert.equal(backend.seen.get(id), 1, id);
      assert.equal(respawnedAt, 0, `${id} finished ${(at - k.at).toFixed(0)} ms after the kill, before the respawn`);
    }
    const st = daemon.status();
    assert.equal(st.shards[0]!.state, "down");
    assert.equal(st.shards[0]!.buckets, 0);
    assert.equal(st.shards[1]!.buckets, BUCKETS, "all buckets on the survivor");
    assert.ok(st.shards[0]!.respawnInMs > 0);
    assert.ok(daemon.counters.restoredConnections >= 3);

    const version = st.bucketMapVersion;
    await new Promise((r) => daemon.once("rebalanced", r));
    const back = daemon.status();
    assert.ok(respawnedAt > 0);
    assert.ok(back.bucketMapVersion > version + 1, "returned in several steps (versions)");
    assert.deepEqual(back.shards.map((s) => [s.state, s.buckets]), [["ready", BUCKETS / 2], ["ready", BUCKETS / 2]]);
    const r = await nodeFetch(port, "/bytes/100000", { id: "after" });
    assert.equal(r.sha, bodySha(100000));
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("buckets return to a respawned shard while downloads and uploads run on them: byte-exact, each request once", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, { shards: 2, respawn: { initialMs: 200 } });
  try {
    const on = clientPortsFor(daemon, port);
    const size = 4 << 20;
    // Every client stops halfway until the buckets are home again.
    const rebalanced = new Promise<void>((r) => daemon.once("rebalanced", () => r()));
    const kill = killWhen(daemon, 0, 256 * 1024);
    const died = new Promise<number>((r) => daemon.once("shard-died", () => r(daemon.counters.bucketMoves)));
    const downloads = [0, 0, 0, 1].map((shard, i) => fromSourcePort(() => on(shard), (from) => gated(port, from, `ret-${i}`, rebalanced, null, size)).then((r) => ({ id: `ret-${i}`, r })));
    const uploads = [0, 1].map((shard, i) => fromSourcePort(() => on(shard), (from) => gated(port, from, `ret-up-${i}`, rebalanced, size, null)).then((r) => ({ id: `ret-up-${i}`, r })));
    const k = await kill;
    const moved = await died;
    for (const { id, r } of await Promise.all(downloads)) {
      assert.equal(r.length, size, id);
      assert.equal(r.sha, bodySha(size), id);
      assert.equal(backend.seen.get(id), 1, id);
    }
    for (const { id, r } of await Promise.all(uploads)) {
      assert.equal(r.text, `${bodySha(size)} ${size}`, id);
      assert.equal(backend.seen.get(id), 1, id);
    }
    assert.ok(k.conns >= 4, `shard 0 ran ${k.conns} connections when it died`);
    // 512 buckets to the survivor at the death, 512 back after the respawn.
    assert.equal(moved, BUCKETS / 2);
    assert.equal(daemon.counters.bucketMoves, BUCKETS);
    assert.ok(daemon.counters.restoredConnections >= 8, `${daemon.counters.restoredConnections} restores (out and back)`);
    assert.equal(daemon.counters.shardRestarts, 1);
    assert.deepEqual(daemon.status().shards.map((s) => s.buckets), [BUCKETS / 2, BUCKETS / 2]);
    const c = daemon.counters;
    console.log(`${k.conns} connections on the dead shard; ${c.bucketMoves} bucket moves, ${c.restoredConnections} restores, ${c.staleBatches} stale batches ignored, ${c.duplicateBytesDropped} regenerated bytes dropped`);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("a poison connection (its shard dies each time it is restored) is aborted after 3 deaths; others finish, the node serves on", async () => {
  const backend = await startBackend();
  const errors: string[] = [];
  const log = () => {};
  const logger = { debug: log, info: log, warn: log, error: (_f: Record<string, unknown>, msg: string) => void errors.push(msg) };
  const { daemon, port } = await startDaemon(backend.port, {
    shards: 2, respawn: { initialMs: 50, maxMs: 400 }, testDieOnPlaintext: "x-poison: yes", logger,
  });
  try {
    const on = clientPortsFor(daemon, port);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Innocent connections on both shards, stopped halfway until the poison is dealt with.
    const size = 2 << 20;
    const innocents = [0, 1].map((shard, i) => fromSourcePort(() => on(shard), (from) => gated(port, from, `inn-${i}`, gate, null, size)).then((r) => ({ id: `inn-${i}`, r })));
    await new Promise((r) => setTimeout(r, 300));
    const poison = await curlFrom(() => on(0), ["-H", "x-req-id: poison", "-H", "x-poison: yes", `https://127.0.0.1:${port}/`]);
    assert.notEqual(poison.code, 0, "the poison request fails");
    assert.equal(daemon.counters.poisonAborts, 1);
    assert.equal(daemon.counters.shardRestarts, 3, "shard 0, then the survivor it was moved to, then the first to come back");
    assert.equal(backend.seen.get("poison"), undefined, "its request never reached the backend");
    assert.ok(errors.some((m) => /poison/.test(m)), "logged");
    release();
    for (const { id, r } of await Promise.all(innocents)) {
      assert.equal(r.sha, bodySha(size), id);
      assert.equal(backend.seen.get(id), 1, id);
    }
    for (let i = 0; i < 4; i++) {
      const r = await nodeFetch(port, "/", { id: `after-${i}` });
      assert.equal(r.text, `hello after-${i}\n`);
    }
    assert.equal(daemon.counters.shardRestarts, 3, "no death after the abort");
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("every shard down: connections wait with their bytes and go on when one is back; past the handshake deadline they fail, counted", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, { shards: 1, respawn: { initialMs: 1000 }, limits: { handshakeTimeoutMs: 8000 } });
  try {
    const on = clientPortsFor(daemon, port);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const size = 2 << 20;
    const mid = fromSourcePort(() => on(0), (from) => gated(port, from, "wait-mid", gate, null, size));
    await new Promise((r) => setTimeout(r, 500));
    const died = new Promise((r) => daemon.once("shard-died", r));
    assert.ok(daemon.killShard(0, "terminate"));
    await died;
    assert.deepEqual(daemon.status().shards.map((s) => [s.state, s.buckets]), [["down", 0]]);
    assert.ok(daemon.status().bucketMap.every((s) => s === -1), "no shard runs any bucket");
    // A new connection while no shard is up: its ClientHello is kept until the respawn.
    const fresh = nodeFetch(port, "/bytes/100000", { id: "wait-new" });
    release();
    const r = await fresh;
    assert.equal(r.sha, bodySha(100000));
    const m = await mid;
    assert.equal(m.sha, bodySha(size));
    assert.equal(backend.seen.get("wait-mid"), 1);
    assert.equal(backend.seen.get("wait-new"), 1);
    assert.equal(daemon.counters.noShardTimeouts, 0);
  } finally {
    await daemon.stop();
    await backend.close();
  }

  // Down longer than the handshake deadline: the waiting connection is closed and counted.
  const b2 = await startBackend();
  const d2 = await startDaemon(b2.port, { shards: 1, respawn: { initialMs: 3000 }, limits: { handshakeTimeoutMs: 400 } });
  try {
    const died = new Promise((r) => d2.daemon.once("shard-died", r));
    d2.daemon.killShard(0, "exit");
    await died;
    const err = await nodeFetch(d2.port, "/", { id: "late" }).then(() => null, (e: Error) => e);
    assert.ok(err, "the client's handshake failed");
    assert.equal(d2.daemon.counters.noShardTimeouts, 1);
    assert.equal(d2.daemon.counters.handshakeTimeouts, 1);
    assert.equal(d2.daemon.failures.handshake["timeout"], 1);
  } finally {
    await d2.daemon.stop();
    await b2.close();
  }
});
