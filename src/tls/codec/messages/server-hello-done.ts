// ServerHelloDone (RFC 5246 §7.4.5): ends the server's first flight; after
// it the server waits for the client's key exchange.
//
//   struct { } ServerHelloDone;

import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface ServerHelloDone {
  readonly kind: "server_hello_done";
}

export function parseServerHelloDone(body: Uint8Array): ServerHelloDone {
  new Reader(body, "ServerHelloDone").expectEnd();
  return { kind: "server_hello_done" };
}

export function writeServerHelloDone(_w: Writer, _m: ServerHelloDone): void {}
