// Restore-equals-original machinery (DESIGN.md law 0, SSLACC §5), shared by
// the restore tests: replay a recorded connection (harness events) into a
// fresh engine with the same injected randomness to get the reference output
// and every checkpoint with the input position it was emitted at; then
// restore engines from mirror snapshots and require the very same bytes from
// the snapshot's `serverWritten` on, without drawing any random byte that
// the snapshot already carries.
import assert from "node:assert/strict";
import { defaultProvider, type CryptoProvider } from "../../src/crypto/provider.js";
import type { RsaPrivateKey } from "../../src/crypto/types.js";
import { decodeCheckpoint, encodeCheckpoint, fold, type Checkpoint, type ConnectionSnapshot } from "../../src/tls/checkpoint.js";
import type { TlsServerConfig } from "../../src/tls/config.js";
import { ServerConnection, type EngineDeps } from "../../src/tls/server.js";
import type { SessionCache } from "../../src/tls/session-cache.js";
import { service, testIdentity, type HarnessEvent } from "./engine-harness.js";

const keys: ReadonlyMap<string, RsaPrivateKey> = new Map([["test", testIdentity().key]]);

/** Random bytes drawn by the reference run, with the last checkpoint emitted before each draw. */
export interface Draw {
  readonly afterSeq: number;
  readonly bytes: Uint8Array;
}

/**
 * A restored engine may draw only what the reference drew after the
 * checkpoint it restores (law 0: anything drawn before travels in it).
 */
export function replayDraws(draws: readonly Draw[], seq: number): (n: number) => Uint8Array {
  const rest = draws.filter((d) => d.afterSeq >= seq);
  return (n) => {
    const d = rest.shift();
    if (!d || d.bytes.length !== n) throw new Error(`a restored engine drew ${n} random bytes the reference drew before checkpoint ${seq} (law 0)`);
    return d.bytes;
  };
}

export interface Mark {
  readonly cp: Checkpoint;
  /** Index of the event during which the checkpoint was emitted. */
  readonly event: number;
  /** Client bytes fed to the engine through that event. */
  readonly clientFed: number;
}

export interface Reference {
  readonly transmit: Buffer;
  readonly marks: readonly Mark[];
  readonly clientStream: Buffer;
  readonly draws: readonly Draw[];
}

export function applyEvent(conn: ServerConnection, ev: HarnessEvent): void {
  switch (ev.t) {
    case "recv":
      conn.receive(ev.data);
      break;
    case "send":
      conn.send(ev.data);
      break;
    case "close":
      conn.close();
      break;
    default:
      throw new Error(`unknown event ${JSON.stringify(ev)}`);
  }
}

export function replay(config: TlsServerConfig, deps0: EngineDeps, events: readonly HarnessEvent[]): Reference {
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
  const marks: Mark[] = [];
  let clientFed = 0;
  const rec = { outputs: [], checkpoints: [] as Checkpoint[] };
  events.forEach((ev, i) => {
    applyEvent(conn, ev);
    if (ev.t === "recv") clientFed += ev.data.length;
    const before = rec.checkpoints.length;
    service(conn, rec, { provider: deps.provider, keys, app: "none", write: (b) => out.push(Buffer.from(b)) });
    for (const cp of rec.checkpoints.slice(before)) marks.push({ cp, event: i, clientFed });
  });
  const clientStream = Buffer.concat(events.flatMap((e) => (e.t === "recv" ? [e.data] : [])));
  return { transmit: Buffer.concat(out), marks, clientStream, draws };
}

/** A mirror's snapshot and the point of the reference run it stands for. */
export interface RestorePoint {
  readonly snapshot: ConnectionSnapshot;
  /** The mark whose checkpoint was folded last. */
  readonly mark: Mark;
  readonly label: string;
}

/** The mirror's fold after each mark, every checkpoint through the binary encoding. */
export function* foldedPoints(ref: Reference): Generator<RestorePoint & { index: number }> {
  let snapshot: ConnectionSnapshot | undefined;
  for (const [index, mark] of ref.marks.entries()) {
    snapshot = fold(snapshot, decodeCheckpoint(encodeCheckpoint(mark.cp)));
    const cp = mark.cp;
    yield { snapshot, mark, index, label: `${cp.kind} ${cp.kind === "handshake" ? cp.snapshot.phase : cp.direction}` };
  }
}

/**
 * Restores a fresh engine from `point`, feeds it the client bytes from the
 * snapshot's `clientConsumed` and the rest of the run, and requires exactly
 * the reference output from `serverWritten` on.
 */
export function restoreAndCompare(
  config: TlsServerConfig,
  sessions: SessionCache | null,
  events: readonly HarnessEvent[],
  ref: Reference,
  point: RestorePoint,
  provider: CryptoProvider = defaultProvider,
): void {
  const { snapshot, mark } = point;
  const deps: EngineDeps = { provider, random: replayDraws(ref.draws, snapshot.seq), now: () => Date.now(), sessions };
  const conn = ServerConnection.restore(config, deps, snapshot);
  const out: Buffer[] = [];
  let firstOffset: number | undefined;
  const rec = { outputs: [], checkpoints: [] as Checkpoint[] };
  const io = { provider, keys, app: "none" as const, write: (b: Uint8Array) => out.push(Buffer.from(b)) };
  service(conn, rec, io);
  conn.receive(ref.clientStream.subarray(snapshot.clientConsumed, mark.clientFed));
  service(conn, rec, io);
  for (const ev of events.slice(mark.event + 1)) {
    applyEvent(conn, ev);
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
  const at = `checkpoint ${snapshot.seq} (${point.label})`;
  if (want.length > 0) assert.equal(firstOffset, snapshot.serverWritten, `${at}: first regenerated byte offset`);
  assert.equal(got.length, want.length, `${at}: output length`);
  if (!got.equals(want)) {
    let i = 0;
    while (got[i] === want[i]) i++;
    assert.fail(`${at}: output differs from byte ${i} (absolute ${snapshot.serverWritten + i})`);
  }
}
