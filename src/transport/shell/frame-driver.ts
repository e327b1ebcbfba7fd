// The shell's clock and its one timer (docs/ctcp.md "The wire"): drives a
// sans-I/O frame endpoint — a clustered-TCP node core, or a link plus
// engines — on a real FramePort.
//
//   port ─► onFrame(frame) ─► machine.onFrame(frame, now) ─┐
//   timer at machine.nextTimeout() ─► machine.onTimer(now) ─┤─► machine.takeFrames() ─► port.sendFrame
//   run(fn): anything else (a replication ack, a write) ────┘     re-arm the one timer
//
// Output leaves at the end of each input (a frame, the timer, a run): the
// cores batch nothing that a later input could add to, and the kernel client
// on the other side measures our latency. A machine with `endOfTurn` is also
// told when the event-loop turn that brought inputs ends (setImmediate: after
// every datagram that poll delivered), so it can treat a burst as one step.
import { performance } from "node:perf_hooks";
import type { FramePort, FrameSink } from "../wire/frame-wire.js";

/** What the driver needs from a sans-I/O frame endpoint; times are milliseconds on the driver's clock. */
export interface FrameMachine {
  onFrame(frame: Uint8Array, now: number): void;
  onTimer(now: number): void;
  /** Earliest time onTimer has work, or null. */
  nextTimeout(): number | null;
  /** Frames produced since the last call, in order. */
  takeFrames(): Uint8Array[];
  /** The event-loop turn that brought the last inputs ended. */
  endOfTurn?(now: number): void;
}

export type Clock = () => number;

export class FrameDriver implements FrameSink {
  private port: FramePort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closed = false;
  private turnScheduled = false;

  constructor(
    private readonly machine: FrameMachine,
    readonly clock: Clock = () => performance.now(),
  ) {}

  /** Start sending on `port` (attach once the port exists; frames produced before are sent then). */
  attach(port: FramePort): void {
    this.port = port;
    this.flush();
  }

  onFrame(frame: Uint8Array): void {
    if (this.closed) return;
    this.machine.onFrame(frame, this.clock());
    this.flush();
  }

  /** Call into the machine from outside (an event of the cluster channel, a test) and send what it produced. */
  run<T>(fn: (now: number) => T): T {
    const r = fn(this.clock());
    this.flush();
    return r;
  }

  /** Stop the timer and detach from the port (the port is the caller's to close). */
  close(): void {
    this.closed = true;
    this.port = null;
    this.disarm();
  }

  private flush(): void {
    if (this.closed) return;
    if (this.port !== null) for (const f of this.machine.takeFrames()) this.port.sendFrame(f);
    this.arm();
    if (this.machine.endOfTurn && !this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => this.endTurn());
    }
  }

  private endTurn(): void {
    this.turnScheduled = false;
    if (this.closed) return;
    this.machine.endOfTurn!(this.clock());
    if (this.port !== null) for (const f of this.machine.takeFrames()) this.port.sendFrame(f);
    this.arm();
  }

  private arm(): void {
    const at = this.machine.nextTimeout();
    if (at === null) return this.disarm();
    if (this.timer !== null && at >= this.timerAt) return; // the armed timer comes first; it re-arms
    this.disarm();
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(at - this.clock())));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = this.clock();
    const at = this.machine.nextTimeout();
    // setTimeout may fire a little early against performance.now(): only call onTimer when due.
    if (at !== null && at <= now) this.machine.onTimer(now);
    this.flush();
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
