// 48-bit IEEE 802 MAC addresses for the clustered-TCP wire. A MAC is kept as
// a plain number (48 bits fit exactly in a double), so it can be compared
// with === and used as a Map key without allocating; the codecs read and
// write it at a byte offset.

/** A MAC address as an integer in [0, 2^48). */
export type Mac = number;

export const MAC_LEN = 6;
export const BROADCAST_MAC: Mac = 0xffff_ffff_ffff;

const TWO32 = 0x1_0000_0000;

export function readMac(buf: Uint8Array, off: number): Mac {
  return ((buf[off]! << 8) | buf[off + 1]!) * TWO32 + ((buf[off + 2]! << 24) >>> 0) + ((buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!);
}

export function writeMac(buf: Uint8Array, off: number, mac: Mac): void {
  const hi = Math.floor(mac / TWO32);
  const lo = mac >>> 0;
  buf[off] = (hi >>> 8) & 0xff;
  buf[off + 1] = hi & 0xff;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 0xff;
  buf[off + 4] = (lo >>> 8) & 0xff;
  buf[off + 5] = lo & 0xff;
}

/** The I/G bit (least significant bit of the first octet): group (multicast or broadcast) address. */
export function isGroupMac(mac: Mac): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

/** "02:00:5e:10:00:01" (or with dashes) → Mac. Throws on anything else. */
export function macFromString(s: string): Mac {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`not a MAC address: ${JSON.stringify(s)}`);
  }
  return parts.reduce((acc, p) => acc * 256 + parseInt(p, 16), 0);
}

export function macToString(mac: Mac): string {
  const b = new Uint8Array(MAC_LEN);
  writeMac(b, 0, mac);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}
