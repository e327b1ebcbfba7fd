// A capture on the hub (there is no tcpdump here): a FrameMachine on a spare
// TAP of the wire — every frame is flooded to it — that records each IPv4/TCP
// segment as one line ("ms srcmac src:port > dst:port [flags] seq ack len win").
// Debugging aid for the real-wire tests: `startCtcpCluster(3, { spareTaps: 1 })`,
// then `nodeOnWire(wire.taps[3], new TcpSniffer())`.
import { performance } from "node:perf_hooks";
import { ETHERTYPE_IPV4, parseFrame } from "../../src/transport/ether/frame.js";
import { macToString } from "../../src/transport/ether/mac.js";
import { IPPROTO_TCP, ipv4ToString, parseIpv4 } from "../../src/transport/tcp/ipv4.js";
import { parseSegment } from "../../src/transport/tcp/segment.js";
import type { FrameMachine } from "../../src/transport/shell/frame-driver.js";

const FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK"];

export class TcpSniffer implements FrameMachine {
  readonly lines: string[] = [];
  /** performance.now() at construction: line times are relative to it. */
  readonly origin = performance.now();

  onFrame(frame: Uint8Array, now: number): void {
    const f = parseFrame(frame);
    if (f.kind !== "ok" || f.header.ethertype !== ETHERTYPE_IPV4) return;
    const ip = parseIpv4(f.payload);
    if (ip.kind !== "ok" || ip.header.protocol !== IPPROTO_TCP) return;
    const s = parseSegment(ip.payload, ip.header.src, ip.header.dst);
    if (s.kind !== "ok") return;
    const g = s.segment;
    const flags = FLAGS.filter((_, i) => g.flags & (1 << i)).join(",");
    this.lines.push(
      `${(now - this.origin).toFixed(1)} ${macToString(f.header.src)} ${ipv4ToString(ip.header.src)}:${g.srcPort} > ${ipv4ToString(ip.header.dst)}:${g.dstPort} [${flags}] seq=${g.seq >>> 0} ack=${g.ack >>> 0} len=${g.payload.length} win=${g.window}`,
    );
  }
  onTimer(): void {}
  nextTimeout(): null {
    return null;
  }
  takeFrames(): Uint8Array[] {
    return [];
  }
}
