// An in-process Ethernet hub for deterministic tests: every frame an
// endpoint sends is delivered to every other attached endpoint (as a Linux
// bridge with ageing_time 0 floods it; NOTES.md), after a latency, with
// optional loss and jitter (which reorders) drawn from a seeded PRNG. Time
// is injected: the test's event loop asks nextDelivery() and calls
// deliverUntil(t); nothing here reads a clock or arms a timer.
import type { FramePort, FrameSink, FrameWire } from "./frame-wire.js";

/** xorshift32 (Marsaglia 2003): a seedable PRNG in [0, 1), the same sequence on every run. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

export interface HubOptions {
  /** Probability that one receiver misses one frame. */
  readonly loss: number;
  readonly latencyMs: number;
  /** Extra delay uniform in [0, jitterMs) per delivery: reorders frames. */
  readonly jitterMs: number;
  readonly seed: number;
}

interface Delivery {
  readonly at: number;
  readonly order: number;
  readonly to: Endpoint;
  readonly frame: Uint8Array;
}

interface Endpoint {
  readonly sink: FrameSink;
  open: boolean;
}

export class InProcessHub implements FrameWire {
  private readonly opts: HubOptions;
  private readonly rng: () => number;
  private readonly endpoints: Endpoint[] = [];
  /** Sorted by (at, order). */
  private queue: Delivery[] = [];
  private order = 0;
  private nowV = 0;
  readonly stats = { sent: 0, delivered: 0, lost: 0 };
  /** Every frame sent, in order (for wire-level checks in tests). */
  readonly taps: ((frame: Uint8Array) => void)[] = [];

  constructor(opts: Partial<HubOptions> = {}) {
    this.opts = { loss: 0, latencyMs: 0, jitterMs: 0, seed: 1, ...opts };
    this.rng = xorshift32(this.opts.seed);
  }

  /** The hub's clock: the time of the last delivery, or the last deliverUntil. */
  get now(): number {
    return this.nowV;
  }

  attach(sink: FrameSink): FramePort {
    const ep: Endpoint = { sink, open: true };
    this.endpoints.push(ep);
    return {
      sendFrame: (frame) => this.send(ep, frame),
      close: () => {
        ep.open = false;
      },
    };
  }

  private send(from: Endpoint, frame: Uint8Array): void {
    if (!from.open) throw new Error("sendFrame on a closed port");
    this.stats.sent++;
    for (const t of this.taps) t(frame);
    for (const to of this.endpoints) {
      if (to === from || !to.open) continue;
      if (this.opts.loss > 0 && this.rng() < this.opts.loss) {
        this.stats.lost++;
        continue;
      }
      const at = this.nowV + this.opts.latencyMs + (this.opts.jitterMs > 0 ? this.rng() * this.opts.jitterMs : 0);
      this.insert({ at, order: this.order++, to, frame: frame.slice() });
    }
  }

  private insert(d: Delivery): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid]!;
      if (q.at < d.at || (q.at === d.at && q.order < d.order)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, d);
  }

  /** Time of the next delivery, or null when the wire is idle. */
  nextDelivery(): number | null {
    return this.queue.length > 0 ? this.queue[0]!.at : null;
  }

  /**
   * Deliver, in time order, every frame due at or before `t` — including
   * frames the sinks send while this runs — then set the clock to `t`.
   */
  deliverUntil(t: number): void {
    while (this.queue.length > 0 && this.queue[0]!.at <= t) {
      const d = this.queue.shift()!;
      this.nowV = Math.max(this.nowV, d.at);
      if (!d.to.open) continue;
      this.stats.delivered++;
      d.to.sink.onFrame(d.frame);
    }
    this.nowV = Math.max(this.nowV, t);
  }
}
