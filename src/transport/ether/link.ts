// The link layer of a clustered-TCP endpoint, sans I/O (STYLE.md §1):
// Ethernet frames and the current time go in; frames to send and validated
// TCP segments come out. Between the wire (an in-process hub or, later, a
// socat relay to a TAP; ../wire/) and the TCP engine (../tcp/).
//
//   frame + now ──► onFrame ──┐                  ┌─► drain(): { frames, received: TcpIn[] }
//   seg + dst + now ► sendTcp ├──► EtherLink ────┤
//            now ──► onTimer ─┘                  └─► nextTimeout(): ms | null   (ARP retries)
//
// On a cluster node `ip` is the virtual IP and `arpMac` the virtual MAC; the
// caller says whether this node is the master, and only the master answers
// ARP for the VIP (setAnswerArp). On a plain host (the test client) `ip` is
// its own address and `arpMac === mac`.
//
// Receive: frames are checked outermost first — Ethernet (RFC 894), then
// ARP (RFC 826) or IPv4 (RFC 791), then TCP — and everything we do not
// handle is dropped quietly and counted by reason (issue 7): VLAN-tagged
// frames, other EtherTypes, frames whose source is a cluster MAC (in hub mode
// every node sees its peers' output; NOTES.md), frames for another MAC,
// fragments, bad IPv4 or TCP checksums, other IP protocols, other IPs.
//
// Send: the next hop's MAC is resolved with ARP; datagrams wait in a bounded
// queue per next hop while a request is outstanding, requests are retried on
// injected time and the queue dropped (counted) when nobody answers.
import { ARP_OP_REPLY, ARP_OP_REQUEST, parseArp, writeArp, type ArpDropReason, type ArpPacket } from "./arp.js";
import { ArpCache } from "./arp-cache.js";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHER_MTU, parseFrame, writeFrame, type FrameDropReason } from "./frame.js";
import { BROADCAST_MAC, type Mac } from "./mac.js";
import { IPPROTO_TCP, parseIpv4, writeIpv4, type Ipv4DropReason } from "../tcp/ipv4.js";
import { parseSegment, writeSegment, type SegmentDropReason, type TcpSegment } from "../tcp/segment.js";

export interface LinkConfig {
  /** Ethernet source of every frame we send: the virtual MAC in hub mode, the node's own unicast MAC with a multicast virtual MAC. */
  readonly mac: Mac;
  /** Our IPv4 address: the cluster's virtual IP on a node, the host's address on a plain endpoint. */
  readonly ip: number;
  /** The hardware address ARP gives for `ip`: the virtual MAC on a node, `mac` on a plain host. */
  readonly arpMac: Mac;
  /** Source MACs of the cluster (each node's `mac`, the virtual MAC): frames from them are peers' output and ignored. */
  readonly clusterMacs: readonly Mac[];
  /** Answer ARP requests for `ip` (a node: only while it is the master; setAnswerArp changes it). */
  readonly answerArp: boolean;
  readonly arpCacheSize: number;
  readonly arpCacheTtlMs: number;
  /** Time between ARP requests for an unresolved next hop. */
  readonly arpRetryMs: number;
  /** Requests sent before the waiting datagrams are dropped. */
  readonly arpRequests: number;
  /** Next hops being resolved at once. */
  readonly arpMaxPending: number;
  /** Datagrams queued per next hop while it is resolved (the oldest is dropped beyond). */
  readonly arpQueuePerHop: number;
  /** IPv4 Time to Live of what we send (RFC 791 §3.1). */
  readonly ttl: number;
  /** The next hop for a destination (a gateway for off-link ones); on-link if absent. */
  readonly nextHop?: (dst: number) => number;
}

export const DEFAULT_LINK_CONFIG: Omit<LinkConfig, "mac" | "ip" | "arpMac" | "clusterMacs" | "answerArp"> = {
  arpCacheSize: 1024,
  arpCacheTtlMs: 60_000,
  arpRetryMs: 1000,
  arpRequests: 3,
  arpMaxPending: 64,
  arpQueuePerHop: 8,
  ttl: 64,
};

/** Why a frame (or, for the `out-` reasons, one of our own datagrams) went nowhere. */
export type LinkDropReason =
  | `frame-${FrameDropReason}`
  | "ethertype"
  | "from-cluster"
  | "wrong-dst-mac"
  | ArpDropReason
  | "arp-not-master"
  | "arp-other-target"
  | "arp-claims-our-ip"
  | `ipv4-${Ipv4DropReason}`
  | "wrong-dst-ip"
  | "ip-protocol"
  | `tcp-${SegmentDropReason}`
  | "out-queue-full"
  | "out-pending-full"
  | "out-unresolved";

export type LinkDrops = Record<LinkDropReason, number>;

