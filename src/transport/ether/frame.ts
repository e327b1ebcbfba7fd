// Ethernet II framing (DIX; RFC 894 for IPv4 over Ethernet): destination
// MAC, source MAC, a 16-bit EtherType, the payload. This is the outermost
// layer the clustered-TCP node sees: the wire relay (socat over a TAP, or the
// in-process hub) hands us whole frames without preamble or FCS.
//
// A frame carrying an IEEE 802.1Q/802.1ad VLAN tag is dropped and counted,
// not untagged: the cluster's wire is one untagged segment, and answering a
// tagged frame with an untagged one would join two VLANs. A type field below
// 0x0600 is an IEEE 802.3 length (LLC/SNAP), which RFC 894 hosts never send;
// it is dropped with the other unknown EtherTypes by the link (link.ts).
import { MAC_LEN, readMac, writeMac, type Mac } from "./mac.js";

export const ETHER_HEADER_LEN = 14;
/** RFC 894: the data field is at least 46 octets; shorter frames are padded. */
export const ETHER_MIN_PAYLOAD = 46;
/** RFC 894: at most 1500 octets of data (1514-byte frames, NOTES.md). */
export const ETHER_MTU = 1500;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100; // IEEE 802.1Q
export const ETHERTYPE_QINQ = 0x88a8; // IEEE 802.1ad
export const ETHERTYPE_IPV6 = 0x86dd;

export interface EtherHeader {
  readonly dst: Mac;
  readonly src: Mac;
  readonly ethertype: number;
}

export type FrameDropReason = "short" | "vlan" | "oversize";

export type FrameParse =
  | { readonly kind: "ok"; readonly header: EtherHeader; readonly payload: Uint8Array }
  | { readonly kind: "drop"; readonly reason: FrameDropReason };

/**
 * Parse one Ethernet II frame (no preamble, no FCS). The payload is a view;
 * it may include the padding of a short frame — the IPv4 parser cuts it by
 * Total Length, the ARP parser reads its 28 bytes.
 */
export function parseFrame(buf: Uint8Array): FrameParse {
  if (buf.length < ETHER_HEADER_LEN) return { kind: "drop", reason: "short" };
  const ethertype = (buf[12]! << 8) | buf[13]!;
  if (ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ) return { kind: "drop", reason: "vlan" };
  if (buf.length > ETHER_HEADER_LEN + ETHER_MTU) return { kind: "drop", reason: "oversize" };
  return {
    kind: "ok",
    header: { dst: readMac(buf, 0), src: readMac(buf, MAC_LEN), ethertype },
    payload: buf.subarray(ETHER_HEADER_LEN),
  };
}

/** Build a frame, padding the data field to RFC 894's 46-octet minimum. */
export function writeFrame(h: EtherHeader, payload: Uint8Array): Uint8Array {
  if (payload.length > ETHER_MTU) throw new RangeError(`Ethernet payload of ${payload.length} bytes exceeds ${ETHER_MTU}`);
  const out = new Uint8Array(ETHER_HEADER_LEN + Math.max(payload.length, ETHER_MIN_PAYLOAD));
  writeMac(out, 0, h.dst);
  writeMac(out, MAC_LEN, h.src);
  out[12] = h.ethertype >>> 8;
  out[13] = h.ethertype & 0xff;
  out.set(payload, ETHER_HEADER_LEN);
  return out;
}
