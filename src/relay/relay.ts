// The relay state machine: one per connection, wrapping the TLS engine
// (src/tls/server.ts) and enforcing the three laws of DESIGN.md on top of it.
// Sans-I/O and transport-agnostic (STYLE.md §1): a shard drives it over the
// kernel-socket transport today, the clustered-TCP engine will tomorrow.
//
//   client ciphertext ─clientData(off)─>  engine ─plaintext─> [§5.5 read queue] ─backend(off)─> backend
//   backend plaintext ─backendData(off)─> [cut records, pre-write §5.6] ─engine.send─> [write queue] ─client(off)─> client
//   every change ─> RelayCheckpoint ─> store ─stored(seq)─> held client output released (law 1)
//   backendAcked / clientAcked ─> queues pop ─> checkpoint says the input is consumed (law 2)
//
// What the laws become here:
// * Cluster, then commit: every byte for the client waits for the relay
//   checkpoint that ends the step which produced it. That checkpoint holds
//   the handshake state the bytes depend on, or — for data records — their
//   sizes (the pre-write, SSLACC §5.6).
// * Unclustered data only if reproducible: a client record counts as
//   consumed only when the backend has its plaintext (`backendAcked`, §5.5);
//   backend bytes count as consumed only when the client has the record
//   made of them (`clientAcked`). Until then the transport keeps the input and
//   replays it into a restored relay.
// * Same output: a restored relay regenerates from the checkpointed offsets,
//   cuts the pre-written records first with exactly their sizes, and does not
//   let client input run ahead of them (an alert would otherwise land between
//   different records than before).
//
// The engine's own transmit gating is switched off (it is acknowledged at
// once, after every call): the relay's rule above is stricter — a relay
// checkpoint holds every engine checkpoint emitted before it — and it keeps
// the engine's outputs in generation order (plaintext before its read delta).
//
// When the transport calls `backendAcked`/`clientAcked` is its business: the
// kernel transport knows a byte is safe once the main thread (which survives
// a shard) has it; clustered TCP will wait for the peer's ACK.
import { MAX_PLAINTEXT_LENGTH } from "../tls/codec/index.js";
import type { ConnectionSnapshot } from "../tls/checkpoint.js";
import type { TlsServerConfig } from "../tls/config.js";
import type { CloseReason } from "../tls/states.js";
import { ServerConnection, type EngineDeps, type EngineOutput, type SessionSummary } from "../tls/server.js";
import { ENGINE_RECORD, type EngineDelta, type RelayCheckpoint, type RelayFields, type RelaySnapshot } from "./checkpoint.js";

export interface RelayOptions {
  /** Largest plaintext per backend→client record (≤ 2^14, RFC 5246 §6.2.1). */
  readonly maxRecord?: number;
}

export type RelayOutput =
  /** Store it, then call `stored(seq)`; held client output waits for it. */
  | { readonly kind: "checkpoint"; readonly seq: number; readonly checkpoint: RelayCheckpoint }
  /** Ciphertext for the client at an absolute offset (may repeat after a restore: drop what was written). */
  | { readonly kind: "client"; readonly data: Uint8Array; readonly offset: number }
  /** Plaintext for the backend at an absolute offset (idem). */
  | { readonly kind: "backend"; readonly data: Uint8Array; readonly offset: number }
  /** The engine's asynchronous RSA request, passed through unchanged. */
  | Extract<EngineOutput, { kind: "rsa" }>
  /** SSLACC §5.3: connect to the backend (idempotent: answer `backendConnected` if already connected). */
  | { readonly kind: "connect-backend" }
  /** No more output for this side: shut it down after what was sent before (SSLACC §5.7, §4.10). */
  | { readonly kind: "end-client" }
  | { readonly kind: "end-backend" }
  | { readonly kind: "handshake-complete"; readonly session: SessionSummary }
  | { readonly kind: "session-invalidated"; readonly sessionId: Uint8Array }
  | { readonly kind: "closed"; readonly reason: CloseReason; readonly alert?: string; readonly detail?: string };

