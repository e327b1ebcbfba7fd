// Fingered-ACK initial sequence numbers (SSLACC §4.2). Bits 3-20 of the ISN
// we send in a SYN-ACK are a MAC, under a secret every cluster node holds, of
// the connection's 4-tuple; the client's ACK echoes ISN+1, so any node — also
// one that never saw the SYN — can check the finger and create the
// connection directly in ESTABLISHED. Nothing is stored per SYN, so a SYN
// flood costs one MAC per SYN and no memory (the point of §4.2).
//
// Layout of our ISN (like SYN cookies, RFC 4987 §3.6, it also carries what
// the SYN told us, since there is no state to keep it in):
//   bits 0-2   index of the peer's MSS in MSS_TABLE (rounded down)
//   bits 3-20  the finger: 18 bits of MAC(tuple ‖ client ISN ‖ bits 0-2, 21-24)
//   bits 21-24 the peer's window-scale shift + 1, 0 if it sent no WS option
//   bits 25-31 7 more MAC bits: ISNs differ between connections
// The MAC input includes the client's ISN (the paper names only the 4-tuple):
// an ACK is then accepted only as the client's first segment after the SYN
// (seq = client ISN + 1), so a node that sees a later segment first cannot
// start the stream at the wrong offset — it stays quiet and the client's
// retransmission (RFC 6298 §5.4: from SND.UNA) brings the first one.
import type { FourTuple } from "./tuple.js";
import { tupleBytes } from "./tuple.js";

/** The cluster's MAC, e.g. HMAC-SHA256 under the cluster secret; ≥ 4 bytes out. */
export type FingerMac = (bytes: Uint8Array) => Uint8Array;

/** MSS values representable in 3 bits (common path MTUs minus 40). */
export const MSS_TABLE: readonly number[] = [536, 1200, 1300, 1380, 1400, 1440, 1452, 1460];

const FINGER_MASK = 0x3ffff << 3;

export interface FingerInfo {
  /** The peer's MSS as recovered from the ISN (rounded down to MSS_TABLE). */
  readonly peerMss: number;
  /** The peer's window-scale shift, or undefined if it did not offer scaling. */
  readonly peerWscale: number | undefined;
}

function macBits(mac: FingerMac, tuple: FourTuple, irs: number, low3: number, wsCode: number): { finger: number; high7: number } {
  const t = tupleBytes(tuple);
  const input = new Uint8Array(t.length + 6);
  input.set(t, 0);
  new DataView(input.buffer).setUint32(t.length, irs >>> 0);
  input[t.length + 4] = low3;
  input[t.length + 5] = wsCode;
  const m = mac(input);
  if (m.length < 4) throw new RangeError("finger MAC must return at least 4 bytes");
  const finger = ((m[0]! << 16) | (m[1]! << 8) | m[2]!) & 0x3ffff;
  return { finger, high7: m[3]! & 0x7f };
}

/** Our ISN for a SYN from the peer of `tuple` whose ISN is `irs`. */
export function fingeredIsn(mac: FingerMac, tuple: FourTuple, irs: number, peerMss: number, peerWscale: number | undefined): number {
  let idx = 0;
  for (let i = 0; i < MSS_TABLE.length; i++) if (MSS_TABLE[i]! <= peerMss) idx = i;
  const wsCode = peerWscale === undefined ? 0 : Math.min(peerWscale, 14) + 1;
  const { finger, high7 } = macBits(mac, tuple, irs, idx, wsCode);
  return ((high7 << 25) | (wsCode << 21) | (finger << 3) | idx) >>> 0;
}

/**
 * Check that `isn` (the peer's ACK minus one) carries our finger for this
 * tuple and client ISN; return what the SYN told us, or null.
 */
export function checkFinger(mac: FingerMac, tuple: FourTuple, irs: number, isn: number): FingerInfo | null {
  const idx = isn & 7;
  const wsCode = (isn >>> 21) & 0xf;
  const { finger } = macBits(mac, tuple, irs, idx, wsCode);
  if (((isn & FINGER_MASK) >>> 3) !== finger) return null;
  return { peerMss: MSS_TABLE[idx]!, peerWscale: wsCode === 0 ? undefined : wsCode - 1 };
}
