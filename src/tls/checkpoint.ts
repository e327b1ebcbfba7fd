// Checkpoints: what a mirror holds per connection (SSLACC §5.1-5.4,
// DESIGN.md "Checkpoints", docs/tls-engine.md checkpoint table).
//
// Handshake checkpoints carry the whole connection state (a
// ConnectionSnapshot: a few hundred bytes). Data-phase checkpoints are
// deltas for one direction after one record: the record sequence number, the
// TLS 1.0 CBC residue, the RC4 keystream offset (absolute) and, when it moved,
// the RC4 base. The mirror keeps `fold(snapshot, checkpoint)`; because deltas
// carry absolute values, folding only the last of several acknowledged
// checkpoints is also correct (an RC4 restore then skips forward from an
// older base, SSLACC §5.4).
//
// Binary encoding (STYLE.md §7): format byte first, then a kind byte; all
// integers big-endian. Record states reuse src/crypto/record.ts's encoding.
import { decodeRecordState, encodeRecordState, type RecordState } from "../crypto/record.js";
import type { RecordVersion } from "../crypto/types.js";
import { DecodeError, Reader, Writer } from "./codec/index.js";
import type { HandshakePhase } from "./sequences.js";

/** The negotiated parameters as plain data (suite by code). */
export interface NegotiatedSnapshot {
  readonly version: RecordVersion;
  readonly clientVersion: number;
  readonly cipherSuite: number;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly resumed: boolean;
  readonly extendedMasterSecret: boolean;
  readonly secureRenegotiation: boolean;
  readonly sniAck: boolean;
  readonly serverName: string | null;
  readonly certIndex: number;
}

export interface ConnectionSnapshot {
  /** Sequence number of the last checkpoint folded in. */
  readonly seq: number;
  /** The last handshake step taken: the state to enter on failover. */
  readonly phase: HandshakePhase;
  /** Absolute offset in the client→server byte stream, always a record boundary. */
  readonly clientConsumed: number;
  /** Absolute offset in the server→client stream: output is regenerated from here. */
  readonly serverWritten: number;
  readonly negotiated: NegotiatedSnapshot;
  /** Exported handshake hash state (transcript.ts). */
  readonly transcript: Uint8Array;
  readonly encryptedPremaster: Uint8Array | null;
  readonly random46: Uint8Array | null;
  readonly masterSecret: Uint8Array | null;
  /** Active record states. */
  readonly read: RecordState | null;
  readonly write: RecordState | null;
  readonly pendingRead: RecordState | null;
  readonly pendingWrite: RecordState | null;
  readonly clientVerifyData: Uint8Array | null;
  readonly serverVerifyData: Uint8Array | null;
  /** Handshake bytes after the last whole message (a message split across records). */
  readonly pendingHandshake: Uint8Array;
}

/** One direction's change after one record in the data phase. */
export interface RecordDelta {
  readonly seq: bigint;
  /** TLS 1.0 CBC: the next record's IV. */
  readonly cbcResidue?: Uint8Array;
  /** RC4: absolute keystream offset. */
  readonly rc4Offset?: number;
  /** RC4: a new base (every ~1 MiB of keystream, src/crypto/record.ts RC4_BASE_INTERVAL). */
  readonly rc4Base?: { readonly base: Uint8Array; readonly baseOffset: number };
}

export type Direction = "read" | "write";

export type Checkpoint =
  | { readonly kind: "handshake"; readonly snapshot: ConnectionSnapshot }
  | {
      readonly kind: "data";
      readonly seq: number;
      readonly direction: Direction;
      readonly clientConsumed: number;
      readonly serverWritten: number;
      readonly record: RecordDelta;
    };

export function checkpointSeq(c: Checkpoint): number {
  return c.kind === "handshake" ? c.snapshot.seq : c.seq;
}

export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
}

/** A record state's delta from its full export. */
export function recordDelta(s: RecordState, withBase: boolean): RecordDelta {
  return {
    seq: s.seq,
    ...(s.cbcResidue && { cbcResidue: s.cbcResidue }),
    ...(s.rc4 && { rc4Offset: s.rc4.offset }),
    ...(s.rc4 && withBase && { rc4Base: { base: s.rc4.base, baseOffset: s.rc4.baseOffset } }),
  };
}

function applyDelta(s: RecordState, d: RecordDelta): RecordState {
  const out: { -readonly [K in keyof RecordState]: RecordState[K] } = { ...s, seq: d.seq };
  if (d.cbcResidue) out.cbcResidue = d.cbcResidue;
  if (d.rc4Offset !== undefined) {
    const base = d.rc4Base ?? (s.rc4 && { base: s.rc4.base, baseOffset: s.rc4.baseOffset });
    if (!base) throw new CheckpointError("RC4 delta without any base to start from");
    out.rc4 = { base: base.base, baseOffset: base.baseOffset, offset: d.rc4Offset };
  }
  return out;
}

