// The passive open without per-SYN state (SSLACC §4.2). A SYN is answered
// with a SYN-ACK whose ISN carries the finger (finger.ts) and nothing is
// remembered; an ACK whose acknowledgment number minus one carries a valid
// finger for its 4-tuple creates the connection directly in ESTABLISHED —
// on whichever node owns the bucket when it arrives, including one that
// never saw the SYN (the takeover of figure 3). This is also what makes a
// SYN flood cost no memory (compare SYN cookies, RFC 4987 §3.6).
//
// An ACK without a valid finger is dropped quietly (see below); a SYN-ACK
// for no connection gets a RST (RFC 9293 §3.10.7.1) unless the caller says
// the bucket was taken over within the last 2·MSL (§4.6: a RST would kill a
// connection whose state is still being restored).
import { TcpConnection, type TcpConfig } from "./connection.js";
import { checkFinger, fingeredIsn } from "./finger.js";
import { ACK, FIN, RST, SYN, type TcpSegment } from "./segment.js";
import { seqAdd } from "./seq.js";
import type { FourTuple } from "./tuple.js";

export type ListenDropReason = "rst" | "no-ack" | "bad-finger" | "syn-with-ack" | "closed";

export type ListenResult =
  | { readonly kind: "syn-ack"; readonly segment: TcpSegment }
  | { readonly kind: "accept"; readonly connection: TcpConnection }
  | { readonly kind: "rst"; readonly segment: TcpSegment }
  | { readonly kind: "drop"; readonly reason: ListenDropReason };

export interface ListenOptions {
  /** §4.6: the bucket was taken over within 2·MSL — never answer with a RST. */
  readonly suppressRst: boolean;
  /**
   * The port takes no new connection (the node drains): a SYN, or the ACK
   * that would open one, is refused as a CLOSED port refuses it (RFC 9293
   * §3.10.7.1), so the client gives up at once instead of retransmitting.
   */
  readonly closed?: boolean;
}

function refuse(tuple: FourTuple, seg: TcpSegment, opts: ListenOptions): ListenResult {
  return opts.suppressRst ? { kind: "drop", reason: "closed" } : { kind: "rst", segment: reset(tuple, seg) };
}

function reset(tuple: FourTuple, seg: TcpSegment): TcpSegment {
  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> for an ACK, else
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  const hasAck = (seg.flags & ACK) !== 0;
  const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
  return {
    srcPort: tuple.localPort,
    dstPort: tuple.remotePort,
    seq: hasAck ? seg.ack : 0,
    ack: hasAck ? 0 : seqAdd(seg.seq, len),
    flags: hasAck ? RST : RST | ACK,
    window: 0,
    urgent: 0,
    options: {},
    payload: new Uint8Array(0),
  };
}

/**
 * Handle a segment for a 4-tuple with no connection. `tuple` is seen from our
 * side (local = the segment's destination).
 */
export function listen(cfg: TcpConfig, tuple: FourTuple, seg: TcpSegment, now: number, opts: ListenOptions): ListenResult {
  if (seg.flags & RST) return { kind: "drop", reason: "rst" };
  if (seg.flags & SYN) {
    if (seg.flags & ACK) {
      return opts.suppressRst ? { kind: "drop", reason: "syn-with-ack" } : { kind: "rst", segment: reset(tuple, seg) };
    }
    if (opts.closed) return refuse(tuple, seg, opts);
    const iss = fingeredIsn(cfg.fingerMac, tuple, seg.seq, seg.options.mss ?? 536, seg.options.wscale);
    const scaled = seg.options.wscale !== undefined;
    return {
      kind: "syn-ack",
      segment: {
        srcPort: tuple.localPort,
        dstPort: tuple.remotePort,
        seq: iss,
        ack: seqAdd(seg.seq, 1),
        flags: SYN | ACK,
        // RFC 7323 §2.2: the window in a SYN-ACK is never scaled.
        window: Math.min(cfg.rcvBuffer, 0xffff),
        urgent: 0,
        // WS only if the SYN carried it (RFC 7323 §2.2); no SACK, no timestamps.
        options: scaled ? { mss: cfg.mss, wscale: cfg.wscale } : { mss: cfg.mss },
        payload: new Uint8Array(0),
      },
    };
  }
  if (!(seg.flags & ACK)) return { kind: "drop", reason: "no-ack" };
  const iss = seqAdd(seg.ack, -1);
  const irs = seqAdd(seg.seq, -1);
  const info = checkFinger(cfg.fingerMac, tuple, irs, iss);
  if (info === null) {
    // The finger covers the client's ISN, so only the client's first segment
    // after its SYN (seq = ISN + 1) matches. Any later segment of the same
    // handshake — data that overtook the first ACK, the ACK answering a
    // duplicated SYN-ACK — fails the check and may arrive first; a RST
    // would kill a good connection, while silence is safe (the client
    // retransmits from SND.UNA, which brings the first segment). So unlike
    // RFC 9293 §3.10.7.1 an unknown ACK is dropped quietly and counted by
    // the caller ("everything unknown on the wire is dropped quietly").
    return { kind: "drop", reason: "bad-finger" };
  }
  if (opts.closed) return refuse(tuple, seg, opts);
  const connection = TcpConnection.accept(cfg, tuple, { kind: "accept", iss, irs, peerMss: info.peerMss, peerWscale: info.peerWscale }, now);
  connection.onSegment(seg, now);
  return { kind: "accept", connection };
}
