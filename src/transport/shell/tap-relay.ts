// The real wire of a clustered-TCP node (docs/ctcp.md "The real wire";
// NOTES.md "A shared Ethernet wire on one machine"): I/O only, around the
// sans-I/O frame endpoints of ../ether and ../wire.
//
//   TAP on the hub-mode bridge ⇄ socat ⇄ UDP (one frame per datagram) ⇄ UdpFramePort ⇄ FrameSink
//
// * `openUdpFramePort` is a `FramePort` over one `dgram` socket bound on
//   `host:nodePort`; it sends each frame as one datagram to socat on
//   `host:relayPort` and hands each datagram it receives to the sink.
// * `SocatRelay` keeps socat running with the argv of `socatRelayArgs` (the
//   one definition of the command): started once, restarted with backoff when
//   it exits, stopped on teardown. The TAP is persistent, so a restart loses
//   only the frames in flight — TCP retransmits them.
//
// socat must not outlive its node: after a `kill -9` of the node an orphan
// would keep the TAP (a persistent TAP takes one reader) and the relay port,
// and the restarted node's relay could never attach. Node cannot ask the
// kernel to kill a child with its parent (no prctl(PR_SET_PDEATHSIG)), so
// socat runs under a tiny `sh` guard that holds the read end of a pipe whose
// write end only we hold: when we die, for any reason, the pipe reaches EOF
// and the guard kills socat; when socat exits, the guard exits with its code.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { socatRelayArgs, type FramePort, type FrameSink, type TapRelayConfig } from "../wire/frame-wire.js";
import { relayError } from "./errors.js";

export interface UdpFramePortStats {
  framesIn: number;
  framesOut: number;
  /** Datagrams the socket refused to send (buffer full, relay gone): the frame is lost, TCP retransmits. */
  sendErrors: number;
  /** Datagrams from anyone but the relay's address: dropped. */
  foreign: number;
}

export interface UdpFramePort extends FramePort {
  readonly stats: UdpFramePortStats;
  /** The bound port (useful with nodePort 0). */
  readonly port: number;
}

/** Bind `cfg.host:cfg.nodePort` and exchange frames with the relay at `cfg.host:cfg.relayPort`. */
export async function openUdpFramePort(cfg: TapRelayConfig, sink: FrameSink): Promise<UdpFramePort> {
  const socket = createSocket({ type: "udp4", recvBufferSize: cfg.bufferBytes, sendBufferSize: cfg.bufferBytes });
  const stats: UdpFramePortStats = { framesIn: 0, framesOut: 0, sendErrors: 0, foreign: 0 };
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(cfg.nodePort, cfg.host, () => {
      socket.off("error", reject);
      resolve();
    });
  }).catch((e: unknown) => {
    socket.close();
    throw relayError.bind(`${cfg.host}:${cfg.nodePort}`, e);
  });
  // An unconnected UDP socket reports no ICMP errors on Linux; anything else
  // (EPERM from a firewall, ENOBUFS) costs one frame, never the port.
  socket.on("error", () => void stats.sendErrors++);
  let open = true;
  socket.on("message", (msg, rinfo) => {
    if (rinfo.port !== cfg.relayPort || rinfo.address !== cfg.host) return void stats.foreign++;
    stats.framesIn++;
    sink.onFrame(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
  });
  const onSent = (e: Error | null) => {
    if (e !== null) stats.sendErrors++;
  };
  return {
    stats,
    port: socket.address().port,
    sendFrame(frame: Uint8Array): void {
      if (!open) throw relayError.closed();
      stats.framesOut++;
      socket.send(frame, cfg.relayPort, cfg.host, onSent);
    },
    close(): void {
      if (!open) return;
      open = false;
      socket.close();
    },
  };
}

/** A free UDP port on `host` right now (for tests and the demo; the kernel may hand it out again later). */
export async function freeUdpPort(host: string): Promise<number> {
  const s: Socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, host, resolve);
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

// --- the socat supervisor ------------------------------------------------------------

