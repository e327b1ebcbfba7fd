// A shard: a worker thread that runs the relays of the buckets the main
// thread gives it (DESIGN.md "Shape of one node"). It holds no socket and
// nothing that cannot be rebuilt: every connection can be restored on
// another shard from the relay checkpoints the main thread stores.
//
//   main ──ToShard──> here: Relay.create/restore, input at absolute offsets
//   here ──ToMain───> main: one batch per input event, all of one incoming
//                           turn's batches in one postMessage (src/node/messages.ts)
//
// The kernel transport's acknowledgements: the main thread survives a
// shard and processes a batch in order, so once a batch is posted
//   * its checkpoints are stored before any later item is acted on
//     → `relay.stored(seq)` right after queuing the checkpoint (law 1);
//   * bytes for the client or the backend will be written by the main
//     thread whatever happens to us → `clientAcked` / `backendAcked`.
// Holding a turn's batches until the turn is done changes none of this: the
// turn's batches go in one postMessage, so a shard that dies before it has
// lost every output of the turn, as if it had died before the turn began
// (the main thread still keeps that input and replays it).
// A connection the cluster replicates (open/restore with `replicated`) is
// the exception to the first point: its checkpoints are stored when its
// mirrors acknowledge them, so `relay.stored(seq)` waits for the main
// thread's "stored" message (docs/cluster-protocol.md §10.1 item 4).
// The relay itself knows nothing of this (clustered TCP acknowledges later).
import { parentPort, workerData } from "node:worker_threads";
import { composeProvider, defaultProvider, PROVIDERS, type CryptoProvider } from "../crypto/provider.js";
import { pooledRandom } from "../crypto/random-pool.js";
import type { RsaPrivateKey } from "../crypto/types.js";
import { decodeRelaySnapshot, encodeRelayCheckpoint } from "../relay/checkpoint.js";
import { Relay, type RelayOutput } from "../relay/relay.js";
import type { TlsServerConfig } from "../tls/config.js";
import type { EngineDeps } from "../tls/server.js";
import { tlsConfigOf } from "../node/certificates.js";
import { ShardErrors, type CertificateGeneration, type ShardInit, type ShardItem, type ToMain, type ToMainConn, type ToMainSession, type ToShard, type ToShardTurn } from "../node/messages.js";
import { ShardSessionCopy } from "../node/sessions.js";

/** The TLS configuration of one certificate generation, built identically on every shard (law 0). */
export function shardTlsConfig(g: CertificateGeneration): TlsServerConfig {
  return tlsConfigOf(g.certificates);
}

/** Thrown past the per-connection error handling: a test asked the shard to die. */
class DieForTest extends Error {}

function die(how: "throw" | "exit"): never {
  if (how === "exit") process.exit(1);
  throw new DieForTest("shard: told to die (test)");
}

class Shard {
  private dieAt: Extract<ToShard, { t: "die-at" }> | null = null;
  private readonly relays = new Map<number, Relay>();
  /** Certificate generations by number; a connection uses the one it was opened under (see CertificateGeneration). */
  private readonly configs = new Map<number, TlsServerConfig>();
  /** rsaInShard: private keys by generation, then key id. */
  private readonly keys = new Map<number, Readonly<Record<string, RsaPrivateKey>>>();
  /** rsaInShard: the generation of each connection (its keys). */
  private readonly gens = new Map<number, number>();
  /** Connections whose checkpoints are stored only on "stored" (replicated by the cluster). */
  private readonly replicated = new Set<number>();
  /** Each connection's incarnation (open/restore), echoed in its batches. */
  private readonly epochs = new Map<number, number>();
  private readonly provider: CryptoProvider;
  private readonly random = pooledRandom();
  /**
   * This shard's copy of the node's session cache (src/node/sessions.ts): the
   * engine's put/remove go into this turn's output, ahead of the batch that
   * made them (so the session is in the node's cache before the Finished
   * that completes its handshake is written).
   */
  private readonly sessions: ShardSessionCopy;
  /** This turn's output, posted as one message by postTurn(). */
  private out: (ToMainConn | ToMainSession)[] = [];
  private outTransfer: ArrayBuffer[] = [];