/** Programming errors of the caller (gaps in offsets): the connection cannot go on. */
export class RelayError extends Error {
  override readonly name = "RelayError";
}

/** A client record whose plaintext went to the backend, not yet acknowledged (SSLACC §5.5). */
interface ReadEntry {
  /** Relay→backend offset after its plaintext. */
  readonly plainEnd: number;
  /** Client offset after the record. */
  readonly clientEnd: number;
  delta: EngineDelta | null;
}

/** A record written to the client, not yet acknowledged (SSLACC §5.6). */
interface WriteEntry {
  /** Plaintext size, or ENGINE_RECORD. */
  readonly size: number;
  /** Relay→client offset after the record. */
  readonly end: number;
  /** Backend offset consumed once this record is acknowledged. */
  readonly backendEnd: number;
  readonly delta: EngineDelta;
  /**
   * The alert that closed the connection. SSLACC §5.7: closing is not
   * clustered; the input that caused it stays unconsumed and causes it again
   * after a restore, so this record's write state is never clustered either.
   */
  final: boolean;
}

interface Held {
  readonly out: RelayOutput;
  readonly after: number;
}

/** Backend bytes as the transport delivered them: cut records follow these chunks. */
interface Chunk {
  data: Uint8Array;
}

/** Relay.debug: offsets and queue lengths (status pages, diagnosis). */
export interface RelayDebug {
  readonly seq: number;
  readonly storedSeq: number;
  readonly fields: Omit<RelayFields, "preWrites"> & { readonly preWrites: number };
  readonly clientReceived: number;
  readonly backendReceived: number;
  readonly backendCut: number;
  readonly plainOut: number;
  readonly clientAckedTo: number;
  readonly backendAckedTo: number;
  readonly held: number;
  readonly toBackend: number;
  readonly heldClient: number;
  readonly chunks: number;
  readonly readQ: number;
  readonly writeQ: number;
  readonly forced: number;
  readonly waitingHandshake: number;
  readonly backendConnected: boolean;
  readonly closed: boolean;
}

export class Relay {
  private readonly engine: ServerConnection;
  private readonly maxRecord: number;

  // Checkpoint bookkeeping.
  private seq: number;
  private storedSeq: number;
  private dirty = false;
  private fields: RelayFields;
  private pendingHandshake: ConnectionSnapshot | null = null;
  private pendingRead: EngineDelta | null = null;
  private pendingWrite: EngineDelta | null = null;
  /** Handshake snapshots whose flight the client does not have yet (see promoteHandshake). */
  private readonly waitingHandshake: ConnectionSnapshot[] = [];
  /** The last deltas put in a checkpoint. */
  private lastRead: EngineDelta | null = null;
  private lastWrite: EngineDelta | null = null;

  // Output.
  private readonly control: RelayOutput[] = [];
  /** Client output and connect-backend, each waiting for a relay checkpoint to be stored. */
  private readonly held: Held[] = [];
  private readonly toBackend: RelayOutput[] = [];
  /** Output produced during the current step: tagged with the step's checkpoint at its end. */
  private stepHeld: RelayOutput[] = [];

  // Client side.
  private clientReceived: number;
  private heldClient: Uint8Array[] = [];
  private clientEof: number | null = null;
  /** One of the streams ended and the engine was told to close. */
  private eofHandled = false;
  private readonly readQ: ReadEntry[] = [];
  private plainOut: number;
  private backendAckedTo: number;

  // Backend side.
  private backendReceived: number;
  private readonly chunks: Chunk[] = [];
  private backendCut: number;
  private backendEof: number | null = null;
  private backendConnected = false;
  private backendFailed = false;
  private readonly writeQ: WriteEntry[] = [];
  /** Pre-written sizes inherited from a restore, still to be regenerated in order. */
  private readonly forced: number[];
  private clientAckedTo: number;

  private traffic = false;
  private closed = false;
  /** Set while a send() runs: write deltas then belong to data records. */
  private sending = -1;

