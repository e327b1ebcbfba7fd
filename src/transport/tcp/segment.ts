// TCP segment codec (RFC 9293 §3.1) with the options the engine uses: MSS
// (§3.7.1), window scale (RFC 7323 §2). SACK-permitted (RFC 2018) is parsed
// and ignored — we never send SACK blocks — and timestamps (RFC 7323 §3)
// are parsed and refused: we send none, because a TSval would have to be
// clustered and monotonic across a takeover (issue 7), so per RFC 7323 §3.2
// the peer must not send them either. The checksum covers the IPv4
// pseudo-header (§3.1: source, destination, zero, protocol, TCP length).
import { onesSum } from "./checksum.js";
import { IPPROTO_TCP } from "./ipv4.js";

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export const TCP_HEADER_LEN = 20;

export interface TcpOptions {
  /** Maximum segment size (SYN only). */
  readonly mss?: number;
  /** Window scale shift (SYN only), 0..14 (RFC 7323 §2.3 clamps larger). */
  readonly wscale?: number;
  readonly sackPermitted?: boolean;
  /** Present in the segment; never sent by us (see the module comment). */
  readonly timestamps?: boolean;
}

export interface TcpSegment {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  /** The raw 16-bit window field, before scaling. */
  readonly window: number;
  readonly urgent: number;
  readonly options: TcpOptions;
  readonly payload: Uint8Array;
}

export type SegmentDropReason = "short" | "data-offset" | "option" | "checksum";

export type SegmentParse =
  | { readonly kind: "ok"; readonly segment: TcpSegment }
  | { readonly kind: "drop"; readonly reason: SegmentDropReason };

function pseudoHeaderSum(src: number, dst: number, tcpLength: number): number {
  const ph = new Uint8Array(12);
  const v = new DataView(ph.buffer);
  v.setUint32(0, src >>> 0);
  v.setUint32(4, dst >>> 0);
  ph[9] = IPPROTO_TCP;
  v.setUint16(10, tcpLength);
  return onesSum(ph);
}

/** The checksum field value for `tcp` (checksum field zeroed) between src and dst. */
export function tcpChecksum(src: number, dst: number, tcp: Uint8Array): number {
  return ~onesSum(tcp, pseudoHeaderSum(src, dst, tcp.length)) & 0xffff;
}

function parseOptions(opts: Uint8Array): TcpOptions | null {
  let mss: number | undefined;
  let wscale: number | undefined;
  let sackPermitted = false;
  let timestamps = false;
  let i = 0;
  while (i < opts.length) {
    const kind = opts[i]!;
    if (kind === 0) break; // End of Option List
    if (kind === 1) {
      i++; // No-Operation
      continue;
    }
    if (i + 1 >= opts.length) return null;
    const len = opts[i + 1]!;
    if (len < 2 || i + len > opts.length) return null;
    switch (kind) {
      case 2:
        if (len !== 4) return null;
        mss = (opts[i + 2]! << 8) | opts[i + 3]!;
        break;
      case 3:
        if (len !== 3) return null;
        // RFC 7323 §2.3: a shift above 14 is treated as 14.
        wscale = Math.min(opts[i + 2]!, 14);
        break;
      case 4:
        if (len !== 2) return null;
        sackPermitted = true;
        break;
      case 8:
        if (len !== 10) return null;
        timestamps = true;
        break;
      default:
        break; // unknown options are skipped by length (RFC 9293 §3.2)
    }
    i += len;
  }
  const out: { mss?: number; wscale?: number; sackPermitted?: boolean; timestamps?: boolean } = {};
  if (mss !== undefined) out.mss = mss;
  if (wscale !== undefined) out.wscale = wscale;
  if (sackPermitted) out.sackPermitted = true;
  if (timestamps) out.timestamps = true;
  return out;
}

/**
 * Parse a TCP segment carried between IPv4 addresses src and dst (needed for
 * the pseudo-header checksum). The payload is a view into `buf`.
 */
export function parseSegment(buf: Uint8Array, src: number, dst: number): SegmentParse {
  if (buf.length < TCP_HEADER_LEN) return { kind: "drop", reason: "short" };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const offset = (buf[12]! >> 4) * 4;
  if (offset < TCP_HEADER_LEN || offset > buf.length) return { kind: "drop", reason: "data-offset" };
  if (tcpChecksum(src, dst, buf) !== 0) return { kind: "drop", reason: "checksum" };
  const options = parseOptions(buf.subarray(TCP_HEADER_LEN, offset));
  if (options === null) return { kind: "drop", reason: "option" };
  return {
    kind: "ok",
    segment: {
      srcPort: v.getUint16(0),
      dstPort: v.getUint16(2),
      seq: v.getUint32(4),
      ack: v.getUint32(8),
      flags: buf[13]!,
      window: v.getUint16(14),
      urgent: v.getUint16(18),
      options,
      payload: buf.subarray(offset),
    },
  };
}

function encodeOptions(o: TcpOptions): Uint8Array {
  const bytes: number[] = [];
  if (o.mss !== undefined) bytes.push(2, 4, (o.mss >> 8) & 0xff, o.mss & 0xff);
  // RFC 7323 §2.2: NOP, WS — keeps the following option 4-byte aligned.
  if (o.wscale !== undefined) bytes.push(1, 3, 3, o.wscale);
  if (o.sackPermitted) bytes.push(1, 1, 4, 2);
  if (o.timestamps) throw new Error("sslacc TCP never sends timestamps (no clustered TSval)");
  while (bytes.length % 4 !== 0) bytes.push(0);
  return Uint8Array.from(bytes);
}

/** Serialise a segment with its checksum for the IPv4 pair (src, dst). */
export function writeSegment(seg: TcpSegment, src: number, dst: number): Uint8Array {
  const opts = encodeOptions(seg.options);
  const headerLen = TCP_HEADER_LEN + opts.length;
  const out = new Uint8Array(headerLen + seg.payload.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, seg.srcPort);
  v.setUint16(2, seg.dstPort);
  v.setUint32(4, seg.seq >>> 0);
  v.setUint32(8, seg.ack >>> 0);
  out[12] = (headerLen / 4) << 4;
  out[13] = seg.flags;
  v.setUint16(14, seg.window);
  v.setUint16(18, seg.urgent);
  out.set(opts, TCP_HEADER_LEN);
  out.set(seg.payload, headerLen);
  v.setUint16(16, tcpChecksum(src, dst, out));
  return out;
}

/** Sequence space a segment occupies: payload plus one each for SYN and FIN (RFC 9293 §3.4). */
export function segmentLength(seg: TcpSegment): number {
  return seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
}

export function flagNames(flags: number): string {
  const names: [number, string][] = [[SYN, "S"], [FIN, "F"], [RST, "R"], [PSH, "P"], [ACK, "."], [URG, "U"], [ECE, "E"], [CWR, "W"]];
  return names.filter(([bit]) => flags & bit).map(([, n]) => n).join("") || "-";
}
