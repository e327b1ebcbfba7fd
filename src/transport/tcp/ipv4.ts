// Minimal IPv4 (RFC 791) for the clustered TCP transport: what the engine's
// shell must emit and consume on the shared wire, no more. Options are
// skipped (IHL honoured), fragments are dropped deliberately and counted —
// a reassembly buffer per datagram would be per-packet state an attacker
// controls, and our peers send at most 1514-byte frames with DF set
// (NOTES.md, "A shared Ethernet wire"); anything else malformed is dropped
// quietly and counted, never answered.
import { internetChecksum } from "./checksum.js";

export const IPPROTO_TCP = 6;
export const IPV4_HEADER_LEN = 20;

export interface Ipv4Header {
  readonly src: number; // u32, network order as a number
  readonly dst: number;
  readonly protocol: number;
  readonly id: number;
  readonly ttl: number;
  readonly dontFragment: boolean;
  readonly tos: number;
}

export type Ipv4DropReason = "short" | "version" | "header-length" | "total-length" | "checksum" | "fragment";

export type Ipv4Parse =
  | { readonly kind: "ok"; readonly header: Ipv4Header; readonly payload: Uint8Array }
  | { readonly kind: "drop"; readonly reason: Ipv4DropReason };

/** Drop counters, one per reason (the shell exports them as metrics). */
export type Ipv4Counters = Record<Ipv4DropReason, number>;

export function newIpv4Counters(): Ipv4Counters {
  return { short: 0, version: 0, "header-length": 0, "total-length": 0, checksum: 0, fragment: 0 };
}

function drop(reason: Ipv4DropReason, counters?: Ipv4Counters): Ipv4Parse {
  if (counters) counters[reason]++;
  return { kind: "drop", reason };
}

/**
 * Parse one IPv4 datagram. Trailing bytes beyond Total Length (Ethernet
 * padding of short frames) are cut off. The payload is a view, not a copy.
 */
export function parseIpv4(buf: Uint8Array, counters?: Ipv4Counters): Ipv4Parse {
  if (buf.length < IPV4_HEADER_LEN) return drop("short", counters);
  if (buf[0]! >> 4 !== 4) return drop("version", counters);
  const ihl = (buf[0]! & 0x0f) * 4;
  if (ihl < IPV4_HEADER_LEN || ihl > buf.length) return drop("header-length", counters);
  const total = (buf[2]! << 8) | buf[3]!;
  if (total < ihl || total > buf.length) return drop("total-length", counters);
  if (internetChecksum(buf.subarray(0, ihl)) !== 0) return drop("checksum", counters);
  const flagsFrag = (buf[6]! << 8) | buf[7]!;
  const moreFragments = (flagsFrag & 0x2000) !== 0;
  const offset = flagsFrag & 0x1fff;
  // RFC 791 §3.2: a datagram is a fragment iff MF is set or the offset is
  // non-zero. We never reassemble (see the module comment).
  if (moreFragments || offset !== 0) return drop("fragment", counters);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    kind: "ok",
    header: {
      tos: buf[1]!,
      id: (buf[4]! << 8) | buf[5]!,
      dontFragment: (flagsFrag & 0x4000) !== 0,
      ttl: buf[8]!,
      protocol: buf[9]!,
      src: view.getUint32(12),
      dst: view.getUint32(16),
    },
    payload: buf.subarray(ihl, total),
  };
}

/** Build a 20-byte-header IPv4 datagram around `payload`, checksum filled. */
export function writeIpv4(h: Ipv4Header, payload: Uint8Array): Uint8Array {
  const total = IPV4_HEADER_LEN + payload.length;
  if (total > 0xffff) throw new RangeError(`IPv4 datagram of ${total} bytes exceeds 65535`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  out[1] = h.tos;
  view.setUint16(2, total);
  view.setUint16(4, h.id);
  view.setUint16(6, h.dontFragment ? 0x4000 : 0);
  out[8] = h.ttl;
  out[9] = h.protocol;
  view.setUint32(12, h.src >>> 0);
  view.setUint32(16, h.dst >>> 0);
  view.setUint16(10, internetChecksum(out.subarray(0, IPV4_HEADER_LEN)));
  out.set(payload, IPV4_HEADER_LEN);
  return out;
}

/** "10.0.0.1" → u32. Throws on anything but a dotted quad. */
export function ipv4FromString(s: string): number {
  const parts = s.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new RangeError(`not a dotted-quad IPv4 address: ${JSON.stringify(s)}`);
  }
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

export function ipv4ToString(a: number): string {
  return [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join(".");
}
