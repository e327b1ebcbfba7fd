// Deterministic simulation of the clustered TCP engine (STYLE.md §1): a
// client endpoint and a server "relay" node on an in-process wire with an
// injected clock and a seeded PRNG that loses, duplicates and reorders
// datagrams. Every segment crosses the wire as real bytes (writeSegment +
// writeIpv4, parseIpv4 + parseSegment), so the codecs are exercised too.
//
// The server node follows the SSLACC rules the way the relay will:
//   * passive open through listener.ts (fingered ISN, no state per SYN);
//   * its first checkpoint (the ISNs, §5.3) is clustered before it writes a
//     byte; each client byte goes to the "backend" (a sink outside the crash
//     domain that, like a TCP receiver, takes each offset once), then a
//     checkpoint committing it is clustered, and only its acknowledgement
//     lets the engine ACK the client (§4.6, the First and Second Laws);
//   * its output is a deterministic function of the stream offset, so a
//     restored node regenerates exactly the same bytes (the Zeroth Law).
// A crash wipes the server node; after `deadMs` a new node restores from what
// the mirror holds (or, with nothing mirrored, accepts the client's fingered
// ACK) and sends one immediate ACK (§4.8).
import { TcpConnection, type TcpConfig, type TcpEvent } from "../../src/transport/tcp/connection.js";
import type { TcpCheckpoint } from "../../src/transport/tcp/checkpoint.js";
import { listen } from "../../src/transport/tcp/listener.js";
import { IPPROTO_TCP, parseIpv4, writeIpv4, ipv4FromString } from "../../src/transport/tcp/ipv4.js";
import { RST, parseSegment, writeSegment, type TcpSegment } from "../../src/transport/tcp/segment.js";
import type { FourTuple } from "../../src/transport/tcp/tuple.js";
import { Rng } from "../helpers/rng.js";

export interface WireParams {
  readonly loss: number;
  readonly duplicate: number;
  readonly latencyMs: number;
  /** Extra delay uniform in [0, jitterMs): reorders datagrams. */
  readonly jitterMs: number;
}

type Side = "client" | "server";

interface Datagram {
  readonly at: number;
  readonly order: number;
  readonly to: Side;
  readonly bytes: Uint8Array;
}

/** Byte i of a stream with the given tag: reproducible on any node. */
export function streamByte(tag: number, i: number): number {
  let x = (i * 2654435761 + tag * 40503) >>> 0;
  x ^= x >>> 15;
  return x & 0xff;
}

export function streamBytes(tag: number, from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = streamByte(tag, from + i);
  return out;
}

/**
 * An ordinary TCP client on our engine (client mode; no cluster to wait
 * for, so every byte is acknowledged as it arrives): once established it
 * writes `upload` bytes of stream 1, reads the download, and closes once it
 * holds `download` bytes and its upload is acknowledged. Used by this
 * simulator and by wire.test.ts.
 */
export class StreamClient {
  readonly rx: number[] = [];
  closeReason: string | null = null;
  private written = false;
  closing = false;

  constructor(readonly tcp: TcpConnection, private readonly upload: number, private readonly download: number) {}

  /**
   * Acts on the engine's events (closing when done); returns the segments to
   * send — those the events' answers produced too (the ACK of a SYN-ACK, a
   * FIN) — and how many events there were.
   */
  step(now: number): { segments: TcpSegment[]; events: number } {
    const out = this.tcp.drain();
    this.handle(out.events, now);
    if (!this.closing && this.written && this.rx.length >= this.download && this.tcp.unacked === 0 && this.tcp.state === "ESTABLISHED") {
      this.closing = true;
      this.tcp.close(now);
    }
    const more = this.tcp.drain();
    this.handle(more.events, now);
    return { segments: [...out.segments, ...more.segments], events: out.events.length + more.events.length };
  }

