// The handshake states: a discriminated union named by what each state waits
// for (STYLE.md §2, rustls ExpectClientKx). server.ts switches over `kind`
// and ends every switch in an exhaustiveness check, so a new state does not
// compile until every transition handles it.
//
// What the handshake has decided so far lives in a HandshakeContext that
// the states share: it is exactly what a checkpoint must carry (checkpoint.ts
// builds a ConnectionSnapshot from it), so no state holds anything a restore
// could not rebuild.
import type { RecordState } from "../crypto/record.js";
import type { RecordVersion } from "../crypto/types.js";
import type { CipherSuite } from "./codec/index.js";
import { constantTimeEqual } from "./key-schedule.js";
import { positionAfter, type HandshakePhase } from "./sequences.js";
import type { Transcript } from "./transcript.js";

/** What the ClientHello decided (the pre-ServerHello state of SSLACC §5.1). */
export interface Negotiated {
  readonly version: RecordVersion;
  /** ClientHello.client_version: the RSA pre-master's version check (RFC 5246 §7.4.7.1). */
  readonly clientVersion: number;
  readonly suite: CipherSuite;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
  /** Empty when we do not cache sessions. */
  readonly sessionId: Uint8Array;
  readonly resumed: boolean;
  /** RFC 7627: both sides sent extended_master_secret. */
  readonly extendedMasterSecret: boolean;
  /** RFC 5746: the client signalled secure renegotiation (extension or SCSV). */
  readonly secureRenegotiation: boolean;
  /** RFC 6066 §3: we used the client's server_name (and say so in a full handshake). */
  readonly sniAck: boolean;
  /** Canonical server_name the client sent, if any. */
  readonly serverName: string | null;
  /** Index into TlsServerConfig.certificates. */
  readonly certIndex: number;
}

/** Mutable handshake secrets and values, filled in as the handshake goes. */
export interface HandshakeContext {
  readonly hs: Negotiated;
  transcript: Transcript;
  encryptedPremaster: Uint8Array | null;
  /** RFC 5246 §7.4.7.1 fallback pre-master bytes, drawn before checkpoint 2 (law 0). */
  random46: Uint8Array | null;
  masterSecret: Uint8Array | null;
  /** Derived but not yet active record states (RFC 5246 §7.1 pending states). */
  pendingRead: RecordState | null;
  pendingWrite: RecordState | null;
  clientVerifyData: Uint8Array | null;
  serverVerifyData: Uint8Array | null;
}

/**
 * Proof that the client's Finished was checked (STYLE.md §3, rustls
 * FinishedMessageVerified): the traffic state cannot be built without one,
 * and only `check` (or a restore from a checkpoint taken after the check)
 * makes one.
 */
export class FinishedVerified {
  private readonly brand = "FinishedVerified";
  private constructor(readonly clientVerifyData: Uint8Array) {}

  /** RFC 5246 §7.4.9: compares in constant time; null means decrypt_error. */
  static check(expected: Uint8Array, received: Uint8Array): FinishedVerified | null {
    return constantTimeEqual(expected, received) ? new FinishedVerified(received.slice()) : null;
  }

  /**
   * The checkpoint was emitted only after the check ran on the node that
   * took it; a phase before the client's Finished cannot vouch for it.
   */
  static fromCheckpoint(phase: HandshakePhase, clientVerifyData: Uint8Array | null): FinishedVerified {
    const after: readonly HandshakePhase[] = ["client-finished", "server-finished", "resumed-client-finished"];
    if (!after.includes(phase) || !clientVerifyData) throw new RangeError(`a ${phase} checkpoint does not prove the client Finished`);
    positionAfter(phase);
    return new FinishedVerified(clientVerifyData.slice());
  }

  toString(): string {
    return this.brand;
  }
}

/**
 * Why a connection closed. `sequence_exhausted`: our write sequence number
 * reached 2^64-1 (RFC 5246 §6.1 forbids wrapping and we do not renegotiate),
 * so not even a close_notify can be sealed; the session stays resumable.
 */
export type CloseReason = "close_notify" | "fatal_alert_sent" | "fatal_alert_received" | "sequence_exhausted";

export type HandshakeState =
  | { readonly kind: "ExpectClientHello" }
  | { readonly kind: "ExpectClientKeyExchange"; readonly ctx: HandshakeContext }
  /** Parked: the RSA operation (paper appendix A.1) is running; records wait in the deframer. */
  | { readonly kind: "AwaitPremaster"; readonly ctx: HandshakeContext; readonly rsaId: number }
  | { readonly kind: "ExpectChangeCipherSpec"; readonly ctx: HandshakeContext }
  | { readonly kind: "ExpectFinished"; readonly ctx: HandshakeContext }
  | { readonly kind: "Traffic"; readonly ctx: HandshakeContext; readonly proof: FinishedVerified }
  | { readonly kind: "Closed"; readonly reason: CloseReason };

export type StateKind = HandshakeState["kind"];
