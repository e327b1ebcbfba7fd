// SNI certificate selection in the daemon (RFC 6066 §3): several
// certificates, names from their subjectAltName DNS entries or given
// explicitly; Node tls and openssl s_client with -servername get the
// certificate for the name (exact beats wildcard, no or unknown name gets
// the first); every bad entry is refused naming its field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { selfSignedCertificate, type CertificateAndKey } from "../../src/cert.js";
import { CertificateError, prepareCertificates } from "../../src/node/certificates.js";
import { parseStartConfig, StartConfigError } from "../../src/node/config.js";
import { testIdentity } from "../helpers/engine-harness.js";
import { startBackend, startDaemon } from "./helpers.js";

const cli = new URL("../../src/cli.js", import.meta.url).pathname;

let certs: { dflt: CertificateAndKey; a: CertificateAndKey; wild: CertificateAndKey; exactB: CertificateAndKey } | undefined;
function fixtures() {
  certs ??= {
    dflt: testIdentity().cert,
    a: selfSignedCertificate({ commonName: "a.example", altNames: ["www.a.example"] }),
    wild: selfSignedCertificate({ commonName: "*.b.example" }),
    exactB: selfSignedCertificate({ commonName: "exact.b.example" }),
  };
  return certs;
}

/** openssl s_client -servername NAME -showcerts (-quiet would hide the chain), the request on stdin; async: the daemon runs in this process. */
function showCerts(port: number, name: string, input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", name, "-showcerts", "-ign_eof"]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(input);
  });
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

/** The certificate the daemon presents for `servername` (undefined: no SNI), via Node tls, after a request round trip. */
function presented(port: number, servername: string | undefined, id: string): Promise<{ fingerprint: string; reply: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...(servername !== undefined && { servername }) }, () => {
      const fingerprint = s.getPeerCertificate().fingerprint256;
      let reply = "";
      s.on("data", (d: Buffer) => (reply += d.toString()));
      s.on("end", () => resolve({ fingerprint, reply }));
      s.write(`GET / HTTP/1.0\r\nx-req-id: ${id}\r\n\r\n`);
    });
    s.on("error", reject);
  });
}

