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

test("failover: a death asked for (armShards, killShard) is not the connection's fault: no poison abort with poisonLimit 1", async () => {
  const backend = await startBackend();
  // One death while handling a connection aborts it as poison (limit 1), if that death is blamed on it.
  const { daemon, port } = await startDaemon(backend.port, { poisonLimit: 1, respawn: { initialMs: 50, maxMs: 50 } });
  try {
    // An armed shard dies inside the connection's own turn (it is the one the shard is running, for certain).
    for (const phase of ["client-key-exchange", "client-finished"]) {
      await settled(daemon);
      daemon.armShards(phase, "throw", "before-post");
      const r = await nodeFetch(port, "/bytes/100000", { id: `armed-${phase}` }).catch((e: Error) => ({ sha: e.message }));
      assert.equal(r.sha, bodySha(100000), phase);
      daemon.armShards("none", "exit", "after-post");
    }
    // terminate() at checkpoints of an upload: the shard is often running that connection's next bytes.
    await settled(daemon);
    const up = 8 << 20;
    const marks = [1, 2, 3, 4, 5].map((k) => (k * up) / 6);
    const listener = (i: CheckpointInfo) => {
      if (marks.length === 0 || i.snapshot.fields.backendWritten < marks[0]!) return;
      marks.shift();
      daemon.killShard(i.shard, "terminate");
    };
    daemon.on("checkpoint", listener);
    const r = await nodeFetch(port, "/upload", { id: "hit", method: "POST", body: bodyBlocks(up) });
    daemon.off("checkpoint", listener);
    assert.equal(r.text, `${bodySha(up)} ${up}`);
    assert.equal(backend.seen.get("hit"), 1);
    assert.equal(daemon.counters.shardRestarts, 7);
    assert.equal(daemon.counters.poisonAborts, 0);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

/**
 * Kill attempts every 100 ms (a shard that is down is skipped, not counted)
 * until the clients have done `rounds` requests each and shards died at
 * least `minKills` times; the bound is progress, not wall time, so a starved machine
 * only makes the test longer. `capMs` turns a stall into a failure.
 */
const STORM = { rounds: 3, minKills: 12, capMs: 120_000 };

test("failover: shards killed every 100 ms while downloads and uploads run, until each client did several requests", async () => {
  const backend = await startBackend();
  // Why a connection was closed, if one is: logged by the daemon (handshake timeout, poison abort, restore error...).
  const logged: string[] = [];
  const keep = (level: string) => (f: Record<string, unknown>, msg: string) => void logged.push(`${level} ${msg} ${JSON.stringify(f)}`);
  const logger = { debug: () => {}, info: keep("info"), warn: keep("warn"), error: () => {} };
  // Backoff capped at 400 ms: the shards keep coming back (and being killed) all through the run.
  const { daemon, port } = await startDaemon(backend.port, { logger, respawn: { initialMs: 100, maxMs: 400 } });
  let kills = 0;
  let attempts = 0;
  const timer = setInterval(() => {
    if (daemon.killShard(attempts % 2, HOWS[attempts % 3]!)) kills++;
    attempts++;
  }, 100);
  try {
    const t0 = Date.now();
    const done = { curl: 0, node: 0, upload: 0 };
    const enough = () => daemon.counters.shardRestarts >= STORM.minKills && Object.values(done).every((n) => n >= STORM.rounds);
    let i = 0;
    const failures: string[] = [];
    const worker = async (kind: "curl" | "node" | "upload") => {
      while (!enough() && failures.length === 0) {
        if (Date.now() - t0 > STORM.capMs) return void failures.push(`${kind}: no progress to the bound in ${STORM.capMs} ms: ${JSON.stringify(done)}, ${daemon.counters.shardRestarts} deaths`);
        const id = `rep-${kind}-${i++}`;
        const size = 1 << 20;
        if (kind === "curl") {
          const c = await curl(["-H", `x-req-id: ${id}`, `https://127.0.0.1:${port}/bytes/${size}`]);
          if (c.code !== 0 || c.sha !== bodySha(size)) failures.push(`${id}: exit ${c.code} ${c.stderr} len ${c.length}`);
        } else if (kind === "node") {
          const r = await nodeFetch(port, `/bytes/${size}`, { id }).catch((e: Error) => ({ sha: "", length: -1, error: e.message }));
          if (r.sha !== bodySha(size)) failures.push(`${id}: len ${r.length} ${"error" in r ? r.error : ""}`);
        } else {
          const r = await nodeFetch(port, "/upload", { id, method: "POST", body: bodyBlocks(size) }).catch((e: Error) => ({ text: e.message }));
          if (r.text !== `${bodySha(size)} ${size}`) failures.push(`${id}: ${r.text}`);
        }
        if (backend.seen.get(id) !== 1) failures.push(`${id}: backend saw it ${backend.seen.get(id)} times`);
        done[kind]++;
      }
    };
    await Promise.all([worker("curl"), worker("node"), worker("upload")]);
    clearInterval(timer);
    const c = daemon.counters;
    const why = `counters ${JSON.stringify(c)} failures ${JSON.stringify(daemon.failures)} log:\n${logged.filter((l) => !/buckets moved|shard respawned/.test(l)).join("\n")}`;
    assert.deepEqual(failures, [], why);
    assert.ok(c.shardRestarts >= STORM.minKills, `${c.shardRestarts} shard deaths`);
    assert.ok(c.restoredConnections > 0);
    assert.equal(c.poisonAborts + c.handshakeTimeouts + c.connErrors, 0, why);
    console.log(`# ${c.shardRestarts} shard deaths (${kills} kills of a live shard, ${attempts} attempts) in ${Date.now() - t0} ms; requests ${JSON.stringify(done)}; ${c.restoredConnections} restores`);
  } finally {
    clearInterval(timer);
    await daemon.stop();
    await backend.close();
  }
});
