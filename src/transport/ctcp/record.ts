// What a mirror holds per clustered-TCP connection: the relay's checkpoint
// (src/relay/checkpoint.ts) wrapped with the TCP state of both legs, so one
// replicated blob restores the whole connection (DESIGN.md "Checkpoints";
// SSLACC §4.7-4.8, §5.3, §5.5).
//
//   node ──CtcpRecord──> replicate(connId, bucket, bytes) ──> mirror: foldCtcp(prev, bytes) ──CtcpSnapshot──> restore
//
// * TCP: absolute sequence numbers (tcp/checkpoint.ts). The node derives them
//   from the relay's offsets, so the two never disagree: client rcvNxt =
//   client ISN + 1 + clientConsumed (or the partial-ACK point, see `kept`),
//   sndNxt = our ISN + 1 + serverWritten; the backend leg likewise with
//   backendConsumed / backendWritten. `rcv_appack` moves only when a record
//   carrying that rcvNxt is acknowledged by the mirrors (the Second Law).
// * The backend leg: its source port (SSLACC §4.5) once chosen, and its TCP
//   state once its SYN-ACK was seen (§4.3: the irs is clustered before we ACK
//   it). Before that a restore reconnects with the same port and ISN (= the
//   client's ISN, which the client TCP state carries: §5.3).
// * `kept`: input bytes we acknowledged although the relay has not consumed
//   them — SSLACC §5.5 "partial ACKs", the one case where data is clustered.
//   In a snapshot they start at the relay's consumed offset and end at the
//   leg's rcvNxt; a restored relay is fed them before anything the peer
//   retransmits. A record carries only the kept bytes that are new since the
//   previous record (from `keptFrom`, a stream offset) and the mirror appends
//   them, dropping what the relay has since consumed: a whole 16 KB record
//   kept would not fit in one replication datagram (cluster-node.ts
//   `maxCheckpointBytes`), which refuses it.
// * relay: the relay's own checkpoint (absent in a record that only moves
//   TCP state: backend established, a partial ACK).
//
// Binary encoding (STYLE.md §7): u8 format, u8 kind (1 record, 2 snapshot),
// opaque8 client TCP checkpoint, u64 clientKeptFrom, opaque24 clientKept,
// u16 backend port (0: none yet), opaque8 backend TCP checkpoint (empty:
// none yet), u64 backendKeptFrom, opaque24 backendKept, opaque24 relay
// checkpoint (record: may be empty; snapshot: the whole relay snapshot).
import { decodeRelayCheckpoint, encodeRelayCheckpoint, encodeRelaySnapshot, foldRelay, RelayCheckpointError, type RelayCheckpoint, type RelaySnapshot } from "../../relay/checkpoint.js";
import { Reader, Writer } from "../../tls/codec/index.js";
import { decodeTcpCheckpoint, encodeTcpCheckpoint, type TcpCheckpoint } from "../tcp/checkpoint.js";

/** 2: a record's kept bytes are appended by the mirror (1 replaced them). */
export const CTCP_RECORD_FORMAT = 2;

/** Bytes acknowledged to a peer before the relay consumed them (§5.5), from stream offset `from`. */
export interface Kept {
  readonly from: number;
  readonly bytes: Uint8Array;
}

export interface BackendLeg {
  /** Our source port towards the backend (§4.5), 0 before the connect. */
  readonly port: number;
  /** Null until the backend's SYN-ACK was seen (then its ISN must be clustered, §4.3). */
  readonly tcp: TcpCheckpoint | null;
  readonly kept: Kept;
}

interface Common {
  readonly client: TcpCheckpoint;
  readonly clientKept: Kept;
  readonly backend: BackendLeg;
}

/** One replicated update of a connection. */
export interface CtcpRecord extends Common {
  readonly relay: RelayCheckpoint | null;
}

/** What the mirror keeps: everything to restore the connection. */
export interface CtcpSnapshot extends Common {
  readonly relay: RelaySnapshot;
}

