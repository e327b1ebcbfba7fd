// The RSA "crypto coprocessor" (SSLACC appendix A.1): private-key operations
// are submitted asynchronously to a piscina pool of worker threads and come
// back through a promise, so the thread running the TLS engine never blocks
// for the ~1 ms an RSA-2048 private operation costs.
//
// Keys are handed to the workers once, at pool creation (workerData), and
// tasks name a key by id: a task is then ~300 bytes instead of a whole key.
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import type { RsaPrivateKey } from "./types.js";

export type RsaProviderName = "wasm" | "native";

/** Messages between the pool and its workers (one module: STYLE.md §9). */
export type RsaTask =
  | { readonly op: "private"; readonly keyId: string; readonly input: Uint8Array }
  | {
      readonly op: "premaster";
      readonly keyId: string;
      readonly ciphertext: Uint8Array;
      readonly clientVersion: number;
      readonly random46: Uint8Array;
    };

export interface RsaWorkerData {
  readonly provider: RsaProviderName;
  readonly keys: Readonly<Record<string, RsaPrivateKey>>;
}

export interface RsaPoolOptions {
  readonly keys: Readonly<Record<string, RsaPrivateKey>>;
  readonly provider?: RsaProviderName;
  /** Worker threads; default: one per core. */
  readonly threads?: number;
  /** Tasks allowed to wait for a worker before submissions are refused. */
  readonly maxQueue?: number;
}

export interface RsaPoolStats {
  readonly threads: number;
  readonly queued: number;
  readonly completed: number;
  readonly refused: number;
  readonly failed: number;
  /** Milliseconds a task waited for a worker / ran on it. */
  readonly waitTimeMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly runTimeMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly utilization: number;
}

/** The pool refused a task because its queue is full: shed load, don't wait. */
export class RsaPoolSaturated extends Error {
  override readonly name = "RsaPoolSaturated";
  constructor(maxQueue: number) {
    super(`RSA pool queue is full (${maxQueue} tasks waiting); refusing the handshake`);
  }
}

export class UnknownRsaKey extends Error {
  override readonly name = "UnknownRsaKey";
  constructor(keyId: string) {
    super(`RSA pool has no key with id ${JSON.stringify(keyId)}`);
  }
}

export class RsaPool {
  readonly #pool: Piscina<RsaTask, Uint8Array>;
  readonly #keyIds: ReadonlySet<string>;
  readonly #maxQueue: number;
  #refused = 0;
  #failed = 0;

  constructor(options: RsaPoolOptions) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`rsa pool: threads must be a positive integer, got ${threads}`);
    this.#maxQueue = options.maxQueue ?? 1024;
    this.#keyIds = new Set(Object.keys(options.keys));
    const workerData: RsaWorkerData = { provider: options.provider ?? "wasm", keys: options.keys };
    this.#pool = new Piscina({
      filename: fileURLToPath(new URL("./rsa-worker.js", import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      maxQueue: this.#maxQueue,
      idleTimeout: Infinity,
      workerData,
    });
  }

  /** Raw RSA private operation (m = c^d mod n), k bytes big-endian. */
  privateOp(keyId: string, input: Uint8Array): Promise<Uint8Array> {
    return this.#run({ op: "private", keyId, input });
  }

  /**
   * Decrypt a ClientKeyExchange and unpad it per RFC 5246 §7.4.7.1: always 48
   * bytes; a bad block yields `clientVersion || random46`, indistinguishably.
   */
  decryptPremaster(keyId: string, ciphertext: Uint8Array, clientVersion: number, random46: Uint8Array): Promise<Uint8Array> {
    return this.#run({ op: "premaster", keyId, ciphertext, clientVersion, random46 });
  }

  async #run(task: RsaTask): Promise<Uint8Array> {
    if (!this.#keyIds.has(task.keyId)) throw new UnknownRsaKey(task.keyId);
    if (this.#pool.queueSize >= this.#maxQueue) {
      this.#refused++;
      throw new RsaPoolSaturated(this.#maxQueue);
    }
    try {
      return await this.#pool.run(task);
    } catch (err) {
      if (err instanceof Error && /queue is at limit/i.test(err.message)) {
        this.#refused++;
        throw new RsaPoolSaturated(this.#maxQueue);
      }
      this.#failed++;
      throw err;
    }
  }

  stats(): RsaPoolStats {
    const h = this.#pool.histogram;
    // piscina records milliseconds; a summary of an empty histogram is NaN-free zeros.
    const pick = (s: typeof h.runTime) => ({ p50: s.p50, p99: s.p99, max: s.max });
    return {
      threads: this.#pool.threads.length,
      queued: this.#pool.queueSize,
      completed: this.#pool.completed,
      refused: this.#refused,
      failed: this.#failed,
      waitTimeMs: pick(h.waitTime),
      runTimeMs: pick(h.runTime),
      utilization: this.#pool.utilization,
    };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