  private handle(events: readonly TcpEvent[], now: number): void {
    const c = this.tcp;
    for (const e of events) {
      switch (e.kind) {
        case "established":
          c.appAck(e.irs + 1, now);
          if (!this.written) {
            c.write(streamBytes(1, 0, this.upload), now);
            this.written = true;
          }
          break;
        case "data":
          for (const b of e.bytes) this.rx.push(b);
          c.appAck(e.seq + e.bytes.length, now);
          break;
        case "peer-fin":
          c.appAck(c.rcvNxt, now);
          break;
        case "acked":
          break;
        case "closed":
          this.closeReason = e.reason;
          break;
      }
    }
  }
}

export const CLIENT_ADDR = ipv4FromString("192.0.2.10");
export const VIP = ipv4FromString("198.51.100.1");

export interface SimOptions {
  readonly seed: number;
  readonly wire: WireParams;
  readonly upload: number;
  readonly download: number;
  readonly clientCfg: TcpConfig;
  readonly serverCfg: TcpConfig;
  /** Crash the server node when this many events have been processed (if the client has not begun closing). */
  readonly crashAtEvent?: number;
  readonly deadMs?: number;
  /** Cluster round trip: the mirror stores a checkpoint after half, the relay learns after all of it. */
  readonly clusterRttMs?: number;
  readonly maxTimeMs?: number;
  /** Sometimes commit only part of what was received (partial ACKs, §4.8). */
  readonly partialCommits?: boolean;
}

export interface SimResult {
  readonly done: boolean;
  readonly timeMs: number;
  readonly events: number;
  readonly crashed: boolean;
  readonly restoredFrom: "checkpoint" | "finger" | null;
  readonly clientReceived: Uint8Array;
  readonly backendReceived: Uint8Array;
  readonly clientSawRst: boolean;
  readonly clientClose: string | null;
  readonly serverClose: string | null;
  readonly trace: string[];
  /** Checkpoints that committed less than everything received. */
  readonly partials: number;
}

interface ServerNode {
  conn: TcpConnection | null;
  /** Offset of the next byte of the download this node writes. */
  started: boolean;
  closing: boolean;
  /** Cluster acknowledgements in flight to this node. */
  pendingAcks: { at: number; cp: TcpCheckpoint }[];
}