/** The mirror's view after one more checkpoint (undefined: nothing yet). */
export function fold(snapshot: ConnectionSnapshot | undefined, c: Checkpoint): ConnectionSnapshot {
  switch (c.kind) {
    case "handshake":
      return c.snapshot;
    case "data": {
      if (!snapshot) throw new CheckpointError(`data checkpoint ${c.seq} before any handshake checkpoint`);
      const current = c.direction === "read" ? snapshot.read : snapshot.write;
      if (!current) throw new CheckpointError(`data checkpoint ${c.seq} for the ${c.direction} direction, which has no keys yet`);
      const next = applyDelta(current, c.record);
      return {
        ...snapshot,
        seq: c.seq,
        clientConsumed: c.clientConsumed,
        serverWritten: c.serverWritten,
        ...(c.direction === "read" ? { read: next } : { write: next }),
      };
    }
    default:
      return exhaustive(c);
  }
}

function exhaustive(x: never): never {
  throw new CheckpointError(`unknown checkpoint ${JSON.stringify(x)}`);
}

// ---------------------------------------------------------------------------
// Encoding.
//
//   u8 format (1)
//   u8 kind: 1 handshake, 2 data
//   handshake: u32 seq, u8 phase id, u64 clientConsumed, u64 serverWritten,
//              negotiated (u16 version, u16 clientVersion, u16 suite,
//                opaque random[32] x2, opaque8 sessionId, u8 flags
//                (1 resumed, 2 EMS, 4 secure renegotiation, 8 SNI ack, 16 server name present),
//                [opaque16 serverName], u8 certIndex),
//              opaque16 transcript, then optional fields, each a u8 presence flag
//              followed by its value: encryptedPremaster (opaque16), random46
//              (opaque8), masterSecret (opaque8), read, write, pendingRead,
//              pendingWrite (opaque16 record-state encodings), clientVerifyData,
//              serverVerifyData (opaque8); opaque24 pendingHandshake.
//   data:      u32 seq, u8 direction (0 read, 1 write), u64 clientConsumed,
//              u64 serverWritten, u64 record seq, u8 flags (1 residue, 2 rc4
//              offset, 4 rc4 base), [16 residue], [u64 offset], [258 base, u64 baseOffset]

export const CHECKPOINT_FORMAT = 1;

const PHASES: readonly HandshakePhase[] = [
  "client-hello", "client-key-exchange", "client-ccs", "client-finished", "server-finished",
  "resumed-client-hello", "resumed-server-finished", "resumed-client-ccs", "resumed-client-finished",
];

function optional<T>(w: Writer, v: T | null, put: (v: T) => void): void {
  w.u8(v === null ? 0 : 1);
  if (v !== null) put(v);
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return writeCheckpoint(new Writer(512), c).finish();
}

/** encodeCheckpoint into `w` (a relay checkpoint nests it without a copy). */
export function writeCheckpoint(w: Writer, c: Checkpoint): Writer {
  w.u8(CHECKPOINT_FORMAT);
  switch (c.kind) {
    case "handshake": {
      const s = c.snapshot;
      w.u8(1).u32(s.seq).u8(PHASES.indexOf(s.phase)).uint53(s.clientConsumed).uint53(s.serverWritten);
      const n = s.negotiated;
      w.u16(n.version).u16(n.clientVersion).u16(n.cipherSuite).bytes(n.clientRandom).bytes(n.serverRandom).opaque8(n.sessionId);
      w.u8((n.resumed ? 1 : 0) | (n.extendedMasterSecret ? 2 : 0) | (n.secureRenegotiation ? 4 : 0) | (n.sniAck ? 8 : 0) | (n.serverName !== null ? 16 : 0));
      if (n.serverName !== null) w.opaque16(new TextEncoder().encode(n.serverName));
      w.u8(n.certIndex);
      w.opaque16(s.transcript);
      optional(w, s.encryptedPremaster, (v) => w.opaque16(v));
      optional(w, s.random46, (v) => w.opaque8(v));
      optional(w, s.masterSecret, (v) => w.opaque8(v));
      for (const rs of [s.read, s.write, s.pendingRead, s.pendingWrite]) optional(w, rs, (v) => w.opaque16(encodeRecordState(v)));
      optional(w, s.clientVerifyData, (v) => w.opaque8(v));
      optional(w, s.serverVerifyData, (v) => w.opaque8(v));
      w.opaque24(s.pendingHandshake);
      break;
    }
    case "data": {
      const d = c.record;
      w.u8(2).u32(c.seq).u8(c.direction === "read" ? 0 : 1).uint53(c.clientConsumed).uint53(c.serverWritten).u64(d.seq);
      w.u8((d.cbcResidue ? 1 : 0) | (d.rc4Offset !== undefined ? 2 : 0) | (d.rc4Base ? 4 : 0));
      if (d.cbcResidue) w.bytes(d.cbcResidue);
      if (d.rc4Offset !== undefined) w.uint53(d.rc4Offset);
      if (d.rc4Base) w.bytes(d.rc4Base.base).uint53(d.rc4Base.baseOffset);
      break;
    }
    default:
      exhaustive(c);
  }
  return w;
}

