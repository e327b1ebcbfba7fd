// The daemon end to end with real clients (curl, Node https, openssl
// s_client) to a real HTTP backend.
import { test } from "node:test";
import assert from "node:assert/strict";
import { curl, nodeFetch, sClient, startBackend, startDaemon } from "./helpers.js";

test("daemon: small requests from curl, Node https and openssl s_client", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port);
  try {
    const c = await curl(["-H", "x-req-id: curl-1", `https://127.0.0.1:${port}/`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, "hello curl-1\n");
    const n = await nodeFetch(port, "/", { id: "node-1" });
    assert.equal(n.text, "hello node-1\n");
    const o = await sClient(port, "GET / HTTP/1.0\r\nx-req-id: openssl-1\r\n\r\n");
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stdout, /hello openssl-1/, o.stderr);
    for (const id of ["curl-1", "node-1", "openssl-1"]) assert.equal(backend.seen.get(id), 1, id);
    assert.ok(daemon.counters.handshakes >= 3);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});
