// The typed messages of the cluster protocol (docs/cluster-protocol.md §4),
// parser and writer side by side (STYLE.md §4). Several of them travel in one
// authenticated datagram (wire.ts, SSLACC §5.8 aggregation); this module only
// knows how one message looks, not who sends it or why.
//
// Each message is framed as
//   type u8 | flags u8 | length u16 | [stream_seq u48 if RELIABLE] | body
// so that a receiver can skip a type it does not know (forward compatibility)
// and the reliable stream (reliable.ts) can sequence a message without
// knowing its body.
import { Reader } from "../tls/codec/reader.js";
import { Writer } from "../tls/codec/writer.js";
import { assertNever } from "../tls/codec/assert-never.js";
import type { SessionData } from "../tls/session-cache.js";

export const MessageType = {
  keepalive: 1,
  join: 2,
  leave: 3,
  bucketMap: 4,
  checkpoint: 5,
  checkpointAck: 6,
  sessionAdd: 7,
  sessionRemove: 8,
  connectionClosed: 9,
  nack: 10,
  bucketReleased: 11,
} as const;
export type MessageTypeName = keyof typeof MessageType;

/** Message flag: carried in the sender's reliable stream to this destination (reliable.ts). */
export const MSG_FLAG_RELIABLE = 0x01;

/** 2^48 - 1: sequence numbers and times are 48-bit on the wire (docs §3). */
export const U48_MAX = 0xffff_ffff_ffff;
/** Connection ids are JavaScript safe integers (53 bits), sent as u64. */
export const CONN_ID_MAX = Number.MAX_SAFE_INTEGER;
export const NO_MEMBER = 0xffff;

export interface Keepalive {
  readonly type: "keepalive";
  /** Sender's clock (ms) when sent; echoed back for the ownership lease (membership.ts). */
  readonly sentAt: number;
  /** The destination's latest `sentAt` the sender has heard (0: none). */
  readonly echo: number;
  /** The sender claims to be master (lowest live id in its view, with a quorum lease): only such an echo grants ownership. */
  readonly master: boolean;
  readonly mapVersion: number;
  readonly mapIssuer: number;
  /** The map version at which the sender holds the state of every bucket handed off to it (bucket-map.ts). */
  readonly readyVersion: number;
  /** Last reliable stream seq the sender sent to the destination (tail-loss detection, reliable.ts). */
  readonly streamNext: number;
  /** Highest contiguous reliable seq the sender delivered from the destination (lets it trim its resend queue). */
  readonly streamAck: number;
  /** Highest checkpoint id of the destination's that the sender has applied (replication.ts). */
  readonly checkpointAck: number;
  /** XOR of the hashes of the session ids the sender holds (anti-entropy, session-cache.ts). */
  readonly sessionDigest: number;
  /**
   * The member the sender names master now (the lowest id it heard within deadAfterMs; NO_MEMBER:
   * none). A new master that every peer it hears follows knows none of them still hears the old one,
   * so the old master's leases have run out and it may plan at once (docs/cluster-protocol.md §5.3).
   */
  readonly follows: number;
}

export interface Join {
  readonly type: "join";
}

export const LeaveReason = { shutdown: 1, noAck: 2, resendOverflow: 3 } as const;
export type LeaveReasonName = keyof typeof LeaveReason;

export interface Leave {
  readonly type: "leave";
  /** Who leaves: the sender itself (graceful) or a member it asks the master to expel. */
  readonly member: number;
  readonly reason: LeaveReasonName;
}

export interface MapMember {
  readonly id: number;
  readonly epoch: number;
}

export interface Handoff {
  readonly bucket: number;
  readonly to: number;
}

export interface BucketMapMessage {
  readonly type: "bucketMap";
  readonly version: number;
  readonly issuer: number;
  readonly members: readonly MapMember[];
  /** 1024 owners as indices into `members` (0xff: none). */
  readonly owners: Uint8Array;
  /** Buckets being moved: the owner stops, ships their state, then the master reassigns (bucket-map.ts). */
  readonly handoffs: readonly Handoff[];
}

