// Bulk transfers through the daemon with real clients to a real backend:
// a 64 MiB download (curl and Node https) and a 32 MiB upload (curl), each
// verified by SHA-256, each request seen once by the backend.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bodyBlocks, bodySha, curl, nodeFetch, startBackend, startDaemon } from "./helpers.js";

test("daemon: 64 MiB download (curl, Node https) and 32 MiB upload (curl), SHA-256 exact", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port);
  try {
    const down = 64 << 20;
    const t0 = Date.now();
    const c = await curl(["-H", "x-req-id: big-curl", `https://127.0.0.1:${port}/bytes/${down}`]);
    const ms = Date.now() - t0;
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.length, down);
    assert.equal(c.sha, bodySha(down));
    const n = await nodeFetch(port, `/bytes/${down}`, { id: "big-node" });
    assert.equal(n.sha, bodySha(down));

    const up = 32 << 20;
    const file = join(mkdtempSync(join(tmpdir(), "sslacc-up-")), "up.bin");
    writeFileSync(file, Buffer.concat([...bodyBlocks(up)]));
    const u = await curl(["-H", "x-req-id: big-up", "--data-binary", `@${file}`, "-H", "content-type: application/octet-stream", `https://127.0.0.1:${port}/upload`]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout, `${bodySha(up)} ${up}`);
    for (const id of ["big-curl", "big-node", "big-up"]) assert.equal(backend.seen.get(id), 1, id);
    // Kept input is released as checkpoints cover it: nothing is left behind.
    assert.ok(daemon.status().connections.every((x) => x.keptBackendBytes < 1 << 20));
    console.log(`# 64 MiB download via curl in ${ms} ms (${((down / 1e6) / (ms / 1000)).toFixed(0)} MB/s)`);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});
