// HMAC known-answer vectors, transcribed from RFC 2202 §2 (HMAC-MD5) and §3
// (HMAC-SHA1), and RFC 4231 §4.2-4.8 (HMAC-SHA-256 results), all seven test
// cases each. Keys and data are hex. `truncate` is the RFC's truncated
// output length in bytes (test case 5); the digest given is that prefix.

export interface HmacVector {
  readonly source: string;
  readonly key: string;
  readonly data: string;
  readonly digest: string;
  readonly truncate?: number;
}

const hex = (s: string): string => Buffer.from(s, "latin1").toString("hex");
const rep = (byte: string, n: number): string => byte.repeat(n);
const KEY_25 = "0102030405060708090a0b0c0d0e0f10111213141516171819";

export const HMAC_MD5_VECTORS: readonly HmacVector[] = [
  { source: "RFC 2202 §2 case 1", key: rep("0b", 16), data: hex("Hi There"), digest: "9294727a3638bb1c13f48ef8158bfc9d" },
  { source: "RFC 2202 §2 case 2", key: hex("Jefe"), data: hex("what do ya want for nothing?"), digest: "750c783e6ab0b503eaa86e310a5db738" },
  { source: "RFC 2202 §2 case 3", key: rep("aa", 16), data: rep("dd", 50), digest: "56be34521d144c88dbb8c733f0e8b3f6" },
  { source: "RFC 2202 §2 case 4", key: KEY_25, data: rep("cd", 50), digest: "697eaf0aca3a3aea3a75164746ffaa79" },
  { source: "RFC 2202 §2 case 5", key: rep("0c", 16), data: hex("Test With Truncation"), digest: "56461ef2342edc00f9bab995", truncate: 12 },
  {
    source: "RFC 2202 §2 case 6",
    key: rep("aa", 80),
    data: hex("Test Using Larger Than Block-Size Key - Hash Key First"),
    digest: "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
  },
  {
    source: "RFC 2202 §2 case 7",
    key: rep("aa", 80),
    data: hex("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
    digest: "6f630fad67cda0ee1fb1f562db3aa53e",
  },
];

export const HMAC_SHA1_VECTORS: readonly HmacVector[] = [
  { source: "RFC 2202 §3 case 1", key: rep("0b", 20), data: hex("Hi There"), digest: "b617318655057264e28bc0b6fb378c8ef146be00" },
  { source: "RFC 2202 §3 case 2", key: hex("Jefe"), data: hex("what do ya want for nothing?"), digest: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
  { source: "RFC 2202 §3 case 3", key: rep("aa", 20), data: rep("dd", 50), digest: "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
  { source: "RFC 2202 §3 case 4", key: KEY_25, data: rep("cd", 50), digest: "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
  { source: "RFC 2202 §3 case 5", key: rep("0c", 20), data: hex("Test With Truncation"), digest: "4c1a03424b55e07fe7f27be1", truncate: 12 },
  {
    source: "RFC 2202 §3 case 6",
    key: rep("aa", 80),
    data: hex("Test Using Larger Than Block-Size Key - Hash Key First"),
    digest: "aa4ae5e15272d00e95705637ce8a3b55ed402112",
  },
  {
    source: "RFC 2202 §3 case 7",
    key: rep("aa", 80),
    data: hex("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
    digest: "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
  },
];

export const HMAC_SHA256_VECTORS: readonly HmacVector[] = [
  {
    source: "RFC 4231 §4.2 case 1",
    key: rep("0b", 20),
    data: hex("Hi There"),
    digest: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    source: "RFC 4231 §4.3 case 2",
    key: hex("Jefe"),
    data: hex("what do ya want for nothing?"),
    digest: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    source: "RFC 4231 §4.4 case 3",
    key: rep("aa", 20),
    data: rep("dd", 50),
    digest: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  },
  {
    source: "RFC 4231 §4.5 case 4",
    key: KEY_25,
    data: rep("cd", 50),
    digest: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  },
  { source: "RFC 4231 §4.6 case 5", key: rep("0c", 20), data: hex("Test With Truncation"), digest: "a3b6167473100ee06e0c796c2955552b", truncate: 16 },
  {
    source: "RFC 4231 §4.7 case 6 (131-byte key)",
    key: rep("aa", 131),
    data: hex("Test Using Larger Than Block-Size Key - Hash Key First"),
    digest: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  },
  {
    source: "RFC 4231 §4.8 case 7 (131-byte key, 152-byte data)",
    key: rep("aa", 131),
    data: hex(
      "This is a test using a larger than block-size key and a larger than block-size data. " +
        "The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    digest: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  },
];
