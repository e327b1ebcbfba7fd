// Shard failover (DESIGN.md "Transports", kernel): the shard that owns a
// connection is killed — worker.terminate(), an uncaught exception,
// process.exit() — at each handshake checkpoint, in the middle of a
// download and of an upload, and every 100 ms for 5 s. The main thread
// respawns it, restores the shard's connections from the stored relay
// checkpoints and replays the input it kept; clients (Node https, curl)
// complete with byte-exact bodies and the backend sees each request once.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CheckpointInfo, Daemon } from "../../src/node/daemon.js";
import { bodyBlocks, bodySha, curl, nodeFetch, settled, startBackend, startDaemon } from "./helpers.js";

const HOWS = ["terminate", "throw", "exit"] as const;

/** Kills the owner of the first connection reaching `when` (once). */
function killOnce(daemon: Daemon, when: (i: CheckpointInfo) => boolean, how: (typeof HOWS)[number]): { fired: () => boolean } {
  let fired = false;
  const listener = (i: CheckpointInfo) => {
    if (fired || !when(i)) return;
    fired = true;
    daemon.off("checkpoint", listener);
    daemon.killShard(i.shard, how);
  };
  daemon.on("checkpoint", listener);
  return { fired: () => fired };
}

// rsaWorkers 0: the shard runs RSA itself (no pool), so a kill at the key exchange loses the RSA result too.
for (const rsaWorkers of [1, 0]) {
test(`failover (rsaWorkers ${rsaWorkers}): the owning shard dies at each handshake checkpoint, before or after posting it`, async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, { rsaWorkers });
  try {
    const phases = ["client-hello", "client-key-exchange", "client-finished", "server-finished"];
    let n = 0;
    for (const phase of phases) {
      for (const when of ["before-post", "after-post"] as const) {
        const how = n % 2 === 0 ? "exit" : "throw";
        const id = `hs-${phase}-${when}-${how}`;
        // No bucket on its way home from the last round (a moved connection runs on both shards for a moment).
        await settled(daemon);
        const restarts = daemon.counters.shardRestarts;
        // The first armed shard to reach the phase dies; the daemon disarms the others then.
        daemon.armShards(phase, how, when);
        const r = n++ % 2 === 0
          ? await nodeFetch(port, "/bytes/100000", { id })
          : await curl(["-H", `x-req-id: ${id}`, `https://127.0.0.1:${port}/bytes/100000`]).then((c) => {
            assert.equal(c.code, 0, `${id}: curl ${c.stderr}`);
            return { sha: c.sha, length: c.length };
          });
        assert.equal(daemon.counters.shardRestarts, restarts + 1, `${id}: the owning shard died once`);
        assert.equal(r.length, 100000, id);
        assert.equal(r.sha, bodySha(100000), id);
        assert.equal(backend.seen.get(id), 1, `${id}: backend saw the request ${backend.seen.get(id)} times`);
        // Disarm the other shard for the next round.
        daemon.armShards("none", "exit", "after-post");
      }
    }
    assert.ok(daemon.counters.restoredConnections >= phases.length * 2);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test(`failover (rsaWorkers ${rsaWorkers}): worker.terminate() of the owning shard at each handshake checkpoint`, async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, { rsaWorkers });
  try {
    for (const phase of ["client-hello", "client-key-exchange", "client-finished", "server-finished"]) {
      const id = `term-${phase}`;
      const k = killOnce(daemon, (i) => i.phase === phase, "terminate");
      const r = await nodeFetch(port, "/bytes/100000", { id });
      assert.ok(k.fired(), id);
      assert.equal(r.sha, bodySha(100000), id);
      assert.equal(backend.seen.get(id), 1, id);
    }
  } finally {
    await daemon.stop();
    await backend.close();
  }
});
}

test("failover: kill mid-download (curl, 16 MiB) and mid-upload (Node https, 8 MiB)", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port);
  try {
    const down = 16 << 20;
    killOnce(daemon, (i) => i.snapshot.fields.backendConsumed > down / 3, "terminate");
    const c = await curl(["-H", "x-req-id: down", `https://127.0.0.1:${port}/bytes/${down}`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.length, down);
    assert.equal(c.sha, bodySha(down));
    assert.equal(backend.seen.get("down"), 1);

    const up = 8 << 20;
    killOnce(daemon, (i) => i.snapshot.fields.backendWritten > up / 3, "throw");
    const r = await nodeFetch(port, "/upload", { id: "up", method: "POST", body: bodyBlocks(up) });
    assert.equal(r.text, `${bodySha(up)} ${up}`);
    assert.equal(backend.seen.get("up"), 1);
    assert.equal(daemon.counters.shardRestarts, 2);
    assert.ok(daemon.counters.duplicateBytesDropped > 0 || daemon.counters.restoredConnections > 0);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("failover: shards killed every 100 ms for 5 s while downloads and uploads run", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port);
  let kills = 0;
  const timer = setInterval(() => {
    daemon.killShard(kills % 2, HOWS[kills % 3]!);
    kills++;
  }, 100);
  try {
    const until = Date.now() + 5000;
    let i = 0;
    const failures: string[] = [];
    const worker = async (kind: "curl" | "node" | "upload") => {
      while (Date.now() < until) {
        const id = `rep-${kind}-${i++}`;
        const size = 1 << 20;
        if (kind === "curl") {
          const c = await curl(["-H", `x-req-id: ${id}`, `https://127.0.0.1:${port}/bytes/${size}`]);
          if (c.code !== 0 || c.sha !== bodySha(size)) failures.push(`${id}: exit ${c.code} ${c.stderr} len ${c.length}`);
        } else if (kind === "node") {
          const r = await nodeFetch(port, `/bytes/${size}`, { id });
          if (r.sha !== bodySha(size)) failures.push(`${id}: len ${r.length}`);
        } else {
          const r = await nodeFetch(port, "/upload", { id, method: "POST", body: bodyBlocks(size) });
          if (r.text !== `${bodySha(size)} ${size}`) failures.push(`${id}: ${r.text}`);
        }
        if (backend.seen.get(id) !== 1) failures.push(`${id}: backend saw it ${backend.seen.get(id)} times`);
      }
    };
    await Promise.all([worker("curl"), worker("node"), worker("upload")]);
    clearInterval(timer);
    assert.deepEqual(failures, []);
    assert.ok(kills >= 40, `${kills} kills`);
    assert.ok(i >= 6, `${i} requests completed`);
    assert.ok(daemon.counters.restoredConnections > 0);
  } finally {
    clearInterval(timer);
    await daemon.stop();
    await backend.close();
  }
});
