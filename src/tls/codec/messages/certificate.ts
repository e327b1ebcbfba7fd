// Certificate (RFC 5246 §7.4.2): the server's chain, sender's certificate
// first, each one signing the one before. The server writes it after
// ServerHello; the parser serves tests and a future client-auth path.
//
//   opaque ASN.1Cert<1..2^24-1>;
//   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
//
// Certificates are DER blobs here; nothing in the codec looks inside them.

import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface Certificate {
  readonly certificateList: readonly Uint8Array[];
}

export function parseCertificate(body: Uint8Array): Certificate {
  const r = new Reader(body, "Certificate");
  const list = r.vector24("certificate_list");
  const certificateList: Uint8Array[] = [];
  for (let i = 0; !list.atEnd(); i++) {
    certificateList.push(list.opaque24(`[${i}]`, { min: 1, max: 0xffffff }));
  }
  r.expectEnd();
  return { certificateList };
}

export function writeCertificate(w: Writer, m: Certificate): void {
  w.vector24((w) => {
    for (const cert of m.certificateList) {
      if (cert.length === 0) throw new RangeError("Certificate: empty ASN.1Cert");
      w.opaque24(cert);
    }
  });
}