export function newLinkDrops(): LinkDrops {
  return {
    "frame-short": 0, "frame-vlan": 0, "frame-oversize": 0, ethertype: 0, "from-cluster": 0, "wrong-dst-mac": 0,
    "arp-short": 0, "arp-format": 0, "arp-op": 0, "arp-not-master": 0, "arp-other-target": 0, "arp-claims-our-ip": 0,
    "ipv4-short": 0, "ipv4-version": 0, "ipv4-header-length": 0, "ipv4-total-length": 0, "ipv4-checksum": 0, "ipv4-fragment": 0,
    "wrong-dst-ip": 0, "ip-protocol": 0,
    "tcp-short": 0, "tcp-data-offset": 0, "tcp-option": 0, "tcp-checksum": 0,
    "out-queue-full": 0, "out-pending-full": 0, "out-unresolved": 0,
  };
}

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  arpRepliesSent: number;
  arpRequestsSent: number;
  segmentsIn: number;
  segmentsOut: number;
}

/** A TCP segment that passed every check, with its IPv4 addresses. */
export interface TcpIn {
  readonly src: number;
  readonly dst: number;
  readonly segment: TcpSegment;
}

export interface LinkOutput {
  readonly frames: Uint8Array[];
  readonly received: TcpIn[];
}

interface Pending {
  readonly queue: Uint8Array[]; // IPv4 datagrams
  sent: number;
  nextAt: number;
}

