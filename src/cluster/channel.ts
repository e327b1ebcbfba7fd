// The UDP channel of the cluster (docs/cluster-protocol.md §2, §10): the I/O
// shell around the sans-I/O ClusterNode (STYLE.md §1, §8 "channel apart from
// sync policy and wire format"). It is the only module of src/cluster, with
// run-node.ts, that touches sockets, timers or the clock.
//
//   peers ─UDP─> socket "message" ─> node.receive(bytes, now) ─┐
//   timer every tickMs ─> node.tick(now) ──────────────────────┤ kick()
//   replicate / closeConnection / sessions.put|remove ─────────┘
//        └─ end of the event-loop turn (setImmediate) ─> node.flush()
//             ─> takeDatagrams() ─UDP─> peers (id → HOST:PORT)
//             ─> takeEvents() ─> onEvents (relay: replicated, bucketAcquired, ...)
//
// SSLACC §5.8 aggregation: messages to one destination leave together "at the
// end of the current event-loop turn, or after a bounded delay". A setImmediate
// callback runs in libuv's check phase, after the poll phase has handed us
// every datagram that was waiting (libuv reads up to 32 per socket wake-up), so
// the acks and checkpoints a burst of input causes share datagrams.
//
// Nothing here throws at a peer's say-so: the core drops bad datagrams with a
// counted reason, and socket errors are counted and logged, never fatal.
import { performance } from "node:perf_hooks";
import { isIPv6 } from "node:net";
import { DgramAsPromised, type SocketAsPromised } from "dgram-as-promised";
import type { RemoteInfo } from "node:dgram";
import type { SessionCache, SessionData } from "../tls/session-cache.js";
import type { SessionCacheChange } from "./session-cache.js";
import type { ClusterEvent, ClusterNode, ClusterStatus, ReplicateResult } from "./cluster-node.js";
import { BROADCAST } from "./wire.js";

export const DEFAULT_CLUSTER_PORT = 4320;

export interface PeerAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface MulticastOptions {
  /** Group address, e.g. 239.255.43.20 (administratively scoped, RFC 2365). */
  readonly group: string;
  /** Port of the group (every member binds it, with SO_REUSEADDR); default: the unicast port. */
  readonly port?: number;
  /** Local interface address to join on (default: the kernel's choice). */
  readonly interface?: string;
  /** Hops (default 1: the cluster network only). */
  readonly ttl?: number;
  /** Whether our own group datagrams come back to sockets on this host (needed when members share a host). */
  readonly loopback?: boolean;
}

export type LogLevel = "debug" | "info" | "warn" | "error";
export type ChannelLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface ChannelOptions {
  /** Address to bind (default 0.0.0.0; tests use 127.0.0.1 and one port per node). */
  readonly host?: string;
  /** Default 4320; 0 picks a free port (tests). */
  readonly port?: number;
  /** Every configured peer's address (self may be listed: it is skipped). */
  readonly peers: readonly PeerAddress[];
  readonly multicast?: MulticastOptions;
  /**
   * How often node.tick runs (ms). Default keepaliveMs / 4: a keepalive goes
   * out up to one tick late, and that lateness eats the lease slack of docs
   * §5.3 (leaseMs + keepaliveMs < deadAfterMs assumes keepalives on time); a
   * quarter period keeps it small, and NACK retries (20 ms) get a timely turn.
   */
  readonly tickMs?: number;
  /**
   * "turn" (default): flush at the end of each event-loop turn that produced
   * output. "delay": wait flushDelayMs after the first queued message, so
   * several turns share datagrams (more batching, more latency).
   */
  readonly flush?: "turn" | "delay";
  readonly flushDelayMs?: number;
  /** Socket buffers (bytes); bursts of checkpoints must not overflow the receive queue. Default 4 MiB (the usual rmem_max). */
  readonly socketBufferBytes?: number;
  /** The clock passed to the core; default monotonicNow. */
  readonly now?: () => number;
  readonly log?: ChannelLog;
  /** The core's events after each turn (replicated, bucketAcquired, bucketLost, mapAdopted, expelled). */
  readonly onEvents?: (events: ClusterEvent[]) => void;
}

