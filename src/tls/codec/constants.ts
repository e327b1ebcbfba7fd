// Wire constants of TLS 1.0-1.2 (and the few TLS 1.3 values a 1.2 server
// must recognise). Alerts live in alerts.ts and cipher suites in
// cipher-suites.ts; everything here is a plain name -> code table spelled as
// in the RFCs, with a union type of its codes and a name lookup for logs.

/** RFC 5246 §6.2.1: the record layer's ContentType. */
export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export function isContentType(v: number): v is ContentType {
  return v >= 20 && v <= 23;
}

/** RFC 5246 §7.4, plus RFC 5077 §3.3 new_session_ticket and RFC 6066 §8 certificate_status. */
export const HandshakeType = {
  hello_request: 0,
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  certificate_verify: 15,
  client_key_exchange: 16,
  finished: 20,
  certificate_status: 22,
} as const;
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

/**
 * Protocol versions as the 16-bit {major, minor} value of RFC 5246 §6.2.1.
 * SSL 3.0 appears only so that ClientKeyExchange and Finished can be read in
 * its framing (RFC 6101) - the server does not negotiate it (RFC 7568).
 * TLS 1.3 appears only to recognise clients that offer it (RFC 8446 §4.2.1).
 */
export const ProtocolVersion = {
  SSL3: 0x0300,
  TLS10: 0x0301,
  TLS11: 0x0302,
  TLS12: 0x0303,
  TLS13: 0x0304,
} as const;
export type ProtocolVersion = (typeof ProtocolVersion)[keyof typeof ProtocolVersion];

/** RFC 5246 §7.4.1.4 registry (IANA "ExtensionType Values"), the types this server knows. */
export const ExtensionType = {
  server_name: 0, // RFC 6066 §3
  supported_groups: 10, // RFC 8422 §5.1.1 (was elliptic_curves)
  ec_point_formats: 11, // RFC 8422 §5.1.2
  signature_algorithms: 13, // RFC 5246 §7.4.1.4.1
  encrypt_then_mac: 22, // RFC 7366 §2
  extended_master_secret: 23, // RFC 7627 §5.1
  session_ticket: 35, // RFC 5077 §3.2
  supported_versions: 43, // RFC 8446 §4.2.1
  renegotiation_info: 0xff01, // RFC 5746 §3.2
} as const;
export type ExtensionType = (typeof ExtensionType)[keyof typeof ExtensionType];

/** RFC 5246 §7.4.1.2: enum { null(0), (255) } CompressionMethod. */
export const CompressionMethod = { null: 0 } as const;

/**
 * Signalling cipher suite values: they travel in cipher_suites but name no
 * suite.
 */
export const SignallingSuite = {
  /** RFC 5746 §3.3: the client supports secure renegotiation. */
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV: 0x00ff,
  /** RFC 7507 §2: the client is retrying with a lower version than it supports. */
  TLS_FALLBACK_SCSV: 0x5600,
} as const;

/** TLS 1.0 and later Finished.verify_data length (RFC 5246 §7.4.9). */
export const TLS_VERIFY_DATA_LENGTH = 12;
/** SSL 3.0 Finished: md5_hash[16] + sha_hash[20] (RFC 6101 §5.6.9). */
export const SSL3_VERIFY_DATA_LENGTH = 36;

/** RFC 5246 §7.4.1.2: struct { uint32 gmt_unix_time; opaque random_bytes[28]; } Random. */
export const RANDOM_LENGTH = 32;
/** RFC 5246 §7.4.1.2: opaque SessionID<0..32>. */
export const MAX_SESSION_ID_LENGTH = 32;

function reverse(table: Record<string, number>): Map<number, string> {
  return new Map(Object.entries(table).map(([name, code]) => [code, name]));
}
const contentTypeNames = reverse(ContentType);
const handshakeTypeNames = reverse(HandshakeType);
const extensionTypeNames = reverse(ExtensionType);
const versionNames = new Map<number, string>([
  [0x0300, "SSL 3.0"],
  [0x0301, "TLS 1.0"],
  [0x0302, "TLS 1.1"],
  [0x0303, "TLS 1.2"],
  [0x0304, "TLS 1.3"],
]);

export function contentTypeName(code: number): string {
  return contentTypeNames.get(code) ?? `unknown_content_type(${code})`;
}

export function handshakeTypeName(code: number): string {
  return handshakeTypeNames.get(code) ?? `unknown_handshake_type(${code})`;
}

export function extensionTypeName(code: number): string {
  return extensionTypeNames.get(code) ?? `extension_0x${hex16(code)}`;
}

export function versionName(v: number): string {
  return versionNames.get(v) ?? `0x${hex16(v)}`;
}

export function hex16(v: number): string {
  return v.toString(16).padStart(4, "0");
}
