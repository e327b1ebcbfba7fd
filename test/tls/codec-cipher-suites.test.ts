import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CIPHER_SUITES,
  CipherSuiteRegistry,
  ProtocolVersion,
  defaultRegistry,
  keyBlockIvLength,
  suiteAllowedAt,
  type CipherSuite,
} from "../../src/tls/codec/index.js";

test("registry rows match RFC 5246 Appendix C", () => {
  const row = (code: number): CipherSuite => defaultRegistry.get(code)!;
  assert.deepEqual(
    [0x002f, 0x0035, 0x003c, 0x003d, 0x0005, 0x0004].map((c) => {
      const s = row(c);
      return [s.name, s.cipher, s.keyLength, s.ivLength, s.mac, s.macLength];
    }),
    [
      ["TLS_RSA_WITH_AES_128_CBC_SHA", "aes128-cbc", 16, 16, "sha1", 20],
      ["TLS_RSA_WITH_AES_256_CBC_SHA", "aes256-cbc", 32, 16, "sha1", 20],
      ["TLS_RSA_WITH_AES_128_CBC_SHA256", "aes128-cbc", 16, 16, "sha256", 32],
      ["TLS_RSA_WITH_AES_256_CBC_SHA256", "aes256-cbc", 32, 16, "sha256", 32],
      ["TLS_RSA_WITH_RC4_128_SHA", "rc4-128", 16, 0, "sha1", 20],
      ["TLS_RSA_WITH_RC4_128_MD5", "rc4-128", 16, 0, "md5", 16],
    ],
  );
  for (const s of CIPHER_SUITES) assert.equal(s.keyExchange, "rsa");
});

test("versions: SHA-256 suites are TLS 1.2 only; RC4 is off by default (RFC 7465)", () => {
  const sha256 = defaultRegistry.get(0x003c)!;
  assert.ok(!suiteAllowedAt(sha256, ProtocolVersion.TLS11));
  assert.ok(suiteAllowedAt(sha256, ProtocolVersion.TLS12));
  const aes = defaultRegistry.get(0x002f)!;
  assert.ok(suiteAllowedAt(aes, ProtocolVersion.TLS10));
  assert.ok(!suiteAllowedAt(aes, ProtocolVersion.TLS13));
  assert.deepEqual(
    CIPHER_SUITES.filter((s) => !s.defaultEnabled).map((s) => s.code),
    [0x0005, 0x0004],
  );
});

test("key-block IVs exist for CBC in TLS 1.0 only", () => {
  const aes = defaultRegistry.get(0x0035)!;
  const rc4 = defaultRegistry.get(0x0005)!;
  assert.equal(keyBlockIvLength(aes, ProtocolVersion.TLS10), 16);
  assert.equal(keyBlockIvLength(aes, ProtocolVersion.TLS11), 0);
  assert.equal(keyBlockIvLength(aes, ProtocolVersion.TLS12), 0);
  assert.equal(keyBlockIvLength(rc4, ProtocolVersion.TLS10), 0);
});

test("the registry is pluggable and refuses duplicate codes", () => {
  const extra: CipherSuite = { ...defaultRegistry.get(0x002f)!, code: 0xff00, name: "TEST_SUITE" };
  const bigger = defaultRegistry.with([extra]);
  assert.equal(bigger.get(0xff00)?.name, "TEST_SUITE");
  assert.equal(defaultRegistry.get(0xff00), undefined);
  assert.throws(() => new CipherSuiteRegistry([extra, extra]), /registered twice/);
});
