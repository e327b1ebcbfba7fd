// TLS PRF known-answer vectors.
//
// TLS 1.2 (P_SHA256): the vector posted to the IETF TLS list,
//   https://www.ietf.org/mail-archive/web/tls/current/msg03416.html
//   (also used as a reference in the PKCS#11 TC,
//   https://lists.oasis-open.org/archives/pkcs11/201411/msg00019.html).
// TLS 1.0/1.1 (P_MD5 ⊕ P_SHA1): NIST CAVP TLS KDF vectors as carried in
//   OpenSSL's test/recipes/30-test_evp_data/evpkdf_tls11_prf.txt ("TLS1 PRF
//   tests (from NIST test vectors)"): a master secret from a 48-byte
//   pre-master secret, then a 104-byte key block from it. The seed is the
//   concatenation given (client ‖ server randoms, then server ‖ client).
// All hex except the labels.

export interface PrfVector {
  readonly source: string;
  readonly secret: string;
  readonly label: string;
  readonly seed: string;
  readonly output: string;
}

export const TLS12_PRF_VECTORS: readonly PrfVector[] = [
  {
    source: "IETF TLS list msg03416, P_SHA256",
    secret: "9bbe436ba940f017b17652849a71db35",
    label: "test label",
    seed: "a0ba9f936cda311827a6f796ffd5198c",
    output:
      "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a" +
      "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" +
      "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" +
      "87347b66",
  },
];

export const TLS10_PRF_VECTORS: readonly PrfVector[] = [
  {
    source: "NIST CAVP TLS 1.0/1.1 KDF via OpenSSL evpkdf_tls11_prf.txt, master secret",
    secret: "bded7fa5c1699c010be23dd06ada3a48349f21e5f86263d512c0c5cc379f0e780ec55d9844b2f1db02a96453513568d0",
    label: "master secret",
    seed:
      "e5acaf549cd25c22d964c0d930fa4b5261d2507fad84c33715b7b9a864020693" +
      "135e4d557fdf3aa6406d82975d5c606a9734c9334b42136e96990fbd5358cdb2",
    output: "2f6962dfbc744c4b2138bb6b3d33054c5ecc14f24851d9896395a44ab3964efc2090c5bf51a0891209f46c1e1e998f62",
  },
  {
    source: "NIST CAVP TLS 1.0/1.1 KDF via OpenSSL evpkdf_tls11_prf.txt, key block",
    secret: "2f6962dfbc744c4b2138bb6b3d33054c5ecc14f24851d9896395a44ab3964efc2090c5bf51a0891209f46c1e1e998f62",
    label: "key expansion",
    seed:
      "67267e650eb32444119d222a368c191af3082888dc35afe8368e638c828874be" +
      "d58a7b1cd4fedaa232159df652ce188f9d997e061b9bf48e83b62990440931f6",
    output:
      "3088825988e77fce68d19f756e18e43eb7fe672433504feaf99b3c503d9091b1" +
      "64f166db301d70c9fc0870b4a94563907bee1a61fb786cb717576890bcc51cb9" +
      "ead97e01d0a2fea99c953377b195205ff07b369589178796edc963fd80fdbe51" +
      "8a2fc1c35c18ae8d",
  },
];
