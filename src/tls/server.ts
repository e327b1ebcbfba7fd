// ServerConnection: the sans-I/O TLS 1.0-1.2 server engine (static RSA,
// CBC and RC4 suites) whose state is checkpointed at the steps SSLACC §5.1-5.4
// names and can be restored elsewhere to produce the very same bytes
// (DESIGN.md laws 0-2; docs/tls-engine.md).
//
//   client bytes --receive--> RecordDeframer --> [open] --> handshake / CCS / alert / data
//   backend plaintext --send--> [seal] --> transmit
//   everything out --> queue --drain--> checkpoint | transmit | plaintext | rsa | events
//
// `transmit` outputs carry the checkpoint they depend on and are held back
// until it is acknowledged (law 1); checkpoints and RSA requests are released
// at once so that clustering, RSA and message generation overlap (SSLACC
// §5.1: "we transmit the state update before we generate the messages").
//
// No exception escapes `receive`: a peer's mistake becomes the alert RFC 5246
// §7.2 names, a bug of ours becomes internal_error, and the connection closes.
import type { CryptoProvider } from "../crypto/provider.js";
import { RecordError, type RecordState } from "../crypto/record.js";
import type { RecordVersion } from "../crypto/types.js";
import {
  AlertDescription, AlertLevel, alertDescriptionName, checkPlaintextFragment, clientExtension, ContentType, DecodeError,
  encodeHandshake, encodeRecord, fragmentPlaintext, HandshakeReassembler, handshakeTypeName, HandshakeType,
  MAX_PLAINTEXT_LENGTH, offersScsv, parseAlert, parseChangeCipherSpec, parseClientHello, parseClientKeyExchange,
  parseFinished, ProtocolVersion as PV, RecordDeframer, SignallingSuite, suiteAllowedAt, versionName, writeAlert,
  writeCertificate, writeChangeCipherSpec, writeFinished, writeServerHello, writeServerHelloDone, canonicalHostName,
  Writer, TLS_VERIFY_DATA_LENGTH,
  type Alert, type ClientHello, type HandshakeMessage, type ServerExtension, type TlsRecord,
} from "./codec/index.js";
import { selectCertificate, type TlsServerConfig } from "./config.js";
import {
  checkpointSeq, fold, recordDelta, type Checkpoint, type ConnectionSnapshot, type Direction,
} from "./checkpoint.js";
import { extendedMasterSecret, initialRecordState, keyBlock, masterSecret, verifyData } from "./key-schedule.js";
import { positionAfter, SEQUENCES, type Actor, type HandshakePhase, type MessageName, type SequenceName, type Step } from "./sequences.js";
import type { SessionCache } from "./session-cache.js";
import { FinishedVerified, type CloseReason, type HandshakeContext, type HandshakeState, type Negotiated } from "./states.js";
import { Transcript } from "./transcript.js";
import { concatBytes } from "../bytes.js";

export interface EngineDeps {
  readonly provider: CryptoProvider;
  /** Cryptographically secure random bytes; drawn only before a checkpoint (law 0). */
  readonly random: (n: number) => Uint8Array;
  /** Milliseconds, for session timestamps. */
  readonly now: () => number;
  readonly sessions: SessionCache | null;
}

export interface SessionSummary {
  readonly sessionId: Uint8Array;
  readonly version: number;
  readonly cipherSuite: string;
  readonly resumed: boolean;
  readonly extendedMasterSecret: boolean;
  readonly secureRenegotiation: boolean;
  readonly serverName: string | null;
}

export type EngineOutput =
  | { readonly kind: "checkpoint"; readonly seq: number; readonly checkpoint: Checkpoint }
  | { readonly kind: "transmit"; readonly data: Uint8Array; readonly offset: number }
  | { readonly kind: "plaintext"; readonly data: Uint8Array; readonly consumedTo: number }
  | {
      readonly kind: "rsa";
      readonly id: number;
      readonly keyId: string;
      readonly ciphertext: Uint8Array;
      readonly clientVersion: number;
      readonly random46: Uint8Array;
    }
  | { readonly kind: "handshake-complete"; readonly session: SessionSummary }
  | { readonly kind: "session-invalidated"; readonly sessionId: Uint8Array }
  | { readonly kind: "closed"; readonly reason: CloseReason; readonly alert?: string; readonly detail?: string };

interface Queued {
  readonly out: EngineOutput;
  /** Checkpoint that must be acknowledged before a transmit is released (0: none). */
  readonly after: number;
}

/** A fatal condition the engine itself detects (not a codec DecodeError). */
class Fatal extends Error {
  constructor(readonly alert: AlertDescription, detail: string) {
    super(detail);
  }
}

const MESSAGE_OF: Partial<Record<number, MessageName>> = {
  [HandshakeType.client_hello]: "ClientHello",
  [HandshakeType.client_key_exchange]: "ClientKeyExchange",
  [HandshakeType.finished]: "Finished",
};

export class ServerConnection {
  private state: HandshakeState = { kind: "ExpectClientHello" };
  private readonly deframer: RecordDeframer;
  private readonly reassembler: HandshakeReassembler;
  private queue: Queued[] = [];
  private lastSeq = 0;
  private acked = 0;
  /** Last handshake checkpoint: data-phase records depend only on it (see send). */
  private handshakeSeq = 0;
  private clientBase = 0;
  private serverWritten = 0;
  private readState: unknown = null;
  private writeState: unknown = null;
  private sequence: SequenceName = "full";
  private position = 0;
  private readonly log: Step[] = [];
  private nextRsaId = 1;
  /** RC4: the base offset last shipped per direction, to send a base only when it moved. */
  private readonly shippedBase: Record<Direction, number> = { read: -1, write: -1 };
  private closeNotifySent = false;

