// The datagram layer of the cluster protocol (docs/cluster-protocol.md §3):
// a fixed header, a payload of framed messages (messages.ts), an HMAC-SHA256
// tag over both under the shared cluster key, and per-sender replay windows.
//
//   channel.ts (UDP) ─bytes─> openDatagram ─> [size, version, cluster, MAC, sender,
//                              destination, epoch, replay window] ─> messages
//   messages ─> aggregator.ts ─> sealDatagram ─bytes─> channel.ts
//
// Anything wrong with an incoming datagram is a *drop with a named reason*,
// counted, never an exception (SSLACC §3: intra-cluster traffic is protected
// by a MAC; a forged or replayed update must not change cluster state, and a
// malformed one must not take a member down). Crypto comes through the
// provider record (STYLE.md §5), so this module does no I/O and imports no
// node:crypto.
import type { CryptoProvider } from "../crypto/provider.js";
import { Reader } from "../tls/codec/reader.js";
import { Writer } from "../tls/codec/writer.js";
import { decodeMessages, readU48, writeU48, writeU64, readU64, type Framed } from "./messages.js";

export const WIRE_VERSION = 2;
/** Header type: a batch of framed messages. 2 is reserved for the AES-GCM sealed batch (docs §3.3). */
export const DATAGRAM_BATCH = 1;
/** Header flag reserved for AES-GCM encryption (not implemented: such datagrams are dropped). */
export const FLAG_ENCRYPTED = 0x0001;
/** Header flag: sent to the multicast group; its sequence space is separate from unicast's. */
export const FLAG_MULTICAST = 0x0002;
const KNOWN_FLAGS = FLAG_MULTICAST;

/** version u8, type u8, flags u16, cluster u32, sender u16, destination u16, epoch u64, destination epoch u64, seq u48, length u16. */
export const HEADER_BYTES = 36;
/** HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows truncation to ≥ half the output; RFC 4868 uses 128 for SHA-256). */
export const TAG_BYTES = 16;
/** Every member id; 0 as destination means "every member" (multicast). */
export const BROADCAST = 0;
/** Default largest datagram we send in one piece: a 1500-byte MTU minus IPv4 (20) and UDP (8) headers. */
export const DEFAULT_MTU_DATAGRAM = 1472;
/** Default largest datagram accepted: a bucket map of many members or a big snapshot is sent alone and may exceed the MTU (IP fragments it). */
export const DEFAULT_MAX_DATAGRAM = 9216;

export interface Header {
  readonly version: number;
  readonly type: number;
  readonly flags: number;
  readonly clusterId: number;
  readonly sender: number;
  readonly destination: number;
  /** The sender's incarnation (docs §3.2): grows on every restart or rejoin; sequence numbers restart under it. */
  readonly epoch: number;
  /**
   * The incarnation of the destination the sender addresses (0: not known yet, first contact). A
   * datagram for an earlier incarnation of the receiver is dropped: it belongs to a stream and a replay
   * window the receiver no longer has (docs §3.2).
   */
  readonly destEpoch: number;
  readonly seq: number;
  readonly length: number;
}

