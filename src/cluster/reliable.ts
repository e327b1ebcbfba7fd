// The reliable stream between two members: sequence numbers, in-order
// delivery, NACK repair and a bounded resend queue. After conntrackd's FT-FW
// mode (message tracking with a resend queue, acknowledgement windows, and
// NACKs for gaps; conntrackd.conf(5) ResendQueueSize, ACKWindowSize) — facts
// only, the design here is our own:
//
//   sender:   send(msg) → seq (kept in the resend queue until the receiver's
//             cumulative streamAck, carried in its keepalives, passes it)
//   receiver: accept(seq, msg) → messages now deliverable in order; a gap
//             (a seq above the next expected, or the sender's keepalive
//             streamNext above what we have) → NACK(from, to), repeated every
//             nackRetryMs while the gap lasts
//
// Checkpoints, session adds/removes, connection closes and bucket releases
// ride this stream, so a mirror applies an owner's checkpoints in the order
// they were made (a delta folds onto its predecessor). Keepalives, acks,
// NACKs and maps are idempotent or re-sent and stay outside it.
import type { Message } from "./messages.js";

export class ReliableSender {
  private nextSeq = 1;
  private acked = 0;
  private readonly queue = new Map<number, Message>();

  constructor(private readonly maxQueue: number) {}

  /** The last seq handed out (0: none), for the keepalive's streamNext. */
  get last(): number {
    return this.nextSeq - 1;
  }

  get queued(): number {
    return this.queue.size;
  }

  /** Sequences a message; `overflow` when the resend queue has just passed its bound (the peer stopped acknowledging). */
  send(message: Message): { seq: number; overflow: boolean } {
    const seq = this.nextSeq++;
    this.queue.set(seq, message);
    return { seq, overflow: this.queue.size === this.maxQueue };
  }

  /** The receiver delivered everything up to `upTo`. */
  ack(upTo: number): void {
    if (upTo <= this.acked) return;
    for (let s = this.acked + 1; s <= Math.min(upTo, this.last); s++) this.queue.delete(s);
    this.acked = Math.min(upTo, this.last);
  }

  /** Messages in [from, to] still queued, to send again with their original seqs. */
  resend(from: number, to: number): Array<{ seq: number; message: Message }> {
    const out: Array<{ seq: number; message: Message }> = [];
    const hi = Math.min(to, this.last);
    for (let s = Math.max(from, this.acked + 1); s <= hi; s++) {
      const m = this.queue.get(s);
      if (m) out.push({ seq: s, message: m });
    }
    return out;
  }
}

export class ReliableReceiver {
  private delivered = 0;
  private tail = 0;
  private readonly pending = new Map<number, Message>();
  private lastNackAt = -Infinity;

  constructor(private readonly maxPending: number) {}

  /** Highest contiguous seq delivered (the keepalive's streamAck). */
  get upTo(): number {
    return this.delivered;
  }

  /** One sequenced message; returns what can now be delivered, in order. Duplicates deliver nothing. */
  accept(seq: number, message: Message): Message[] {
    if (seq <= this.delivered || this.pending.has(seq)) return [];
    if (seq > this.tail) this.tail = seq;
    // Bounded: beyond the window we drop and let the NACK bring it again.
    if (seq - this.delivered > this.maxPending) return [];
    this.pending.set(seq, message);
    const out: Message[] = [];
    for (let m = this.pending.get(this.delivered + 1); m; m = this.pending.get(this.delivered + 1)) {
      this.pending.delete(this.delivered + 1);
      this.delivered++;
      out.push(m);
    }
    return out;
  }

  /** The sender says it has sent up to `last` (keepalive streamNext). */
  noteTail(last: number): void {
    if (last > this.tail) this.tail = last;
  }

  /** The first gap to ask for again, if one exists and the last NACK is older than retryMs. */
  nack(now: number, retryMs: number): { from: number; to: number } | undefined {
    if (this.tail <= this.delivered) return undefined;
    if (now - this.lastNackAt < retryMs) return undefined;
    let to = this.delivered + 1;
    while (to < this.tail && !this.pending.has(to + 1)) to++;
    this.lastNackAt = now;
    return { from: this.delivered + 1, to };
  }
}
