// HelloRequest (RFC 5246 §7.4.1.1): the server asks the client to start a
// new handshake. It is not part of the handshake hash ("This message MUST
// NOT be included in the message hashes"), which the engine must remember
// when it feeds HandshakeMessage.raw to the hash.
//
//   struct { } HelloRequest;

import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface HelloRequest {
  readonly kind: "hello_request";
}

export function parseHelloRequest(body: Uint8Array): HelloRequest {
  new Reader(body, "HelloRequest").expectEnd();
  return { kind: "hello_request" };
}

export function writeHelloRequest(_w: Writer, _m: HelloRequest): void {}
