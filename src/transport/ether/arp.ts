// ARP (RFC 826) for IPv4 over Ethernet: the only hardware/protocol pair the
// cluster speaks. A packet is 28 bytes: hardware type 1 (Ethernet), protocol
// type 0x0800, address lengths 6 and 4, an opcode (1 request, 2 reply), then
// sender hardware/protocol address and target hardware/protocol address.
// Anything else is dropped and counted by the link (link.ts).
import { ETHERTYPE_IPV4 } from "./frame.js";
import { readMac, writeMac, type Mac } from "./mac.js";

export const ARP_LEN = 28;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

export interface ArpPacket {
  readonly op: typeof ARP_OP_REQUEST | typeof ARP_OP_REPLY;
  readonly senderMac: Mac;
  readonly senderIp: number;
  readonly targetMac: Mac;
  readonly targetIp: number;
}

export type ArpDropReason = "arp-short" | "arp-format" | "arp-op";

export type ArpParse = { readonly kind: "ok"; readonly packet: ArpPacket } | { readonly kind: "drop"; readonly reason: ArpDropReason };

/** Parse an ARP packet; trailing bytes (Ethernet padding) are ignored. */
export function parseArp(buf: Uint8Array): ArpParse {
  if (buf.length < ARP_LEN) return { kind: "drop", reason: "arp-short" };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // RFC 826 "Packet Reception": check ar$hrd, ar$pro (and the lengths the
  // Ethernet/IPv4 pair implies) before looking further.
  if (v.getUint16(0) !== ARP_HTYPE_ETHERNET || v.getUint16(2) !== ETHERTYPE_IPV4 || buf[4] !== 6 || buf[5] !== 4) {
    return { kind: "drop", reason: "arp-format" };
  }
  const op = v.getUint16(6);
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return { kind: "drop", reason: "arp-op" };
  return {
    kind: "ok",
    packet: { op, senderMac: readMac(buf, 8), senderIp: v.getUint32(14), targetMac: readMac(buf, 18), targetIp: v.getUint32(24) },
  };
}

export function writeArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  const v = new DataView(out.buffer);
  v.setUint16(0, ARP_HTYPE_ETHERNET);
  v.setUint16(2, ETHERTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  v.setUint16(6, p.op);
  writeMac(out, 8, p.senderMac);
  v.setUint32(14, p.senderIp >>> 0);
  writeMac(out, 18, p.targetMac);
  v.setUint32(24, p.targetIp >>> 0);
  return out;
}
