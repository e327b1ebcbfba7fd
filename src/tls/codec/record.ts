// Record framing: the first thing client bytes meet.
//
//   socket bytes --> RecordDeframer --> {type, version, body} --> (decrypt)
//        --> checkPlaintextFragment --> handshake-framing / alert / CCS / app data
//
// The deframer only cuts the byte stream at record boundaries (RFC 5246
// §6.2.1 TLSPlaintext / §6.2.3 TLSCiphertext share the 5-byte header); it
// knows nothing about keys, so it enforces the ciphertext length limit and
// leaves the plaintext limit to the caller after decryption. It accepts bytes
// in chunks of any size, down to one byte at a time, and produces the same
// records whatever the split.

import { ContentType, contentTypeName, isContentType, versionName } from "./constants.js";
import {
  DecodeError,
  recordOverflow,
  sslv2ClientHello,
  undecodable,
  unexpectedMessage,
} from "./errors.js";
import { ByteQueue } from "./byte-queue.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

export const RECORD_HEADER_LENGTH = 5;
/** RFC 5246 §6.2.1: TLSPlaintext.length MUST NOT exceed 2^14. */
export const MAX_PLAINTEXT_LENGTH = 2 ** 14;
/** RFC 5246 §6.2.2: TLSCompressed.length MUST NOT exceed 2^14 + 1024 (we never compress). */
export const MAX_COMPRESSED_LENGTH = 2 ** 14 + 1024;
/** RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048. */
export const MAX_CIPHERTEXT_LENGTH = 2 ** 14 + 2048;

export interface RecordHeader {
  readonly type: ContentType;
  /** TLSPlaintext.version; the engine compares it with the negotiated version. */
  readonly version: number;
  readonly length: number;
}

export interface TlsRecord {
  readonly type: ContentType;
  readonly version: number;
  /** The fragment: ciphertext once keys are active, plaintext before. */
  readonly body: Uint8Array;
}

/**
 * Parses a 5-byte record header. `streamStart` is true for the connection's
 * first bytes, where an SSL 2.0 hello or a plaintext protocol is likelier
 * than a corrupt record and deserves a clearer error.
 */
export function parseRecordHeader(
  h: Uint8Array,
  streamStart: boolean,
  maxLength = MAX_CIPHERTEXT_LENGTH,
): RecordHeader {
  checkContentType(h, streamStart);
  const r = new Reader(h, "record");
  const type = r.u8("type") as ContentType;
  const version = r.u16("version");
  // RFC 5246 Appendix E.1: a server must accept any {03,XX} record version
  // (at least for the ClientHello); anything else is not SSL 3/TLS.
  if (version >> 8 !== 3) throw undecodable("record.version", `${versionName(version)} is not an SSL 3.0/TLS version`);
  const length = r.u16("length");
  // RFC 5246 §6.2.3 and §7.2.2 record_overflow.
  if (length > maxLength) throw recordOverflow("record.length", length, maxLength);
  return { type, version, length };
}

/**
 * Checks the first header byte, the content type, as soon as it is known:
 * `h` may hold fewer than 5 bytes.
 */
function checkContentType(h: Uint8Array, streamStart: boolean): void {
  const type = h[0]!;
  if (isContentType(type)) return;
  if (streamStart && isSslv2ClientHello(h)) throw sslv2ClientHello();
  let hint = "";
  if (streamStart && type >= 0x41 && type <= 0x5a) hint = ` ("${String.fromCharCode(type)}": plaintext, e.g. HTTP, sent to a TLS port?)`;
  // RFC 5246 §6: "If a TLS implementation receives an unexpected record
  // type, it MUST send an unexpected_message alert."
  throw unexpectedMessage("record.type", `unknown content type ${type}${hint}`);
}

/**
 * RFC 5246 Appendix E.2: an SSL 2.0 CLIENT-HELLO starts with a 2-byte header
 * whose high bit is set (msg_length), then msg_type = 1. Call with at least 3
 * bytes; with fewer, a high-bit first byte is reported as SSLv2 anyway, since
 * no TLS content type has that bit.
 */
function isSslv2ClientHello(h: Uint8Array): boolean {
  return (h[0]! & 0x80) !== 0 && (h.length < 3 || h[2] === 1);
}

