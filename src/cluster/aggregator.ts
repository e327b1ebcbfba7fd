// Aggregation (SSLACC §5.8): messages for the same destination leave in one
// datagram. The paper found per-message interrupt cost dominated cluster CPU
// from 3-4 nodes on, and batching "gives us improved scalability".
//
//   cluster-node.ts ─enqueue(dest, message)─> per-destination queue
//     ─ full (next message would pass the MTU budget) / flush() at end of turn
//       / tick(now) after maxDelayMs ─> sealDatagram ─> outbox ─> channel.ts
//
// Each message has an urgency; a destination's batch leaves as its most
// urgent message says:
//   urgent  (acks, keepalives, maps, NACKs, retransmits): at the end of the turn;
//   stream  (checkpoints, closes): at the end of the turn, unless the caller
//           holds the destination (flush's `hold`: with holdForAck the node
//           holds a peer that has not acknowledged our previous datagram's
//           checkpoints, as Nagle's algorithm holds small segments while
//           data is unacknowledged, RFC 896); then with the next turn that is not
//           held, or after maxDelayMs at a tick;
//   lazy    (session adds): with the next datagram to that destination (a
//           keepalive goes to every peer every keepaliveMs), or after
//           lazyDelayMs at a tick.
// Whatever the urgency, a full batch leaves at once, and messages to one
// destination leave in the order they were queued.
//
// With `enabled: false` every message is its own datagram (the "norm" line of
// the paper's figures), for measuring what aggregation buys.
import type { CryptoProvider } from "../crypto/provider.js";
import { sealDatagram, HEADER_BYTES, TAG_BYTES, DEFAULT_MTU_DATAGRAM } from "./wire.js";

export interface AggregatorConfig {
  readonly clusterId: number;
  readonly nodeId: number;
  readonly key: Uint8Array;
  readonly provider: Pick<CryptoProvider, "hmac">;
  /** Flush a destination's batch before it would exceed this many datagram bytes (default 1472: 1500 MTU - IPv4 - UDP). */
  readonly mtuDatagram?: number;
  /** Longest a queued message may wait for company (ms, default 2). */
  readonly maxDelayMs?: number;
  /** Longest a batch of lazy messages only waits for company (ms, default 100: a keepalive period). */
  readonly lazyDelayMs?: number;
  readonly enabled?: boolean;
  /** The destination's incarnation as we know it (0: unknown), sealed into each datagram. */
  readonly destEpoch: (to: number) => number;
  /** A datagram to `to` was sealed (everything queued for it left). */
  readonly emitted?: (to: number) => void;
}

export interface OutDatagram {
  readonly to: number;
  readonly bytes: Uint8Array;
}

export interface AggregatorCounters {
  messages: number;
  datagrams: number;
  bytes: number;
  flushOnSize: number;
  flushOnTurn: number;
  flushOnDelay: number;
  /** End-of-turn flushes that kept a destination's batch waiting (lazy, or held for an acknowledgement). */
  held: number;
}

/** How soon a message must leave (see the header); a batch is as urgent as its most urgent message. */
export type Urgency = "urgent" | "stream" | "lazy";
const RANK: Record<Urgency, number> = { lazy: 0, stream: 1, urgent: 2 };

interface Queue {
  parts: Uint8Array[];
  size: number;
  since: number;
  urgency: Urgency;
}

export class Aggregator {
  readonly counters: AggregatorCounters = { messages: 0, datagrams: 0, bytes: 0, flushOnSize: 0, flushOnTurn: 0, flushOnDelay: 0, held: 0 };
  private readonly queues = new Map<number, Queue>();
  private readonly seqs = new Map<number, number>();
  private outbox: OutDatagram[] = [];
  private readonly budget: number;
  private readonly maxDelayMs: number;
  private readonly lazyDelayMs: number;
  private readonly enabled: boolean;