export function runSim(o: SimOptions): SimResult {
  const rng = new Rng(o.seed);
  const deadMs = o.deadMs ?? 400;
  const clusterRtt = o.clusterRttMs ?? 2;
  const maxTime = o.maxTimeMs ?? 600_000;
  const trace: string[] = [];
  let now = 0;
  let order = 0;
  let events = 0;
  const wire: Datagram[] = [];

  const clientTuple: FourTuple = { localAddr: CLIENT_ADDR, localPort: 40000 + (o.seed % 20000), remoteAddr: VIP, remotePort: 443 };
  const serverTuple: FourTuple = { localAddr: VIP, localPort: 443, remoteAddr: CLIENT_ADDR, remotePort: clientTuple.localPort };

  const send = (from: Side, segs: readonly TcpSegment[]) => {
    for (const seg of segs) {
      const [src, dst] = from === "client" ? [CLIENT_ADDR, VIP] : [VIP, CLIENT_ADDR];
      const dgram = writeIpv4({ src, dst, protocol: IPPROTO_TCP, id: order & 0xffff, ttl: 64, dontFragment: true, tos: 0 }, writeSegment(seg, src, dst));
      if (trace.length < 4000) trace.push(`${now.toFixed(1)} ${from} → seq=${seg.seq} ack=${seg.ack} f=${seg.flags.toString(16)} len=${seg.payload.length} w=${seg.window}`);
      const copies = rng.next() < o.wire.duplicate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        if (rng.next() < o.wire.loss) continue;
        wire.push({ at: now + o.wire.latencyMs + rng.next() * o.wire.jitterMs, order: order++, to: from === "client" ? "server" : "client", bytes: dgram });
      }
    }
  };

  // --- client ----------------------------------------------------------------
  const clientIss = (o.seed * 2654435761) >>> 0;
  const client = TcpConnection.connect(o.clientCfg, clientTuple, clientIss, now);
  const cl = new StreamClient(client, o.upload, o.download);
  let clientSawRst = false;
  const pumpClient = () => send("client", cl.step(now).segments);

  // --- server node, its mirror and the backend ---------------------------------------------
  let mirror: TcpCheckpoint | null = null;
  const mirrorInbox: { at: number; cp: TcpCheckpoint }[] = [];
  const backend: number[] = [];
  let serverClose: string | null = null;
  let node: ServerNode | null = { conn: null, started: false, closing: false, pendingAcks: [] };
  let deadUntil = -1;
  let takeoverAt = -Infinity;
  let crashed = false;
  let restoredFrom: SimResult["restoredFrom"] = null;
  let partials = 0;

  const cluster = (n: ServerNode, cp: TcpCheckpoint) => {
    mirrorInbox.push({ at: now + clusterRtt / 2, cp });
    n.pendingAcks.push({ at: now + clusterRtt, cp });
  };

  const writeDownload = (n: ServerNode, c: TcpConnection) => {
    const from = (c.writeSeq - (c.iss + 1)) >>> 0;
    if (from < o.download) c.write(streamBytes(2, from, o.download - from), now);
  };

  const handleServerEvents = (n: ServerNode, c: TcpConnection, evs: readonly TcpEvent[]) => {
    for (const e of evs) {
      switch (e.kind) {
        case "established":
          cluster(n, c.checkpoint()); // §5.3: the ISNs in the first checkpoint
          break;
        case "data": {
          // The backend takes each offset once, in order (it is a TCP peer).
          const off = (e.seq - (c.irs + 1)) >>> 0;
          for (let i = 0; i < e.bytes.length; i++) {
            if (off + i === backend.length) backend.push(e.bytes[i]!);
            else if (off + i > backend.length) throw new Error(`backend gap: byte ${off + i} before ${backend.length}`);
          }
          if (c.state === "ESTABLISHED") {
            // Sometimes the backend has taken only part of it: commit less
            // (a partial ACK, §4.8); the rest is committed when that
            // checkpoint is acknowledged.
            const held = (c.rcvNxt - c.rcvAppack) >>> 0;
            const partial = o.partialCommits && held > 1 && rng.next() < 0.3 ? 1 + rng.int(held - 1) : 0;
            if (partial > 0) partials++;
            cluster(n, c.checkpoint({ rcvNxt: (c.rcvNxt - partial) >>> 0 }));
          }
          break;
        }
        case "acked":
          if (c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT") cluster(n, c.checkpoint());
          break;
        case "peer-fin":
          break;
        case "closed":
          serverClose = e.reason;
          break;
      }
    }
  };

  const pumpServer = (n: ServerNode) => {
    const c = n.conn;
    if (c === null) return;
    for (let guard = 0; guard < 8; guard++) {
      const out = c.drain();
      send("server", out.segments);
      handleServerEvents(n, c, out.events);
      if (n.started && !n.closing && c.state === "CLOSE_WAIT" && c.unacked === 0 && c.writeSeq === ((c.iss + 1 + o.download) >>> 0)) {
        n.closing = true;
        c.close(now);
      }
      if (out.segments.length === 0 && out.events.length === 0) break;
    }
  };

  const serverReceive = (seg: TcpSegment) => {
    if (node === null) return; // nobody owns the bucket yet
    const n = node;
    if (n.conn === null || n.conn.state === "CLOSED") {
      if (n.conn !== null) return;
      const r = listen(o.serverCfg, serverTuple, seg, now, { suppressRst: now < takeoverAt + 2 * o.serverCfg.mslMs });
      switch (r.kind) {
        case "syn-ack":
          send("server", [r.segment]);
          return;
        case "rst":
          send("server", [r.segment]);
          return;
        case "drop":
          return;
        case "accept":
          n.conn = r.connection;
          if (crashed && restoredFrom === null) restoredFrom = "finger";
          pumpServer(n);
          return;
      }
    }
    n.conn.onSegment(seg, now);
    pumpServer(n);
  };

  const crash = () => {
    crashed = true;
    trace.push(`${now.toFixed(1)} CRASH (mirror has ${mirror ? `rcv=${mirror.rcvNxt} snd=${mirror.sndNxt}` : "nothing"})`);
    node = null;
    deadUntil = now + deadMs;
  };

  const takeover = () => {
    takeoverAt = now;
    const n: ServerNode = { conn: null, started: false, closing: false, pendingAcks: [] };
    node = n;
    if (mirror !== null) {
      restoredFrom = "checkpoint";
      n.conn = TcpConnection.restore(o.serverCfg, mirror, now);
      n.started = true;
      writeDownload(n, n.conn);
      pumpServer(n);
    }
    trace.push(`${now.toFixed(1)} TAKEOVER from ${restoredFrom ?? "nothing yet"}`);
  };

  send("client", client.drain().segments);

  const done = () => cl.closeReason !== null && (serverClose !== null || (node?.conn?.state ?? "CLOSED") === "CLOSED");

  while (!done() && now < maxTime) {
    // The next thing to happen.
    let t = Infinity;
    let what: "wire" | "mirror" | "ack" | "client-timer" | "server-timer" | "takeover" | null = null;
    let wi = -1;
    for (let i = 0; i < wire.length; i++) {
      const d = wire[i]!;
      if (d.at < t || (d.at === t && wi >= 0 && d.order < wire[wi]!.order)) {
        t = d.at;
        wi = i;
        what = "wire";
      }
    }
    for (const m of mirrorInbox) if (m.at < t) ((t = m.at), (what = "mirror"));
    if (node !== null) for (const a of node.pendingAcks) if (a.at < t) ((t = a.at), (what = "ack"));
    const ct = client.nextTimeout();
    if (ct !== null && ct < t) ((t = ct), (what = "client-timer"));
    const st = node?.conn?.nextTimeout() ?? null;
    if (st !== null && st < t) ((t = st), (what = "server-timer"));
    if (node === null && deadUntil < t) ((t = deadUntil), (what = "takeover"));
    if (what === null) break;
    now = Math.max(now, t);
    events++;

    if (o.crashAtEvent !== undefined && events === o.crashAtEvent && !crashed && !cl.closing) {
      crash();
      continue;
    }

    switch (what) {
      case "wire": {
        const d = wire.splice(wi, 1)[0]!;
        const ip = parseIpv4(d.bytes);
        if (ip.kind !== "ok") throw new Error(`sim wire carried a bad IPv4 datagram: ${ip.reason}`);
        const p = parseSegment(ip.payload, ip.header.src, ip.header.dst);
        if (p.kind !== "ok") throw new Error(`sim wire carried a bad segment: ${p.reason}`);
        if (d.to === "client") {
          if (p.segment.flags & RST) clientSawRst = true;
          client.onSegment(p.segment, now);
          pumpClient();
        } else {
          serverReceive(p.segment);
        }
        break;
      }
      case "mirror": {
        const i = mirrorInbox.findIndex((m) => m.at === t);
        const m = mirrorInbox.splice(i, 1)[0]!;
        // Checkpoints carry absolute numbers: a late one must not win (§4.8, fig. 13).
        if (mirror === null || ((m.cp.rcvNxt - mirror.rcvNxt) | 0) >= 0 && ((m.cp.sndNxt - mirror.sndNxt) | 0) >= 0) mirror = m.cp;
        break;
      }
      case "ack": {
        const n = node!;
        const i = n.pendingAcks.findIndex((a) => a.at === t);
        const a = n.pendingAcks.splice(i, 1)[0]!;
        const c = n.conn;
        if (c !== null && c.state !== "CLOSED") {
          c.checkpointAcked(a.cp, now);
          if (c.state === "ESTABLISHED" && c.rcvAppack !== c.rcvNxt && n.pendingAcks.length === 0) cluster(n, c.checkpoint());
          if (!n.started) {
            n.started = true;
            writeDownload(n, c);
          }
          pumpServer(n);
        }
        break;
      }
      case "client-timer":
        client.onTimer(now);
        pumpClient();
        break;
      case "server-timer":
        node!.conn!.onTimer(now);
        pumpServer(node!);
        break;
      case "takeover":
        takeover();
        break;
    }
  }

  return {
    done: done(),
    timeMs: now,
    events,
    crashed,
    restoredFrom,
    clientReceived: Uint8Array.from(cl.rx),
    backendReceived: Uint8Array.from(backend),
    clientSawRst,
    clientClose: cl.closeReason,
    serverClose,
    trace,
    partials,
  };
}
