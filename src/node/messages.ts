// Every message between the main thread and a shard, in one module (STYLE.md
// §9, piscina's types.ts).
//
//   main ──ToShard──> shard: connection opened / restored, input bytes at
//                            absolute offsets, backend events, RSA results
//   shard ──ToMain──> main:  one batch per input event, in order: relay
//                            checkpoints, bytes to write, RSA requests, events
//
// Both directions are sent one postMessage per event-loop turn: the main
// thread posts a ToShardTurn (every event of the turn for that shard) and
// the shard answers it with one "batches" message (every connection batch
// it produced, in order).
//
// Transport: MessagePort with the data buffers in the transfer list.
// `npm run build && node dist/bench/transport-micro.js` on this 2-core
// machine (16 KiB chunks, 32 in flight, echoed with a 64-byte checkpoint):
// port + transfer 3,232 MB/s, port copying 1,281 MB/s, a SharedArrayBuffer
// SPSC ring woken by Atomics.notify/waitAsync 1,073 MB/s; a 100-byte round
// trip costs 60-70 µs on all three. The ring copies twice and pays a notify
// per frame, so the port with transfers is kept.
//
// A batch is atomic (one postMessage): a shard that dies mid-turn delivers
// all of the turn's batches or none of them, which is what lets the shard treat "posted" as
// "stored by the main thread" (see src/shard/shard.ts).
import type { RsaProviderName } from "../crypto/rsa-pool.js";
import type { RsaPrivateKey } from "../crypto/types.js";
import type { SessionData } from "../tls/session-cache.js";
import type { ShardCertificate } from "./certificates.js";
import type { SessionChange } from "./sessions.js";

/**
 * One certificate generation: the set loaded at start or by one SIGHUP.
 * A connection keeps the generation it was accepted under for its whole
 * life: a restored snapshot names its certificate by index (certIndex) and
 * its RSA request by key id, both meaningful only within that set.
 */
export interface CertificateGeneration {
  readonly gen: number;
  readonly certificates: readonly ShardCertificate[];
  /** The private keys by key id, only when shards run RSA themselves (rsaWorkers 0). */
  readonly keys?: Readonly<Record<string, RsaPrivateKey>>;
}

export interface ShardInit {
  readonly shard: number;
  /** Every generation still used by a connection; the last is the current one. */
  readonly generations: readonly CertificateGeneration[];
  readonly provider: RsaProviderName | "default";
  /** RSA in the shard (rsaWorkers 0) with this provider, instead of asking the main thread's pool. */
  readonly rsaInShard?: RsaProviderName;
  readonly maxRecord?: number;
  /** The node's session cache at spawn (src/node/sessions.ts); later changes come as "session" messages. */
  readonly sessions: readonly SessionData[];
  /** Session lifetime in ms (the copy refuses expired sessions; the node's cache announces their removal). */
  readonly sessionTtlMs: number;
  /**
   * One slot of shared memory: the connection the shard is handling (0 when
   * idle). A dead thread posts nothing, so this is how the main thread
   * learns which connection was being handled when it died (poison
   * detection, src/node/daemon.ts).
   */
  readonly busy: Float64Array;
  /** Tests only: die when producing backend plaintext that contains this (DaemonOptions.testDieOnPlaintext). */
  readonly dieOnPlaintext?: string;
  /** Tests only: throw while loading, before "ready" (DaemonOptions.testShardFailsToLoad). */
  readonly failToLoad?: boolean;
}