  constructor(
    private readonly cfg: AggregatorConfig,
    /** The sender's current epoch; sequence numbers restart when it changes. */
    private epoch: number,
  ) {
    this.budget = (cfg.mtuDatagram ?? DEFAULT_MTU_DATAGRAM) - HEADER_BYTES - TAG_BYTES;
    if (this.budget < 64) throw new RangeError(`mtuDatagram ${cfg.mtuDatagram} leaves no room for messages`);
    this.maxDelayMs = cfg.maxDelayMs ?? 2;
    this.lazyDelayMs = cfg.lazyDelayMs ?? 100;
    this.enabled = cfg.enabled ?? true;
  }

  /** A rejoin: new epoch, sequence numbers from 1, queued messages of the old life dropped. */
  reset(epoch: number): void {
    this.epoch = epoch;
    this.seqs.clear();
    this.queues.clear();
  }

  /**
   * Drops what is queued for `to` (it restarted: those messages belong to
   * streams that no longer exist). The sequence numbers to it go on: our
   * epoch did not change, and the restarted peer may already have accepted
   * a datagram of ours with a high number (sent while we still thought it
   * dead, with destination epoch 0, which any incarnation accepts). Starting
   * again from 1 under the same epoch made everything we sent it after that
   * "too_old" in its replay window — for good: seen on the real wire, a
   * restarted member that never again heard a live peer (597 drops) and a
   * cluster that never settled.
   */
  drop(to: number): void {
    this.queues.delete(to);
  }

  /** Queues one framed message. A message bigger than the budget leaves alone (the IP layer fragments it). */
  enqueue(to: number, framed: Uint8Array, now: number, urgency: Urgency = "urgent"): void {
    this.counters.messages++;
    let q = this.queues.get(to);
    if (q && q.size + framed.length > this.budget) {
      this.counters.flushOnSize++;
      this.emit(to, q);
      q = undefined;
    }
    if (!q) {
      q = { parts: [], size: 0, since: now, urgency };
      this.queues.set(to, q);
    }
    if (RANK[urgency] > RANK[q.urgency]) q.urgency = urgency;
    q.parts.push(framed);
    q.size += framed.length;
    if (!this.enabled || q.size >= this.budget) this.emit(to, q);
  }

  /** End of the caller's turn: what is queued leaves now, but lazy batches, and stream batches that `hold` keeps. */
  flush(hold?: (to: number) => boolean): void {
    for (const [to, q] of this.queues) {
      if (q.urgency === "lazy" || (q.urgency === "stream" && hold?.(to))) {
        this.counters.held++;
        continue;
      }
      this.counters.flushOnTurn++;
      this.emit(to, q);
    }
  }

  /** Flushes batches that waited maxDelayMs; returns the earliest time a later tick is needed, or undefined. */
  tick(now: number): number | undefined {
    let next: number | undefined;
    for (const [to, q] of this.queues) {
      const wait = q.urgency === "lazy" ? this.lazyDelayMs : this.maxDelayMs;
      if (now - q.since >= wait) {
        this.counters.flushOnDelay++;
        this.emit(to, q);
      } else {
        const due = q.since + wait;
        next = next === undefined ? due : Math.min(next, due);
      }
    }
    return next;
  }

  /** Datagrams ready for the channel, oldest first. */
  take(): OutDatagram[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  private emit(to: number, q: Queue): void {
    this.queues.delete(to);
    if (q.parts.length === 0) return;
    const payload = new Uint8Array(q.size);
    let at = 0;
    for (const p of q.parts) {
      payload.set(p, at);
      at += p.length;
    }
    const seq = (this.seqs.get(to) ?? 0) + 1;
    this.seqs.set(to, seq);
    const bytes = sealDatagram(this.cfg, to, this.epoch, this.cfg.destEpoch(to), seq, payload);
    this.counters.datagrams++;
    this.counters.bytes += bytes.length;
    this.outbox.push({ to, bytes });
    this.cfg.emitted?.(to);
  }
}
