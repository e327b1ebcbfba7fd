// Interop with NSS's `tstclnt` (package libnss3-tools) through the loopback
// harness. The first test verifies the server for real: an NSS database
// (certutil) trusts the harness's self-signed "localhost" certificate as a
// peer ("P": it is no CA, so NSS refuses it as an issuer), and
// tstclnt connects to "localhost" (so it sends server_name, RFC 6066 §3);
// the others use `-D -o` (no database, override the unknown issuer). Every
// enabled suite at TLS 1.2 / 1.1 / 1.0 (the RC4 suites enabled in the engine
// configuration), extended master secret as NSS reports it (`-G`; this NSS offers it by default anyway, RFC 7627)
// and a version range `-V tls1.0:tls1.2`.
//
// tstclnt stops reading the socket only when the server closes it (stdin EOF
// just stops polling stdin), so the harness runs its HTTP responder, which
// answers one request and closes with close_notify. Not covered here:
// resumption (Debian 12's tstclnt makes a single connection even with `-L 2`)
// and renegotiation (`-r 1` sends no second ClientHello in this version);
// both are covered with gnutls-cli and OpenSSL.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEngineServer, testConfig, testIdentity, type ConnectionRecord, type EngineServer } from "../helpers/engine-harness.js";
import { requireTool, runTool } from "../helpers/cli-client.js";

const ALL_SUITES = [
  "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_RC4_128_MD5",
];

let server: EngineServer;
const dir = mkdtempSync(join(tmpdir(), "sslacc-nss-"));
before(async () => {
  server = await startEngineServer({ config: testConfig({ cipherSuites: ALL_SUITES }), app: "http" });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface NssRun {
  readonly stderr: string;
  readonly data: string;
  readonly conn: ConnectionRecord;
}

/** tstclnt sends an HTTP request for `path` from stdin and prints the response; the server closes. */
async function tstclnt(args: string[], path: string): Promise<NssRun> {
  requireTool("tstclnt", ["-Y"]);
  const first = server.connections.length;
  const r = await runTool("tstclnt", ["-p", String(server.port), "-v", ...args], {
    stdin: `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    timeoutMs: 10_000,
  });
  assert.equal(r.code, 0, `tstclnt exit ${r.code}\n${r.stderr.replace(/^.*PR_Poll.*\n/gm, "")}`);
  const conns = server.connections.slice(first);
  assert.equal(conns.length, 1);
  await conns[0]!.done;
  return { stderr: r.stderr, data: r.stdout.toString("latin1"), conn: conns[0]! };
}

function summary(c: ConnectionRecord) {
  const o = c.outputs.find((x) => x.kind === "handshake-complete");
  assert.ok(o && o.kind === "handshake-complete", "handshake-complete");
  return o.session;
}

test("tstclnt with an NSS database trusting the certificate: verified, SNI, TLS 1.2, EMS", async () => {
  requireTool("certutil", ["-H"]);
  const db = join(dir, "db");
  const pem = join(dir, "cert.pem");
  writeFileSync(pem, testIdentity().cert.certPem);
  const mk = await runTool("sh", ["-c", `mkdir -p ${db} && certutil -N -d sql:${db} --empty-password && certutil -A -d sql:${db} -n sslacc -t P,, -i ${pem}`], { timeoutMs: 10_000 });
  assert.equal(mk.code, 0, mk.stderr);
  const r = await tstclnt(["-h", "localhost", "-4", "-d", `sql:${db}`, "-V", "tls1.0:tls1.2", "-G"], "/verified");
  assert.doesNotMatch(r.stderr, /Bad server certificate/);
  assert.match(r.stderr, /SSL version 3\.3 using/);
  assert.match(r.stderr, /Extended Master Secret: Yes/);
  assert.match(r.data, /\r\n\r\nsslacc engine saw: GET \/verified HTTP\/1\.1\n$/);
  const s = summary(r.conn);
  assert.equal(s.serverName, "localhost");
  assert.equal(s.version, 0x0303, "the highest version of the range");
  const closed = r.conn.outputs.find((o) => o.kind === "closed");
  assert.ok(closed && closed.kind === "closed" && closed.reason === "close_notify", JSON.stringify(closed));
});

// tstclnt -c letters (tstclnt -Y) or :XXXX hex codes; NSS's description of the record protection.
const SUITES = [
  { c: "v", suite: "TLS_RSA_WITH_AES_128_CBC_SHA", nss: "128-bit AES with 160-bit SHA1 MAC", tls12only: false },
  { c: "y", suite: "TLS_RSA_WITH_AES_256_CBC_SHA", nss: "256-bit AES with 160-bit SHA1 MAC", tls12only: false },
  { c: ":003C", suite: "TLS_RSA_WITH_AES_128_CBC_SHA256", nss: "128-bit AES with 256-bit SHA256 MAC", tls12only: true },
  { c: ":003D", suite: "TLS_RSA_WITH_AES_256_CBC_SHA256", nss: "256-bit AES with 256-bit SHA256 MAC", tls12only: true },
  { c: "n", suite: "TLS_RSA_WITH_RC4_128_SHA", nss: "128-bit RC4 with 160-bit SHA1 MAC", tls12only: false },
  { c: "c", suite: "TLS_RSA_WITH_RC4_128_MD5", nss: "128-bit RC4 with 128-bit MD5 MAC", tls12only: false },
];
const VERSIONS = [
  { v: "tls1.2", code: 0x0303, nss: "3.3" },
  { v: "tls1.1", code: 0x0302, nss: "3.2" },
  { v: "tls1.0", code: 0x0301, nss: "3.1" },
];

for (const v of VERSIONS) {
  test(`tstclnt ${v.v}: every enabled suite, EMS reported, echo`, async () => {
    for (const s of SUITES) {
      if (s.tls12only && v.code !== 0x0303) continue;
      const what = `${v.v} ${s.suite}`;
      const r = await tstclnt(["-h", "127.0.0.1", "-D", "-o", "-V", `${v.v}:${v.v}`, "-c", s.c, "-G"], `/${v.v}/${s.c}`);
      assert.ok(r.stderr.includes(`SSL version ${v.nss} using ${s.nss}`), `${what}\n${r.stderr.match(/SSL version.*/)?.[0]}`);
      assert.match(r.stderr, /Extended Master Secret: Yes/, what);
      assert.ok(r.data.endsWith(`sslacc engine saw: GET /${v.v}/${s.c} HTTP/1.1\n`), `${what}: ${r.data}`);
      const sess = summary(r.conn);
      assert.deepEqual([sess.version, sess.cipherSuite, sess.extendedMasterSecret, sess.secureRenegotiation], [v.code, s.suite, true, true], what);
    }
  });
}
