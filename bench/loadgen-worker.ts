// One thread of the load generator (bench/loadgen.ts): closed-loop TLS
// clients on its share of the connection slots, each doing a full handshake
// (no session is offered) and a GET, until the deadline; posts the counts.
import { parentPort, workerData } from "node:worker_threads";
import { connect } from "node:tls";
import { bucketOf } from "../src/node/buckets.js";
import type { WorkerCommand, WorkerJob, WorkerResult, WorkerTarget } from "./loadgen.js";

/** Source addresses used when a port is chosen: loopback aliases nothing else binds. */
const SOURCE_HOSTS = ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"];
const FIRST_PORT = 20_000;
const LAST_PORT = 39_999;

type Source = { localAddress?: string; localPort?: number };

/** Cycles through (address, port) pairs whose bucket the target owns; the whole range differs per worker by its offset. */
function sourceCycle(t: WorkerTarget, worker: number, workers: number): () => Source {
  const owned = t.owned;
  if (owned === null) return () => ({});
  const pairs: Array<{ localAddress: string; localPort: number }> = [];
  for (const host of SOURCE_HOSTS) {
    // Each worker takes every `workers`-th port so two threads never bind the same pair.
    for (let p = FIRST_PORT + worker; p <= LAST_PORT; p += workers) {
      if (owned[bucketOf({ address: host, port: p }, { address: t.host, port: t.port })] === 1) pairs.push({ localAddress: host, localPort: p });
    }
  }
  if (pairs.length === 0) throw new Error(`load generator: node ${t.host}:${t.port} owns no bucket`);
  let i = Math.floor(Math.random() * pairs.length);
  return () => pairs[i++ % pairs.length]!;
}

/** One connection: handshake, GET, read to the close; true when the whole reply came. */
function oneConnection(t: WorkerTarget, source: Source): Promise<boolean> {
  return new Promise((resolve) => {
    let got = 0;
    const s = connect({
      host: t.host, port: t.port, ...source,
      rejectUnauthorized: false, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES128-SHA:@SECLEVEL=0",
    }, () => s.write("GET / HTTP/1.0\r\n\r\n"));
    // The backend answers and closes; ending first would send close_notify before the reply.
    s.setTimeout(10_000, () => s.destroy());
    s.on("data", (d: Buffer) => (got += d.length));
    s.on("error", () => {});
    s.on("close", () => resolve(got >= 100));
  });
}

/** Runs the job's connections for `ms`; the time is taken from the first connection to the last close. */
async function run(job: WorkerJob, sources: ReadonlyArray<() => Source>, ms: number): Promise<WorkerResult> {
  const handshakes = job.targets.map(() => 0);
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(job.targets.flatMap((t, i) => Array.from({ length: job.slots[i]! }, async () => {
    while (performance.now() < end) {
      if (await oneConnection(t, sources[i]!())) handshakes[i]!++;
      else errors++;
    }
  })));
  return { handshakes, errors, seconds: (performance.now() - t0) / 1000 };
}

const job = workerData as WorkerJob;
const sources = job.targets.map((t) => sourceCycle(t, job.worker, job.workers));
parentPort!.on("message", (msg: WorkerCommand) => {
  void run(job, sources, msg.ms).then((r) => parentPort!.postMessage(r));
});
parentPort!.postMessage("ready");