export interface CheckpointMessage {
  readonly type: "checkpoint";
  /** The owner's replication id, increasing per owner epoch. */
  readonly rid: number;
  readonly connId: number;
  readonly bucket: number;
  /** full: a whole snapshot (state transfer, bucket move); delta: fold onto the previous state. */
  readonly full: boolean;
  readonly data: Uint8Array;
}

export interface CheckpointAck {
  readonly type: "checkpointAck";
  /** Highest checkpoint id of the destination's (as owner) applied here. */
  readonly rid: number;
}

export interface SessionAdd {
  readonly type: "sessionAdd";
  readonly session: SessionData;
}

export interface SessionRemove {
  readonly type: "sessionRemove";
  readonly id: Uint8Array;
}

export interface ConnectionClosed {
  readonly type: "connectionClosed";
  readonly rid: number;
  readonly connId: number;
  readonly bucket: number;
}

export interface Nack {
  readonly type: "nack";
  /** Inclusive range of the destination's reliable stream to send again. */
  readonly from: number;
  readonly to: number;
}

export interface BucketReleased {
  readonly type: "bucketReleased";
  readonly mapVersion: number;
  readonly mapIssuer: number;
  readonly buckets: readonly number[];
}

export type Message =
  | Keepalive
  | Join
  | Leave
  | BucketMapMessage
  | CheckpointMessage
  | CheckpointAck
  | SessionAdd
  | SessionRemove
  | ConnectionClosed
  | Nack
  | BucketReleased;

/** A message as framed: with its reliable stream seq if it has one. */
export interface Framed {
  readonly message: Message;
  /** 0: not in the reliable stream. */
  readonly streamSeq: number;
}

export const BUCKETS = 1024;
/** The map's owners are one byte per bucket: members are indexed 0..254 (docs §4.4). */
export const MAX_MAP_MEMBERS = 255;

// --- helpers -----------------------------------------------------------------

export function writeU48(w: Writer, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= U48_MAX)) throw new RangeError(`u48 ${v}`);
  w.u16(Math.floor(v / 0x1_0000_0000));
  w.u32(v % 0x1_0000_0000);
}

export function readU48(r: Reader, field: string): number {
  const hi = r.u16(field);
  return hi * 0x1_0000_0000 + r.u32(field);
}

export function writeU64(w: Writer, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= CONN_ID_MAX)) throw new RangeError(`u64 ${v}`);
  w.u32(Math.floor(v / 0x1_0000_0000));
  w.u32(v % 0x1_0000_0000);
}

/** A u64 that must be a safe integer; bigger values are malformed (docs §3). */
export function readU64(r: Reader, field: string): number {
  const hi = r.u32(field);
  const lo = r.u32(field);
  if (hi > 0x1f_ffff) throw new MessageError(`${field}: ${hi}*2^32 exceeds 2^53`);
  return hi * 0x1_0000_0000 + lo;
}

/** A well-authenticated message body that does not parse: the whole datagram is dropped as malformed. */
export class MessageError extends Error {
  override readonly name = "MessageError";
}

// --- bodies ------------------------------------------------------------------

function writeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case "keepalive":
      writeU48(w, m.sentAt);
      writeU48(w, m.echo);
      w.u8(m.master ? 1 : 0);
      w.u32(m.mapVersion);
      w.u16(m.mapIssuer);
      w.u32(m.readyVersion);
      writeU48(w, m.streamNext);
      writeU48(w, m.streamAck);
      writeU48(w, m.checkpointAck);
      w.u32(m.sessionDigest);
      w.u16(m.follows);
      return;
    case "join":
      return;
    case "leave":
      w.u16(m.member);
      w.u8(LeaveReason[m.reason]);
      return;
    case "bucketMap":
      if (m.members.length > MAX_MAP_MEMBERS) throw new RangeError(`${m.members.length} members`);
      if (m.owners.length !== BUCKETS) throw new RangeError(`owners ${m.owners.length}`);
      w.u32(m.version);
      w.u16(m.issuer);
      w.u8(m.members.length);
      for (const mm of m.members) {
        w.u16(mm.id);
        writeU64(w, mm.epoch);
      }
      w.bytes(m.owners);
      w.u16(m.handoffs.length);
      for (const h of m.handoffs) {
        w.u16(h.bucket);
        w.u16(h.to);
      }
      return;
    case "checkpoint":
      writeU48(w, m.rid);
      writeU64(w, m.connId);
      w.u16(m.bucket);
      w.u8(m.full ? 1 : 0);
      w.opaque16(m.data);
      return;
    case "checkpointAck":
      writeU48(w, m.rid);
      return;
    case "sessionAdd": {
      const s = m.session;
      w.opaque8(s.id);
      w.u16(s.version);
      w.u16(s.cipherSuite);
      w.opaque8(s.masterSecret);
      w.u8(s.extendedMasterSecret ? 1 : 0);
      w.opaque16(s.serverName === null ? new Uint8Array(0) : new TextEncoder().encode(s.serverName));
      w.u8(s.serverName === null ? 0 : 1);
      writeU48(w, s.createdAt);
      return;
    }
    case "sessionRemove":
      w.opaque8(m.id);
      return;
    case "connectionClosed":
      writeU48(w, m.rid);
      writeU64(w, m.connId);
      w.u16(m.bucket);
      return;
    case "nack":
      writeU48(w, m.from);
      writeU48(w, m.to);
      return;
    case "bucketReleased":
      w.u32(m.mapVersion);
      w.u16(m.mapIssuer);
      w.u16(m.buckets.length);
      for (const b of m.buckets) w.u16(b);
      return;
    default:
      assertNever(m, "cluster message");
  }
}

function readFlag(r: Reader, field: string): boolean {
  const v = r.u8(field);
  if (v > 1) throw new MessageError(`${field}: ${v} is not a boolean`);
  return v === 1;
}

function bucketOf(r: Reader, field: string): number {
  const b = r.u16(field);
  if (b >= BUCKETS) throw new MessageError(`${field}: bucket ${b} >= ${BUCKETS}`);
  return b;
}

function readBody(type: number, r: Reader): Message {
  switch (type) {
    case MessageType.keepalive:
      return {
        type: "keepalive",
        sentAt: readU48(r, "sentAt"),
        echo: readU48(r, "echo"),
        master: readFlag(r, "master"),
        mapVersion: r.u32("mapVersion"),
        mapIssuer: r.u16("mapIssuer"),
        readyVersion: r.u32("readyVersion"),
        streamNext: readU48(r, "streamNext"),
        streamAck: readU48(r, "streamAck"),
        checkpointAck: readU48(r, "checkpointAck"),
        sessionDigest: r.u32("sessionDigest"),
        follows: r.u16("follows"),
      };
    case MessageType.join:
      return { type: "join" };
    case MessageType.leave: {
      const member = r.u16("member");
      const code = r.u8("reason");
      const reason = (Object.keys(LeaveReason) as LeaveReasonName[]).find((k) => LeaveReason[k] === code);
      if (!reason) throw new MessageError(`Leave.reason: unknown ${code}`);
      return { type: "leave", member, reason };
    }
    case MessageType.bucketMap: {
      const version = r.u32("version");
      const issuer = r.u16("issuer");
      const n = r.u8("memberCount");
      const members: MapMember[] = [];
      for (let i = 0; i < n; i++) members.push({ id: r.u16("member.id"), epoch: readU64(r, "member.epoch") });
      const owners = r.bytes(BUCKETS, "owners").slice();
      for (const o of owners) if (o !== 0xff && o >= n) throw new MessageError(`BucketMap.owners: index ${o} of ${n} members`);
      const h = r.u16("handoffCount");
      const handoffs: Handoff[] = [];
      for (let i = 0; i < h; i++) handoffs.push({ bucket: bucketOf(r, "handoff.bucket"), to: r.u16("handoff.to") });
      return { type: "bucketMap", version, issuer, members, owners, handoffs };
    }
    case MessageType.checkpoint: {
      const rid = readU48(r, "rid");
      const connId = readU64(r, "connId");
      const bucket = bucketOf(r, "bucket");
      const full = r.u8("full");
      if (full > 1) throw new MessageError(`Checkpoint.full: ${full}`);
      return { type: "checkpoint", rid, connId, bucket, full: full === 1, data: r.opaque16("data").slice() };
    }
    case MessageType.checkpointAck:
      return { type: "checkpointAck", rid: readU48(r, "rid") };
    case MessageType.sessionAdd: {
      const id = r.opaque8("id", { min: 1, max: 32 }).slice();
      const version = r.u16("version");
      const cipherSuite = r.u16("cipherSuite");
      const masterSecret = r.opaque8("masterSecret", { min: 48, max: 48 }).slice();
      const ems = r.u8("extendedMasterSecret");
      const name = r.opaque16("serverName");
      const hasName = r.u8("hasServerName");
      if (ems > 1 || hasName > 1) throw new MessageError("SessionAdd: boolean out of range");
      const createdAt = readU48(r, "createdAt");
      return {
        type: "sessionAdd",
        session: {
          id,
          version,
          cipherSuite,
          masterSecret,
          extendedMasterSecret: ems === 1,
          serverName: hasName === 1 ? new TextDecoder().decode(name) : null,
          createdAt,
        },
      };
    }
    case MessageType.sessionRemove:
      return { type: "sessionRemove", id: r.opaque8("id", { min: 1, max: 32 }).slice() };
    case MessageType.connectionClosed:
      return { type: "connectionClosed", rid: readU48(r, "rid"), connId: readU64(r, "connId"), bucket: bucketOf(r, "bucket") };
    case MessageType.nack: {
      const from = readU48(r, "from");
      const to = readU48(r, "to");
      if (from === 0 || to < from) throw new MessageError(`Nack: range ${from}..${to}`);
      return { type: "nack", from, to };
    }
    case MessageType.bucketReleased: {
      const mapVersion = r.u32("mapVersion");
      const mapIssuer = r.u16("mapIssuer");
      const n = r.u16("count");
      const buckets: number[] = [];
      for (let i = 0; i < n; i++) buckets.push(bucketOf(r, "bucket"));
      return { type: "bucketReleased", mapVersion, mapIssuer, buckets };
    }
    default:
      throw new MessageError(`unknown message type ${type}`);
  }
}

