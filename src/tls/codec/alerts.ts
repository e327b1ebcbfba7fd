// Alert levels and descriptions as they appear on the wire.
//
// Every codec error carries one of these descriptions (see errors.ts), and
// messages/alert.ts reads and writes the two-byte Alert message built from
// them. Names are spelled as in the RFCs so code and spec can be read side by
// side.

/** RFC 5246 §7.2: enum { warning(1), fatal(2), (255) } AlertLevel. */
export const AlertLevel = {
  warning: 1,
  fatal: 2,
} as const;
export type AlertLevel = (typeof AlertLevel)[keyof typeof AlertLevel];

/**
 * RFC 5246 §7.2 (the full list, including the _RESERVED values that a
 * TLS 1.2 peer may still receive from older peers), plus the later
 * additions this server can send or receive.
 */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  decryption_failed_RESERVED: 21,
  record_overflow: 22,
  decompression_failure: 30,
  handshake_failure: 40,
  no_certificate_RESERVED: 41,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  export_restriction_RESERVED: 60,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  // RFC 7507 §2: the client's TLS_FALLBACK_SCSV met a server that supports a
  // higher version than the one offered.
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  // RFC 5246 §7.2 / RFC 5246 §7.4.1.4: only a client sends this.
  unsupported_extension: 110,
  // RFC 6066 §3: the server does not recognise the server_name.
  unrecognized_name: 112,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

const descriptionNames = new Map<number, string>(
  Object.entries(AlertDescription).map(([name, code]) => [code, name]),
);

/** The RFC name of an alert description, or its number for unknown values. */
export function alertDescriptionName(code: number): string {
  return descriptionNames.get(code) ?? `unknown_alert(${code})`;
}

/** True for a description this module knows by name. */
export function isKnownAlertDescription(code: number): code is AlertDescription {
  return descriptionNames.has(code);
}