  constructor(private readonly init: ShardInit, private readonly post: (m: ToMain, transfer: ArrayBuffer[]) => void) {
    for (const g of init.generations) this.addGeneration(g);
    this.provider = init.provider === "default" ? defaultProvider : composeProvider({ rsa: init.provider });
    this.sessions = new ShardSessionCopy(init.sessionTtlMs, init.sessions, (change) => this.out.push({ t: "session", change }));
  }

  private addGeneration(g: CertificateGeneration): void {
    this.configs.set(g.gen, shardTlsConfig(g));
    if (g.keys) this.keys.set(g.gen, g.keys);
  }

  private deps(): EngineDeps {
    return { provider: this.provider, random: this.random, now: () => Date.now(), sessions: this.sessions };
  }

  private opts() {
    return this.init.maxRecord !== undefined ? { maxRecord: this.init.maxRecord } : {};
  }

  /** One incoming message: a turn's events, then one post with all they produced. */
  turn(ms: ToShardTurn): void {
    for (const m of ms) {
      // Read by the main thread only if we die here (ShardInit.busy).
      this.init.busy[0] = "conn" in m ? m.conn : 0;
      this.handle(m);
    }
    this.init.busy[0] = 0;
    this.postTurn();
  }

  postTurn(): void {
    if (this.out.length === 0) return;
    const list = this.out;
    const transfer = this.outTransfer;
    this.out = [];
    this.outTransfer = [];
    this.post({ t: "batches", list }, transfer);
  }

  handle(m: ToShard): void {
    if (m.t === "die") die(m.how);
    if (m.t === "die-at") {
      this.dieAt = m;
      return;
    }
    // Not per connection: the main thread validated the set with the same
    // tlsConfigOf, so a throw here is a bug and may take the shard down.
    if (m.t === "certificates") return void this.addGeneration(m.generation);
    if (m.t === "forget-certificates") {
      this.keys.delete(m.gen);
      return void this.configs.delete(m.gen);
    }
    if (m.t === "session") return this.sessions.apply(m.change);
    try {
      this.dispatch(m);
    } catch (e) {
      if (e instanceof DieForTest) throw e;
      const epoch = m.t === "open" || m.t === "restore" ? m.epoch : this.epochs.get(m.conn) ?? -1;
      this.forget(m.conn);
      this.out.push({ t: "conn-error", conn: m.conn, epoch, message: e instanceof Error ? e.message : String(e) });
    }
  }

  private dispatch(m: Exclude<ToShard, { t: "die" | "die-at" | "certificates" | "forget-certificates" | "session" }>): void {
    if (m.t === "open" || m.t === "restore") {
      if (this.relays.has(m.conn)) throw ShardErrors.duplicateConnection(m.conn);
      const config = this.configs.get(m.gen);
      if (!config) throw ShardErrors.unknownGeneration(m.conn, m.gen);
      const relay = m.t === "open" || m.snapshot === null
        ? Relay.create(config, this.deps(), this.opts())
        : Relay.restore(config, this.deps(), decodeRelaySnapshot(m.snapshot), this.opts());
      this.relays.set(m.conn, relay);
      this.gens.set(m.conn, m.gen);
      this.epochs.set(m.conn, m.epoch);
      if (m.replicated) this.replicated.add(m.conn);
      this.flush(m.conn, relay);
      return;
    }
    const relay = this.relays.get(m.conn);
    if (!relay) {
      if (m.t === "drop" || m.t === "rsa-done" || m.t === "stored" || m.t === "local") return; // already gone / stale
      throw ShardErrors.unknownConnection(m.conn, m.t);
    }
    switch (m.t) {
      case "client": relay.clientData(m.data, m.offset); break;
      case "client-end": relay.clientEnded(m.offset); break;
      case "backend": relay.backendData(m.data, m.offset); break;
      case "backend-end": relay.backendEnded(m.offset); break;
      case "backend-connected": relay.backendConnectedEvent(); break;
      case "backend-failed": relay.backendFailedEvent(`backend: ${m.reason}`); break;
      case "rsa-done": relay.rsaDone(m.id, m.premaster); break;
      case "stored": relay.stored(m.seq); break;
      case "local":
        this.replicated.delete(m.conn);
        relay.stored(relay.lastSeq);
        break;
      case "drop":
        this.forget(m.conn);
        return;
      default: exhaustive(m);
    }
    this.flush(m.conn, relay);
  }

  private forget(conn: number): void {
    this.relays.delete(conn);
    this.gens.delete(conn);
    this.replicated.delete(conn);
    this.epochs.delete(conn);
  }