/** Why a datagram was dropped; counted per reason (docs §3.5). */
export const DROP_REASONS = [
  "truncated",
  "oversized",
  "length_mismatch",
  "malformed_header",
  "bad_version",
  "unknown_type",
  "unsupported_flags",
  "foreign_cluster",
  "bad_mac",
  "unknown_sender",
  "own_sender",
  "wrong_destination",
  "stale_destination_epoch",
  "stale_epoch",
  "replayed",
  "too_old",
  "malformed_payload",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type DropCounters = Record<DropReason, number>;

export function emptyDropCounters(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
}

export interface WireConfig {
  readonly clusterId: number;
  readonly nodeId: number;
  /** The shared cluster key (docs §3.4: ≥ 32 bytes from the key file). */
  readonly key: Uint8Array;
  /** Configured member ids; datagrams from anyone else are dropped. */
  readonly members: readonly number[];
  readonly provider: Pick<CryptoProvider, "hmac">;
  readonly maxDatagram?: number;
  /** Replay window width in sequence numbers (RFC 4303 §3.4.3 style; default 1024). */
  readonly replayWindow?: number;
  /** Our current incarnation (it grows when we rejoin). */
  readonly epoch: () => number;
}

function tag(provider: Pick<CryptoProvider, "hmac">, key: Uint8Array, data: Uint8Array): Uint8Array {
  return provider.hmac("sha256", key, data).subarray(0, TAG_BYTES);
}

/** Constant-time in the tag's contents: a forger learns nothing from how long the comparison took. */
function tagEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function encodeHeader(h: Header): Uint8Array {
  const w = new Writer(HEADER_BYTES);
  w.u8(h.version).u8(h.type).u16(h.flags).u32(h.clusterId).u16(h.sender).u16(h.destination);
  writeU64(w, h.epoch);
  writeU64(w, h.destEpoch);
  writeU48(w, h.seq);
  w.u16(h.length);
  return w.finish();
}

export function decodeHeader(buf: Uint8Array): Header {
  const r = new Reader(buf.subarray(0, HEADER_BYTES), "header");
  return {
    version: r.u8("version"),
    type: r.u8("type"),
    flags: r.u16("flags"),
    clusterId: r.u32("clusterId"),
    sender: r.u16("sender"),
    destination: r.u16("destination"),
    epoch: readU64(r, "epoch"),
    destEpoch: readU64(r, "destEpoch"),
    seq: readU48(r, "seq"),
    length: r.u16("length"),
  };
}

/** Header, payload and tag: the bytes for the channel. */
export function sealDatagram(
  cfg: Pick<WireConfig, "clusterId" | "nodeId" | "key" | "provider">,
  destination: number,
  epoch: number,
  destEpoch: number,
  seq: number,
  payload: Uint8Array,
  flags = 0,
): Uint8Array {
  const header = encodeHeader({
    version: WIRE_VERSION,
    type: DATAGRAM_BATCH,
    flags,
    clusterId: cfg.clusterId,
    sender: cfg.nodeId,
    destination,
    epoch,
    destEpoch,
    seq,
    length: payload.length,
  });
  const out = new Uint8Array(HEADER_BYTES + payload.length + TAG_BYTES);
  out.set(header, 0);
  out.set(payload, HEADER_BYTES);
  out.set(tag(cfg.provider, cfg.key, out.subarray(0, HEADER_BYTES + payload.length)), HEADER_BYTES + payload.length);
  return out;
}

/**
 * A sliding window over one sender's sequence numbers under one epoch
 * (RFC 4303 §3.4.3; RFC 6479 ring of bits): `highest` and a bitmap of the
 * `width` numbers at and below it. A number above `highest` slides the
 * window; one inside is accepted once; one below is too old.
 */
export class ReplayWindow {
  private bits: Uint8Array;
  highest = 0;

  constructor(
    readonly epoch: number,
    private readonly width: number,
  ) {
    this.bits = new Uint8Array(width);
  }

  check(seq: number): "ok" | "replayed" | "too_old" {
    if (seq > this.highest) return "ok";
    if (seq === 0 || this.highest - seq >= this.width) return "too_old";
    return this.bits[seq % this.width] ? "replayed" : "ok";
  }

  /** Only after the MAC verified (RFC 4303 §3.4.3: "the receive window is updated only if the integrity verification succeeds"). */
  accept(seq: number): void {
    if (seq > this.highest) {
      const d = seq - this.highest;
      if (d >= this.width) this.bits.fill(0);
      else for (let s = this.highest + 1; s < seq; s++) this.bits[s % this.width] = 0;
      this.highest = seq;
    }
    this.bits[seq % this.width] = 1;
  }
}

export type Opened =
  | { readonly ok: true; readonly header: Header; readonly messages: Framed[] }
  | { readonly ok: false; readonly reason: DropReason };

/** Incoming datagrams: checks in the order of docs §3.5, counts drops. */
export class WireReceiver {
  /** Forget every replay window (we rejoined under a new epoch; datagrams for the old one are refused by destEpoch). */
  reset(): void {
    this.windows.clear();
  }

  readonly drops: DropCounters = emptyDropCounters();
  private readonly windows = new Map<string, ReplayWindow>();
  private readonly members: ReadonlySet<number>;
  private readonly maxDatagram: number;
  private readonly width: number;

  constructor(private readonly cfg: WireConfig) {
    this.members = new Set(cfg.members);
    this.maxDatagram = cfg.maxDatagram ?? DEFAULT_MAX_DATAGRAM;
    this.width = cfg.replayWindow ?? 1024;
  }

  /** The epoch this sender is known under, if any. */
  epochOf(sender: number): number | undefined {
    return this.windows.get(`${sender}/u`)?.epoch;
  }

  open(buf: Uint8Array): Opened {
    const r = this.check(buf);
    if (!r.ok) this.drops[r.reason]++;
    return r;
  }

  private check(buf: Uint8Array): Opened {
    // Cheap, unauthenticated checks first; nothing is remembered from them.
    if (buf.length > this.maxDatagram) return { ok: false, reason: "oversized" };
    if (buf.length < HEADER_BYTES + TAG_BYTES) return { ok: false, reason: "truncated" };
    let h: Header;
    try {
      h = decodeHeader(buf);
    } catch {
      return { ok: false, reason: "malformed_header" }; // an epoch beyond 2^53
    }
    if (h.version !== WIRE_VERSION) return { ok: false, reason: "bad_version" };
    if (h.clusterId !== this.cfg.clusterId) return { ok: false, reason: "foreign_cluster" };
    if (h.type !== DATAGRAM_BATCH) return { ok: false, reason: "unknown_type" };
    if ((h.flags & ~KNOWN_FLAGS) !== 0) return { ok: false, reason: "unsupported_flags" };
    const total = HEADER_BYTES + h.length + TAG_BYTES;
    if (buf.length < total) return { ok: false, reason: "truncated" };
    if (buf.length > total) return { ok: false, reason: "length_mismatch" };
    // Authenticity before any state: a forger must not move a replay window.
    const body = buf.subarray(0, HEADER_BYTES + h.length);
    if (!tagEqual(tag(this.cfg.provider, this.cfg.key, body), buf.subarray(HEADER_BYTES + h.length))) {
      return { ok: false, reason: "bad_mac" };
    }
    if (h.sender === this.cfg.nodeId) return { ok: false, reason: "own_sender" };
    if (!this.members.has(h.sender)) return { ok: false, reason: "unknown_sender" };
    const multicast = (h.flags & FLAG_MULTICAST) !== 0;
    // The destination is authenticated: a datagram for member 2 replayed to member 3 (whose window for the
    // sender is elsewhere) is refused here rather than accepted as fresh.
    if (multicast ? h.destination !== BROADCAST : h.destination !== this.cfg.nodeId) return { ok: false, reason: "wrong_destination" };
    if (h.destEpoch !== 0 && h.destEpoch !== this.cfg.epoch()) return { ok: false, reason: "stale_destination_epoch" };
    const wkey = `${h.sender}/${multicast ? "m" : "u"}`;
    let win = this.windows.get(wkey);
    if (win && h.epoch < win.epoch) return { ok: false, reason: "stale_epoch" };
    if (!win || h.epoch > win.epoch) {
      win = new ReplayWindow(h.epoch, this.width);
    }
    const verdict = win.check(h.seq);
    if (verdict !== "ok") return { ok: false, reason: verdict };
    let messages: Framed[];
    try {
      messages = decodeMessages(buf.subarray(HEADER_BYTES, HEADER_BYTES + h.length));
    } catch {
      // Authentic but unparseable: a peer bug or a version skew. Burn the seq so it is not retried.
      win.accept(h.seq);
      this.windows.set(wkey, win);
      return { ok: false, reason: "malformed_payload" };
    }
    win.accept(h.seq);
    this.windows.set(wkey, win);
    return { ok: true, header: h, messages };
  }
}
