// Handshake message framing (RFC 5246 §7.4):
//
//   struct { HandshakeType msg_type; uint24 length; body } Handshake;
//
// Record bodies of type handshake go in (after decryption and
// checkPlaintextFragment); whole messages come out, whatever the record
// boundaries: one message may span many records and one record may carry
// many messages (RFC 5246 §6.2.1: "multiple client messages of the same
// ContentType MAY be coalesced into a single TLSPlaintext record, or a single
// message MAY be fragmented across several records"). Each message keeps its
// raw bytes, header included, because those are what the handshake hash
// covers (RFC 5246 §7.4.9 handshake_messages) - except HelloRequest, which
// the engine must leave out (RFC 5246 §7.4.1.1).

import { assertNever } from "./assert-never.js";
import { ContentType, contentTypeName, handshakeTypeName } from "./constants.js";
import { ByteQueue } from "./byte-queue.js";
import { DecodeError, messageTooLarge, unexpectedMessage } from "./errors.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

export const HANDSHAKE_HEADER_LENGTH = 4;
/**
 * Default cap on one handshake message. The uint24 length allows 16 MiB; a
 * server only receives ClientHello (a few hundred bytes, realistically under
 * 16 KiB), ClientKeyExchange (an RSA ciphertext) and Finished, so 64 KiB
 * leaves ample room while bounding the memory a peer can make us hold.
 */
export const DEFAULT_MAX_HANDSHAKE_LENGTH = 64 * 1024;

export interface HandshakeMessage {
  /** HandshakeType; unknown values are passed through for the engine to reject. */
  readonly msgType: number;
  /** The message body (without the 4-byte header), a view into raw. */
  readonly body: Uint8Array;
  /** Header and body exactly as received: the handshake hash input. */
  readonly raw: Uint8Array;
}

/**
 * Which rule governs other records arriving between fragments of one
 * handshake message:
 *
 * - "tls12": RFC 5246 §6.2.1 Note: "Data of different TLS record layer
 *   content types MAY be interleaved" and "Recipients MUST receive and
 *   process interleaved application layer traffic during handshakes
 *   subsequent to the first one". So alerts and application data may arrive
 *   mid-message. A change_cipher_spec may not: it switches the read keys
 *   (RFC 5246 §7.1), and a handshake message cannot be half under the old
 *   keys and half under the new. RFC 5246 does not spell this out; RFC 8446
 *   §5.1 does ("MUST NOT span key changes ... MUST terminate the connection
 *   with an unexpected_message alert"), and we apply it to TLS 1.2 as well.
 * - "tls13": RFC 8446 §5.1: "Handshake messages MUST NOT be interleaved with
 *   other record types": any other record mid-message is unexpected_message.
 */
export type InterleavingRule = "tls12" | "tls13";

export interface ReassemblerOptions {
  /** Largest handshake body accepted, default DEFAULT_MAX_HANDSHAKE_LENGTH. */
  readonly maxMessageLength?: number;
  readonly interleaving?: InterleavingRule;
}

export class HandshakeReassembler {
  private readonly queue = new ByteQueue();
  private readonly maxMessageLength: number;
  private readonly interleaving: InterleavingRule;
  private failure: DecodeError | undefined;

  constructor(options: ReassemblerOptions = {}) {
    this.maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_HANDSHAKE_LENGTH;
    this.interleaving = options.interleaving ?? "tls12";
  }

  /** Handshake bytes received but not yet returned in a message. */
  get bufferedBytes(): number {
    return this.queue.length;
  }

  /**
   * A copy of the handshake bytes received but not yet returned in a message:
   * what a checkpoint taken between two messages must carry so that a
   * restored engine can continue the message (docs/tls-engine.md).
   */
  peekBuffered(): Uint8Array {
    return this.queue.peek(this.queue.length);
  }

  /** The plaintext body of one handshake record. */
  push(fragment: Uint8Array): void {
    if (this.failure) throw this.failure;
    // RFC 5246 §6.2.1: "Implementations MUST NOT send zero-length fragments
    // of Handshake ... content types."
    if (fragment.length === 0) this.fail(unexpectedMessage("record.plaintext", "empty handshake record"));
    this.queue.push(fragment);
  }

  /**
   * The next complete message, or undefined if more records are needed.
   * Throws as soon as a header announces a message over the limit, without
   * waiting for its body.
   */
  next(): HandshakeMessage | undefined {
    if (this.failure) throw this.failure;
    if (this.queue.length < HANDSHAKE_HEADER_LENGTH) return undefined;
    const header = new Reader(this.queue.peek(HANDSHAKE_HEADER_LENGTH), "Handshake");
    const msgType = header.u8("msg_type");
    const length = header.u24("length");
    if (length > this.maxMessageLength) {
      this.fail(messageTooLarge(`${messageName(msgType)}.length`, length, this.maxMessageLength));
    }
    if (this.queue.length < HANDSHAKE_HEADER_LENGTH + length) return undefined;
    const raw = this.queue.take(HANDSHAKE_HEADER_LENGTH + length);
    return { msgType, body: raw.subarray(HANDSHAKE_HEADER_LENGTH), raw };
  }

  /**
   * Call for every non-handshake record, before acting on it. Throws
   * unexpected_message if the record may not arrive while handshake bytes
   * are pending (see InterleavingRule).
   */
  checkInterleaving(type: Exclude<ContentType, typeof ContentType.handshake>): void {
    if (this.failure) throw this.failure;
    if (this.queue.length === 0) return;
    const detail = `${contentTypeName(type)} record while ${this.queue.length} handshake bytes are pending`;
    if (this.interleaving === "tls13") this.fail(unexpectedMessage("record.type", `${detail} (RFC 8446 §5.1)`));
    switch (type) {
      case ContentType.change_cipher_spec:
        return this.fail(unexpectedMessage("record.type", `${detail}: a handshake message must not span a key change`));
      case ContentType.alert:
      case ContentType.application_data:
        return;
      default:
        return assertNever(type, "content type");
    }
  }

  private fail(e: DecodeError): never {
    this.failure = e;
    throw e;
  }
}

function messageName(msgType: number): string {
  return `Handshake(${handshakeTypeName(msgType)})`;
}

/** Writes one handshake message: header, then the body `writeBody` writes. */
export function writeHandshake(w: Writer, msgType: number, writeBody: (w: Writer) => void): void {
  w.u8(msgType).vector24(writeBody);
}

/** One whole handshake message as bytes (what goes into the handshake hash). */
export function encodeHandshake(msgType: number, writeBody: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  writeHandshake(w, msgType, writeBody);
  return w.finish();
}
