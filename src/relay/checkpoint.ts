// Relay checkpoints: what the store (the main thread in one node, the mirrors
// in a cluster) holds per connection so that another shard or node can take
// the connection over (SSLACC §4.7, §5.5, §5.6; DESIGN.md "Checkpoints").
//
//   relay ──RelayCheckpoint──> store: fold(snapshot, checkpoint) ──RelaySnapshot──> Relay.restore
//
// A relay checkpoint is the engine's own checkpoint (a whole handshake
// snapshot, or a per-direction data delta) plus the relay's fields, which
// are all absolute offsets (SSLACC §4.8: "work in absolute sequence numbers"),
// so folding only the last of several acknowledged checkpoints is correct.
//
// The relay fields say how far each input stream is *covered*: the store's
// holder may discard client bytes below `clientConsumed` and backend bytes
// below `backendConsumed`, and a restored relay regenerates output from
// `serverWritten` (towards the client) and `backendWritten` (towards the
// backend); the caller drops what it already wrote (forward-ACK rule, §4.6).
// `preWrites` lists the records written after `serverWritten` and not yet
// acknowledged (§5.6), so that a restored relay cuts the very same records.
//
// Binary encoding (STYLE.md §7): u8 format, u32 seq, u64 clientConsumed,
// u64 backendWritten, u64 serverWritten, u64 backendConsumed, u8 flags
// (1 backendRequested), u16 count + u16 per pre-write (plaintext size; 0 is
// a record the engine made itself, an alert), then three engine checkpoints
// as opaque24 / opaque16 / opaque16 (empty: absent): handshake snapshot,
// read delta, write delta — encoded by src/tls/checkpoint.ts.
import { Reader, Writer } from "../tls/codec/index.js";
import {
  CheckpointError, decodeCheckpoint, fold as foldEngine, writeCheckpoint, type Checkpoint, type ConnectionSnapshot,
} from "../tls/checkpoint.js";

export const RELAY_CHECKPOINT_FORMAT = 1;

/** Size marker in `preWrites` for a record the engine produced itself (an alert), not cut from backend data. */
export const ENGINE_RECORD = 0;

export interface RelayFields {
  /** Client→relay ciphertext covered: a record boundary; every record before it reached the backend. */
  readonly clientConsumed: number;
  /** Relay→backend plaintext offset that corresponds to `clientConsumed`. */
  readonly backendWritten: number;
  /** Relay→client ciphertext offset at which the checkpointed write state stands. */
  readonly serverWritten: number;
  /** Backend→relay plaintext offset that corresponds to `serverWritten`. */
  readonly backendConsumed: number;
  /** SSLACC §5.6: plaintext sizes of records written (or about to be) after `serverWritten`, in order. */
  readonly preWrites: readonly number[];
  /** SSLACC §5.3: the backend connect was started (only after the first checkpoint). */
  readonly backendRequested: boolean;
}

/** The engine's data-phase delta for one direction. */
export type EngineDelta = Extract<Checkpoint, { kind: "data" }>;

export interface RelayCheckpoint {
  readonly seq: number;
  readonly fields: RelayFields;
  /** A new handshake snapshot from the engine, if one was taken since the last checkpoint. */
  readonly handshake: ConnectionSnapshot | null;
  /** The read state after the last client record whose plaintext the backend has (SSLACC §5.5). */
  readonly read: EngineDelta | null;
  /** The write state after the last record the client has (SSLACC §5.6). */
  readonly write: EngineDelta | null;
}

/** What the store keeps: everything a relay needs to continue the connection. */
export interface RelaySnapshot {
  readonly seq: number;
  readonly fields: RelayFields;
  readonly engine: ConnectionSnapshot;
}

export class RelayCheckpointError extends Error {
  override readonly name = "RelayCheckpointError";
}

/** The store's view after one more checkpoint. */
export function foldRelay(snapshot: RelaySnapshot | undefined, c: RelayCheckpoint): RelaySnapshot {
  let engine = c.handshake ?? snapshot?.engine;
  if (!engine) throw new RelayCheckpointError(`relay checkpoint ${c.seq} has no engine state and follows none`);
  if (snapshot && c.seq <= snapshot.seq) throw new RelayCheckpointError(`relay checkpoint ${c.seq} after ${snapshot.seq}: out of order`);
  let seq = engine.seq;
  for (const d of [c.read, c.write]) {
    if (!d) continue;
    engine = foldEngine(engine, d);
    seq = Math.max(seq, d.seq);
  }
  // The engine's own fold takes offsets from the last delta; the relay's
  // fields are the authority (a delta is only folded once it is covered).
  return { seq: c.seq, fields: c.fields, engine: { ...engine, seq, clientConsumed: c.fields.clientConsumed, serverWritten: c.fields.serverWritten } };
}