export type ToShard =
  /**
   * `replicated`: the cluster replicates this connection (its bucket is this
   * member's, docs/cluster-protocol.md §10.1): a checkpoint counts as stored
   * only on a "stored" message, not once posted.
   */
  | { readonly t: "open"; readonly conn: number; readonly epoch: number; readonly gen: number; readonly replicated?: true }
  /**
   * Take over a connection from the store (its shard died, or its bucket
   * moved here); null: no checkpoint stored yet, start afresh. `epoch`: the
   * connection's incarnation, echoed in every batch (the main thread ignores
   * batches of an earlier one).
   */
  | { readonly t: "restore"; readonly conn: number; readonly epoch: number; readonly gen: number; readonly snapshot: Uint8Array | null; readonly replicated?: true }
  /** A replicated connection's checkpoints up to `seq` are acknowledged by its mirrors (law 1: release what waited). */
  | { readonly t: "stored"; readonly conn: number; readonly seq: number }
  /** The connection is no longer replicated (the cluster channel closed): everything posted counts as stored, as on one node. */
  | { readonly t: "local"; readonly conn: number }
  /** A new certificate generation (SIGHUP); new connections will name it. */
  | { readonly t: "certificates"; readonly generation: CertificateGeneration }
  /** No connection uses this generation any more. */
  | { readonly t: "forget-certificates"; readonly gen: number }
  | { readonly t: "client"; readonly conn: number; readonly offset: number; readonly data: Uint8Array }
  | { readonly t: "client-end"; readonly conn: number; readonly offset: number }
  | { readonly t: "backend"; readonly conn: number; readonly offset: number; readonly data: Uint8Array }
  | { readonly t: "backend-end"; readonly conn: number; readonly offset: number }
  | { readonly t: "backend-connected"; readonly conn: number }
  | { readonly t: "backend-failed"; readonly conn: number; readonly reason: string }
  | { readonly t: "rsa-done"; readonly conn: number; readonly id: number; readonly premaster: Uint8Array }
  /** A change of the node's session cache, whoever made it (this shard's own changes come back too). */
  | { readonly t: "session"; readonly change: SessionChange }
  /** Forget the connection: its sockets are gone, or its bucket moved to another shard. */
  | { readonly t: "drop"; readonly conn: number }
  /** Tests: die in the way named (an uncaught exception or process.exit). */
  | { readonly t: "die"; readonly how: "throw" | "exit" }
  /**
   * Tests: die the moment a relay checkpoint whose engine phase is `phase`
   * is produced, before the batch holding it is posted (it is lost) or right
   * after (it is stored, nothing later is).
   */
  | { readonly t: "die-at"; readonly phase: string; readonly how: "throw" | "exit"; readonly when: "before-post" | "after-post" };

export type ShardItem =
  | { readonly k: "checkpoint"; readonly seq: number; readonly bytes: Uint8Array }
  | { readonly k: "client"; readonly offset: number; readonly data: Uint8Array }
  | { readonly k: "backend"; readonly offset: number; readonly data: Uint8Array }
  | {
      readonly k: "rsa";
      readonly id: number;
      readonly keyId: string;
      readonly ciphertext: Uint8Array;
      readonly clientVersion: number;
      readonly random46: Uint8Array;
    }
  /** The shard ran an RSA operation itself (rsaInShard): for the counters and metrics. */
  | { readonly k: "rsa-local"; readonly ms: number; readonly ok: boolean }
  | { readonly k: "connect-backend" }
  | { readonly k: "end-client" }
  | { readonly k: "end-backend" }
  | { readonly k: "handshake-complete"; readonly resumed: boolean; readonly cipherSuite: string; readonly version: number }
  | { readonly k: "closed"; readonly reason: string; readonly alert?: string; readonly detail?: string };

export type ToMainConn =
  | { readonly t: "batch"; readonly conn: number; readonly epoch: number; readonly items: readonly ShardItem[] }
  /** The shard could not handle a message for this connection (a bug or a broken snapshot): close it. */
  | { readonly t: "conn-error"; readonly conn: number; readonly epoch: number; readonly message: string };

/**
 * A session the shard's engine put in or removed from its copy of the node's
 * cache. Queued in the turn before the batch whose checkpoint finished the
 * handshake, so the node holds the session before its Finished is written.
 */
export type ToMainSession = { readonly t: "session"; readonly change: SessionChange };

export type ToMain =
  | { readonly t: "ready"; readonly shard: number }
  /** Everything one incoming message (a turn's ToShard[]) produced, in order; one postMessage, so atomic. */
  | { readonly t: "batches"; readonly list: readonly (ToMainConn | ToMainSession)[] };

/**
 * What the main thread posts: every ToShard of one event-loop turn for that
 * shard, in order (flushed in setImmediate), so a shard is woken once per
 * turn instead of once per socket event.
 */
export type ToShardTurn = readonly ToShard[];

/** Errors built by named factories (STYLE.md §9). */
export const ShardErrors = {
  unknownConnection: (conn: number, t: string) => new Error(`shard: "${t}" for connection ${conn}, which this shard does not run`),
  unknownGeneration: (conn: number, gen: number) => new Error(`shard: connection ${conn} names certificate generation ${gen}, which this shard does not hold`),
  duplicateConnection: (conn: number) => new Error(`shard: connection ${conn} opened twice`),
  failedToLoad: (shard: number) => new Error(`shard ${shard}: told to fail while loading (test)`),
} as const;

/** Daemon.start() failed; `part` says what (the CLI names the flag for "listen"). */
export class DaemonStartError extends Error {
  override readonly name = "DaemonStartError";
  constructor(readonly part: "shard" | "listen", message: string, cause: unknown) {
    super(`${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The daemon's own errors (STYLE.md §9). */
export const DaemonErrors = {
  /** A shard's worker failed before it was ready; `cause` is its error. */
  shardStartFailed: (shard: number, cause: unknown) => new DaemonStartError("shard", `shard ${shard} failed to start`, cause),
  listenFailed: (address: string, port: number, cause: unknown) => new DaemonStartError("listen", `listen on ${address}:${port}`, cause),
} as const;
