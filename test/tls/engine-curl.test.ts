// Interop with curl (libcurl on OpenSSL, a separate process): an HTTPS GET
// through the engine to the harness's one-request HTTP responder, for every
// default suite at TLS 1.2 and the CBC-SHA suites at TLS 1.1 and 1.0, and
// two URLs in one invocation, where libcurl resumes the first session by
// session ID (its in-process session cache).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { startEngineServer, type ConnectionRecord, type EngineServer } from "../helpers/engine-harness.js";
import { requireTool, runTool } from "../helpers/cli-client.js";

let server: EngineServer;
before(async () => {
  server = await startEngineServer({ app: "http" });
});
after(() => server.close());

async function curl(args: string[], paths: string[]): Promise<{ body: string; verbose: string; conns: ConnectionRecord[] }> {
  requireTool("curl");
  const first = server.connections.length;
  const urls = paths.map((p) => `https://127.0.0.1:${server.port}${p}`);
  // -k: the harness certificate is self-signed for "localhost".
  const r = await runTool("curl", ["-sSkv", "--max-time", "8", ...args, ...urls], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, `curl exit ${r.code}\n${r.stderr}`);
  const conns = server.connections.slice(first);
  await Promise.all(conns.map((c) => c.done));
  return { body: r.stdout.toString("latin1"), verbose: r.stderr, conns };
}

function summary(c: ConnectionRecord) {
  const o = c.outputs.find((x) => x.kind === "handshake-complete");
  assert.ok(o && o.kind === "handshake-complete", "handshake-complete");
  return o.session;
}

const CASES = [
  { args: ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-SHA"], version: "TLSv1.2", code: 0x0303, suite: "TLS_RSA_WITH_AES_128_CBC_SHA", openssl: "AES128-SHA" },
  { args: ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES256-SHA"], version: "TLSv1.2", code: 0x0303, suite: "TLS_RSA_WITH_AES_256_CBC_SHA", openssl: "AES256-SHA" },
  { args: ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-SHA256"], version: "TLSv1.2", code: 0x0303, suite: "TLS_RSA_WITH_AES_128_CBC_SHA256", openssl: "AES128-SHA256" },
  { args: ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES256-SHA256"], version: "TLSv1.2", code: 0x0303, suite: "TLS_RSA_WITH_AES_256_CBC_SHA256", openssl: "AES256-SHA256" },
  // OpenSSL 3 refuses TLS < 1.2 at its default security level (NOTES.md); it names TLS 1.0 "TLSv1".
  { args: ["--tlsv1.1", "--tls-max", "1.1", "--ciphers", "AES128-SHA@SECLEVEL=0"], version: "TLSv1.1", code: 0x0302, suite: "TLS_RSA_WITH_AES_128_CBC_SHA", openssl: "AES128-SHA" },
  { args: ["--tlsv1.0", "--tls-max", "1.0", "--ciphers", "AES128-SHA@SECLEVEL=0"], version: "TLSv1", code: 0x0301, suite: "TLS_RSA_WITH_AES_128_CBC_SHA", openssl: "AES128-SHA" },
  { args: ["--tlsv1.0", "--tls-max", "1.0", "--ciphers", "AES256-SHA@SECLEVEL=0"], version: "TLSv1", code: 0x0301, suite: "TLS_RSA_WITH_AES_256_CBC_SHA", openssl: "AES256-SHA" },
];

test("curl https GET through the engine: each suite and version, EMS, 200 with the request line, close_notify", async () => {
  for (const c of CASES) {
    const what = `${c.version} ${c.openssl}`;
    const r = await curl(c.args, [`/${c.openssl}`]);
    assert.equal(r.body, `sslacc engine saw: GET /${c.openssl} HTTP/1.1\n`, what);
    assert.ok(r.verbose.includes(`SSL connection using ${c.version} / ${c.openssl}`), `${what}\n${r.verbose}`);
    assert.match(r.verbose, /< HTTP\/1\.1 200 OK/);
    assert.equal(r.conns.length, 1);
    const sess = summary(r.conns[0]!);
    assert.deepEqual([sess.version, sess.cipherSuite, sess.extendedMasterSecret, sess.secureRenegotiation], [c.code, c.suite, true, true], what);
    // SNI is not sent for an IP address (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
    assert.equal(sess.serverName, null);
    const closed = r.conns[0]!.outputs.find((o) => o.kind === "closed");
    assert.ok(closed && closed.kind === "closed" && closed.reason === "close_notify", `${what}: ${JSON.stringify(closed)}`);
  }
});

test("curl with two URLs: the second connection resumes the first session", async () => {
  const r = await curl(["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-SHA256"], ["/one", "/two"]);
  assert.equal(r.body, "sslacc engine saw: GET /one HTTP/1.1\nsslacc engine saw: GET /two HTTP/1.1\n");
  assert.match(r.verbose, /SSL re-using session ID/);
  assert.equal(r.conns.length, 2, "Connection: close → a second TCP connection");
  const [a, b] = r.conns.map(summary);
  assert.equal(a!.resumed, false);
  assert.equal(b!.resumed, true);
  assert.deepEqual(Buffer.from(b!.sessionId), Buffer.from(a!.sessionId));
});