export interface ChannelCounters {
  datagramsIn: number;
  bytesIn: number;
  multicastIn: number;
  datagramsOut: number;
  bytesOut: number;
  /** Datagrams from an address that is not a configured peer's (fed to the core anyway: the MAC decides). */
  unknownSource: number;
  /** Output for a member with no configured address (or multicast output without a group). */
  noAddress: number;
  sendErrors: number;
  socketErrors: number;
  /** Exceptions out of the core (a bug, not a peer's doing): counted and logged, the channel carries on. */
  coreErrors: number;
  turns: number;
  ticks: number;
}

/**
 * A monotonic clock in ms anchored at the wall clock when the process
 * started: monotonic, so leases (durations on one member's clock, docs §5.3)
 * survive an NTP step; wall-anchored, so session `createdAt` values compare
 * across members (the session TTL, docs §8) as well as their clocks agree.
 * Whole ms: the wire carries sentAt as an integer (u48).
 */
export function monotonicNow(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}

export class ChannelError extends Error {
  override readonly name = "ChannelError";
}

function addressKey(host: string, port: number): string {
  return `${host}|${port}`;
}

export class ClusterChannel {
  readonly counters: ChannelCounters = {
    datagramsIn: 0, bytesIn: 0, multicastIn: 0, datagramsOut: 0, bytesOut: 0,
    unknownSource: 0, noAddress: 0, sendErrors: 0, socketErrors: 0, coreErrors: 0, turns: 0, ticks: 0,
  };
  /**
   * The clustered session cache for the TLS engine: writes schedule a flush
   * (they queue messages). `onChange` reports every add/remove, local or a
   * peer's, so a node can keep per-shard copies (the daemon's NodeSessionCache).
   */
  readonly sessions: SessionCache & {
    onChange(listener: (change: SessionCacheChange) => void): void;
    entries(): SessionData[];
  };
  readonly now: () => number;
  private readonly addresses = new Map<number, PeerAddress>();
  private readonly known = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: ChannelLog;
  /** Datagrams handed to the socket whose send has not completed; close() waits for them. */
  private sendsInFlight = 0;
  private sendsDrained: (() => void) | null = null;

  private constructor(
    readonly node: ClusterNode,
    private readonly socket: SocketAsPromised,
    private readonly group: SocketAsPromised | undefined,
    private readonly opts: ChannelOptions,
  ) {
    this.now = opts.now ?? monotonicNow;
    this.log = opts.log ?? (() => {});
    for (const p of opts.peers) {
      if (p.id === node.nodeId) continue;
      this.addresses.set(p.id, p);
      this.known.add(addressKey(p.host, p.port));
    }
    const cache = node.sessions;
    this.sessions = {
      get: (id) => cache.get(id),
      put: (s: SessionData) => {
        cache.put(s);
        this.kick();
      },
      remove: (id) => {
        cache.remove(id);
        this.kick();
      },
      onChange: (listener) => cache.onChange(listener),
      entries: () => cache.entries(),
    };
  }

