// A one-node HTTP responder built from the existing clustered-TCP pieces —
// EtherLink (ARP for the VIP, framing), the stateless fingered listener and
// TcpConnection — as a FrameMachine for the real-wire tests: it answers every
// request on `port` with `body` and closes. No relay, no cluster: the smallest
// thing a kernel client can ARP, connect to and download from.
import { createHmac } from "node:crypto";
import { DEFAULT_LINK_CONFIG, EtherLink } from "../../src/transport/ether/link.js";
import type { Mac } from "../../src/transport/ether/mac.js";
import { DEFAULT_TCP_CONFIG, TcpConnection, type TcpConfig } from "../../src/transport/tcp/connection.js";
import { listen } from "../../src/transport/tcp/listener.js";
import type { FourTuple } from "../../src/transport/tcp/tuple.js";
import type { FrameMachine } from "../../src/transport/shell/frame-driver.js";

export interface ResponderOptions {
  readonly vip: number;
  readonly vmac: Mac;
  readonly port: number;
  readonly body: Uint8Array;
  readonly secret: string;
}

interface Conn {
  readonly tcp: TcpConnection;
  request: string;
  answered: boolean;
}

export class HttpResponderNode implements FrameMachine {
  readonly link: EtherLink;
  readonly stats = { synAcks: 0, accepted: 0, answered: 0, closed: { normal: 0, reset: 0, timeout: 0, keepalive: 0 }, listenerDrops: 0 };
  private readonly tcpCfg: TcpConfig;
  private readonly conns = new Map<string, Conn>();
  private out: Uint8Array[] = [];

  constructor(private readonly o: ResponderOptions) {
    this.link = new EtherLink({ ...DEFAULT_LINK_CONFIG, mac: o.vmac, ip: o.vip, arpMac: o.vmac, clusterMacs: [o.vmac], answerArp: true });
    this.tcpCfg = {
      ...DEFAULT_TCP_CONFIG,
      minRtoMs: 200,
      mslMs: 500, // TIME_WAIT of 1 s: the tests wait for "closed"
      fingerMac: (b) => new Uint8Array(createHmac("sha256", o.secret).update(b).digest()),
    };
  }

  get open(): number {
    return this.conns.size;
  }

  onFrame(frame: Uint8Array, now: number): void {
    this.link.onFrame(frame, now);
    this.pump(now);
  }

  onTimer(now: number): void {
    if ((this.link.nextTimeout() ?? Infinity) <= now) this.link.onTimer(now);
    for (const c of this.conns.values()) if ((c.tcp.nextTimeout() ?? Infinity) <= now) c.tcp.onTimer(now);
    this.pump(now);
  }

  nextTimeout(): number | null {
    let t = this.link.nextTimeout();
    for (const c of this.conns.values()) {
      const ct = c.tcp.nextTimeout();
      if (ct !== null && (t === null || ct < t)) t = ct;
    }
    return t;
  }

  takeFrames(): Uint8Array[] {
    const f = this.out;
    this.out = [];
    return f;
  }

  private pump(now: number): void {
    for (let busy = true; busy; ) {
      busy = false;
      const l = this.link.drain();
      this.out.push(...l.frames);
      for (const r of l.received) {
        busy = true;
        this.dispatch(r.src, r.segment, now);
      }
      for (const [key, c] of this.conns) {
        const o = c.tcp.drain();
        if (o.segments.length + o.events.length > 0) busy = true;
        for (const e of o.events) this.onEvent(key, c, e, now);
        for (const s of o.segments) this.link.sendTcp(c.tcp.tuple.remoteAddr, s, now);
      }
    }
  }

  private dispatch(src: number, seg: Parameters<TcpConnection["onSegment"]>[0], now: number): void {
    if (seg.dstPort !== this.o.port) return;
    const key = `${src}:${seg.srcPort}`;
    const c = this.conns.get(key);
    if (c !== undefined) return c.tcp.onSegment(seg, now);
    const tuple: FourTuple = { localAddr: this.o.vip, localPort: this.o.port, remoteAddr: src, remotePort: seg.srcPort };
    const r = listen(this.tcpCfg, tuple, seg, now, { suppressRst: false });
    switch (r.kind) {
      case "syn-ack":
        this.stats.synAcks++;
        return this.link.sendTcp(src, r.segment, now);
      case "rst":
        return this.link.sendTcp(src, r.segment, now);
      case "accept":
        this.stats.accepted++;
        this.conns.set(key, { tcp: r.connection, request: "", answered: false });
        return;
      case "drop":
        this.stats.listenerDrops++;
        return;
    }
  }

  private onEvent(key: string, c: Conn, e: ReturnType<TcpConnection["drain"]>["events"][number], now: number): void {
    switch (e.kind) {
      case "established":
      case "acked":
        return;
      case "data":
        c.tcp.appAck(e.seq + e.bytes.length, now);
        c.request += Buffer.from(e.bytes).toString("latin1");
        if (!c.answered && c.request.includes("\r\n\r\n")) {
          c.answered = true;
          this.stats.answered++;
          c.tcp.write(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${this.o.body.length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n`, "latin1"), now);
          c.tcp.write(this.o.body, now);
          c.tcp.close(now);
        }
        return;
      case "peer-fin":
        c.tcp.appAck(c.tcp.rcvNxt, now);
        if (!c.answered) c.tcp.close(now);
        return;
      case "closed":
        this.stats.closed[e.reason]++;
        this.conns.delete(key);
        return;
    }
  }
}