test("SNI: the daemon serves the certificate for the client's server_name", async () => {
  const f = fixtures();
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, {
    certificates: [
      { certPem: f.dflt.certPem, keyPem: f.dflt.keyPem },
      { certPem: f.a.certPem, keyPem: f.a.keyPem },
      { certPem: f.wild.certPem, keyPem: f.wild.keyPem },
      // Explicit names replace the subjectAltName ones.
      { certPem: f.exactB.certPem, keyPem: f.exactB.keyPem, names: ["exact.b.example", "other.example"] },
    ],
  });
  try {
    assert.deepEqual(daemon.certificates.map((c) => c.names), [["localhost"], ["a.example", "www.a.example"], ["*.b.example"], ["exact.b.example", "other.example"]]);
    const cases: [string | undefined, CertificateAndKey][] = [
      [undefined, f.dflt], ["a.example", f.a], ["WWW.A.EXAMPLE", f.a], ["x.b.example", f.wild], ["exact.b.example", f.exactB],
      ["other.example", f.exactB], ["unknown.example", f.dflt], ["y.x.b.example", f.dflt],
    ];
    for (const [name, want] of cases) {
      const r = await presented(port, name, `sni-${name}`);
      assert.equal(r.fingerprint, fp(want.certPem), `servername ${name}`);
      assert.match(r.reply, new RegExp(`hello sni-${name}`), `servername ${name}`);
    }
    for (const [name, want] of [["www.a.example", f.a], ["z.b.example", f.wild]] as const) {
      const o = await showCerts(port, name, `GET / HTTP/1.0\r\nx-req-id: openssl-${name}\r\n\r\n`);
      assert.equal(o.status, 0, o.stderr);
      assert.match(o.stdout, new RegExp(`hello openssl-${name}`));
      const shown = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(o.stdout)?.[0];
      assert.ok(shown, "s_client -showcerts printed the chain");
      assert.equal(fp(shown), fp(want.certPem), `openssl -servername ${name}`);
    }
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("SNI: every bad certificate entry is refused naming its field", () => {
  const f = fixtures();
  const ok = { certPem: f.dflt.certPem, keyPem: f.dflt.keyPem };
  const ipOnly = selfSignedCertificate({ commonName: "10.0.0.1", bits: 1024 });
  const cases: [Parameters<typeof prepareCertificates>[0], string, RegExp][] = [
    [[], "certificates", /at least one/],
    [[ok, { certPem: f.a.certPem, keyPem: f.wild.keyPem }], "certificates[1].key", /does not match the certificate/],
    [[ok, { certPem: "not a pem", keyPem: f.a.keyPem }], "certificates[1].cert", /no PEM certificate/],
    [[ok, { certPem: f.a.certPem, keyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }], "certificates[1].key", /not a PEM private key/],
    [[ok, { certPem: ipOnly.certPem, keyPem: ipOnly.keyPem }], "certificates[1].names", /no DNS subjectAltName/],
    [[ok, { certPem: f.a.certPem, keyPem: f.a.keyPem, names: ["a.example", "bad..name"] }], "certificates[1].names[1]", /not a DNS name/],
    [[ok, { certPem: f.a.certPem, keyPem: f.a.keyPem, names: ["*.*.example"] }], "certificates[1].names[0]", /wildcard/],
    [[{ ...ok, fields: { cert: "--cert #1", key: "--key #1", names: "--cert #1 (names)" } }, { certPem: f.a.certPem, keyPem: f.dflt.keyPem, fields: { cert: "--cert #2", key: "--key #2", names: "--cert #2 (names)" } }], "--key #2", /does not match/],
  ];
  for (const [sources, field, re] of cases) {
    assert.throws(() => prepareCertificates(sources, "t"), (e: unknown) => e instanceof CertificateError && e.field === field && re.test(e.message), field);
  }
  // The default certificate may serve no names; key ids are per prefix and index.
  const p = prepareCertificates([{ certPem: ipOnly.certPem, keyPem: ipOnly.keyPem }, { certPem: f.a.certPem, keyPem: f.a.keyPem }], "g7");
  assert.deepEqual(p.shard.map((c) => [c.keyId, c.names]), [["g7/0", []], ["g7/1", ["a.example", "www.a.example"]]]);
});

test("SNI config: repeated --cert/--key pairs, a certificates list in the file, errors naming the field", () => {
  const c = parseStartConfig({ cert: ["a.pem", "b.pem"], key: ["a.key", "b.key"] }, { certificates: [{ cert: "x", key: "y" }] }, "f.json");
  assert.deepEqual(c.certificates?.map((x) => [x.cert, x.key, x.fields.key]), [["a.pem", "a.key", "--key #1"], ["b.pem", "b.key", "--key #2"]]);
  const d = parseStartConfig({}, { certificates: [{ cert: "a.pem", key: "a.key" }, { cert: "b.pem", key: "b.key", names: ["b.example"] }] }, "f.json");
  assert.deepEqual(d.certificates?.map((x) => [x.cert, x.names, x.fields.cert]), [["a.pem", undefined, "f.json: certificates[0].cert"], ["b.pem", ["b.example"], "f.json: certificates[1].cert"]]);
  assert.deepEqual(parseStartConfig({}, { cert: "a.pem", key: "a.key" }, "f.json").certificates?.map((x) => x.fields.cert), ["f.json: cert"]);
  assert.equal(parseStartConfig({}, {}, "f.json").certificates, null);
  const bad: [Record<string, unknown>, Record<string, unknown>, string][] = [
    [{ cert: ["a", "b"], key: ["a"] }, {}, "--key"],
    [{ key: ["a"] }, {}, "--cert"],
    [{}, { cert: "a", certificates: [{ cert: "a", key: "b" }] }, "f.json: certificates"],
    [{}, { certificates: [] }, "f.json: certificates"],
    [{}, { certificates: [{ cert: "a" }] }, "f.json: certificates[0].key"],
    [{}, { certificates: [{ cert: "a", key: "b", names: "a.example" }] }, "f.json: certificates[0].names"],
    [{}, { certificates: [{ cert: "a", key: "b", colour: 1 }] }, "f.json: certificates[0].colour"],
    [{}, { cert: "a" }, "f.json: key"],
  ];
  for (const [flags, file, field] of bad) {
    assert.throws(() => parseStartConfig(flags, file, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === field, field);
  }
});

test("sslacc start: a key that does not match its certificate is named", () => {
  const f = fixtures();
  const dir = mkdtempSync(join(tmpdir(), "sslacc-sni-"));
  for (const [n, p] of Object.entries({ "d.pem": f.dflt.certPem, "d.key": f.dflt.keyPem, "a.pem": f.a.certPem, "w.key": f.wild.keyPem })) writeFileSync(join(dir, n), p);
  const r = spawnSync(process.execPath, [cli, "start", "--listen", "127.0.0.1:0", "--admin", "off", "--cert", "d.pem", "--key", "d.key", "--cert", "a.pem", "--key", "w.key"], { cwd: dir, encoding: "utf8", timeout: 15_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--key #2: does not match the certificate/);
  writeFileSync(join(dir, "c.json"), JSON.stringify({ certificates: [{ cert: "d.pem", key: "d.key" }, { cert: "a.pem", key: "missing.key" }] }));
  const r2 = spawnSync(process.execPath, [cli, "start", "--listen", "127.0.0.1:0", "--admin", "off", "--config", "c.json"], { cwd: dir, encoding: "utf8", timeout: 15_000 });
  assert.equal(r2.status, 2, r2.stderr);
  assert.match(r2.stderr, /c\.json: certificates\[1\]\.key: cannot read missing\.key/);
});
