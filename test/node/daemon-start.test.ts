// Daemon.start() failing half-way: a shard that throws while loading, or a
// listen address in use. start() must stop what it had started (the other
// shards' workers, respawn timers, the RSA pool) and reject with an error
// naming the shard or the address. Each case runs in a child process that
// must exit on its own: a worker or timer left behind keeps it alive (the
// hung test runs this fixes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DaemonStartError } from "../../src/node/messages.js";
import { startDaemon } from "./helpers.js";

const HELPERS = fileURLToPath(new URL("./helpers.js", import.meta.url));

/** Runs `startDaemon(backend, extra)` in a child; resolves with its output and exit code (killed after 20 s: -1). */
function startInChild(extra: string): Promise<{ code: number; out: string }> {
  const script = `
    import { startDaemon } from ${JSON.stringify(pathToFileURL(HELPERS).href)};
    try {
      await startDaemon(1, ${extra});
      console.log("started");
    } catch (e) {
      console.log(e.name + ": " + e.message);
    }`;
  // A file, not `-e`: the shards' workers inherit execArgv, and --input-type would refuse them.
  const dir = mkdtempSync(join(tmpdir(), "sslacc-start-"));
  const file = join(dir, "start.mjs");
  writeFileSync(file, script);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: 20_000, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

test("daemon start: a shard that fails to load — the error names it, the started shards and the pool are stopped (the process exits by itself)", async () => {
  await assert.rejects(startDaemon(1, { shards: 3, testShardFailsToLoad: 2 }), (e: unknown) => {
    assert.ok(e instanceof DaemonStartError);
    assert.equal(e.part, "shard");
    assert.match(e.message, /^shard 2 failed to start: shard 2: told to fail while loading \(test\)$/);
    return true;
  });
  const r = await startInChild("{ shards: 3, testShardFailsToLoad: 2, respawn: { initialMs: 10 } }");
  assert.equal(r.code, 0, `the child exits by itself (code ${r.code}): ${r.out}`);
  assert.match(r.out, /^DaemonStartError: shard 2 failed to start: /m);
});

test("daemon start: the listen address in use — the error names it, every shard is stopped (the process exits by itself)", async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
  const port = (taken.address() as { port: number }).port;
  try {
    await assert.rejects(startDaemon(1, { listen: { address: "127.0.0.1", port } }), (e: unknown) => {
      assert.ok(e instanceof DaemonStartError);
      assert.equal(e.part, "listen");
      assert.match(e.message, new RegExp(`^listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      return true;
    });
    const r = await startInChild(`{ listen: { address: "127.0.0.1", port: ${port} } }`);
    assert.equal(r.code, 0, `the child exits by itself (code ${r.code}): ${r.out}`);
    assert.match(r.out, /^DaemonStartError: listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/m);
  } finally {
    await new Promise((r) => taken.close(r));
  }
});