/**
 * Checks a record body after decryption (or as is, before keys are active).
 * RFC 5246 §6.2.1: plaintext is at most 2^14 bytes, and handshake, alert and
 * change_cipher_spec fragments MUST NOT be empty (application data may be:
 * it is a traffic-analysis countermeasure).
 */
export function checkPlaintextFragment(type: ContentType, length: number): void {
  if (length > MAX_PLAINTEXT_LENGTH) throw recordOverflow("record.plaintext", length, MAX_PLAINTEXT_LENGTH);
  if (length === 0 && type !== ContentType.application_data) {
    throw unexpectedMessage("record.plaintext", `empty ${contentTypeName(type)} record`);
  }
}

export function writeRecordHeader(w: Writer, type: ContentType, version: number, length: number): void {
  w.u8(type).u16(version).u16(length);
}

/** A whole record: header then body. */
export function encodeRecord(type: ContentType, version: number, body: Uint8Array): Uint8Array {
  const w = new Writer(RECORD_HEADER_LENGTH + body.length);
  writeRecordHeader(w, type, version, body.length);
  return w.bytes(body).finish();
}

/**
 * Cuts a plaintext payload into record-sized fragments (RFC 5246 §6.2.1), as
 * views into `payload`. An empty payload gives one empty fragment, which is
 * only legal for application data.
 */
export function fragmentPlaintext(payload: Uint8Array, max = MAX_PLAINTEXT_LENGTH): Uint8Array[] {
  if (payload.length === 0) return [payload];
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += max) out.push(payload.subarray(at, at + max));
  return out;
}

export interface DeframerOptions {
  /** Largest record body accepted; default 2^14 + 2048 (RFC 5246 §6.2.3). */
  readonly maxRecordLength?: number;
}

/**
 * Turns a byte stream into records. Push chunks as they arrive; call next()
 * until it returns undefined. Chunks are not copied on push, so the caller
 * must not modify them afterwards; record bodies are fresh copies.
 *
 * After an error the deframer is dead: every later next() throws the same
 * error, so a caller cannot accidentally resynchronise on garbage.
 */
export class RecordDeframer {
  private readonly queue = new ByteQueue();
  private consumed = 0;
  private failure: DecodeError | undefined;
  private readonly maxRecordLength: number;

  constructor(options: DeframerOptions = {}) {
    this.maxRecordLength = options.maxRecordLength ?? MAX_CIPHERTEXT_LENGTH;
  }

  /** Bytes received but not yet returned inside a record. */
  get bufferedBytes(): number {
    return this.queue.length;
  }

  /**
   * Bytes returned inside complete records since construction: the offset up
   * to which the transport may treat input as consumed (DESIGN.md
   * "Checkpoints": consumed-input offsets).
   */
  get consumedBytes(): number {
    return this.consumed;
  }

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /** The next complete record, or undefined if more bytes are needed. */
  next(): TlsRecord | undefined {
    if (this.failure) throw this.failure;
    try {
      return this.tryNext();
    } catch (e) {
      if (e instanceof DecodeError) this.failure = e;
      throw e;
    }
  }

  private tryNext(): TlsRecord | undefined {
    if (this.queue.length === 0) return undefined;
    const streamStart = this.consumed === 0;
    const peek = this.queue.peek(RECORD_HEADER_LENGTH);
    if (peek.length < RECORD_HEADER_LENGTH) {
      // Fail fast on a bad first byte rather than wait for a header that may
      // never come (a plaintext client waits for our answer). A high-bit
      // first byte at stream start waits for 3 bytes to tell SSLv2 apart.
      const maybeSslv2 = streamStart && peek.length < 3 && (peek[0]! & 0x80) !== 0;
      if (!maybeSslv2) checkContentType(peek, streamStart);
      return undefined;
    }
    const header = parseRecordHeader(peek, streamStart, this.maxRecordLength);
    if (this.queue.length < RECORD_HEADER_LENGTH + header.length) return undefined;
    this.queue.skip(RECORD_HEADER_LENGTH);
    const body = this.queue.take(header.length);
    this.consumed += RECORD_HEADER_LENGTH + header.length;
    return { type: header.type, version: header.version, body };
  }
}
