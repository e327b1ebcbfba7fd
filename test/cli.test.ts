import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";

const cli = new URL("../src/cli.js", import.meta.url).pathname;

function sslacc(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

test("sslacc cert writes a self-signed certificate that matches its key", () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-cert-"));
  const certFile = join(dir, "c.pem");
  const keyFile = join(dir, "k.pem");
  const r = sslacc("cert", "--cn", "example.test", "--san", "www.example.test,127.0.0.1", "--cert", certFile, "--key", keyFile);
  assert.equal(r.status, 0, r.stderr);
  const x509 = new X509Certificate(readFileSync(certFile));
  const key = createPrivateKey(readFileSync(keyFile));
  assert.ok(x509.checkPrivateKey(key), "certificate's public key matches the private key");
  assert.ok(x509.verify(createPublicKey(key)), "self-signature verifies");
  assert.equal(x509.subject.split("\n").find((l) => l.startsWith("CN=")), "CN=example.test");
  assert.match(x509.subjectAltName ?? "", /DNS:example\.test, DNS:www\.example\.test, IP Address:127\.0\.0\.1/);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, "private key is not world-readable");
});

test("sslacc cert names the bad field", () => {
  const r = sslacc("cert", "--bits", "1000");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--bits must be 1024, 2048, 3072 or 4096/);
  const d = sslacc("cert", "--days", "0");
  assert.equal(d.status, 2);
  assert.match(d.stderr, /--days must be a positive integer/);
});

test("sslacc rejects an unknown command", () => {
  const r = sslacc("frobnicate");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