  private constructor(engine: ServerConnection, opts: RelayOptions, snapshot: RelaySnapshot | null) {
    this.engine = engine;
    this.maxRecord = opts.maxRecord ?? MAX_PLAINTEXT_LENGTH;
    if (!Number.isInteger(this.maxRecord) || this.maxRecord < 1 || this.maxRecord > MAX_PLAINTEXT_LENGTH) {
      throw new RangeError(`relay maxRecord must be 1..${MAX_PLAINTEXT_LENGTH}, got ${this.maxRecord}`);
    }
    const f: RelayFields = snapshot?.fields ?? {
      clientConsumed: 0, backendWritten: 0, serverWritten: 0, backendConsumed: 0, preWrites: [], backendRequested: false,
    };
    this.fields = f;
    this.seq = this.storedSeq = snapshot?.seq ?? 0;
    this.clientReceived = f.clientConsumed;
    this.plainOut = this.backendAckedTo = f.backendWritten;
    this.backendReceived = this.backendCut = f.backendConsumed;
    this.clientAckedTo = f.serverWritten;
    this.forced = [...f.preWrites];
    this.traffic = snapshot !== null && engine.stateKind === "Traffic";
  }

  static create(config: TlsServerConfig, deps: EngineDeps, opts: RelayOptions = {}): Relay {
    return new Relay(ServerConnection.create(config, deps), opts, null);
  }

  /**
   * Continue a connection from the store's snapshot. The transport then
   * replays client bytes from `fields.clientConsumed`, backend bytes from
   * `fields.backendConsumed` and any end-of-stream, and says again whether
   * the backend is connected.
   */
  static restore(config: TlsServerConfig, deps: EngineDeps, snapshot: RelaySnapshot, opts: RelayOptions = {}): Relay {
    const f = snapshot.fields;
    const engine = ServerConnection.restore(config, deps, {
      ...snapshot.engine, clientConsumed: f.clientConsumed, serverWritten: f.serverWritten,
    });
    const r = new Relay(engine, opts, snapshot);
    // Stored already: the transport restarts the connect if it must (§5.3).
    if (f.backendRequested) r.control.push({ kind: "connect-backend" });
    r.step(() => {});
    return r;
  }

  // --- inputs ---------------------------------------------------------------------

  /** Ciphertext from the client at absolute offset `offset` (repeats are trimmed). */
  clientData(data: Uint8Array, offset: number): void {
    const fresh = trim(data, offset, this.clientReceived, "client");
    if (!fresh) return;
    this.clientReceived += fresh.length;
    this.step(() => this.heldClient.push(fresh));
  }

  /** The client's stream ended at `offset` (FIN). Without close_notify this is a truncation: we close. */
  clientEnded(offset: number): void {
    this.clientEof = offset;
    this.step(() => {});
  }

  /** Plaintext from the backend at absolute offset `offset` (repeats are trimmed). */
  backendData(data: Uint8Array, offset: number): void {
    const fresh = trim(data, offset, this.backendReceived, "backend");
    if (!fresh) return;
    this.backendReceived += fresh.length;
    this.step(() => this.chunks.push({ data: fresh }));
  }

  /** The backend's stream ended at `offset`: we send close_notify after its last record. */
  backendEnded(offset: number): void {
    this.backendEof = offset;
    this.step(() => {});
  }

  backendConnectedEvent(): void {
    this.backendConnected = true;
    this.step(() => {});
  }

  /**
   * The backend could not be reached or reset: close the client side with a
   * fatal internal_error alert (a close_notify would tell the client the
   * answer was complete). Like every closing record it is not clustered
   * (§5.7): a restored relay is told again and sends it again.
   */
  backendFailedEvent(reason = "backend failed"): void {
    this.backendFailed = true;
    this.step(() => {
      if (!this.closed) this.engineCall(() => this.engine.abort(reason));
    });
  }

  /** The backend holds relay→backend plaintext up to `offset` (SSLACC §5.5). */
  backendAcked(offset: number): void {
    if (offset <= this.backendAckedTo) return;
    this.backendAckedTo = offset;
    this.step(() => this.settleRead());
  }

