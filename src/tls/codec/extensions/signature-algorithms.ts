// signature_algorithms (RFC 5246 §7.4.1.4.1): which hash/signature pairs the
// client accepts. With static RSA key exchange the server signs nothing, so
// the engine only needs this for certificate selection; when it is absent a
// TLS 1.2 server must assume {sha1, rsa} (same section).
//
//   enum { none(0), md5(1), sha1(2), sha224(3), sha256(4), sha384(5),
//          sha512(6), (255) } HashAlgorithm;
//   enum { anonymous(0), rsa(1), dsa(2), ecdsa(3), (255) } SignatureAlgorithm;
//   struct { HashAlgorithm hash; SignatureAlgorithm signature; }
//       SignatureAndHashAlgorithm;
//   SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
//
// TLS 1.3 clients put 16-bit SignatureSchemes (RFC 8446 §4.2.3) in the same
// list; read as pairs they are harmless values we do not recognise.

import { notMultiple } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export const HashAlgorithm = { none: 0, md5: 1, sha1: 2, sha224: 3, sha256: 4, sha384: 5, sha512: 6 } as const;
export const SignatureAlgorithm = { anonymous: 0, rsa: 1, dsa: 2, ecdsa: 3 } as const;

export interface SignatureAndHashAlgorithm {
  readonly hash: number;
  readonly signature: number;
}

export interface SignatureAlgorithms {
  readonly type: "signature_algorithms";
  readonly algorithms: readonly SignatureAndHashAlgorithm[];
}

export function parseSignatureAlgorithms(r: Reader): SignatureAlgorithms {
  const list = r.vector16("supported_signature_algorithms", { min: 2, max: 0xfffe });
  if (list.remaining % 2 !== 0) throw notMultiple(list.where, list.remaining, 2);
  const algorithms: SignatureAndHashAlgorithm[] = [];
  while (!list.atEnd()) {
    algorithms.push({ hash: list.u8("hash"), signature: list.u8("signature") });
  }
  return { type: "signature_algorithms", algorithms };
}

export function writeSignatureAlgorithms(w: Writer, ext: SignatureAlgorithms): void {
  w.vector16((w) => {
    for (const a of ext.algorithms) w.u8(a.hash).u8(a.signature);
  });
}
