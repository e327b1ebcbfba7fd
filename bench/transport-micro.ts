// Main thread ↔ shard data path: MessagePort vs a SharedArrayBuffer ring.
//
// The daemon's main thread forwards every client/backend read to a shard and
// the shard answers with the bytes to write plus a checkpoint
// (src/node/messages.ts). This bench runs that shape with a trivial shard
// (echo + a 64-byte "checkpoint") over:
//   * port-copy      — postMessage(Uint8Array), structured clone copies it;
//   * port-transfer  — postMessage with the ArrayBuffer in the transfer list;
//   * sab-ring       — one single-producer/single-consumer ring per direction
//                      in a SharedArrayBuffer, woken with Atomics.notify /
//                      Atomics.waitAsync (so both threads keep their event loops).
// Two loads: 16 KiB chunks with 32 in flight (a download) → MB/s, and one
// 100-byte message in flight (a handshake message) → µs per round trip.
// Candidates are interleaved over several rounds; medians are printed.
//
//   npm run build && node dist/bench/transport-micro.js [--json FILE]
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { machine, median } from "./harness.js";
import { writeFileSync } from "node:fs";

// Atomics.waitAsync is in Node 20 (V8) but in TypeScript's ES2024 lib only.
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

// --- the ring -----------------------------------------------------------------------

/** SPSC byte ring: Int32 header [writeIdx, readIdx, wakeCounter], then data. Frames: u32 length + bytes (+ pad to 4). */
class Ring {
  readonly hdr: Int32Array;
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly size: number;
  constructor(readonly sab: SharedArrayBuffer) {
    this.hdr = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, 16);
    this.view = new DataView(sab, 16);
    this.size = this.data.length;
  }
  static create(bytes: number): Ring {
    return new Ring(new SharedArrayBuffer(16 + bytes));
  }
  /** false when full (the caller queues and retries). */
  write(frame: Uint8Array): boolean {
    const need = 4 + ((frame.length + 3) & ~3);
    let w = Atomics.load(this.hdr, 0);
    const r = Atomics.load(this.hdr, 1);
    const used = (w - r + this.size) % this.size;
    if (used + need + 4 >= this.size) return false;
    if (w + need > this.size) {
      // Wrap marker: length 0xffffffff means "continue at 0".
      if ((w === r ? 0 : used) + (this.size - w) + need + 4 >= this.size) return false;
      this.view.setUint32(w, 0xffffffff);
      w = 0;
    }
    this.view.setUint32(w, frame.length);
    this.data.set(frame, w + 4);
    Atomics.store(this.hdr, 0, (w + need) % this.size);
    Atomics.add(this.hdr, 2, 1);
    Atomics.notify(this.hdr, 2);
    return true;
  }
  read(): Uint8Array | null {
    let r = Atomics.load(this.hdr, 1);
    const w = Atomics.load(this.hdr, 0);
    if (r === w) return null;
    let len = this.view.getUint32(r);
    if (len === 0xffffffff) {
      r = 0;
      len = this.view.getUint32(0);
    }
    const out = this.data.slice(r + 4, r + 4 + len);
    Atomics.store(this.hdr, 1, (r + 4 + ((len + 3) & ~3)) % this.size);
    return out;
  }
  /** Calls `fn` for every frame, now and whenever more arrive. */
  listen(fn: (frame: Uint8Array) => void): void {
    const loop = () => {
      for (;;) {
        const seen = Atomics.load(this.hdr, 2);
        let f: Uint8Array | null;
        let any = false;
        while ((f = this.read()) !== null) {
          any = true;
          fn(f);
        }
        if (!any || Atomics.load(this.hdr, 2) === seen) {
          const res = waitAsync(this.hdr, 2, seen);
          if (res.async) {
            void res.value.then(loop);
            return;
          }
        }
      }
    };
    loop();
  }
}

// --- worker side ------------------------------------------------------------------

type Setup = { mode: "port-copy" | "port-transfer" } | { mode: "sab-ring"; toWorker: SharedArrayBuffer; toMain: SharedArrayBuffer };

const CHECKPOINT = new Uint8Array(64);

function workerMain(setup: Setup, port: MessagePort): void {
  if (setup.mode === "sab-ring") {
    // A pending Atomics.waitAsync does not keep a worker's event loop alive; the port does.
    port.on("message", () => {});
    const inRing = new Ring(setup.toWorker);
    const outRing = new Ring(setup.toMain);
    const pending: Uint8Array[] = [];
    const flush = () => {
      while (pending.length > 0 && outRing.write(pending[0]!)) pending.shift();
      if (pending.length > 0) setImmediate(flush);
    };
    inRing.listen((f) => {
      pending.push(CHECKPOINT, f);
      flush();
    });
    return;
  }
  port.on("message", (m: Uint8Array) => {
    if (setup.mode === "port-transfer") {
      const cp = CHECKPOINT.slice();
      port.postMessage([cp, m], [cp.buffer, m.buffer as ArrayBuffer]);
    } else {
      port.postMessage([CHECKPOINT, m]);
    }
  });
}