  /** The client holds relay→client ciphertext up to `offset` (SSLACC §5.6). */
  clientAcked(offset: number): void {
    if (offset <= this.clientAckedTo) return;
    this.clientAckedTo = offset;
    this.step(() => {
      this.promoteHandshake();
      this.settleWrite();
    });
  }

  /** Relay checkpoints up to `seq` are stored: release what waited for them (law 1). */
  stored(seq: number): void {
    if (seq <= this.storedSeq) return;
    this.storedSeq = Math.min(seq, this.seq);
  }

  rsaDone(id: number, premaster: Uint8Array): void {
    this.step(() => this.engineCall(() => this.engine.completeRsa(id, premaster)));
  }

  /** Outputs ready now, in order per destination. */
  drain(): RelayOutput[] {
    const out = this.control.splice(0);
    let n = 0;
    while (n < this.held.length && this.held[n]!.after <= this.storedSeq) out.push(this.held[n++]!.out);
    this.held.splice(0, n);
    if (this.backendConnected || this.backendFailed) out.push(...this.toBackend.splice(0));
    return out;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Offsets and queues, for status pages and diagnosis. */
  get debug(): RelayDebug {
    return {
      seq: this.seq, storedSeq: this.storedSeq, fields: { ...this.fields, preWrites: this.fields.preWrites.length },
      clientReceived: this.clientReceived, backendReceived: this.backendReceived, backendCut: this.backendCut, plainOut: this.plainOut,
      clientAckedTo: this.clientAckedTo, backendAckedTo: this.backendAckedTo, held: this.held.length, toBackend: this.toBackend.length,
      heldClient: this.heldClient.length, chunks: this.chunks.length, readQ: this.readQ.length, writeQ: this.writeQ.length,
      forced: this.forced.length, waitingHandshake: this.waitingHandshake.length, backendConnected: this.backendConnected, closed: this.closed,
    };
  }

  /** Handshake state of the engine, for tests and status. */
  get engineState(): string {
    return this.engine.stateKind;
  }

  // --- the step ----------------------------------------------------------------------

  /**
   * One input event: run it, let both streams make progress, and end with at
   * most one checkpoint; output produced in the step waits for it (law 1).
   */
  private step(body: () => void): void {
    body();
    this.pump();
    this.collect();
    this.promoteHandshake();
    this.settleRead();
    this.settleWrite();
    this.flush();
    for (const out of this.stepHeld) this.held.push({ out, after: this.seq });
    this.stepHeld = [];
  }

  private engineCall(fn: () => void): void {
    fn();
    this.collect();
  }

  /**
   * Feeds the engine from both streams until neither can move. After a
   * restore the pre-written records are regenerated first, in order: a data
   * record from backend bytes (client input waits, so that an alert it would
   * cause cannot land before it), an engine record (an alert) from client
   * input or the backend's end (SSLACC §5.6 and the header).
   */
  private pump(): void {
    while (!this.closed) {
      const head = this.forced[0];
      const clientFree = head === undefined || head === ENGINE_RECORD;
      // Data records only once the end of the handshake is clustered:
      // pre-writes are relative to a data-phase snapshot.
      if (this.traffic && head !== ENGINE_RECORD && this.waitingHandshake.length === 0) {
        if (head !== undefined && this.available() >= head) {
          this.sendRecord(head);
          this.forced.shift();
          continue;
        }
        if (head === undefined && this.chunks.length > 0) {
          this.sendRecord(Math.min(this.chunks[0]!.data.length, this.maxRecord));
          continue;
        }
      }
      if (clientFree && this.heldClient.length > 0) {
        const data = this.heldClient.shift()!;
        this.engineCall(() => this.engine.receive(data));
        continue;
      }
      break;
    }
    if (this.closed) return;
    const head = this.forced[0];
    if (head !== undefined && head !== ENGINE_RECORD) return;
    if (this.clientEof !== null && !this.eofHandled && this.heldClient.length === 0 && this.clientReceived >= this.clientEof) {
      // A FIN without close_notify is a truncation (RFC 5246 §7.2.1): close both sides.
      this.eofHandled = true;
      this.engineCall(() => this.engine.close());
    } else if (this.backendEof !== null && !this.eofHandled && this.backendReceived >= this.backendEof && this.chunks.length === 0) {
      // SSL forbids half-close (SSLACC §4.10): the backend's end is ours, after its last record.
      this.eofHandled = true;
      this.engineCall(() => this.engine.close());
    }
  }

  private sendRecord(size: number): void {
    const plain = this.take(size);
    this.sending = plain.length;
    try {
      this.engineCall(() => this.engine.send(plain));
    } finally {
      this.sending = -1;
    }
  }

  private available(): number {
    let n = 0;
    for (const c of this.chunks) n += c.data.length;
    return n;
  }

  /** `size` bytes from the head of the chunk list (a forced size may span chunks). */
  private take(size: number): Uint8Array {
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.data.length >= size) {
      out = first.data.subarray(0, size);
      first.data = first.data.subarray(size);
      if (first.data.length === 0) this.chunks.shift();
    } else {
      out = new Uint8Array(size);
      let at = 0;
      while (at < size) {
        const c = this.chunks[0]!;
        const n = Math.min(c.data.length, size - at);
        out.set(c.data.subarray(0, n), at);
        at += n;
        c.data = c.data.subarray(n);
        if (c.data.length === 0) this.chunks.shift();
      }
    }
    this.backendCut += size;
    return out;
  }