/** A snapshot as a checkpoint (whole engine state, no deltas): one encoding for both. */
export function snapshotCheckpoint(s: RelaySnapshot): RelayCheckpoint {
  return { seq: s.seq, fields: s.fields, handshake: s.engine, read: null, write: null };
}

/**
 * One writer for every encoding (a thread encodes one checkpoint at a time):
 * after the first handshake it holds a whole snapshot without growing, and
 * the engine parts are written into it, not encoded apart and copied in; the
 * only allocation per checkpoint is the result (measured in docs/daemon.md
 * "Benches").
 */
const scratch = new Writer(2048);

export function encodeRelayCheckpoint(c: RelayCheckpoint): Uint8Array {
  const f = c.fields;
  const w = scratch.reset();
  w.u8(RELAY_CHECKPOINT_FORMAT).u32(c.seq);
  w.uint53(f.clientConsumed).uint53(f.backendWritten).uint53(f.serverWritten).uint53(f.backendConsumed);
  w.u8(f.backendRequested ? 1 : 0);
  if (f.preWrites.length > 0xffff) throw new RelayCheckpointError(`${f.preWrites.length} pre-writes do not fit a checkpoint`);
  w.u16(f.preWrites.length);
  for (const n of f.preWrites) w.u16(n);
  const { handshake, read, write } = c;
  w.vector24((w) => {
    if (handshake) writeCheckpoint(w, { kind: "handshake", snapshot: handshake });
  });
  w.vector16((w) => {
    if (read) writeCheckpoint(w, read);
  });
  w.vector16((w) => {
    if (write) writeCheckpoint(w, write);
  });
  return w.finish();
}

export function encodeRelaySnapshot(s: RelaySnapshot): Uint8Array {
  return encodeRelayCheckpoint(snapshotCheckpoint(s));
}

function offset(r: Reader, field: string): number {
  const v = r.u64(field);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RelayCheckpointError(`${field}: ${v} is beyond 2^53`);
  return Number(v);
}

function delta(bytes: Uint8Array, direction: "read" | "write"): EngineDelta | null {
  if (bytes.length === 0) return null;
  const c = decodeCheckpoint(bytes);
  if (c.kind !== "data" || c.direction !== direction) throw new RelayCheckpointError(`${direction} delta: got a ${c.kind} checkpoint`);
  return c;
}

export function decodeRelayCheckpoint(buf: Uint8Array): RelayCheckpoint {
  try {
    const r = new Reader(buf, "RelayCheckpoint");
    const format = r.u8("format");
    if (format !== RELAY_CHECKPOINT_FORMAT) throw new RelayCheckpointError(`unknown relay checkpoint format ${format}`);
    const seq = r.u32("seq");
    const clientConsumed = offset(r, "clientConsumed");
    const backendWritten = offset(r, "backendWritten");
    const serverWritten = offset(r, "serverWritten");
    const backendConsumed = offset(r, "backendConsumed");
    const flags = r.u8("flags");
    if (flags & ~1) throw new RelayCheckpointError(`unknown relay flags ${flags}`);
    const count = r.u16("preWrites.length");
    const preWrites: number[] = [];
    for (let i = 0; i < count; i++) preWrites.push(r.u16(`preWrites[${i}]`));
    const hsBytes = r.opaque24("handshake");
    let handshake: ConnectionSnapshot | null = null;
    if (hsBytes.length > 0) {
      const c = decodeCheckpoint(hsBytes);
      if (c.kind !== "handshake") throw new RelayCheckpointError("handshake field holds a data checkpoint");
      handshake = c.snapshot;
    }
    const read = delta(r.opaque16("read"), "read");
    const write = delta(r.opaque16("write"), "write");
    r.expectEnd();
    return {
      seq, handshake, read, write,
      fields: { clientConsumed, backendWritten, serverWritten, backendConsumed, preWrites, backendRequested: (flags & 1) !== 0 },
    };
  } catch (e) {
    if (e instanceof RelayCheckpointError) throw e;
    if (e instanceof CheckpointError) throw new RelayCheckpointError(`malformed relay checkpoint: ${e.message}`);
    throw new RelayCheckpointError(`malformed relay checkpoint: ${(e as Error).message}`);
  }
}

export function decodeRelaySnapshot(buf: Uint8Array): RelaySnapshot {
  const c = decodeRelayCheckpoint(buf);
  if (!c.handshake || c.read || c.write) throw new RelayCheckpointError("a relay snapshot carries a whole engine state and no deltas");
  return { seq: c.seq, fields: c.fields, engine: c.handshake };
}
