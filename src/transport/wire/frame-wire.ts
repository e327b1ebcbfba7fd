// The frame wire: how a clustered-TCP endpoint meets the shared Ethernet
// segment. One Ethernet frame (no preamble, no FCS) per call each way:
//
//   wire ──► sink.onFrame(frame)      (every frame any other endpoint sent)
//   port.sendFrame(frame) ──► wire
//
// Two implementations: the in-process hub (hub.ts, deterministic, for tests)
// and — not written yet, it needs `dgram` and so lives outside the sans-I/O
// folders — the TAP relay: a `socat` process moves frames between a TAP
// device on a bridge in hub mode and one UDP socket of the node, one frame
// per datagram (NOTES.md "A shared Ethernet wire on one machine";
// docs/ctcp.md "The wire"). This file holds only the shapes and the pure
// function that spells the socat command, so the docs, the demo script and
// the daemon use one definition.

/** Whoever consumes frames from the wire: a link (../ether/link.ts) plus its clock. */
export interface FrameSink {
  onFrame(frame: Uint8Array): void;
}

/** An endpoint's handle on the wire. */
export interface FramePort {
  /** Put one frame on the wire; every other attached endpoint sees it. The wire may keep `frame`. */
  sendFrame(frame: Uint8Array): void;
  /** Detach: no more frames are delivered to the sink. */
  close(): void;
}

export interface FrameWire {
  attach(sink: FrameSink): FramePort;
}

/**
 * One node's TAP relay. The node binds a UDP socket on `host:nodePort` and
 * sends frames to `host:relayPort`, where socat is bound; socat writes each
 * datagram to the TAP as one frame and sends each frame the TAP delivers as
 * one datagram to the node.
 */
export interface TapRelayConfig {
  /** A persistent TAP (`ip tuntap add dev NAME mode tap`), enslaved to the hub-mode bridge. */
  readonly tap: string;
  readonly host: string;
  /** Where socat is bound (the node sends here). */
  readonly relayPort: number;
  /** Where the node is bound (socat sends here). */
  readonly nodePort: number;
  /** Socket buffers; 4 MiB carried 20-35k frames/s to 3 nodes without loss here (NOTES.md). */
  readonly bufferBytes: number;
}

const TAP_NAME = /^[A-Za-z0-9_.-]{1,15}$/; // IFNAMSIZ − 1

/**
 * argv for the socat relay of NOTES.md. `UDP-DATAGRAM:`, not `UDP:`: the
 * latter connects its socket and exits on the first ICMP port-unreachable
 * (a node restarting). `iff-no-pi`: frames without the 4-byte packet-info
 * prefix, exactly what sendFrame/onFrame carry.
 */
export function socatRelayArgs(c: TapRelayConfig): string[] {
  if (!TAP_NAME.test(c.tap)) throw new RangeError(`not an interface name: ${JSON.stringify(c.tap)}`);
  for (const p of [c.relayPort, c.nodePort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`bad UDP port ${p}`);
  return [
    `TUN,tun-type=tap,tun-name=${c.tap},iff-up,iff-no-pi`,
    `UDP-DATAGRAM:${c.host}:${c.nodePort},bind=${c.host}:${c.relayPort},rcvbuf=${c.bufferBytes},sndbuf=${c.bufferBytes}`,
  ];
}
