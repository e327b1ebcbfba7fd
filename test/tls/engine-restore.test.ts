// Restore equals original (DESIGN.md law 0, SSLACC §5): a real client's byte
// stream, recorded through the loopback harness, is replayed into an engine
// with the same injected randomness; then at *every* checkpoint a fresh
// engine is restored from the mirror's snapshot (folded from the encoded
// checkpoints, so the binary encoding is on the path), fed the client bytes
// from `clientConsumed` and the same backend sends, and must produce exactly
// the reference output from `serverWritten` on — without drawing any random
// byte.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as tls from "node:tls";
import { defaultProvider } from "../../src/crypto/provider.js";
import { decodeCheckpoint, encodeCheckpoint, fold, type Checkpoint, type ConnectionSnapshot } from "../../src/tls/checkpoint.js";
import { ServerConnection, type EngineDeps } from "../../src/tls/server.js";
import type { SessionCache } from "../../src/tls/session-cache.js";
import type { TlsServerConfig } from "../../src/tls/config.js";
import {
  seededRandom, service, startEngineServer, testIdentity, type EngineServer, type HarnessEvent,
} from "../helpers/engine-harness.js";

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

const keys = new Map([["test", testIdentity().key]]);

/** Random bytes drawn by the reference run, with the last checkpoint emitted before each draw. */
type Draw = { afterSeq: number; bytes: Uint8Array };

/**
 * A restored engine may draw only what the reference drew after the
 * checkpoint it restores (law 0: anything drawn before travels in it).
 */
function replayDraws(draws: readonly Draw[], seq: number): (n: number) => Uint8Array {
  const rest = draws.filter((d) => d.afterSeq >= seq);
  return (n) => {
    const d = rest.shift();
    if (!d || d.bytes.length !== n) throw new Error(`a restored engine drew ${n} random bytes the reference drew before checkpoint ${seq} (law 0)`);
    return d.bytes;
  };
}

interface Reference {
  readonly transmit: Buffer;
  /** Per checkpoint: the event during which it was emitted and the client bytes fed through that event. */
  readonly marks: { cp: Checkpoint; event: number; clientFed: number }[];
  readonly clientStream: Buffer;
  readonly draws: Draw[];
}

function replay(config: TlsServerConfig, deps0: EngineDeps, events: readonly HarnessEvent[]): Reference {
  const draws: Draw[] = [];
  const deps: EngineDeps = {
    ...deps0,
    random: (n) => {
      const bytes = deps0.random(n);
      draws.push({ afterSeq: conn.lastCheckpointSeq, bytes });
      return bytes;
    },
  };
  const conn = ServerConnection.create(config, deps);
  const out: Buffer[] = [];
  const marks: Reference["marks"] = [];
  let clientFed = 0;
  const rec = { outputs: [], checkpoints: [] as Checkpoint[] };
  events.forEach((ev, i) => {
    if (ev.t === "recv") {
      conn.receive(ev.data);
      clientFed += ev.data.length;
    } else {
      conn.send(ev.data);
    }
    const before = rec.checkpoints.length;
    service(conn, rec, { provider: deps.provider, keys, app: "none", write: (b) => out.push(Buffer.from(b)) });
    for (const cp of rec.checkpoints.slice(before)) marks.push({ cp, event: i, clientFed });
  });
  const clientStream = Buffer.concat(events.filter((e) => e.t === "recv").map((e) => e.data));
  return { transmit: Buffer.concat(out), marks, clientStream, draws };
}

function restoreAndCompare(config: TlsServerConfig, sessions: SessionCache, events: readonly HarnessEvent[], ref: Reference): number {
  let snapshot: ConnectionSnapshot | undefined;
  let restores = 0;
  for (const { cp, event, clientFed } of ref.marks) {
    // The mirror's view: decoded from the wire format, then folded.
    const wire = encodeCheckpoint(cp);
    snapshot = fold(snapshot, decodeCheckpoint(wire));
    const deps: EngineDeps = { provider: defaultProvider, random: replayDraws(ref.draws, snapshot.seq), now: () => Date.now(), sessions };
    const conn = ServerConnection.restore(config, deps, snapshot);
    const out: Buffer[] = [];
    let firstOffset: number | undefined;
    const rec = { outputs: [], checkpoints: [] as Checkpoint[] };
    const io = {
      provider: defaultProvider, keys, app: "none" as const,
      write: (b: Uint8Array) => out.push(Buffer.from(b)),
    };
    service(conn, rec, io);
    conn.receive(ref.clientStream.subarray(snapshot.clientConsumed, clientFed));
    service(conn, rec, io);
    for (const ev of events.slice(event + 1)) {
      if (ev.t === "recv") conn.receive(ev.data);
      else conn.send(ev.data);
      service(conn, rec, io);
    }
    for (const o of rec.outputs as { kind: string; offset?: number }[]) {
      if (o.kind === "transmit") {
        firstOffset = o.offset;
        break;
      }
    }
    const got = Buffer.concat(out);
    const want = ref.transmit.subarray(snapshot.serverWritten);
    if (want.length > 0) assert.equal(firstOffset, snapshot.serverWritten, `checkpoint ${snapshot.seq}: first regenerated byte offset`);
    assert.equal(got.length, want.length, `checkpoint ${snapshot.seq} (${cp.kind} ${cp.kind === "handshake" ? cp.snapshot.phase : cp.direction}): output length`);
    if (!got.equals(want)) {
      let i = 0;
      while (got[i] === want[i]) i++;
      assert.fail(`checkpoint ${snapshot.seq} (${snapshot.phase}): output differs from byte ${i} (absolute ${snapshot.serverWritten + i})`);
    }
    restores++;
  }
  return restores;
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
  const restores = restoreAndCompare(server.config, server.sessions, rec.events, ref);
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