  /** Routes the engine's released outputs. */
  private collect(): void {
    for (;;) {
      // The relay gates output itself (see the header).
      this.engine.acknowledge(this.engine.lastCheckpointSeq);
      const outs = this.engine.drain();
      if (outs.length === 0) return;
      for (const o of outs) this.route(o);
    }
  }

  private route(o: EngineOutput): void {
    switch (o.kind) {
      case "checkpoint": {
        const c = o.checkpoint;
        if (c.kind === "handshake") {
          // SSLACC §5.1 Figure 20: a snapshot that says our flight was sent
          // (serverWritten past it: the ends of the full and resumed
          // handshakes) is clustered only once the client has that flight;
          // before that the previous snapshot, which regenerates it, stands.
          this.waitingHandshake.push(c.snapshot);
          this.promoteHandshake();
        } else if (c.direction === "read") {
          const last = this.readQ[this.readQ.length - 1];
          if (last && last.clientEnd === c.clientConsumed) last.delta = c;
          else this.readQ.push({ plainEnd: this.plainOut, clientEnd: c.clientConsumed, delta: c });
          this.settleRead();
        } else {
          // SSLACC §5.6: the record's size goes into the next checkpoint
          // before the record may be written.
          const size = this.sending >= 0 ? this.sending : ENGINE_RECORD;
          if (this.sending < 0 && this.forced[0] === ENGINE_RECORD) this.forced.shift();
          this.writeQ.push({ size, end: c.serverWritten, backendEnd: this.backendCut, delta: c, final: false });
          this.dirty = true;
        }
        return;
      }
      case "transmit":
        this.stepHeld.push({ kind: "client", data: o.data, offset: o.offset });
        return;
      case "plaintext":
        this.toBackend.push({ kind: "backend", data: o.data, offset: this.plainOut });
        this.plainOut += o.data.length;
        this.readQ.push({ plainEnd: this.plainOut, clientEnd: o.consumedTo, delta: null });
        return;
      case "rsa":
        this.control.push({ kind: "rsa", id: o.id, keyId: o.keyId, ciphertext: o.ciphertext, clientVersion: o.clientVersion, random46: o.random46 });
        return;
      case "handshake-complete":
        this.traffic = true;
        this.control.push(o);
        return;
      case "session-invalidated":
        this.control.push(o);
        return;
      case "closed": {
        const last = this.writeQ[this.writeQ.length - 1];
        if (last && last.size === ENGINE_RECORD) last.final = true;
        this.closed = true;
        this.control.push(o);
        this.stepHeld.push({ kind: "end-client" });
        this.toBackend.push({ kind: "end-backend" });
        return;
      }
      default:
        exhaustive(o);
    }
  }