if (!isMainThread) workerMain(workerData as Setup, parentPort!);

// --- main side --------------------------------------------------------------------

interface Link {
  send(b: Uint8Array): void;
  onReply(fn: (bytes: number) => void): void;
  close(): Promise<void>;
}

async function link(mode: Setup["mode"]): Promise<Link> {
  const file = fileURLToPath(import.meta.url);
  if (mode === "sab-ring") {
    const toWorker = Ring.create(4 << 20);
    const toMain = Ring.create(4 << 20);
    const w = new Worker(file, { workerData: { mode, toWorker: toWorker.sab, toMain: toMain.sab } satisfies Setup });
    await new Promise((r) => w.once("online", r));
    const pending: Uint8Array[] = [];
    const flush = () => {
      while (pending.length > 0 && toWorker.write(pending[0]!)) pending.shift();
      if (pending.length > 0) setImmediate(flush);
    };
    let cb: (n: number) => void = () => {};
    let expectData = false;
    toMain.listen((f) => {
      // Frames alternate checkpoint, data.
      if (expectData) cb(f.length);
      expectData = !expectData;
    });
    return {
      send: (b) => {
        pending.push(b);
        flush();
      },
      onReply: (fn) => (cb = fn),
      close: async () => void (await w.terminate()),
    };
  }
  const w = new Worker(file, { workerData: { mode } satisfies Setup });
  await new Promise((r) => w.once("online", r));
  let cb: (n: number) => void = () => {};
  w.on("message", (m: [Uint8Array, Uint8Array]) => cb(m[1].length));
  return {
    send: (b) => (mode === "port-transfer" ? w.postMessage(b, [b.buffer as ArrayBuffer]) : w.postMessage(b)),
    onReply: (fn) => (cb = fn),
    close: async () => void (await w.terminate()),
  };
}

/** MB/s moving `total` bytes in `chunk`-sized messages with `depth` in flight, echoed back. */
function throughput(l: Link, chunk: number, depth: number, total: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let got = 0;
    const src = new Uint8Array(chunk).fill(7);
    const start = process.hrtime.bigint();
    const sendOne = () => {
      sent += chunk;
      l.send(src.slice());
    };
    l.onReply((n) => {
      got += n;
      if (got >= total) {
        const s = Number(process.hrtime.bigint() - start) / 1e9;
        resolve(total / s / 1e6);
      } else if (sent < total) sendOne();
    });
    for (let i = 0; i < depth; i++) sendOne();
  });
}

/** µs per round trip of a `size`-byte message, one in flight. */
function latency(l: Link, size: number, n: number): Promise<number> {
  return new Promise((resolve) => {
    let left = n;
    const src = new Uint8Array(size);
    const start = process.hrtime.bigint();
    l.onReply(() => {
      if (--left === 0) resolve(Number(process.hrtime.bigint() - start) / 1e3 / n);
      else l.send(src.slice());
    });
    l.send(src.slice());
  });
}

async function main(): Promise<void> {
  const only = process.env.MODE;
  const modes = (["port-copy", "port-transfer", "sab-ring"] as const).filter((m) => !only || m === only);
  const links = new Map<string, Link>();
  for (const m of modes) links.set(m, await link(m));
  const tp = new Map<string, number[]>(modes.map((m) => [m, []]));
  const lat = new Map<string, number[]>(modes.map((m) => [m, []]));
  for (let round = 0; round < 5; round++) {
    for (const m of modes) {
      const l = links.get(m)!;
      tp.get(m)!.push(await throughput(l, 16384, 32, 64 << 20));
      if (process.env.DEBUG) console.log(m, "tp", tp.get(m));
      lat.get(m)!.push(await latency(l, 100, 5000));
      if (process.env.DEBUG) console.log(m, "lat", lat.get(m));
    }
  }
  const results = modes.map((m) => ({ mode: m, mbPerSec: median(tp.get(m)!), rttMicros: median(lat.get(m)!) }));
  console.log("mode            16KiB x32 echo MB/s   100B round trip µs");
  for (const r of results) console.log(`${r.mode.padEnd(16)}${r.mbPerSec.toFixed(0).padStart(20)}${r.rttMicros.toFixed(1).padStart(21)}`);
  const i = process.argv.indexOf("--json");
  if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1]!, JSON.stringify({ machine: machine(), results }, null, 2));
  for (const l of links.values()) await l.close();
}

if (isMainThread) await main();
