// Graceful stop (SIGTERM in `sslacc start`): Daemon.drain stops accepting,
// lets open connections finish, and cuts what is left at the deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect, createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { startDaemon } from "./helpers.js";

test("drain: in-flight requests finish, new connections are refused, stragglers are cut at the deadline", async () => {
  // A backend that answers 300 ms after the request.
  const backend = createServer({ allowHalfOpen: true }, (s) => {
    s.on("error", () => {});
    s.once("data", () => setTimeout(() => s.end("late reply\n"), 300));
  });
  await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
  const { daemon, port } = await startDaemon((backend.address() as { port: number }).port);
  try {
    const reply = new Promise<string>((resolve, reject) => {
      let got = "";
      const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => s.write("GET / HTTP/1.0\r\n\r\n"));
      s.on("data", (d: Buffer) => (got += d.toString()));
      s.on("error", reject);
      s.on("close", () => resolve(got));
    });
    // An idle client that would keep the daemon up forever.
    const idle = await new Promise<ReturnType<typeof tlsConnect>>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => resolve(s));
      s.on("error", () => {});
    });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const drained = daemon.drain(800);
    await new Promise((r) => setTimeout(r, 20));
    const refused = await new Promise<string>((resolve) => {
      const s = tcpConnect(port, "127.0.0.1", () => resolve("connected"));
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.equal(refused, "ECONNREFUSED");
    assert.equal(await reply, "late reply\n");
    const cut = await drained;
    const ms = Date.now() - t0;
    assert.equal(cut, 1, "the idle client is cut at the deadline");
    assert.ok(ms >= 700 && ms < 3000, `drain took ${ms} ms`);
    assert.ok(idle.destroyed || (await new Promise((r) => idle.once("close", r)), true));
  } finally {
    await daemon.stop().catch(() => {});
    backend.close();
  }
});