  private constructor(
    private readonly config: TlsServerConfig,
    private readonly deps: EngineDeps,
  ) {
    this.deframer = new RecordDeframer();
    this.reassembler = new HandshakeReassembler({ maxMessageLength: config.limits.maxHandshakeMessage });
  }

  static create(config: TlsServerConfig, deps: EngineDeps): ServerConnection {
    return new ServerConnection(config, deps);
  }

  /**
   * A connection continuing from a mirror's snapshot. Output is regenerated
   * from `snapshot.serverWritten` (the caller drops what was already sent)
   * and client bytes must be fed again from `snapshot.clientConsumed`.
   */
  static restore(config: TlsServerConfig, deps: EngineDeps, snapshot: ConnectionSnapshot): ServerConnection {
    const c = new ServerConnection(config, deps);
    c.restoreFrom(snapshot);
    return c;
  }

  // --- public interface ------------------------------------------------------

  /** Ciphertext from the client, any split. Never throws. */
  receive(bytes: Uint8Array): void {
    if (this.state.kind === "Closed" || bytes.length === 0) return;
    this.guard(() => {
      this.deframer.push(bytes.slice());
      this.pump();
    });
  }

  /**
   * Plaintext from the backend, sealed as exactly one record: the relay picks
   * record sizes and clusters them (SSLACC §5.6), so the engine never
   * re-fragments. Throws on misuse (before the handshake, > 2^14 bytes);
   * after the connection closed the data has nowhere to go and is dropped
   * (backend data racing a client's close_notify).
   */
  send(plaintext: Uint8Array): void {
    if (this.state.kind === "Closed") return;
    if (this.state.kind !== "Traffic") throw new Error(`send() in state ${this.state.kind}: only after handshake-complete`);
    if (plaintext.length > MAX_PLAINTEXT_LENGTH) throw new RangeError(`send(): ${plaintext.length} bytes exceed one record (2^14)`);
    // The record is a function of the write state of the last checkpoint and
    // of plaintext the backend will send again after a failover (law 2), so
    // it only waits for the handshake checkpoint, not for its own delta.
    try {
      this.transmitRecord(ContentType.application_data, plaintext, this.handshakeSeq);
    } catch (e) {
      // RFC 5246 §6.1: the write sequence number is spent. That is no misuse
      // by the caller (it cannot know), so close rather than throw.
      if (isSeqExhausted(e)) return this.finish("sequence_exhausted", undefined, e.message);
      throw e;
    }
    this.emitDelta("write");
  }

  /** Checkpoints up to `seq` are stored by the mirrors. */
  acknowledge(seq: number): void {
    if (seq > this.acked) this.acked = Math.min(seq, this.lastSeq);
  }

  /** The RSA operation of an `rsa` output finished: the 48-byte pre-master (or its random substitute). */
  completeRsa(id: number, premaster: Uint8Array): void {
    const st = this.state;
    if (st.kind !== "AwaitPremaster" || st.rsaId !== id) return; // stale (e.g. a restored engine re-issued it)
    this.guard(() => {
      if (premaster.length !== 48) throw new Error(`completeRsa: pre-master of ${premaster.length} bytes, expected 48`);
      const ctx = st.ctx;
      const hs = ctx.hs;
      const p = this.deps.provider;
      // RFC 7627 §4 / RFC 5246 §8.1. The transcript now ends with the
      // ClientKeyExchange: that is the session_hash (RFC 7627 §3).
      ctx.masterSecret = hs.extendedMasterSecret
        ? extendedMasterSecret(p, hs.version, premaster, ctx.transcript.digest())
        : masterSecret(p, hs.version, premaster, hs.clientRandom, hs.serverRandom);
      this.deriveKeys(ctx);
      this.state = { kind: "ExpectChangeCipherSpec", ctx };
      this.pump();
    });
  }

  /** Sends close_notify (RFC 5246 §7.2.1) and closes. */
  close(): void {
    if (this.state.kind === "Closed") return;
    this.guard(() => {
      this.sendCloseNotify();
      this.finish("close_notify");
    });
  }

  /**
   * Closes with a fatal internal_error alert: the connection cannot go on
   * for a reason of ours, not the peer's (RFC 5246 §7.2.2: "An internal
   * error unrelated to the peer or the correctness of the protocol"), e.g.
   * the backend refused or reset. Unlike close(), the client cannot take
   * the end for a complete answer, and the session is invalidated (§7.2).
   */
  abort(detail: string): void {
    if (this.state.kind === "Closed") return;
    this.guard(() => {
      throw new Fatal(AlertDescription.internal_error, detail);
    });
  }

  /** Outputs ready to act on, in order; transmits wait for their checkpoint's acknowledgement. */
  drain(): EngineOutput[] {
    const out: EngineOutput[] = [];
    const keep: Queued[] = [];
    let blocked = false;
    for (const q of this.queue) {
      if (q.out.kind === "checkpoint" || q.out.kind === "rsa") {
        out.push(q.out);
      } else if (!blocked && q.after <= this.acked) {
        out.push(q.out);
      } else {
        blocked = true;
        keep.push(q);
      }
    }
    this.queue = keep;
    return out;
  }