export const NOTHING_KEPT: Kept = { from: 0, bytes: new Uint8Array(0) };

export class CtcpRecordError extends Error {
  override readonly name = "CtcpRecordError";
}

const KIND_RECORD = 1;
const KIND_SNAPSHOT = 2;

function writeCommon(w: Writer, kind: number, c: Common, relay: Uint8Array): Uint8Array {
  w.u8(CTCP_RECORD_FORMAT).u8(kind);
  w.opaque8(encodeTcpCheckpoint(c.client));
  w.u64(BigInt(c.clientKept.from)).opaque24(c.clientKept.bytes);
  w.u16(c.backend.port);
  w.opaque8(c.backend.tcp ? encodeTcpCheckpoint(c.backend.tcp) : new Uint8Array(0));
  w.u64(BigInt(c.backend.kept.from)).opaque24(c.backend.kept.bytes);
  w.opaque24(relay);
  return w.finish();
}

export function encodeCtcpRecord(r: CtcpRecord): Uint8Array {
  const relay = r.relay ? encodeRelayCheckpoint(r.relay) : new Uint8Array(0);
  return writeCommon(new Writer(160 + relay.length + r.clientKept.bytes.length + r.backend.kept.bytes.length), KIND_RECORD, r, relay);
}

export function encodeCtcpSnapshot(s: CtcpSnapshot): Uint8Array {
  const relay = encodeRelaySnapshot(s.relay);
  return writeCommon(new Writer(160 + relay.length + s.clientKept.bytes.length + s.backend.kept.bytes.length), KIND_SNAPSHOT, s, relay);
}

function offset(r: Reader, field: string): number {
  const v = r.u64(field);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CtcpRecordError(`${field}: ${v} is beyond 2^53`);
  return Number(v);
}

function tcp(bytes: Uint8Array, field: string): TcpCheckpoint {
  try {
    return decodeTcpCheckpoint(bytes);
  } catch (e) {
    throw new CtcpRecordError(`${field}: ${(e as Error).message}`);
  }
}

interface Decoded {
  readonly kind: number;
  readonly common: Common;
  readonly relay: RelayCheckpoint | null;
}

function decode(buf: Uint8Array): Decoded {
  try {
    const r = new Reader(buf, "CtcpRecord");
    const format = r.u8("format");
    if (format !== CTCP_RECORD_FORMAT) throw new CtcpRecordError(`unknown ctcp record format ${format}`);
    const kind = r.u8("kind");
    if (kind !== KIND_RECORD && kind !== KIND_SNAPSHOT) throw new CtcpRecordError(`unknown ctcp record kind ${kind}`);
    const client = tcp(r.opaque8("client"), "client");
    const clientKept = { from: offset(r, "clientKept offset"), bytes: r.opaque24("clientKept") };
    const port = r.u16("backend.port");
    const btcp = r.opaque8("backend.tcp");
    const backendKept = { from: offset(r, "backendKept offset"), bytes: r.opaque24("backendKept") };
    const relayBytes = r.opaque24("relay");
    r.expectEnd();
    const relay = relayBytes.length > 0 ? decodeRelayCheckpoint(relayBytes) : null;
    if (kind === KIND_SNAPSHOT && (!relay || !relay.handshake || relay.read || relay.write)) {
      throw new CtcpRecordError("a ctcp snapshot carries a whole relay snapshot");
    }
    const backend: BackendLeg = { port, tcp: btcp.length > 0 ? tcp(btcp, "backend.tcp") : null, kept: backendKept };
    return { kind, common: { client, clientKept, backend }, relay };
  } catch (e) {
    if (e instanceof CtcpRecordError) throw e;
    throw new CtcpRecordError(`malformed ctcp record: ${e instanceof RelayCheckpointError ? e.message : (e as Error).message}`);
  }
}

export function decodeCtcpRecord(buf: Uint8Array): CtcpRecord {
  const d = decode(buf);
  if (d.kind !== KIND_RECORD) throw new CtcpRecordError("expected a ctcp record, got a snapshot");
  return { ...d.common, relay: d.relay };
}

