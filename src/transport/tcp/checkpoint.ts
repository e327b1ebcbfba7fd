// What a mirror holds for one TCP connection (SSLACC §4.7-4.8, DESIGN.md
// "Checkpoints"): absolute sequence numbers, never deltas (§4.8, figure 13:
// two updates in flight must not each add their own increment to a stale
// base), the window scales agreed in the handshake (a restored node must
// keep scaling the peer's window the same way — RFC 7323 §2.2 fixes the
// shift for the connection's life), and the peer's MSS.
//
// `rcvNxt` is what the update commits to acknowledging: the mirror restores
// rcv_nxt = rcv_appack = rcvNxt (§4.8: "we set rcv_nxt = rcv_appack in the
// update") so it can read the peer's retransmission of everything after it.
// `sndNxt` is the first byte the application must regenerate after a
// restore (by default what the peer had acknowledged, SND.UNA; the Second
// Law makes the rest reproducible).
import type { FourTuple } from "./tuple.js";

export const TCP_CHECKPOINT_VERSION = 1;

export type CheckpointState = "SYN_SENT" | "ESTABLISHED" | "CLOSE_WAIT";

export interface TcpCheckpoint {
  readonly version: typeof TCP_CHECKPOINT_VERSION;
  readonly tuple: FourTuple;
  readonly state: CheckpointState;
  readonly iss: number;
  /** The peer's ISN (0 in SYN_SENT: not known yet). */
  readonly irs: number;
  readonly rcvNxt: number;
  readonly sndNxt: number;
  /** Shift applied to windows the peer sends (its WS option). */
  readonly sndWscale: number;
  /** Shift applied to windows we send (our WS option). */
  readonly rcvWscale: number;
  readonly peerMss: number;
  /** Last send window the peer offered, bytes. */
  readonly sndWnd: number;
}

const STATES: readonly CheckpointState[] = ["SYN_SENT", "ESTABLISHED", "CLOSE_WAIT"];
export const TCP_CHECKPOINT_BYTES = 1 + 12 + 1 + 4 * 4 + 1 + 1 + 2 + 4;

/** Versioned binary encoding (STYLE.md §7): version byte first. */
export function encodeTcpCheckpoint(cp: TcpCheckpoint): Uint8Array {
  const out = new Uint8Array(TCP_CHECKPOINT_BYTES);
  const v = new DataView(out.buffer);
  let o = 0;
  out[o++] = cp.version;
  v.setUint32(o, cp.tuple.localAddr >>> 0);
  v.setUint16(o + 4, cp.tuple.localPort);
  v.setUint32(o + 6, cp.tuple.remoteAddr >>> 0);
  v.setUint16(o + 10, cp.tuple.remotePort);
  o += 12;
  out[o++] = STATES.indexOf(cp.state);
  for (const n of [cp.iss, cp.irs, cp.rcvNxt, cp.sndNxt]) {
    v.setUint32(o, n >>> 0);
    o += 4;
  }
  out[o++] = cp.sndWscale;
  out[o++] = cp.rcvWscale;
  v.setUint16(o, cp.peerMss);
  o += 2;
  v.setUint32(o, cp.sndWnd >>> 0);
  return out;
}

export function decodeTcpCheckpoint(buf: Uint8Array): TcpCheckpoint {
  if (buf.length !== TCP_CHECKPOINT_BYTES) throw new RangeError(`TCP checkpoint of ${buf.length} bytes, expected ${TCP_CHECKPOINT_BYTES}`);
  if (buf[0] !== TCP_CHECKPOINT_VERSION) throw new RangeError(`TCP checkpoint version ${buf[0]} unsupported`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const state = STATES[buf[13]!];
  if (state === undefined) throw new RangeError(`TCP checkpoint state ${buf[13]} unknown`);
  const sndWscale = buf[30]!;
  const rcvWscale = buf[31]!;
  if (sndWscale > 14 || rcvWscale > 14) throw new RangeError("TCP checkpoint window scale above 14");
  return {
    version: TCP_CHECKPOINT_VERSION,
    tuple: { localAddr: v.getUint32(1), localPort: v.getUint16(5), remoteAddr: v.getUint32(7), remotePort: v.getUint16(11) },
    state,
    iss: v.getUint32(14),
    irs: v.getUint32(18),
    rcvNxt: v.getUint32(22),
    sndNxt: v.getUint32(26),
    sndWscale,
    rcvWscale,
    peerMss: v.getUint16(32),
    sndWnd: v.getUint32(34),
  };
}