export function decodeCheckpoint(buf: Uint8Array): Checkpoint {
  try {
    return decode(buf);
  } catch (e) {
    if (e instanceof DecodeError) throw new CheckpointError(`malformed checkpoint: ${e.message}`);
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`malformed checkpoint: ${(e as Error).message}`);
  }
}

function maybe<T>(r: Reader, field: string, get: () => T): T | null {
  const flag = r.u8(`${field}.present`);
  if (flag > 1) throw new CheckpointError(`${field}: presence flag ${flag}`);
  return flag === 1 ? get() : null;
}

function num(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(`${field}: ${v} is beyond 2^53`);
  return Number(v);
}

function decode(buf: Uint8Array): Checkpoint {
  const r = new Reader(buf, "Checkpoint");
  const format = r.u8("format");
  if (format !== CHECKPOINT_FORMAT) throw new CheckpointError(`unknown checkpoint format ${format}`);
  const kind = r.u8("kind");
  let c: Checkpoint;
  if (kind === 1) {
    const seq = r.u32("seq");
    const phase = PHASES[r.u8("phase")];
    if (!phase) throw new CheckpointError("unknown handshake phase id");
    const clientConsumed = num(r.u64("clientConsumed"), "clientConsumed");
    const serverWritten = num(r.u64("serverWritten"), "serverWritten");
    const version = r.u16("version") as RecordVersion;
    const clientVersion = r.u16("clientVersion");
    const cipherSuite = r.u16("cipherSuite");
    const clientRandom = r.bytes(32, "clientRandom").slice();
    const serverRandom = r.bytes(32, "serverRandom").slice();
    const sessionId = r.opaque8("sessionId", { min: 0, max: 32 }).slice();
    const flags = r.u8("flags");
    if (flags & ~31) throw new CheckpointError(`unknown negotiated flags ${flags}`);
    const serverName = flags & 16 ? new TextDecoder().decode(r.opaque16("serverName")) : null;
    const certIndex = r.u8("certIndex");
    const transcript = r.opaque16("transcript").slice();
    const encryptedPremaster = maybe(r, "encryptedPremaster", () => r.opaque16("encryptedPremaster").slice());
    const random46 = maybe(r, "random46", () => r.opaque8("random46").slice());
    const masterSecret = maybe(r, "masterSecret", () => r.opaque8("masterSecret").slice());
    const rs = (f: string) => maybe(r, f, () => decodeRecordState(r.opaque16(f)));
    const read = rs("read");
    const write = rs("write");
    const pendingRead = rs("pendingRead");
    const pendingWrite = rs("pendingWrite");
    const clientVerifyData = maybe(r, "clientVerifyData", () => r.opaque8("clientVerifyData").slice());
    const serverVerifyData = maybe(r, "serverVerifyData", () => r.opaque8("serverVerifyData").slice());
    const pendingHandshake = r.opaque24("pendingHandshake").slice();
    c = {
      kind: "handshake",
      snapshot: {
        seq, phase, clientConsumed, serverWritten,
        negotiated: {
          version, clientVersion, cipherSuite, clientRandom, serverRandom, sessionId,
          resumed: (flags & 1) !== 0, extendedMasterSecret: (flags & 2) !== 0, secureRenegotiation: (flags & 4) !== 0,
          sniAck: (flags & 8) !== 0, serverName, certIndex,
        },
        transcript, encryptedPremaster, random46, masterSecret, read, write, pendingRead, pendingWrite,
        clientVerifyData, serverVerifyData, pendingHandshake,
      },
    };
  } else if (kind === 2) {
    const seq = r.u32("seq");
    const dir = r.u8("direction");
    if (dir > 1) throw new CheckpointError(`unknown direction ${dir}`);
    const clientConsumed = num(r.u64("clientConsumed"), "clientConsumed");
    const serverWritten = num(r.u64("serverWritten"), "serverWritten");
    const recordSeq = r.u64("record.seq");
    const flags = r.u8("record.flags");
    if (flags & ~7) throw new CheckpointError(`unknown record delta flags ${flags}`);
    const cbcResidue = flags & 1 ? r.bytes(16, "cbcResidue").slice() : undefined;
    const rc4Offset = flags & 2 ? num(r.u64("rc4Offset"), "rc4Offset") : undefined;
    const rc4Base = flags & 4 ? { base: r.bytes(258, "rc4Base").slice(), baseOffset: num(r.u64("rc4BaseOffset"), "rc4BaseOffset") } : undefined;
    c = {
      kind: "data", seq, direction: dir === 0 ? "read" : "write", clientConsumed, serverWritten,
      record: { seq: recordSeq, ...(cbcResidue && { cbcResidue }), ...(rc4Offset !== undefined && { rc4Offset }), ...(rc4Base && { rc4Base }) },
    };
  } else {
    throw new CheckpointError(`unknown checkpoint kind ${kind}`);
  }
  r.expectEnd();
  return c;
}