export function decodeCtcpSnapshot(buf: Uint8Array): CtcpSnapshot {
  const d = decode(buf);
  if (d.kind !== KIND_SNAPSHOT) throw new CtcpRecordError("expected a ctcp snapshot, got a record");
  const relay = d.relay!;
  return { ...d.common, relay: { seq: relay.seq, fields: relay.fields, engine: relay.handshake! } };
}

/**
 * The 4-tuples of a mirrored connection without decoding the rest (client
 * leg; backend leg's source port, 0 if none) and the client leg's TCP
 * checkpoint (for a keep-alive probe): selective recovery keeps the bytes
 * and decodes them only when the connection's first packet arrives.
 */
export function peekCtcpTuples(buf: Uint8Array): { client: TcpCheckpoint["tuple"]; clientTcp: TcpCheckpoint; backendPort: number } {
  try {
    const r = new Reader(buf, "CtcpRecord");
    const format = r.u8("format");
    if (format !== CTCP_RECORD_FORMAT) throw new CtcpRecordError(`unknown ctcp record format ${format}`);
    if (r.u8("kind") !== KIND_SNAPSHOT) throw new CtcpRecordError("expected a ctcp snapshot, got a record");
    const clientTcp = tcp(r.opaque8("client"), "client");
    r.u64("clientKept offset");
    r.opaque24("clientKept");
    return { client: clientTcp.tuple, clientTcp, backendPort: r.u16("backend.port") };
  } catch (e) {
    if (e instanceof CtcpRecordError) throw e;
    throw new CtcpRecordError(`malformed ctcp snapshot: ${(e as Error).message}`);
  }
}

/** The mirror's view after one more record. */
export function foldCtcpRecord(prev: CtcpSnapshot | undefined, r: CtcpRecord): CtcpSnapshot {
  let relay: RelaySnapshot;
  if (r.relay) relay = foldRelay(prev?.relay, r.relay);
  else if (prev) relay = prev.relay;
  else throw new CtcpRecordError("the first ctcp record of a connection carries no relay checkpoint");
  return {
    client: r.client,
    clientKept: appendKept(prev?.clientKept, r.clientKept, relay.fields.clientConsumed, "client"),
    backend: { ...r.backend, kept: appendKept(prev?.backend.kept, r.backend.kept, relay.fields.backendConsumed, "backend") },
    relay,
  };
}

/** The mirror's kept bytes of a leg: `prev` with the record's new bytes appended, from the relay's consumed offset on. */
function appendKept(prev: Kept | undefined, add: Kept, consumed: number, leg: string): Kept {
  let kept = prev && prev.bytes.length > 0 ? prev : null;
  if (add.bytes.length > 0) {
    const have = kept ? kept.from + kept.bytes.length : consumed;
    if (add.from > have) throw new CtcpRecordError(`${leg} kept bytes from offset ${add.from}, but the mirror holds them only up to ${have}: a gap`);
    if (!kept || add.from <= kept.from) kept = add;
    else {
      const head = kept.bytes.subarray(0, add.from - kept.from);
      const joined = new Uint8Array(head.length + add.bytes.length);
      joined.set(head);
      joined.set(add.bytes, head.length);
      kept = { from: kept.from, bytes: joined };
    }
  }
  if (!kept) return NOTHING_KEPT;
  const end = kept.from + kept.bytes.length;
  if (consumed >= end) return NOTHING_KEPT;
  return consumed > kept.from ? { from: consumed, bytes: kept.bytes.subarray(consumed - kept.from) } : kept;
}

/**
 * The replication layer's fold (src/cluster/replication.ts `FoldState`):
 * encoded record onto encoded snapshot.
 */
export function foldCtcp(prev: Uint8Array | undefined, record: Uint8Array): Uint8Array {
  return encodeCtcpSnapshot(foldCtcpRecord(prev ? decodeCtcpSnapshot(prev) : undefined, decodeCtcpRecord(record)));
}