export type RelayLogLevel = "info" | "warn" | "error";
export type RelayLog = (level: RelayLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface SocatRelayOptions {
  readonly relay: TapRelayConfig;
  /** The socat binary (default: `socat` on PATH). */
  readonly socat?: string;
  /** First restart delay; doubles per quick failure up to `restartMaxMs`. */
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
  /** How long start() waits for the TAP to carry and the relay port to be bound. */
  readonly readyTimeoutMs?: number;
  readonly log?: RelayLog;
}

export interface SocatRelayStats {
  starts: number;
  exits: number;
}

// $1 is socat, the rest its argv. The subshell reading our pipe kills socat
// at EOF (we died or stop() closed it); `wait` returns when socat exits. The
// pipe goes through fd 3: without job control, POSIX gives an asynchronous
// list /dev/null as its standard input.
const GUARD = 's="$1"; shift; exec 3<&0; "$s" "$@" </dev/null 3<&- & c=$!; (read -r _ <&3; kill "$c" 2>/dev/null) & r=$!; exec 3<&-; wait "$c"; x=$?; kill "$r" 2>/dev/null; exit "$x"';
const STDERR_TAIL = 2048;
/** A relay that ran this long was healthy: the next failure restarts after restartMinMs again. */
const HEALTHY_MS = 5000;

export class SocatRelay {
  readonly stats: SocatRelayStats = { starts: 0, exits: 0 };
  private readonly opts: Required<Omit<SocatRelayOptions, "log">> & { log: RelayLog };
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private startedAt = 0;
  private stderr = "";

  constructor(o: SocatRelayOptions) {
    socatRelayArgs(o.relay); // validates the TAP name and ports now, not at the first spawn
    this.opts = {
      relay: o.relay,
      socat: o.socat ?? "socat",
      restartMinMs: o.restartMinMs ?? 100,
      restartMaxMs: o.restartMaxMs ?? 5000,
      readyTimeoutMs: o.readyTimeoutMs ?? 5000,
      log: o.log ?? (() => undefined),
    };
  }

  /** Spawn socat and wait until the TAP carries and the relay port is bound; rejects (and stops) if it never gets there. */
  async start(): Promise<void> {
    if (this.child !== null || this.stopping) throw relayError.state(this.child !== null ? "already started" : "stopped");
    // socat would create a missing TAP itself — a private one, on no bridge, gone with it: refuse instead.
    if (!existsSync(`/sys/class/net/${this.opts.relay.tap}`)) throw relayError.noTap(this.opts.relay.tap);
    this.spawnOnce();
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    while (!this.ready()) {
      if (Date.now() > deadline) {
        const why = this.stderr.trim() || "no output";
        await this.stop();
        throw relayError.notReady(this.opts.relay.tap, this.opts.readyTimeoutMs, why);
      }
      await sleep(20);
    }
  }

  /** True when socat holds the TAP (carrier up) and is bound on the relay port. */
  ready(): boolean {
    return this.child !== null && tapCarrier(this.opts.relay.tap) && udpPortBound(this.opts.relay.host, this.opts.relay.relayPort);
  }

  /** The socat process under the guard (tests kill it to prove the restart), or null. */
  socatPid(): number | null {
    const guard = this.child?.pid;
    if (guard === undefined) return null;
    try {
      const kids = readFileSync(`/proc/${guard}/task/${guard}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      return Number(kids.find((k) => readFileSync(`/proc/${k}/comm`, "utf8").trim() === "socat") ?? NaN) || null;
    } catch {
      return null; // exiting
    }
  }

  /** Stop restarting, end socat (closing the guard's pipe; SIGKILL after 1 s) and wait for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (child === null) return;
    child.stdin?.end();
    const killer = setTimeout(() => child.kill("SIGKILL"), 1000);
    await this.exited;
    clearTimeout(killer);
  }

  private spawnOnce(): void {
    const argv = socatRelayArgs(this.opts.relay);
    const child = spawn("sh", ["-c", GUARD, "sh", this.opts.socat, ...argv], { stdio: ["pipe", "ignore", "pipe"] });
    this.child = child;
    this.stats.starts++;
    this.startedAt = Date.now();
    this.stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_TAIL);
    });
    child.stdin!.on("error", () => undefined); // EPIPE once the guard is gone
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.onExit(child, code, signal);
        resolve();
      });
    });
    this.opts.log("info", "socat relay started", { tap: this.opts.relay.tap, pid: child.pid, argv });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    this.stats.exits++;
    if (this.stopping) return;
    const ranMs = Date.now() - this.startedAt;
    this.failures = ranMs >= HEALTHY_MS ? 0 : this.failures + 1;
    const delay = Math.min(this.opts.restartMaxMs, this.opts.restartMinMs * 2 ** Math.max(0, this.failures - 1));
    this.opts.log("warn", "socat relay exited; restarting", { tap: this.opts.relay.tap, code, signal, ranMs, delayMs: delay, stderr: this.stderr.trim() });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.spawnOnce();
    }, delay);
  }
}

function tapCarrier(tap: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${tap}/carrier`, "utf8").trim() === "1";
  } catch {
    return false; // no such interface, or down (reading carrier then fails with EINVAL)
  }
}

/** /proc/net/udp lists bound sockets as `HEXADDR:HEXPORT` in host byte order (little-endian here). */
function udpPortBound(host: string, port: number): boolean {
  const octets = host.split(".").map(Number);
  const addr = octets
    .reverse()
    .map((o) => o.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
  const want = `${addr}:${port.toString(16).padStart(4, "0").toUpperCase()}`;
  try {
    return readFileSync("/proc/net/udp", "utf8")
      .split("\n")
      .some((line) => line.trim().split(/\s+/)[1] === want);
  } catch {
    return false;
  }
}