  /** Sequence number of the last checkpoint emitted. */
  get lastCheckpointSeq(): number {
    return this.lastSeq;
  }

  /** The handshake steps taken, for tests against sequences.ts. */
  get steps(): readonly Step[] {
    return this.log;
  }

  get stateKind(): HandshakeState["kind"] {
    return this.state.kind;
  }

  /** Absolute offset of the client bytes consumed (a record boundary). */
  get clientConsumed(): number {
    return this.clientBase + this.deframer.consumedBytes;
  }

  // --- the loop ----------------------------------------------------------------

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private parked(): boolean {
    return this.state.kind === "AwaitPremaster" || this.state.kind === "Closed";
  }

  private pump(): void {
    this.drainHandshake();
    while (!this.parked()) {
      const rec = this.deframer.next();
      if (!rec) return;
      this.onRecord(rec);
    }
  }

  private drainHandshake(): void {
    while (!this.parked()) {
      const m = this.reassembler.next();
      if (!m) return;
      this.onHandshake(m);
    }
  }

  private onRecord(rec: TlsRecord): void {
    const st = this.state;
    const inTraffic = st.kind === "Traffic";
    if (st.kind !== "ExpectClientHello" && st.kind !== "Closed" && rec.version !== st.ctx.hs.version) {
      // RFC 5246 Appendix E.1: only the ClientHello's record may carry
      // another {03,xx}; after our ServerHello every record has the
      // negotiated version.
      throw new Fatal(AlertDescription.protocol_version, `record version ${versionName(rec.version)} after negotiating ${versionName(st.ctx.hs.version)}`);
    }
    let body = rec.body;
    if (this.readState !== null) {
      const r = this.deps.provider.record.open(this.readState, rec.type, rec.version, body);
      if (!r.ok) throw new Fatal(AlertDescription[r.alert], `client record: ${r.description}`);
      body = r.plaintext;
    }
    checkPlaintextFragment(rec.type, body.length);
    switch (rec.type) {
      case ContentType.handshake:
        this.reassembler.push(body);
        this.drainHandshake();
        break;
      case ContentType.change_cipher_spec:
        this.reassembler.checkInterleaving(rec.type);
        parseChangeCipherSpec(body);
        this.onChangeCipherSpec();
        break;
      case ContentType.alert:
        this.reassembler.checkInterleaving(rec.type);
        this.onAlert(parseAlert(body));
        break;
      case ContentType.application_data:
        this.reassembler.checkInterleaving(rec.type);
        this.onApplicationData(body);
        break;
      default:
        exhaustive(rec.type);
    }
    // SSLACC §5.5: in the data phase every record boundary is a checkpoint
    // (the record that ended the handshake is in the handshake checkpoint).
    if (inTraffic && this.state.kind === "Traffic") this.emitDelta("read");
  }

  // --- the handshake table -----------------------------------------------------

  /** Takes one step of the table; a client message out of order is unexpected_message. */
  private step(actor: Actor, message: MessageName): HandshakePhase | undefined {
    const expected = SEQUENCES[this.sequence][this.position];
    if (!expected || expected.actor !== actor || expected.message !== message) {
      const want = expected ? `${expected.actor} ${expected.message}` : "no handshake message";
      if (actor === "client") {
        // RFC 5246 §7.4 / §7.2.2: out-of-order handshake messages are fatal.
        throw new Fatal(AlertDescription.unexpected_message, `client sent ${message} where the ${this.sequence} handshake expects ${want}`);
      }
      throw new Error(`engine bug: server ${message} where the table expects ${want}`);
    }
    this.log.push(expected);
    this.position++;
    return expected.checkpoint;
  }

  private onHandshake(m: HandshakeMessage): void {
    const st = this.state;
    const name = MESSAGE_OF[m.msgType];
    switch (st.kind) {
      case "ExpectClientHello":
        if (name !== "ClientHello") this.step("client", name ?? (handshakeTypeName(m.msgType) as MessageName));
        return this.onClientHello(m);
      case "Traffic":
        if (m.msgType === HandshakeType.client_hello) return this.refuseRenegotiation();
        throw new Fatal(AlertDescription.unexpected_message, `client sent ${handshakeTypeName(m.msgType)} after the handshake`);
      case "ExpectClientKeyExchange":
        if (name !== "ClientKeyExchange") this.step("client", name ?? (handshakeTypeName(m.msgType) as MessageName));
        return this.onClientKeyExchange(st.ctx, m);
      case "ExpectFinished":
        if (name !== "Finished") this.step("client", name ?? (handshakeTypeName(m.msgType) as MessageName));
        return this.onFinished(st.ctx, m);
      case "ExpectChangeCipherSpec":
        // RFC 5246 §7.4.9: "It is a fatal error if a Finished message is not
        // preceded by a ChangeCipherSpec message at the appropriate point".
        this.step("client", name ?? (handshakeTypeName(m.msgType) as MessageName));
        return;
      case "AwaitPremaster":
      case "Closed":
        throw new Error(`engine bug: handshake message in state ${st.kind}`);
      default:
        return exhaustive(st);
    }
  }

  // --- ClientHello -----------------------------------------------------------------

