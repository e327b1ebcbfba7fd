// Public surface of the TLS wire codec: everything the handshake engine
// (src/tls, coming next) needs to turn bytes into typed messages and back.
// No I/O, no crypto: bytes in, values or DecodeError out.

export * from "./alerts.js";
export * from "./cipher-suites.js";
export * from "./constants.js";
export * from "./errors.js";
export * from "./handshake-framing.js";
export * from "./reader.js";
export * from "./record.js";
export * from "./writer.js";
export * from "./extensions/index.js";
export { canonicalHostName, NameType } from "./extensions/server-name.js";
export { HashAlgorithm, SignatureAlgorithm, type SignatureAndHashAlgorithm } from "./extensions/signature-algorithms.js";
export * from "./messages/alert.js";
export * from "./messages/certificate.js";
export * from "./messages/change-cipher-spec.js";
export * from "./messages/client-hello.js";
export * from "./messages/client-key-exchange.js";
export * from "./messages/finished.js";
export * from "./messages/hello-request.js";
export * from "./messages/server-hello.js";
export * from "./messages/server-hello-done.js";
