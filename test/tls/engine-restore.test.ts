// Restore equals original (DESIGN.md law 0, SSLACC §5): a real client's byte
// stream, recorded through the loopback harness, is replayed into an engine
// with the same injected randomness; then at *every* checkpoint a fresh
// engine is restored from the mirror's snapshot (test/helpers/restore-check.ts) (folded from the encoded
// checkpoints, so the binary encoding is on the path), fed the client bytes
// from `clientConsumed` and the same backend sends, and must produce exactly
// the reference output from `serverWritten` on — without drawing any random
// byte.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as tls from "node:tls";
import { defaultProvider } from "../../src/crypto/provider.js";
import type { EngineDeps } from "../../src/tls/server.js";
import { seededRandom, startEngineServer, type EngineServer } from "../helpers/engine-harness.js";
import { foldedPoints, replay, restoreAndCompare } from "../helpers/restore-check.js";

let server: EngineServer | undefined;
let seedName = "";
after(async () => server?.close());

async function clientRun(port: number, opts: tls.ConnectionOptions, bytes: number): Promise<Buffer | undefined> {
  const payload = randomBytes(bytes);
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    let got = 0;
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...opts });
    socket.on("session", (s) => (session = s));
    socket.on("error", reject);
    socket.on("secureConnect", () => {
      for (let at = 0; at < payload.length; at += 100_000) socket.write(payload.subarray(at, at + 100_000));
    });
    socket.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= payload.length) socket.end();
    });
    socket.on("close", () => resolve(session));
  });
}

async function recordAndCheck(name: string, opts: tls.ConnectionOptions, bytes: number, sessionIn?: Buffer): Promise<Buffer | undefined> {
  seedName = name;
  const seedOf = (i: number) => seededRandom(`${name}-${i}`);
  server ??= await startEngineServer({ random: (i) => seededRandom(`${seedName}-${i}`) });
  const index = server.connections.length;
  const session = await clientRun(server.port, { ...opts, ...(sessionIn && { session: sessionIn }) }, bytes);
  const rec = server.connections[index]!;
  await rec.done;
  const deps: EngineDeps = { provider: defaultProvider, random: seedOf(index), now: () => Date.now(), sessions: server.sessions };
  const ref = replay(server.config, deps, rec.events);
  // The replay reproduces what the live connection sent.
  assert.ok(ref.transmit.equals(Buffer.concat(rec.transmitted)), "replay equals the live run");
  let restores = 0;
  for (const point of foldedPoints(ref)) {
    restoreAndCompare(server.config, server.sessions, rec.events, ref, point);
    restores++;
  }
  assert.ok(restores >= (bytes >= 1 << 20 ? 100 : 5), `${restores} restores`);
  return session;
}

test("TLS 1.2 AES128-SHA256, full handshake + 1 MiB each way: every checkpoint restores to identical output", async () => {
  await recordAndCheck("t12", { maxVersion: "TLSv1.2", ciphers: "AES128-SHA256" }, 1 << 20);
});

test("TLS 1.0 AES128-SHA (CBC residue), full then resumed handshake: every checkpoint restores to identical output", async () => {
  const opts: tls.ConnectionOptions = { minVersion: "TLSv1", maxVersion: "TLSv1", ciphers: "AES128-SHA:@SECLEVEL=0" };
  const session = await recordAndCheck("t10", opts, 256 * 1024);
  assert.ok(session);
  await recordAndCheck("t10r", opts, 64 * 1024, session);
  const last = server!.connections[server!.connections.length - 1]!;
  assert.ok(last.outputs.some((o) => o.kind === "handshake-complete" && o.session.resumed), "second connection resumed");
});