  /**
   * Binds the socket (and the multicast group), starts the tick timer and
   * sends what the node queued at construction (its JOIN). Rejects if the
   * address cannot be bound; after that nothing rejects.
   */
  static async open(node: ClusterNode, opts: ChannelOptions): Promise<ClusterChannel> {
    for (const p of opts.peers) {
      if (!(Number.isInteger(p.port) && p.port > 0 && p.port < 65536)) throw new ChannelError(`peer ${p.id}: port ${p.port} is not 1..65535`);
      if (!node.membership.peerIds.includes(p.id) && p.id !== node.nodeId) throw new ChannelError(`peer ${p.id} (${p.host}:${p.port}) is not a configured member`);
    }
    const host = opts.host ?? "0.0.0.0";
    const type = isIPv6(host) ? "udp6" : "udp4";
    const buf = opts.socketBufferBytes ?? 4 * 1024 * 1024;
    // A permanent "message" listener, not recv(): recv() attaches a listener per call, and libuv emits a
    // whole burst of datagrams synchronously, so all but the first of a burst would find no listener.
    let channel: ClusterChannel | undefined;
    const onMessage = (multicast: boolean) => (msg: Buffer, rinfo: RemoteInfo) => channel?.received(msg, rinfo, multicast);
    const socket = DgramAsPromised.createSocket({ type, recvBufferSize: buf, sendBufferSize: buf }, onMessage(false));
    try {
      await socket.bind(opts.port ?? DEFAULT_CLUSTER_PORT, host);
    } catch (e) {
      socket.destroy();
      throw new ChannelError(`cluster channel: cannot bind ${host}:${opts.port ?? DEFAULT_CLUSTER_PORT}: ${(e as Error).message}`);
    }
    let group: SocketAsPromised | undefined;
    if (opts.multicast) {
      const m = opts.multicast;
      // A socket bound to a unicast address does not receive datagrams sent to a group, so the group has
      // its own socket; SO_REUSEADDR lets every member on one host bind the group port and each gets a copy.
      group = DgramAsPromised.createSocket({ type, reuseAddr: true, recvBufferSize: buf }, onMessage(true));
      try {
        await group.bind(m.port ?? socket.address().port, isIPv6(m.group) ? "::" : "0.0.0.0");
        group.addMembership(m.group, m.interface);
        // Sending to the group goes out of the unicast socket, so our sender address stays the configured one.
        socket.setMulticastTTL(m.ttl ?? 1);
        socket.setMulticastLoopback(m.loopback ?? true);
        if (m.interface) socket.setMulticastInterface(m.interface);
      } catch (e) {
        group.destroy();
        socket.destroy();
        throw new ChannelError(`cluster channel: cannot join multicast group ${m.group}: ${(e as Error).message}`);
      }
    }
    channel = new ClusterChannel(node, socket, group, opts);
    channel.start();
    return channel;
  }

