// The scaling benches' load generator: closed-loop Node TLS clients doing a
// full handshake (no session is ever offered, so no resumption) and a
// trivial HTTP GET per connection, spread over the nodes as an L4 balancer
// would spread them, on worker threads (a Node TLS client costs about as
// much CPU per handshake as the server: one thread would be the bottleneck).
//
//   client ──TLS 1.2 AES128-SHA──> node i ──> backend (100-byte reply, close)
//
// Spreading: each node gets `perNode` connections in flight. In a cluster a
// connection belongs to the owner of its bucket (SSLACC §3.2: every node sees
// every packet, the bucket's owner answers); with kernel sockets on loopback
// the balancer plays that part: when a node's ownership is known (`owned`),
// a connection to it gets a source address and port whose 4-tuple hashes
// (src/node/buckets.ts `bucketOf`) into a bucket that node owns.
import { Worker } from "node:worker_threads";

export interface Target {
  readonly host: string;
  readonly port: number;
  /** 1 at each bucket this node owns; absent: any source port will do. */
  readonly owned?: Uint8Array;
}

/** What one load thread is given (bench/loadgen-worker.ts). */
export interface WorkerTarget {
  readonly host: string;
  readonly port: number;
  readonly owned: Uint8Array | null;
}
export interface WorkerJob {
  readonly targets: readonly WorkerTarget[];
  /** Connections in flight per target on this thread. */
  readonly slots: readonly number[];
  readonly worker: number;
  readonly workers: number;
}
/** Main → load thread: run for `ms`. The thread answers "ready" once, then a `WorkerResult` per run. */
export interface WorkerCommand {
  readonly ms: number;
}
export interface WorkerResult {
  readonly handshakes: readonly number[];
  readonly errors: number;
  /** From this thread's first connection to its last close. */
  readonly seconds: number;
}

export interface LoadResult {
  /** Completed connections (handshake + 100-byte reply) per target. */
  readonly handshakes: readonly number[];
  readonly errors: number;
  /** The longest thread's run time (the last connections finish after the deadline). */
  readonly seconds: number;
  /** The load generator's CPU over the run (all its threads), ms. */
  readonly cpuMs: number;
}

const workerUrl = new URL("./loadgen-worker.js", import.meta.url);

/** Load threads started once per set of targets (source ports precomputed), then run as often as needed. */
export class LoadGen {
  private constructor(private readonly workers: readonly Worker[], private readonly targets: number) {}

  /** `perNode` connections in flight on each target, over `threads` worker threads. */
  static async start(targets: readonly Target[], o: { perNode: number; threads: number }): Promise<LoadGen> {
    const wt: WorkerTarget[] = targets.map((t) => ({ host: t.host, port: t.port, owned: t.owned ?? null }));
    const workers = Array.from({ length: o.threads }, (_, w) => {
      // Slot k of each target goes to thread k mod threads.
      const slots = targets.map(() => Math.floor(o.perNode / o.threads) + (w < o.perNode % o.threads ? 1 : 0));
      const job: WorkerJob = { targets: wt, slots, worker: w, workers: o.threads };
      return new Worker(workerUrl, { workerData: job });
    });
    const gen = new LoadGen(workers, targets.length);
    try {
      await Promise.all(workers.map((w) => gen.next<string>(w)));
    } catch (e) {
      await gen.close();
      throw e;
    }
    return gen;
  }

  private next<T>(w: Worker): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`load generator thread exited (${code})`));
      w.once("message", (m: T) => (w.off("exit", onExit), w.off("error", reject), resolve(m)));
      w.once("error", reject);
      w.once("exit", onExit);
    });
  }

  async run(ms: number): Promise<LoadResult> {
    const cpu0 = process.cpuUsage();
    const results = await Promise.all(this.workers.map((w) => {
      const r = this.next<WorkerResult>(w);
      w.postMessage({ ms } satisfies WorkerCommand);
      return r;
    }));
    const cpu = process.cpuUsage(cpu0);
    return {
      handshakes: Array.from({ length: this.targets }, (_, i) => results.reduce((a, r) => a + r.handshakes[i]!, 0)),
      errors: results.reduce((a, r) => a + r.errors, 0),
      seconds: Math.max(...results.map((r) => r.seconds)),
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
