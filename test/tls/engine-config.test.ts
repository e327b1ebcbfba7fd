// TlsServerConfig defaults, validation (errors name the field) and SNI choice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, resolveConfig, selectCertificate, type CertificateEntry } from "../../src/tls/config.js";
import { ProtocolVersion } from "../../src/tls/codec/index.js";

const key = { n: new Uint8Array(256).fill(0xff), e: Uint8Array.of(1, 0, 1), bits: 2048 };
function cert(names: string[], keyId = "k"): CertificateEntry {
  return { names, certChainDer: [Uint8Array.of(0x30, 0x82, 0, 0)], keyId, key };
}

function throwsField(fn: () => unknown, field: string, detail?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, field);
    if (detail) assert.match(e.message, detail);
    return true;
  });
}

test("defaults: TLS 1.0-1.2, the registry's default suites (no RC4), session cache on", () => {
  const c = resolveConfig({ certificates: [cert(["a.example"])] });
  assert.equal(c.minVersion, ProtocolVersion.TLS10);
  assert.equal(c.maxVersion, ProtocolVersion.TLS12);
  assert.deepEqual(c.cipherSuites, [0x002f, 0x0035, 0x003c, 0x003d]);
  assert.equal(c.sessionCache.enabled, true);
  assert.equal(c.unrecognizedName, "continue");
  assert.ok(Object.isFrozen(c));
});

test("RC4 only when configured, by code or by name", () => {
  const c = resolveConfig({ certificates: [cert(["a"])], cipherSuites: ["TLS_RSA_WITH_RC4_128_SHA", 0x002f] });
  assert.deepEqual(c.cipherSuites, [0x0005, 0x002f]);
});

test("validation errors name the field", () => {
  throwsField(() => resolveConfig({ certificates: [] }), "certificates");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], minVersion: ProtocolVersion.SSL3 }), "minVersion", /RFC 7568/);
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], minVersion: ProtocolVersion.SSL3, allowSsl3: true }), "minVersion", /not implemented/);
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], minVersion: 0x0303, maxVersion: 0x0301 }), "minVersion");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], maxVersion: 0x0304 }), "maxVersion");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], cipherSuites: [0x1301] }), "cipherSuites[0]");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], cipherSuites: ["NOPE"] }), "cipherSuites[0]");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], cipherSuites: [0x2f, 0x2f] }), "cipherSuites[1]", /twice/);
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], maxVersion: 0x0302, cipherSuites: [0x3c] }), "cipherSuites[0]", /TLS 1.2/);
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], cipherSuites: [] }), "cipherSuites");
  throwsField(() => resolveConfig({ certificates: [cert(["a"]), cert(["*.b.*"])] }), "certificates[1].names[0]");
  throwsField(() => resolveConfig({ certificates: [cert(["*.com"])] }), "certificates[0].names[0]");
  throwsField(() => resolveConfig({ certificates: [{ ...cert(["a"]), keyId: "" }] }), "certificates[0].keyId");
  throwsField(() => resolveConfig({ certificates: [{ ...cert(["a"]), certChainDer: [new Uint8Array(3)] }] }), "certificates[0].certChainDer[0]");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], sessionCache: { ttlMs: 0 } }), "sessionCache.ttlMs");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], sessionCache: { maxEntries: 1.5 } }), "sessionCache.maxEntries");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], limits: { maxHandshakeMessage: 10 } }), "limits.maxHandshakeMessage");
  throwsField(() => resolveConfig({ certificates: [cert(["a"])], unrecognizedName: "warn" as "fatal" }), "unrecognizedName");
});

test("SNI: exact beats wildcard, wildcard covers one label, default is the first", () => {
  const c = resolveConfig({ certificates: [cert(["default.test"]), cert(["*.example.com"]), cert(["www.example.com"])] });
  assert.deepEqual(selectCertificate(c, "WWW.Example.com."), { index: 2, matched: true });
  assert.deepEqual(selectCertificate(c, "api.example.com"), { index: 1, matched: true });
  assert.deepEqual(selectCertificate(c, "a.b.example.com"), { index: 0, matched: false });
  assert.deepEqual(selectCertificate(c, "example.com"), { index: 0, matched: false });
  assert.deepEqual(selectCertificate(c, undefined), { index: 0, matched: false });
  assert.deepEqual(selectCertificate(c, "default.test"), { index: 0, matched: true });
});
