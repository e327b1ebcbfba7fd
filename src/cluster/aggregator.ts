// Aggregation (SSLACC §5.8): messages for the same destination leave in one
// datagram. The paper found per-message interrupt cost dominated cluster CPU
// from 3-4 nodes on, and batching "gives us improved scalability".
//
//   cluster-node.ts ─enqueue(dest, message)─> per-destination queue
//     ─ full (next message would pass the MTU budget) / flush() at end of turn
//       / tick(now) after maxDelayMs ─> sealDatagram ─> outbox ─> channel.ts
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
  readonly enabled?: boolean;
  /** The destination's incarnation as we know it (0: unknown), sealed into each datagram. */
  readonly destEpoch: (to: number) => number;
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
}

interface Queue {
  parts: Uint8Array[];
  size: number;
  since: number;
}

export class Aggregator {
  readonly counters: AggregatorCounters = { messages: 0, datagrams: 0, bytes: 0, flushOnSize: 0, flushOnTurn: 0, flushOnDelay: 0 };
  private readonly queues = new Map<number, Queue>();
  private readonly seqs = new Map<number, number>();
  private outbox: OutDatagram[] = [];
  private readonly budget: number;
  private readonly maxDelayMs: number;
  private readonly enabled: boolean;

  constructor(
    private readonly cfg: AggregatorConfig,
    /** The sender's current epoch; sequence numbers restart when it changes. */
    private epoch: number,
  ) {
    this.budget = (cfg.mtuDatagram ?? DEFAULT_MTU_DATAGRAM) - HEADER_BYTES - TAG_BYTES;
    if (this.budget < 64) throw new RangeError(`mtuDatagram ${cfg.mtuDatagram} leaves no room for messages`);
    this.maxDelayMs = cfg.maxDelayMs ?? 2;
    this.enabled = cfg.enabled ?? true;
  }

  /** A rejoin: new epoch, sequence numbers from 1, queued messages of the old life dropped. */
  reset(epoch: number): void {
    this.epoch = epoch;
    this.seqs.clear();
    this.queues.clear();
  }

  /** Drops what is queued for `to` (it restarted: those messages belong to streams that no longer exist). */
  drop(to: number): void {
    this.queues.delete(to);
    this.seqs.delete(to);
  }

  /** Queues one framed message. A message bigger than the budget leaves alone (the IP layer fragments it). */
  enqueue(to: number, framed: Uint8Array, now: number): void {
    this.counters.messages++;
    let q = this.queues.get(to);
    if (q && q.size + framed.length > this.budget) {
      this.counters.flushOnSize++;
      this.emit(to, q);
      q = undefined;
    }
    if (!q) {
      q = { parts: [], size: 0, since: now };
      this.queues.set(to, q);
    }
    q.parts.push(framed);
    q.size += framed.length;
    if (!this.enabled || q.size >= this.budget) this.emit(to, q);
  }

  /** End of the caller's turn: everything queued leaves now. */
  flush(): void {
    for (const [to, q] of this.queues) {
      this.counters.flushOnTurn++;
      this.emit(to, q);
    }
  }

  /** Flushes batches that waited maxDelayMs; returns the earliest time a later tick is needed, or undefined. */
  tick(now: number): number | undefined {
    let next: number | undefined;
    for (const [to, q] of this.queues) {
      if (now - q.since >= this.maxDelayMs) {
        this.counters.flushOnDelay++;
        this.emit(to, q);
      } else {
        const due = q.since + this.maxDelayMs;
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
  }
}