export class EtherLink {
  readonly drops = newLinkDrops();
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, arpRepliesSent: 0, arpRequestsSent: 0, segmentsIn: 0, segmentsOut: 0 };
  readonly arp: ArpCache;
  private readonly cfg: LinkConfig;
  private readonly cluster: ReadonlySet<Mac>;
  private answering: boolean;
  private ipId = 0;
  private readonly pending = new Map<number, Pending>();
  private framesOut: Uint8Array[] = [];
  private receivedOut: TcpIn[] = [];

  constructor(cfg: LinkConfig) {
    this.cfg = cfg;
    // Our own frames never come back from a Linux bridge, but the in-process
    // hub or a misconfigured wire could reflect them: ignore them too.
    this.cluster = new Set([...cfg.clusterMacs, cfg.mac]);
    this.answering = cfg.answerArp;
    this.arp = new ArpCache({ maxEntries: cfg.arpCacheSize, ttlMs: cfg.arpCacheTtlMs });
  }

  /** A node calls this when it becomes or stops being the cluster master. */
  setAnswerArp(on: boolean): void {
    this.answering = on;
  }

  get answersArp(): boolean {
    return this.answering;
  }

  /** Everything produced since the last drain. */
  drain(): LinkOutput {
    const out = { frames: this.framesOut, received: this.receivedOut };
    this.framesOut = [];
    this.receivedOut = [];
    return out;
  }

  /** Earliest time at which onTimer has work (an ARP retry), or null. */
  nextTimeout(): number | null {
    let t: number | null = null;
    for (const p of this.pending.values()) if (t === null || p.nextAt < t) t = p.nextAt;
    return t;
  }

  // --- receive ----------------------------------------------------------------------

  onFrame(buf: Uint8Array, now: number): void {
    this.stats.framesIn++;
    const f = parseFrame(buf);
    if (f.kind === "drop") return this.drop(`frame-${f.reason}`);
    const { dst, src, ethertype } = f.header;
    if (this.cluster.has(src)) return this.drop("from-cluster");
    if (dst !== this.cfg.mac && dst !== this.cfg.arpMac && dst !== BROADCAST_MAC) return this.drop("wrong-dst-mac");
    switch (ethertype) {
      case ETHERTYPE_ARP:
        return this.onArp(f.payload, now);
      case ETHERTYPE_IPV4:
        return this.onIpv4(f.payload);
      default:
        return this.drop("ethertype");
    }
  }

  private onArp(buf: Uint8Array, now: number): void {
    const p = parseArp(buf);
    if (p.kind === "drop") return this.drop(p.reason);
    const a = p.packet;
    // The sender hardware address inside the packet may differ from the
    // frame's source: a cluster MAC there is still our peers' output.
    if (this.cluster.has(a.senderMac)) return this.drop("from-cluster");
    if (a.senderIp === this.cfg.ip) return this.drop("arp-claims-our-ip"); // never learn our own address from the wire
    // RFC 826 "Packet Reception": merge the sender into the table if it is
    // there; if we are the target, add it if it was not; then answer a
    // request. 0.0.0.0 is a probe's "no address yet" (RFC 5227 §2.1.1), never learnt.
    const learnable = a.senderIp !== 0;
    const merged = learnable && this.arp.merge(a.senderIp, a.senderMac, now);
    if (a.targetIp !== this.cfg.ip) {
      if (merged) this.flush(a.senderIp, a.senderMac);
      return this.drop("arp-other-target");
    }
    if (learnable) {
      if (!merged) this.arp.insert(a.senderIp, a.senderMac, now);
      this.flush(a.senderIp, a.senderMac);
    }
    if (a.op !== ARP_OP_REQUEST) return;
    if (!this.answering) return this.drop("arp-not-master");
    // RFC 826: swap sender and target, put our addresses in the sender
    // fields, set the opcode to reply, send to the requester's hardware address.
    this.emitArp(a.senderMac, { op: ARP_OP_REPLY, senderMac: this.cfg.arpMac, senderIp: this.cfg.ip, targetMac: a.senderMac, targetIp: a.senderIp });
    this.stats.arpRepliesSent++;
  }

  private onIpv4(buf: Uint8Array): void {
    const ip = parseIpv4(buf);
    if (ip.kind === "drop") return this.drop(`ipv4-${ip.reason}`);
    const h = ip.header;
    if (h.dst !== this.cfg.ip) return this.drop("wrong-dst-ip");
    if (h.protocol !== IPPROTO_TCP) return this.drop("ip-protocol");
    const s = parseSegment(ip.payload, h.src, h.dst);
    if (s.kind === "drop") return this.drop(`tcp-${s.reason}`);
    this.stats.segmentsIn++;
    this.receivedOut.push({ src: h.src, dst: h.dst, segment: s.segment });
  }

  // --- send -------------------------------------------------------------------------

  /** Frame one segment from our `ip` to `dst`: now, or once the next hop's MAC is known. */
  sendTcp(dst: number, seg: TcpSegment, now: number): void {
    const datagram = writeIpv4(
      { src: this.cfg.ip, dst, protocol: IPPROTO_TCP, id: this.ipId, ttl: this.cfg.ttl, dontFragment: true, tos: 0 },
      writeSegment(seg, this.cfg.ip, dst),
    );
    // RFC 791 §3.2: we set DF and never fragment, so the engine's MSS must fit.
    if (datagram.length > ETHER_MTU) throw new RangeError(`IPv4 datagram of ${datagram.length} bytes exceeds the Ethernet MTU`);
    this.ipId = (this.ipId + 1) & 0xffff;
    this.stats.segmentsOut++;
    this.sendIpv4(dst, datagram, now);
  }

  private sendIpv4(dst: number, datagram: Uint8Array, now: number): void {
    const hop = this.cfg.nextHop ? this.cfg.nextHop(dst) : dst;
    const mac = this.arp.lookup(hop, now);
    if (mac !== null) return this.emit(mac, ETHERTYPE_IPV4, datagram);
    let p = this.pending.get(hop);
    if (p === undefined) {
      if (this.pending.size >= this.cfg.arpMaxPending) return this.drop("out-pending-full");
      p = { queue: [], sent: 0, nextAt: now };
      this.pending.set(hop, p);
      this.request(hop, p, now);
    }
    if (p.queue.length >= this.cfg.arpQueuePerHop) {
      p.queue.shift();
      this.drop("out-queue-full");
    }
    p.queue.push(datagram);
  }

  /** ARP retries and give-ups. */
  onTimer(now: number): void {
    for (const [hop, p] of this.pending) {
      if (p.nextAt > now) continue;
      if (p.sent >= this.cfg.arpRequests) {
        this.pending.delete(hop);
        this.drops["out-unresolved"] += p.queue.length;
        continue;
      }
      this.request(hop, p, now);
    }
  }

  /**
   * RFC 5227 §3 announcement (a "gratuitous ARP"): a broadcast request with
   * our address as both sender and target, so neighbours refresh the MAC
   * they hold for it — e.g. after the cluster's master changed.
   */
  announce(): void {
    this.emitArp(BROADCAST_MAC, { op: ARP_OP_REQUEST, senderMac: this.cfg.arpMac, senderIp: this.cfg.ip, targetMac: 0, targetIp: this.cfg.ip });
  }

  private request(hop: number, p: Pending, now: number): void {
    // The sender fields carry the virtual addresses, so the reply comes to
    // the virtual MAC and every node on the hub learns the answer.
    this.emitArp(BROADCAST_MAC, { op: ARP_OP_REQUEST, senderMac: this.cfg.arpMac, senderIp: this.cfg.ip, targetMac: 0, targetIp: hop });
    this.stats.arpRequestsSent++;
    p.sent++;
    p.nextAt = now + this.cfg.arpRetryMs;
  }

  private flush(hop: number, mac: Mac): void {
    const p = this.pending.get(hop);
    if (p === undefined) return;
    this.pending.delete(hop);
    for (const d of p.queue) this.emit(mac, ETHERTYPE_IPV4, d);
  }

  private emitArp(dst: Mac, a: ArpPacket): void {
    this.emit(dst, ETHERTYPE_ARP, writeArp(a));
  }

  private emit(dst: Mac, ethertype: number, payload: Uint8Array): void {
    this.stats.framesOut++;
    this.framesOut.push(writeFrame({ dst, src: this.cfg.mac, ethertype }, payload));
  }

  private drop(reason: LinkDropReason): void {
    this.drops[reason]++;
  }
}