/** Bytes of the frame around a body: type, flags, length, and the stream seq if reliable. */
export function frameOverhead(reliable: boolean): number {
  return 4 + (reliable ? 6 : 0);
}

/** One framed message. `streamSeq` 0 means unsequenced. */
export function encodeMessage(message: Message, streamSeq = 0): Uint8Array {
  const body = new Writer(64);
  writeBody(body, message);
  const b = body.finish();
  const w = new Writer(b.length + 10);
  w.u8(MessageType[message.type]);
  w.u8(streamSeq > 0 ? MSG_FLAG_RELIABLE : 0);
  const len = b.length + (streamSeq > 0 ? 6 : 0);
  if (len > 0xffff) throw new RangeError(`message of ${len} bytes`);
  w.u16(len);
  if (streamSeq > 0) writeU48(w, streamSeq);
  w.bytes(b);
  return w.finish();
}

/**
 * Every message of a datagram payload, in order. Throws MessageError or the
 * codec's DecodeError on malformed input; the caller drops the datagram.
 * Unknown flags are refused (no extension is defined yet).
 */
export function decodeMessages(payload: Uint8Array): Framed[] {
  const r = new Reader(payload, "payload");
  const out: Framed[] = [];
  while (!r.atEnd()) {
    const type = r.u8("message.type");
    const flags = r.u8("message.flags");
    if ((flags & ~MSG_FLAG_RELIABLE) !== 0) throw new MessageError(`message flags 0x${flags.toString(16)}`);
    const len = r.u16("message.length");
    const body = new Reader(r.bytes(len, "message.body"), `message[${type}]`);
    let streamSeq = 0;
    if (flags & MSG_FLAG_RELIABLE) {
      streamSeq = readU48(body, "streamSeq");
      if (streamSeq === 0) throw new MessageError("streamSeq 0");
    }
    const message = readBody(type, body);
    body.expectEnd();
    out.push({ message, streamSeq });
  }
  return out;
}
