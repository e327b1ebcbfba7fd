// ClientKeyExchange (RFC 5246 §7.4.7): the client's half of the key
// exchange. With static RSA it carries the premaster secret encrypted to the
// server's key; the engine hands the ciphertext to the RSA pool. Checking
// its length against the modulus and the Bleichenbacher countermeasures of
// RFC 5246 §7.4.7.1 belong to the engine, not here.
//
//   struct {
//       select (KeyExchangeAlgorithm) {
//           case rsa: EncryptedPreMasterSecret;
//       } exchange_keys;
//   } ClientKeyExchange;
//
//   struct { public-key-encrypted PreMasterSecret pre_master_secret; } EncryptedPreMasterSecret;
//
// RFC 5246 §7.4.7.1 implementation note: public-key-encrypted data is an
// opaque vector <0..2^16-1>, so in TLS the ciphertext is "preceded by two
// length bytes", whereas "many SSLv3 implementations do not include the
// length bytes -- they encode the RSA-encrypted data directly".

import type { KeyExchange } from "../cipher-suites.js";
import { assertNever } from "../assert-never.js";
import { ProtocolVersion } from "../constants.js";
import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

/**
 * One member per key exchange; ECDHE will add
 * `{ keyExchange: "ecdhe_rsa"; publicPoint }` (RFC 8422 §5.7) and the
 * switches below will not compile until they handle it.
 */
export type ClientKeyExchange = {
  readonly keyExchange: "rsa";
  readonly encryptedPreMasterSecret: Uint8Array;
};

/** What the parser must know that the message does not say. */
export interface ClientKeyExchangeParams {
  /** The negotiated suite's key exchange. */
  readonly keyExchange: KeyExchange;
  /** The negotiated version: SSL 3.0 omits the RSA ciphertext's length. */
  readonly version: number;
}

export function parseClientKeyExchange(body: Uint8Array, params: ClientKeyExchangeParams): ClientKeyExchange {
  const r = new Reader(body, "ClientKeyExchange");
  switch (params.keyExchange) {
    case "rsa": {
      const encryptedPreMasterSecret =
        params.version === ProtocolVersion.SSL3 ? r.rest() : r.opaque16("exchange_keys.pre_master_secret");
      r.expectEnd();
      return { keyExchange: "rsa", encryptedPreMasterSecret };
    }
    default:
      return assertNever(params.keyExchange, "key exchange");
  }
}

export function writeClientKeyExchange(w: Writer, m: ClientKeyExchange, version: number): void {
  switch (m.keyExchange) {
    case "rsa":
      if (version === ProtocolVersion.SSL3) w.bytes(m.encryptedPreMasterSecret);
      else w.opaque16(m.encryptedPreMasterSecret);
      return;
    default:
      return assertNever(m.keyExchange, "key exchange");
  }
}