  /** Drains the relay into one batch, acknowledging as the kernel transport allows (see the header). */
  private flush(conn: number, relay: Relay): void {
    const items: ShardItem[] = [];
    const transfer = this.outTransfer;
    const local = !this.replicated.has(conn);
    let dying: "before-post" | "after-post" | null = null;
    const own = (b: Uint8Array): Uint8Array => {
      // Transfer only whole buffers; a view of a bigger one is copied first.
      const mine = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !(b.buffer instanceof SharedArrayBuffer) ? b : b.slice();
      transfer.push(mine.buffer as ArrayBuffer);
      return mine;
    };
    for (;;) {
      const outs: RelayOutput[] = relay.drain();
      if (outs.length === 0) break;
      // Acknowledged once per drain, after its items are queued: each
      // acknowledgement is a relay step with its own checkpoint, and a
      // 64 KiB backend read makes four records (five checkpoints became two).
      let clientAck = -1;
      let backendAck = -1;
      for (const o of outs) {
        switch (o.kind) {
          case "checkpoint":
            if (this.dieAt && o.checkpoint.handshake?.phase === this.dieAt.phase) dying = this.dieAt.when;
            items.push({ k: "checkpoint", seq: o.seq, bytes: own(encodeRelayCheckpoint(o.checkpoint)) });
            if (local) relay.stored(o.seq);
            break;
          case "client":
            items.push({ k: "client", offset: o.offset, data: own(o.data) });
            clientAck = o.offset + o.data.length;
            break;
          case "backend":
            if (this.init.dieOnPlaintext !== undefined && Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength).includes(this.init.dieOnPlaintext)) die("exit");
            items.push({ k: "backend", offset: o.offset, data: own(o.data) });
            backendAck = o.offset + o.data.length;
            break;
          case "rsa": {
            const rsa = this.init.rsaInShard;
            if (rsa !== undefined) {
              // No thread hop: answered here, and the next drain() carries on with the handshake.
              const key = this.keys.get(this.gens.get(conn) ?? -1)?.[o.keyId];
              if (!key) throw new Error(`shard: no private key ${JSON.stringify(o.keyId)} for connection ${conn}`);
              const t0 = performance.now();
              const premaster = PROVIDERS[rsa].rsaDecryptPremaster(key, o.ciphertext, o.clientVersion, o.random46);
              items.push({ k: "rsa-local", ms: performance.now() - t0, ok: true });
              relay.rsaDone(o.id, premaster);
              break;
            }
            items.push({ k: "rsa", id: o.id, keyId: o.keyId, ciphertext: o.ciphertext.slice(), clientVersion: o.clientVersion, random46: o.random46.slice() });
            break;
          }
          case "connect-backend":
          case "end-client":
          case "end-backend":
            items.push({ k: o.kind });
            break;
          case "handshake-complete":
            items.push({ k: "handshake-complete", resumed: o.session.resumed, cipherSuite: o.session.cipherSuite, version: o.session.version });
            break;
          case "closed":
            items.push({ k: "closed", reason: o.reason, ...(o.alert !== undefined && { alert: o.alert }), ...(o.detail !== undefined && { detail: o.detail }) });
            break;
          case "session-invalidated":
            // The engine already called sessions.remove(): the node's cache hears it from ShardSessionCopy.
            break;
          default:
            exhaustive(o);
        }
      }
      if (clientAck >= 0) relay.clientAcked(clientAck);
      if (backendAck >= 0) relay.backendAcked(backendAck);
    }
    if (dying === "before-post") die(this.dieAt!.how);
    if (items.length > 0) this.out.push({ t: "batch", conn, epoch: this.epochs.get(conn)!, items });
    if (dying === "after-post") {
      this.postTurn();
      die(this.dieAt!.how);
    }
  }
}

function exhaustive(x: never): never {
  throw new Error(`shard bug: unhandled ${JSON.stringify(x)}`);
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as ShardInit;
  if (init.failToLoad) throw ShardErrors.failedToLoad(init.shard);
  const shard = new Shard(init, (m, transfer) => port.postMessage(m, transfer));
  port.on("message", (ms: ToShardTurn) => shard.turn(ms));
  port.postMessage({ t: "ready", shard: init.shard } satisfies ToMain);
}