  /** The bound address (port 0 in the options resolves here). */
  address(): { host: string; port: number } {
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  status(): ClusterStatus & { channel: ChannelCounters } {
    return { ...this.node.status(this.now()), channel: { ...this.counters } };
  }

  private start(): void {
    for (const s of [this.socket, this.group]) {
      // dgram-as-promised keeps its own "error" listener (so an error never goes unhandled and crashes the
      // process); ours counts and logs it.
      s?.socket.on("error", (e: Error) => {
        this.counters.socketErrors++;
        this.log("warn", "cluster socket error", { err: e.message });
      });
    }
    const tickMs = this.opts.tickMs ?? Math.max(1, Math.floor(this.node.membership.keepaliveMs / 4));
    this.timer = setInterval(() => this.tick(), tickMs);
    // The daemon's servers keep the process alive, not the cluster's timer.
    this.timer.unref();
    this.tick();
  }

  private tick(): void {
    if (this.closed) return;
    this.counters.ticks++;
    this.guard("tick", () => this.node.tick(this.now()));
    this.kick();
  }

  private received(msg: Buffer, rinfo: RemoteInfo, multicast: boolean): void {
    if (this.closed) return;
    this.counters.datagramsIn++;
    this.counters.bytesIn += msg.length;
    if (multicast) this.counters.multicastIn++;
    if (!this.known.has(addressKey(rinfo.address, rinfo.port))) this.counters.unknownSource++;
    // A plain Uint8Array over the same memory: what the core decodes (session secrets, checkpoints) is
    // then the same type as in the simulation, with no Buffer methods leaking into the tables.
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    this.guard("receive", () => this.node.receive(bytes, this.now()));
    this.kick();
  }

  /** The core is sans-I/O and total on its inputs; if it throws anyway, that is our bug: log it, keep the member up. */
  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.counters.coreErrors++;
      this.log("error", `cluster core threw in ${what}`, { err: (e as Error).stack ?? String(e) });
    }
  }

  /** Something was queued: flush at the end of this turn (or after flushDelayMs in "delay" mode). */
  kick(): void {
    if (this.closed) return;
    if (this.opts.flush === "delay") {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        this.endOfTurn();
      }, this.opts.flushDelayMs ?? 2);
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.endOfTurn();
    });
  }

  private endOfTurn(): void {
    if (this.closed) return;
    this.counters.turns++;
    this.guard("flush", () => this.node.flush());
    this.sendQueued();
    const events = this.node.takeEvents();
    if (events.length > 0 && this.opts.onEvents) {
      try {
        this.opts.onEvents(events);
      } catch (e) {
        this.log("error", "cluster onEvents handler threw", { err: (e as Error).stack ?? String(e) });
      }
    }
  }

  private sendQueued(): void {
    for (const d of this.node.takeDatagrams()) {
      let host: string;
      let port: number;
      if (d.to === BROADCAST) {
        // The core addresses the group as member 0 (docs §2); it does not send multicast yet.
        if (!this.opts.multicast) {
          this.counters.noAddress++;
          continue;
        }
        host = this.opts.multicast.group;
        port = this.opts.multicast.port ?? this.address().port;
      } else {
        const a = this.addresses.get(d.to);
        if (!a) {
          this.counters.noAddress++;
          continue;
        }
        host = a.host;
        port = a.port;
      }
      this.counters.datagramsOut++;
      this.counters.bytesOut += d.bytes.length;
      // The plain dgram socket with a callback, not dgram-as-promised's send: that one costs a promise
      // (and ours two more) per datagram, on the path every checkpoint and ack takes.
      const to = d.to;
      this.sendsInFlight++;
      try {
        this.socket.socket.send(d.bytes, port, host, (e) => this.sent(e, to, host, port));
      } catch (e) {
        this.sent(e as Error, to, host, port);
      }
    }
  }

  private sent(e: Error | null, to: number, host: string, port: number): void {
    if (e) {
      // EAGAIN/ENOBUFS under a burst, EHOSTUNREACH, a closed socket: the protocol repairs losses (NACK).
      this.counters.sendErrors++;
      this.log("debug", "cluster send failed", { to, host, port, err: e.message });
    }
    if (--this.sendsInFlight === 0) this.sendsDrained?.();
  }

  // --- inputs from the relay (each schedules a flush) ---------------------------------

  replicate(connId: number, bucket: number, checkpoint: Uint8Array): ReplicateResult {
    const r = this.node.replicate(connId, bucket, checkpoint, this.now());
    if (r.ok) this.kick();
    return r;
  }

  closeConnection(connId: number): number | undefined {
    const rid = this.node.closeConnection(connId, this.now());
    this.kick();
    return rid;
  }

  owns(bucket: number): boolean {
    return this.node.owns(bucket, this.now());
  }

  /**
   * Stops the channel. With `leave` (default) the member says LEAVE(shutdown)
   * first, so the master reassigns its buckets at once instead of after
   * deadAfterMs; without it the member just falls silent (as after a crash).
   */
  async close(opts: { leave?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (opts.leave ?? true) {
      this.guard("leave", () => this.node.leave(this.now()));
      this.sendQueued();
    }
    this.closed = true;
    if (this.sendsInFlight > 0) await new Promise<void>((r) => (this.sendsDrained = r));
    if (this.group && this.opts.multicast) {
      try {
        this.group.dropMembership(this.opts.multicast.group, this.opts.multicast.interface);
      } catch (e) {
        this.log("debug", "cluster multicast leave failed", { err: (e as Error).message });
      }
    }
    await Promise.allSettled([this.socket.close(), this.group?.close()]);
  }
}
