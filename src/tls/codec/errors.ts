// The one error type of the codec layer.
//
// Every parser under src/tls/codec throws DecodeError and nothing else when
// the peer's bytes are wrong (the fuzz tests hold it to that). The error
// carries the alert the engine should send and names the field at fault,
// e.g. "ClientHello.cipher_suites: odd length 7". Errors are built only by
// the named factories below, so each kind of peer misbehaviour has one
// wording and one alert.
//
// Which alert: RFC 5246 §7.2.2 says decode_error covers "a message could
// not be decoded because some field was out of the specified range or the
// length of the message was incorrect"; illegal_parameter covers "a field in
// the handshake was out of range or inconsistent with other fields". The two
// overlap, so we use the sharper line RFC 8446 §6.2 draws for the same
// alerts: bytes that cannot be parsed by the presentation-language syntax
// (truncation, trailing bytes, vector lengths outside <min..max>) are
// decode_error; well-formed values the protocol forbids are
// illegal_parameter.

import { AlertDescription, alertDescriptionName } from "./alerts.js";

export class DecodeError extends Error {
  override readonly name = "DecodeError";

  constructor(
    /** The alert description to send before closing. */
    readonly alert: AlertDescription,
    /** Dotted path of the field at fault, e.g. "ClientHello.cipher_suites". */
    readonly field: string,
    /** What was wrong with it. */
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }

  /** The alert's RFC name, for logs. */
  get alertName(): string {
    return alertDescriptionName(this.alert);
  }
}

// --- syntax: decode_error ---------------------------------------------------

/** A fixed-size field runs past the end of its enclosing structure. */
export function truncated(field: string, needed: number, available: number): DecodeError {
  return new DecodeError(
    AlertDescription.decode_error,
    field,
    `truncated: needs ${needed} bytes, ${available} remain`,
  );
}

/** A vector's length prefix points past the end of its enclosing structure. */
export function vectorOverrun(field: string, length: number, available: number): DecodeError {
  return new DecodeError(
    AlertDescription.decode_error,
    field,
    `length ${length} exceeds the ${available} bytes remaining`,
  );
}

/** A vector's length is outside the <min..max> its definition allows. */
export function lengthOutOfRange(field: string, length: number, min: number, max: number): DecodeError {
  return new DecodeError(
    AlertDescription.decode_error,
    field,
    `length ${length} outside <${min}..${max}>`,
  );
}

/** A vector of fixed-size elements whose length is not a multiple of the element size. */
export function notMultiple(field: string, length: number, elementSize: number): DecodeError {
  const what = elementSize === 2 ? "odd length" : `length not a multiple of ${elementSize}:`;
  return new DecodeError(AlertDescription.decode_error, field, `${what} ${length}`);
}

/** Bytes left over after a structure that should have ended. */
export function trailingBytes(field: string, count: number): DecodeError {
  return new DecodeError(
    AlertDescription.decode_error,
    field,
    `${count} trailing byte${count === 1 ? "" : "s"}`,
  );
}

/** A structure whose length must be exactly some value. */
export function wrongLength(field: string, length: number, expected: number): DecodeError {
  return new DecodeError(AlertDescription.decode_error, field, `length ${length}, expected ${expected}`);
}

/** An extension whose extension_data must be empty was not. */
export function notEmpty(field: string, length: number, rfc: string): DecodeError {
  return new DecodeError(AlertDescription.decode_error, field, `must be empty (${rfc}), has ${length} bytes`);
}

/** A value whose syntax is undefined, so the rest cannot be parsed. */
export function undecodable(field: string, detail: string): DecodeError {
  return new DecodeError(AlertDescription.decode_error, field, detail);
}

// --- semantics: illegal_parameter ------------------------------------------

/** A well-formed value the protocol forbids. */
export function illegalValue(field: string, detail: string): DecodeError {
  return new DecodeError(AlertDescription.illegal_parameter, field, detail);
}

/** Something that may appear at most once appeared again. */
export function duplicate(field: string, what: string): DecodeError {
  return new DecodeError(AlertDescription.illegal_parameter, field, `duplicate ${what}`);
}

/** A handshake message bigger than this server is willing to buffer. */
export function messageTooLarge(field: string, length: number, limit: number): DecodeError {
  return new DecodeError(
    AlertDescription.illegal_parameter,
    field,
    `length ${length} exceeds the limit of ${limit} bytes`,
  );
}

// --- record layer -----------------------------------------------------------

/** A record or message arrived where the protocol does not allow it. */
export function unexpectedMessage(field: string, detail: string): DecodeError {
  return new DecodeError(AlertDescription.unexpected_message, field, detail);
}

/** RFC 5246 §6.2.1-§6.2.3: a record longer than its layer allows. */
export function recordOverflow(field: string, length: number, limit: number): DecodeError {
  return new DecodeError(
    AlertDescription.record_overflow,
    field,
    `length ${length} exceeds the limit of ${limit} bytes`,
  );
}

/**
 * RFC 6176 §3: servers MUST NOT negotiate SSL 2.0, and we do not accept the
 * SSL 2.0 CLIENT-HELLO format that RFC 5246 Appendix E.2 lets servers
 * tolerate. The peer speaks SSLv2 framing and cannot read a TLS alert, so the
 * engine may just close; protocol_version is the alert if it sends one.
 */
export function sslv2ClientHello(): DecodeError {
  return new DecodeError(
    AlertDescription.protocol_version,
    "record",
    "SSL 2.0-format ClientHello refused (RFC 6176: SSL 2.0 is prohibited)",
  );
}
