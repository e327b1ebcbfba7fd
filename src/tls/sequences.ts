// The legal handshake message sequences, written once as data (s2n's
// handshake table; STYLE.md §2). The engine consults the table to decide
// whether a client message may come next (anything else is
// unexpected_message, RFC 5246 §7.2.2) and emits its checkpoints exactly at
// the steps the table marks; tests compare the engine's step log with it.
//
// Checkpoint placement follows SSLACC §5.1 (Figures 18-20) for the full
// handshake and §5.2 (Figure 21) for the resumed one, where "the steps for
// clustering the transmission and receipt of Finished are switched".

export type Actor = "client" | "server";
export type MessageName =
  | "ClientHello"
  | "ServerHello"
  | "Certificate"
  | "ServerHelloDone"
  | "ClientKeyExchange"
  | "ChangeCipherSpec"
  | "Finished";

/**
 * The state to enter on failover, named by the last step taken; a
 * checkpoint carries one (docs/tls-engine.md, checkpoint table).
 */
export type HandshakePhase =
  | "client-hello" // 1: send ServerHello, Certificate, ServerHelloDone
  | "client-key-exchange" // 2: decrypt the pre-master (re-issue the RSA operation)
  | "client-ccs" // 3: expect client Finished
  | "client-finished" // 4: send ChangeCipherSpec + Finished
  | "server-finished" // 5: data
  | "resumed-client-hello" // R1: send ServerHello, ChangeCipherSpec, Finished
  | "resumed-server-finished" // R2: expect client ChangeCipherSpec
  | "resumed-client-ccs" // R3: expect client Finished
  | "resumed-client-finished"; // R4: data

export interface Step {
  readonly actor: Actor;
  readonly message: MessageName;
  /** Checkpoint emitted once this step is done. */
  readonly checkpoint?: HandshakePhase;
}

export type SequenceName = "full" | "resumed";

export const SEQUENCES: Readonly<Record<SequenceName, readonly Step[]>> = {
  // RFC 5246 §7.3 Figure 1, static RSA: no ServerKeyExchange (§7.4.3), no
  // CertificateRequest (we do not ask for client certificates).
  full: [
    { actor: "client", message: "ClientHello", checkpoint: "client-hello" },
    { actor: "server", message: "ServerHello" },
    { actor: "server", message: "Certificate" },
    { actor: "server", message: "ServerHelloDone" },
    { actor: "client", message: "ClientKeyExchange", checkpoint: "client-key-exchange" },
    { actor: "client", message: "ChangeCipherSpec", checkpoint: "client-ccs" },
    { actor: "client", message: "Finished", checkpoint: "client-finished" },
    { actor: "server", message: "ChangeCipherSpec" },
    { actor: "server", message: "Finished", checkpoint: "server-finished" },
  ],
  // RFC 5246 §7.3 Figure 2.
  resumed: [
    { actor: "client", message: "ClientHello", checkpoint: "resumed-client-hello" },
    { actor: "server", message: "ServerHello" },
    { actor: "server", message: "ChangeCipherSpec" },
    { actor: "server", message: "Finished", checkpoint: "resumed-server-finished" },
    { actor: "client", message: "ChangeCipherSpec", checkpoint: "resumed-client-ccs" },
    { actor: "client", message: "Finished", checkpoint: "resumed-client-finished" },
  ],
};

/** Where in which sequence a phase leaves the handshake: the next step's index. */
export function positionAfter(phase: HandshakePhase): { sequence: SequenceName; position: number } {
  for (const name of ["full", "resumed"] as const) {
    const i = SEQUENCES[name].findIndex((s) => s.checkpoint === phase);
    if (i >= 0) return { sequence: name, position: i + 1 };
  }
  throw new RangeError(`unknown handshake phase ${String(phase)}`);
}

/** True when the phase ends the handshake (the connection is in the data state). */
export function isFinalPhase(phase: HandshakePhase): boolean {
  const { sequence, position } = positionAfter(phase);
  return position === SEQUENCES[sequence].length;
}