  private promoteHandshake(): void {
    let ready: ConnectionSnapshot | null = null;
    while (this.waitingHandshake.length > 0 && this.waitingHandshake[0]!.serverWritten <= this.clientAckedTo) {
      ready = this.waitingHandshake.shift()!;
    }
    if (!ready) return;
    this.pendingHandshake = ready;
    // Deltas already clustered are newer than this snapshot (client records
    // read while our Finished was in flight): fold them again on top of it.
    if (this.lastRead && this.lastRead.seq > ready.seq) this.pendingRead ??= this.lastRead;
    if (this.lastWrite && this.lastWrite.seq > ready.seq) this.pendingWrite ??= this.lastWrite;
    this.fields = {
      ...this.fields,
      clientConsumed: Math.max(this.fields.clientConsumed, ready.clientConsumed),
      serverWritten: Math.max(this.fields.serverWritten, ready.serverWritten),
    };
    this.dirty = true;
  }

  /** SSLACC §5.5: records whose plaintext the backend has are consumed; cluster the last one's read state. */
  private settleRead(): void {
    // Deltas fold onto the last handshake snapshot: none may overtake one still waiting.
    if (this.waitingHandshake.length > 0) return;
    while (this.readQ.length > 0 && this.readQ[0]!.plainEnd <= this.backendAckedTo) {
      const e = this.readQ[0]!;
      // A record whose read delta has not come yet (plaintext emitted, delta
      // next in the same drain) stays until it has one.
      if (!e.delta && this.readQ.length === 1) return;
      this.readQ.shift();
      if (e.delta) this.pendingRead = e.delta;
      this.fields = { ...this.fields, clientConsumed: e.clientEnd, backendWritten: e.plainEnd };
      this.dirty = true;
    }
  }

  /** SSLACC §5.6: acknowledged records leave the pre-write list; cluster the last one's write state. */
  private settleWrite(): void {
    if (this.waitingHandshake.length > 0) return;
    while (this.writeQ.length > 0 && this.writeQ[0]!.end <= this.clientAckedTo && !this.writeQ[0]!.final) {
      const e = this.writeQ.shift()!;
      this.pendingWrite = e.delta;
      this.fields = { ...this.fields, serverWritten: e.end, backendConsumed: e.backendEnd };
      this.dirty = true;
    }
  }

  private flush(): void {
    if (!this.fields.backendRequested && this.pendingHandshake) {
      // SSLACC §5.3: the backend connect starts only after the first
      // checkpoint, so a restored relay knows whether to restart it.
      this.fields = { ...this.fields, backendRequested: true };
      this.stepHeld.push({ kind: "connect-backend" });
    }
    if (!this.dirty) return;
    this.dirty = false;
    const seq = ++this.seq;
    this.fields = { ...this.fields, preWrites: [...this.writeQ.map((e) => e.size), ...this.forced] };
    const checkpoint: RelayCheckpoint = {
      seq, fields: this.fields, handshake: this.pendingHandshake, read: this.pendingRead, write: this.pendingWrite,
    };
    if (this.pendingRead) this.lastRead = this.pendingRead;
    if (this.pendingWrite) this.lastWrite = this.pendingWrite;
    this.pendingHandshake = this.pendingRead = this.pendingWrite = null;
    this.control.push({ kind: "checkpoint", seq, checkpoint });
  }
}

/** The part of `data` (at `offset`) beyond `have`; a gap is the caller's bug. */
function trim(data: Uint8Array, offset: number, have: number, side: string): Uint8Array | null {
  if (offset > have) throw new RelayError(`${side} bytes at offset ${offset} but only ${have} received: a gap`);
  const end = offset + data.length;
  if (end <= have) return null;
  return offset === have ? data : data.subarray(have - offset);
}

function exhaustive(x: never): never {
  throw new RelayError(`relay bug: unhandled engine output ${JSON.stringify(x)}`);
}