  private onClientHello(m: HandshakeMessage): void {
    const ch = parseClientHello(m.body);
    const cfg = this.config;
    const A = AlertDescription;

    // Version (RFC 5246 §7.4.1.2, Appendix E.1): the highest both support.
    if (ch.clientVersion >> 8 !== 3) throw new Fatal(A.protocol_version, `ClientHello.client_version ${versionName(ch.clientVersion)} is not SSL 3/TLS`);
    const version = Math.min(ch.clientVersion, cfg.maxVersion) as RecordVersion;
    if (version < cfg.minVersion) {
      throw new Fatal(A.protocol_version, `client offers at most ${versionName(ch.clientVersion)}, we require ${versionName(cfg.minVersion)}`);
    }
    // RFC 7507 §3: a fallback retry to a version below our best is an attack or a broken middlebox.
    if (offersScsv(ch, SignallingSuite.TLS_FALLBACK_SCSV) && ch.clientVersion < cfg.maxVersion) {
      throw new Fatal(A.inappropriate_fallback, `TLS_FALLBACK_SCSV with ${versionName(ch.clientVersion)} while we support ${versionName(cfg.maxVersion)}`);
    }
    // RFC 5746 §3.6: on an initial handshake renegotiated_connection is empty.
    const ri = clientExtension(ch, "renegotiation_info");
    if (ri && ri.renegotiatedConnection.length !== 0) {
      throw new Fatal(A.handshake_failure, "initial ClientHello carries a non-empty renegotiation_info (RFC 5746 §3.6)");
    }
    const secureRenegotiation = ri !== undefined || offersScsv(ch, SignallingSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    const ems = clientExtension(ch, "extended_master_secret") !== undefined;
    const sni = clientExtension(ch, "server_name");
    const serverName = sni ? canonicalHostName(sni.hostName) : null;
    const cert = selectCertificate(cfg, sni?.hostName);
    if (sni && !cert.matched && cfg.unrecognizedName === "fatal") {
      throw new Fatal(A.unrecognized_name, `no certificate for server_name "${sni.hostName}" (RFC 6066 §3)`);
    }

    const resumable = this.findResumable(ch, version, ems, serverName);
    let hs: Negotiated;
    let ctx: HandshakeContext;
    const transcript = Transcript.create(version);
    transcript.update(m.raw);
    // Law 0: every random value of this handshake is drawn here, before
    // checkpoint 1, and travels in it.
    const serverRandom = this.deps.random(32);
    if (resumable) {
      hs = {
        version, clientVersion: ch.clientVersion, suite: this.config.registry.get(resumable.cipherSuite)!,
        clientRandom: ch.random.slice(), serverRandom, sessionId: resumable.id.slice(), resumed: true,
        extendedMasterSecret: ems, secureRenegotiation, sniAck: false, serverName, certIndex: cert.index,
      };
      ctx = newContext(hs, transcript);
      ctx.masterSecret = resumable.masterSecret.slice();
      this.sequence = "resumed";
    } else {
      const suite = this.chooseSuite(ch, version);
      const sessionId = cfg.sessionCache.enabled && this.deps.sessions ? this.deps.random(32) : new Uint8Array(0);
      hs = {
        version, clientVersion: ch.clientVersion, suite, clientRandom: ch.random.slice(), serverRandom, sessionId,
        resumed: false, extendedMasterSecret: ems, secureRenegotiation, sniAck: sni !== undefined && cert.matched,
        serverName, certIndex: cert.index,
      };
      ctx = newContext(hs, transcript);
      this.sequence = "full";
    }
    const phase = this.step("client", "ClientHello")!;
    if (resumable) {
      this.state = { kind: "ExpectChangeCipherSpec", ctx };
      this.emitHandshakeCheckpoint(phase, ctx);
      this.sendResumedFlight(ctx);
    } else {
      this.state = { kind: "ExpectClientKeyExchange", ctx };
      this.emitHandshakeCheckpoint(phase, ctx);
      this.sendFullFlight(ctx);
    }
  }

  /** A cached session this ClientHello may resume, per RFC 5246 §7.4.1.2, RFC 7627 §5.3, RFC 6066 §3. */
  private findResumable(ch: ClientHello, version: number, ems: boolean, serverName: string | null) {
    const cache = this.deps.sessions;
    if (!this.config.sessionCache.enabled || !cache || ch.sessionId.length === 0) return undefined;
    const s = cache.get(ch.sessionId);
    if (!s) return undefined;
    // RFC 7627 §5.3: "If the original session used the extended_master_secret
    // extension but the new ClientHello does not contain it, the server MUST
    // abort the abbreviated handshake." We abort the connection: a client that
    // dropped EMS is either broken or being attacked (triple handshake).
    if (s.extendedMasterSecret && !ems) {
      throw new Fatal(AlertDescription.handshake_failure, "resumption of an extended-master-secret session without the extension (RFC 7627 §5.3)");
    }
    // RFC 7627 §5.3: a new EMS hello must not resume a non-EMS session (full
    // handshake instead); without EMS on either side we also do a full
    // handshake rather than resume insecurely ("SHOULD abort").
    if (!s.extendedMasterSecret) return undefined;
    if (s.version !== version) return undefined; // RFC 5246 §7.4.1.3: same version as the session
    if (!ch.cipherSuites.includes(s.cipherSuite) || !this.config.cipherSuites.includes(s.cipherSuite)) return undefined;
    // RFC 6066 §3: "MUST NOT accept the request to resume the session if the
    // server_name extension contains a different name."
    if (s.serverName !== serverName) return undefined;
    if (!this.config.registry.get(s.cipherSuite)) return undefined;
    return s;
  }

  private chooseSuite(ch: ClientHello, version: number) {
    const cfg = this.config;
    const ok = (code: number) => {
      const s = cfg.registry.get(code);
      return s !== undefined && cfg.cipherSuites.includes(code) && ch.cipherSuites.includes(code) && suiteAllowedAt(s, version) ? s : undefined;
    };
    const order = cfg.preferServerCipherOrder ? cfg.cipherSuites : ch.cipherSuites;
    for (const code of order) {
      const s = ok(code);
      if (s) return s;
    }
    // RFC 5246 §7.4.1.3: no acceptable choice → handshake_failure.
    throw new Fatal(AlertDescription.handshake_failure, `no cipher suite in common at ${versionName(version)}`);
  }

  private serverHello(ctx: HandshakeContext): Uint8Array {
    const hs = ctx.hs;
    const ext: ServerExtension[] = [];
    // RFC 5746 §3.6: empty renegotiation_info answers the extension or the SCSV.
    if (hs.secureRenegotiation) ext.push({ type: "renegotiation_info", renegotiatedConnection: new Uint8Array(0) });
    // RFC 7627 §5.2 (full) and §5.3 (resumed): echo when used.
    if (hs.extendedMasterSecret) ext.push({ type: "extended_master_secret" });
    // RFC 6066 §3: acknowledge a used name, never on resumption.
    if (hs.sniAck && !hs.resumed) ext.push({ type: "server_name" });
    // encrypt_then_mac (RFC 7366) and session_ticket are deliberately not
    // echoed: not echoing is how a server declines them (RFC 7366 §2, RFC 5077 §3.2).
    return encodeHandshake(HandshakeType.server_hello, (w) =>
      writeServerHello(w, {
        serverVersion: hs.version, random: hs.serverRandom, sessionId: hs.sessionId, cipherSuite: hs.suite.code,
        compressionMethod: 0, extensions: ext.length > 0 ? ext : null,
      }),
    );
  }

  /** Full handshake, after checkpoint 1: ServerHello, Certificate, ServerHelloDone (no ServerKeyExchange for static RSA, RFC 5246 §7.4.3). */
  private sendFullFlight(ctx: HandshakeContext): void {
    const cert = this.config.certificates[ctx.hs.certIndex]!;
    const msgs = [
      this.serverHello(ctx),
      encodeHandshake(HandshakeType.certificate, (w) => writeCertificate(w, { certificateList: cert.certChainDer })),
      encodeHandshake(HandshakeType.server_hello_done, (w) => writeServerHelloDone(w, { kind: "server_hello_done" })),
    ];
    const names: MessageName[] = ["ServerHello", "Certificate", "ServerHelloDone"];
    msgs.forEach((msg, i) => {
      this.step("server", names[i]!);
      ctx.transcript.update(msg);
    });
    this.transmitHandshake(msgs, this.lastSeq);
  }

  /** Resumed handshake, after checkpoint R1: ServerHello, ChangeCipherSpec, Finished (RFC 5246 §7.3 Figure 2). */
  private sendResumedFlight(ctx: HandshakeContext): void {
    const sh = this.serverHello(ctx);
    this.step("server", "ServerHello");
    ctx.transcript.update(sh);
    this.transmitHandshake([sh], this.lastSeq);
    this.deriveKeys(ctx);
    this.sendChangeCipherSpecAndFinished(ctx);
    const phase = this.step("server", "Finished")!;
    this.emitHandshakeCheckpoint(phase, ctx);
  }

  // --- ClientKeyExchange, RSA, keys ----------------------------------------------

  private onClientKeyExchange(ctx: HandshakeContext, m: HandshakeMessage): void {
    const hs = ctx.hs;
    const cke = parseClientKeyExchange(m.body, { keyExchange: hs.suite.keyExchange, version: hs.version });
    const phase = this.step("client", "ClientKeyExchange")!;
    ctx.transcript.update(m.raw);
    ctx.encryptedPremaster = cke.encryptedPreMasterSecret.slice();
    // RFC 5246 §7.4.7.1: the substitute pre-master for a bad padding is drawn
    // now, whatever the padding, and travels in checkpoint 2 (law 0).
    ctx.random46 = this.deps.random(46);
    const rsaId = this.nextRsaId++;
    this.state = { kind: "AwaitPremaster", ctx, rsaId };
    this.emitHandshakeCheckpoint(phase, ctx);
    this.requestRsa(ctx, rsaId);
  }

  private requestRsa(ctx: HandshakeContext, id: number): void {
    this.queue.push({
      out: {
        kind: "rsa", id, keyId: this.config.certificates[ctx.hs.certIndex]!.keyId, ciphertext: ctx.encryptedPremaster!,
        clientVersion: ctx.hs.clientVersion, random46: ctx.random46!,
      },
      after: 0,
    });
  }

  /** RFC 5246 §6.3: the pending states of both directions. */
  private deriveKeys(ctx: HandshakeContext): void {
    const hs = ctx.hs;
    const kb = keyBlock(this.deps.provider, hs.version, hs.suite, ctx.masterSecret!, hs.clientRandom, hs.serverRandom);
    ctx.pendingRead = initialRecordState(hs.version, hs.suite, kb, "client");
    ctx.pendingWrite = initialRecordState(hs.version, hs.suite, kb, "server");
  }

  // --- ChangeCipherSpec and Finished ------------------------------------------------

  private onChangeCipherSpec(): void {
    const st = this.state;
    if (st.kind !== "ExpectChangeCipherSpec") {
      // RFC 5246 §7.1 / §7.2.2: a CCS anywhere else (before the key exchange,
      // twice, in the data phase) is unexpected_message.
      throw new Fatal(AlertDescription.unexpected_message, `client ChangeCipherSpec in state ${st.kind}`);
    }
    const phase = this.step("client", "ChangeCipherSpec")!;
    const ctx = st.ctx;
    this.readState = this.deps.provider.record.init(ctx.pendingRead!);
    ctx.pendingRead = null;
    this.state = { kind: "ExpectFinished", ctx };
    this.emitHandshakeCheckpoint(phase, ctx);
  }

  private onFinished(ctx: HandshakeContext, m: HandshakeMessage): void {
    const hs = ctx.hs;
    const fin = parseFinished(m.body, TLS_VERIFY_DATA_LENGTH);
    const expected = verifyData(this.deps.provider, hs.version, ctx.masterSecret!, "client finished", ctx.transcript.digest());
    const proof = FinishedVerified.check(expected, fin.verifyData);
    // RFC 5246 §7.4.9 / §7.2.2 decrypt_error: "a handshake cryptographic
    // operation failed, including being unable to ... validate a finished message".
    if (!proof) throw new Fatal(AlertDescription.decrypt_error, "client Finished.verify_data does not match the handshake (RFC 5246 §7.4.9)");
    const phase = this.step("client", "Finished")!;
    ctx.transcript.update(m.raw);
    ctx.clientVerifyData = proof.clientVerifyData;
    if (hs.resumed) {
      this.state = { kind: "Traffic", ctx, proof };
      this.emitHandshakeCheckpoint(phase, ctx);
      this.handshakeComplete(ctx);
    } else {
      this.emitHandshakeCheckpoint(phase, ctx);
      this.sendServerFinished(ctx, proof);
    }
  }

  /** Full handshake, after checkpoint 4: our ChangeCipherSpec and Finished, then the data state. */
  private sendServerFinished(ctx: HandshakeContext, proof: FinishedVerified): void {
    this.sendChangeCipherSpecAndFinished(ctx);
    const phase = this.step("server", "Finished")!;
    this.state = { kind: "Traffic", ctx, proof };
    this.emitHandshakeCheckpoint(phase, ctx);
    // SSLACC §5.2: the session enters the cache with the end-of-handshake checkpoint.
    const hs = ctx.hs;
    if (hs.sessionId.length > 0 && this.deps.sessions) {
      void this.deps.sessions.put({
        id: hs.sessionId, version: hs.version, cipherSuite: hs.suite.code, masterSecret: ctx.masterSecret!,
        extendedMasterSecret: hs.extendedMasterSecret, serverName: hs.serverName, createdAt: this.deps.now(),
      });
    }
    this.handshakeComplete(ctx);
  }

  private sendChangeCipherSpecAndFinished(ctx: HandshakeContext): void {
    const hs = ctx.hs;
    this.step("server", "ChangeCipherSpec");
    this.transmitRecord(ContentType.change_cipher_spec, encodeBody((w) => writeChangeCipherSpec(w, { kind: "change_cipher_spec" })), this.lastSeq);
    this.writeState = this.deps.provider.record.init(ctx.pendingWrite!);
    ctx.pendingWrite = null;
    const vd = verifyData(this.deps.provider, hs.version, ctx.masterSecret!, "server finished", ctx.transcript.digest());
    const fin = encodeHandshake(HandshakeType.finished, (w) => writeFinished(w, { verifyData: vd }));
    ctx.transcript.update(fin);
    ctx.serverVerifyData = vd;
    this.transmitHandshake([fin], this.lastSeq);
  }

  private handshakeComplete(ctx: HandshakeContext): void {
    const hs = ctx.hs;
    this.push({
      kind: "handshake-complete",
      session: {
        sessionId: hs.sessionId, version: hs.version, cipherSuite: hs.suite.name, resumed: hs.resumed,
        extendedMasterSecret: hs.extendedMasterSecret, secureRenegotiation: hs.secureRenegotiation, serverName: hs.serverName,
      },
    }, this.lastSeq);
  }

  // --- data phase, alerts ---------------------------------------------------------------

  private onApplicationData(body: Uint8Array): void {
    if (this.state.kind !== "Traffic") {
      // RFC 5246 §6.2.1 / §7.4.9: application data only after the Finished messages.
      throw new Fatal(AlertDescription.unexpected_message, `client application data in state ${this.state.kind}`);
    }
    if (body.length > 0) this.push({ kind: "plaintext", data: body, consumedTo: this.clientConsumed }, 0);
  }

  /**
   * RFC 5746 §4.4 / RFC 5246 §7.2.2: we do not renegotiate; a client's
   * ClientHello in the data phase gets a no_renegotiation warning ("always a
   * warning") and the connection goes on. The ClientHello is not parsed
   * beyond its framing and goes into no transcript.
   */
  private refuseRenegotiation(): void {
    this.sendAlert(AlertLevel.warning, AlertDescription.no_renegotiation, this.lastSeq);
  }

  private onAlert(a: Alert): void {
    if (a.description === AlertDescription.close_notify) {
      // RFC 5246 §7.2.1: answer with our own close_notify and close.
      this.sendCloseNotify();
      this.finish("close_notify");
      return;
    }
    if (a.level === AlertLevel.fatal) {
      this.invalidateSession();
      this.finish("fatal_alert_received", alertDescriptionName(a.description));
      return;
    }
    // Warnings (user_canceled, no_renegotiation, unrecognized_name...) need
    // no action from a server (RFC 5246 §7.2.2).
  }

  // --- failure -----------------------------------------------------------------------

  private fail(e: unknown): void {
    if (this.state.kind === "Closed") return;
    let alert: AlertDescription = AlertDescription.internal_error;
    let detail: string;
    if (e instanceof DecodeError || e instanceof Fatal) {
      alert = e.alert;
      detail = e.message;
    } else if (e instanceof RecordError) {
      detail = e.message; // e.g. sequence numbers exhausted (RFC 5246 §6.1)
    } else {
      detail = `internal error: ${e instanceof Error ? e.message : String(e)}`;
    }
    try {
      this.sendAlert(AlertLevel.fatal, alert, this.lastSeq);
    } catch (e2) {
      // RFC 5246 §6.1: our write sequence number is spent (e.g. answering a
      // close_notify at 2^64-1): no alert can be sealed, so close without one,
      // saying so; no fatal alert was sent, so the session stays resumable.
      if (isSeqExhausted(e2)) return this.finish("sequence_exhausted", undefined, e === e2 ? detail : `${detail}; ${e2.message}`);
      // Any other failure to seal: close without the alert (never throw out of receive).
    }
    this.invalidateSession();
    this.finish("fatal_alert_sent", alertDescriptionName(alert), detail);
  }

  /** RFC 5246 §7.2: "the session identifier MUST be invalidated" after a fatal alert. */
  private invalidateSession(): void {
    const st = this.state;
    if (st.kind === "ExpectClientHello" || st.kind === "Closed") return;
    const hs = st.ctx.hs;
    if (hs.sessionId.length === 0 || !(hs.resumed || st.kind === "Traffic")) return;
    if (this.deps.sessions) void this.deps.sessions.remove(hs.sessionId);
    this.push({ kind: "session-invalidated", sessionId: hs.sessionId }, 0);
  }

  private finish(reason: CloseReason, alert?: string, detail?: string): void {
    this.state = { kind: "Closed", reason };
    this.push({ kind: "closed", reason, ...(alert !== undefined && { alert }), ...(detail !== undefined && { detail }) }, this.lastSeq);
  }

  private sendCloseNotify(): void {
    if (this.closeNotifySent) return;
    this.closeNotifySent = true;
    // close_notify is sent at warning level (RFC 5246 §7.2.1).
    this.sendAlert(AlertLevel.warning, AlertDescription.close_notify, this.lastSeq);
  }

  private sendAlert(level: AlertLevel, description: AlertDescription, after: number): void {
    this.transmitRecord(ContentType.alert, encodeBody((w) => writeAlert(w, { level, description })), after);
    if (this.state.kind === "Traffic") this.emitDelta("write");
  }

  // --- output --------------------------------------------------------------------------

  private push(out: EngineOutput, after: number): void {
    this.queue.push({ out, after });
  }

  private recordVersion(): number {
    const st = this.state;
    // Before a version is chosen, TLS 1.0 is what every client accepts in an alert.
    return st.kind === "ExpectClientHello" || st.kind === "Closed" ? PV.TLS10 : st.ctx.hs.version;
  }

  private transmitRecord(type: ContentType, fragment: Uint8Array, after: number): void {
    const version = this.recordVersion();
    const data = this.writeState !== null
      ? this.deps.provider.record.seal(this.writeState, type, version, fragment)
      : encodeRecord(type, version, fragment);
    this.push({ kind: "transmit", data, offset: this.serverWritten }, after);
    this.serverWritten += data.length;
  }

  /** Handshake messages coalesced into as few records as 2^14 allows (RFC 5246 §6.2.1). */
  private transmitHandshake(msgs: Uint8Array[], after: number): void {
    const all = msgs.length === 1 ? msgs[0]! : concatBytes(...msgs);
    const records = fragmentPlaintext(all).map((f) => {
      const version = this.recordVersion();
      return this.writeState !== null
        ? this.deps.provider.record.seal(this.writeState, ContentType.handshake, version, f)
        : encodeRecord(ContentType.handshake, version, f);
    });
    const data = records.length === 1 ? records[0]! : concatBytes(...records);
    this.push({ kind: "transmit", data, offset: this.serverWritten }, after);
    this.serverWritten += data.length;
  }

  // --- checkpoints -----------------------------------------------------------------------

  private emitHandshakeCheckpoint(phase: HandshakePhase, ctx: HandshakeContext): void {
    const hs = ctx.hs;
    const p = this.deps.provider.record;
    const read = this.readState !== null ? p.exportState(this.readState) : null;
    const write = this.writeState !== null ? p.exportState(this.writeState) : null;
    const snapshot: ConnectionSnapshot = {
      seq: ++this.lastSeq,
      phase,
      clientConsumed: this.clientConsumed,
      serverWritten: this.serverWritten,
      negotiated: {
        version: hs.version, clientVersion: hs.clientVersion, cipherSuite: hs.suite.code, clientRandom: hs.clientRandom,
        serverRandom: hs.serverRandom, sessionId: hs.sessionId, resumed: hs.resumed, extendedMasterSecret: hs.extendedMasterSecret,
        secureRenegotiation: hs.secureRenegotiation, sniAck: hs.sniAck, serverName: hs.serverName, certIndex: hs.certIndex,
      },
      transcript: ctx.transcript.exportState(),
      encryptedPremaster: ctx.encryptedPremaster,
      random46: ctx.random46,
      masterSecret: ctx.masterSecret,
      read, write,
      pendingRead: ctx.pendingRead,
      pendingWrite: ctx.pendingWrite,
      clientVerifyData: ctx.clientVerifyData,
      serverVerifyData: ctx.serverVerifyData,
      pendingHandshake: this.reassembler.peekBuffered(),
    };
    this.shippedBase.read = read?.rc4?.baseOffset ?? -1;
    this.shippedBase.write = write?.rc4?.baseOffset ?? -1;
    this.handshakeSeq = snapshot.seq;
    this.push({ kind: "checkpoint", seq: snapshot.seq, checkpoint: { kind: "handshake", snapshot } }, 0);
  }

  private emitDelta(direction: Direction): void {
    const live = direction === "read" ? this.readState : this.writeState;
    if (live === null) return;
    const s: RecordState = this.deps.provider.record.exportState(live);
    const baseMoved = s.rc4 !== undefined && s.rc4.baseOffset !== this.shippedBase[direction];
    if (s.rc4) this.shippedBase[direction] = s.rc4.baseOffset;
    const seq = ++this.lastSeq;
    const checkpoint: Checkpoint = {
      kind: "data", seq, direction, clientConsumed: this.clientConsumed, serverWritten: this.serverWritten,
      record: recordDelta(s, baseMoved),
    };
    this.push({ kind: "checkpoint", seq, checkpoint }, 0);
  }

  // --- restore ---------------------------------------------------------------------------

  private restoreFrom(s: ConnectionSnapshot): void {
    const cfg = this.config;
    const n = s.negotiated;
    const suite = cfg.registry.get(n.cipherSuite);
    if (!suite) throw new RangeError(`snapshot suite 0x${n.cipherSuite.toString(16)} is not in this node's registry`);
    if (!cfg.certificates[n.certIndex]) throw new RangeError(`snapshot certificate index ${n.certIndex} is not configured here`);
    this.lastSeq = this.acked = this.handshakeSeq = s.seq;
    this.clientBase = s.clientConsumed;
    this.serverWritten = s.serverWritten;
    const hs: Negotiated = {
      version: n.version, clientVersion: n.clientVersion, suite, clientRandom: n.clientRandom, serverRandom: n.serverRandom,
      sessionId: n.sessionId, resumed: n.resumed, extendedMasterSecret: n.extendedMasterSecret,
      secureRenegotiation: n.secureRenegotiation, sniAck: n.sniAck, serverName: n.serverName, certIndex: n.certIndex,
    };
    const ctx: HandshakeContext = {
      hs, transcript: Transcript.import(n.version, s.transcript), encryptedPremaster: s.encryptedPremaster, random46: s.random46,
      masterSecret: s.masterSecret, pendingRead: s.pendingRead, pendingWrite: s.pendingWrite,
      clientVerifyData: s.clientVerifyData, serverVerifyData: s.serverVerifyData,
    };
    const p = this.deps.provider.record;
    if (s.read) this.readState = p.init(s.read);
    if (s.write) this.writeState = p.init(s.write);
    this.shippedBase.read = s.read?.rc4?.baseOffset ?? -1;
    this.shippedBase.write = s.write?.rc4?.baseOffset ?? -1;
    const at = positionAfter(s.phase);
    this.sequence = at.sequence;
    this.position = at.position;
    this.log.push(...SEQUENCES[at.sequence].slice(0, at.position));
    if (s.pendingHandshake.length > 0) this.reassembler.push(s.pendingHandshake);
    switch (s.phase) {
      case "client-hello":
        this.state = { kind: "ExpectClientKeyExchange", ctx };
        this.sendFullFlight(ctx);
        break;
      case "client-key-exchange": {
        const rsaId = this.nextRsaId++;
        this.state = { kind: "AwaitPremaster", ctx, rsaId };
        this.requestRsa(ctx, rsaId);
        break;
      }
      case "client-ccs":
      case "resumed-client-ccs":
        this.state = { kind: "ExpectFinished", ctx };
        break;
      case "client-finished":
        this.state = { kind: "ExpectFinished", ctx };
        this.sendServerFinished(ctx, FinishedVerified.fromCheckpoint(s.phase, s.clientVerifyData));
        break;
      case "server-finished":
      case "resumed-client-finished":
        this.state = { kind: "Traffic", ctx, proof: FinishedVerified.fromCheckpoint(s.phase, s.clientVerifyData) };
        break;
      case "resumed-client-hello":
        this.state = { kind: "ExpectChangeCipherSpec", ctx };
        this.sendResumedFlight(ctx);
        break;
      case "resumed-server-finished":
        this.state = { kind: "ExpectChangeCipherSpec", ctx };
        break;
      default:
        exhaustive(s.phase);
    }
    this.guard(() => this.pump());
  }
}

/** The mirror's fold, re-exported for callers that keep snapshots. */
export { fold, checkpointSeq };

function newContext(hs: Negotiated, transcript: Transcript): HandshakeContext {
  return {
    hs, transcript, encryptedPremaster: null, random46: null, masterSecret: null, pendingRead: null, pendingWrite: null,
    clientVerifyData: null, serverVerifyData: null,
  };
}

function isSeqExhausted(e: unknown): e is RecordError {
  return e instanceof RecordError && e.code === "seq_exhausted";
}

function encodeBody(body: (w: Writer) => void): Uint8Array {
  const w = new Writer(16);
  body(w);
  return w.finish();
}

function exhaustive(x: never): never {
  throw new Error(`engine bug: unhandled ${JSON.stringify(x)}`);
}
