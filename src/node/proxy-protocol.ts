// PROXY protocol header towards the backend (HAProxy's proxy-protocol.txt,
// versions 1 and 2): the first bytes on each backend connection tell the
// backend who the client is, since it only sees the daemon's address.
//
//   Daemon.connectBackend ── on connect, before any relayed byte ──> proxyHeader(client, daemon side)
//
// The header is written by the main thread on the socket and is not part of
// the relayed stream: relay offsets (backendWritten, the §5.5 read queue)
// count only the bytes after it, so a restored shard neither resends it nor
// shifts what it writes. It is written once per backend connection, and the
// backend is connected once per client connection (SSLACC §5.3).
import { isIPv4, isIPv6 } from "node:net";
import type { Endpoint } from "./buckets.js";

export type ProxyProtocol = "off" | "v1" | "v2";
export const PROXY_PROTOCOLS: readonly ProxyProtocol[] = ["off", "v1", "v2"];

/** proxy-protocol.txt §2.2: the 12-byte v2 signature (it cannot start an HTTP, TLS or v1 stream). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/**
 * The header for a connection from `source` (the client) to `destination`
 * (the address the client connected to). Both addresses must be of one
 * family; otherwise (never on one listening socket) the header says
 * UNKNOWN / UNSPEC, and the backend uses the connection's own addresses.
 */
export function proxyHeader(version: "v1" | "v2", source: Endpoint, destination: Endpoint): Buffer {
  const src = unmapped(source.address);
  const dst = unmapped(destination.address);
  const family = isIPv4(src) && isIPv4(dst) ? 4 : isIPv6(src) && isIPv6(dst) ? 6 : 0;
  if (version === "v1") {
    // §2.1: "PROXY" SP ("TCP4" | "TCP6" | "UNKNOWN") SP src SP dst SP sport SP dport CRLF, at most 107 bytes.
    if (family === 0) return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
    return Buffer.from(`PROXY TCP${family} ${src} ${dst} ${source.port} ${destination.port}\r\n`, "latin1");
  }
  // §2.2: signature, version 2 + command PROXY (0x21), family + STREAM, u16 length, addresses.
  const addrLen = family === 4 ? 12 : family === 6 ? 36 : 0;
  const h = Buffer.alloc(16 + addrLen);
  PROXY_V2_SIGNATURE.copy(h, 0);
  h[12] = 0x21;
  h[13] = family === 4 ? 0x11 : family === 6 ? 0x21 : 0x00; // TCP over IPv4 / IPv6, or UNSPEC
  h.writeUInt16BE(addrLen, 14);
  if (family !== 0) {
    const n = family === 4 ? 4 : 16;
    const bytes = family === 4 ? ipv4Bytes : ipv6Bytes;
    bytes(src).copy(h, 16);
    bytes(dst).copy(h, 16 + n);
    h.writeUInt16BE(source.port, 16 + 2 * n);
    h.writeUInt16BE(destination.port, 18 + 2 * n);
  }
  return h;
}

/** A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the header carries them as IPv4. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function ipv4Bytes(a: string): Buffer {
  return Buffer.from(a.split(".").map(Number));
}

/** RFC 4291 §2.2 text forms: groups of hex, one "::", an IPv4 tail; a zone (%eth0) is dropped. */
function ipv6Bytes(a: string): Buffer {
  const text = a.split("%")[0]!;
  const groups = (part: string): number[] => {
    if (part === "") return [];
    return part.split(":").flatMap((g) => {
      if (g.includes(".")) {
        const v4 = ipv4Bytes(g);
        return [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
      }
      return [parseInt(g, 16)];
    });
  };
  const [head, tail] = text.split("::") as [string, string | undefined];
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}
