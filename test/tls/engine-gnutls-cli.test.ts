// Interop with GnuTLS's `gnutls-cli` (a separate process, package
// gnutls-bin) through the loopback harness: every enabled suite at every
// version the suite exists in (RFC 5246 App. A.5: the SHA-256 suites are
// TLS 1.2 only), including the legacy RC4 suites that this machine's OpenSSL
// cannot speak (RC4 enabled in the engine configuration; RFC 7465 keeps them
// off by default), resumption with `--resume`, extended master secret
// (RFC 7627) and secure renegotiation (RFC 5746) as the client reports them,
// and a client-initiated renegotiation (`--rehandshake`) refused.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionSummary } from "../../src/tls/server.js";
import { SEQUENCES } from "../../src/tls/sequences.js";
import { startEngineServer, testConfig, type ConnectionRecord, type EngineServer } from "../helpers/engine-harness.js";
import { requireTool, runTool } from "../helpers/cli-client.js";

const ALL_SUITES = [
  "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_RC4_128_MD5",
];

let server: EngineServer;
const dir = mkdtempSync(join(tmpdir(), "sslacc-gnutls-cli-"));
let runs = 0;
before(async () => {
  server = await startEngineServer({ config: testConfig({ cipherSuites: ALL_SUITES }) });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A GnuTLS priority string allowing exactly one version, RSA key exchange, one cipher and one MAC. */
function priority(version: string, cipher: string, mac: string, extra = ""): string {
  return `NORMAL:-VERS-ALL:+VERS-${version}:-KX-ALL:+RSA:-CIPHER-ALL:+${cipher}:-MAC-ALL:+${mac}${extra}`;
}

interface GnutlsRun {
  /** Informational messages (--logfile): negotiated parameters, alerts. */
  readonly info: string;
  /** Application data only. */
  readonly data: string;
  /** The engine connections this run opened. */
  readonly conns: ConnectionRecord[];
}

/**
 * gnutls-cli in "simple client mode": stdin goes to the server, the echo to
 * stdout. stdin stays open until the echo of `line` arrived; EOF then makes
 * gnutls-cli send close_notify.
 */
async function gnutlsCli(prio: string, line: string, extraArgs: string[] = []): Promise<GnutlsRun> {
  requireTool("gnutls-cli");
  const logfile = join(dir, `run-${runs++}.log`);
  const first = server.connections.length;
  const r = await runTool("gnutls-cli", ["--insecure", `--logfile=${logfile}`, "--priority", prio, "-p", String(server.port), ...extraArgs, "127.0.0.1"], {
    stdin: line.length > 0 ? `${line}\n` : "",
    ...(line.length > 0 && { endStdinWhen: (out: Buffer) => out.toString("latin1").includes(`${line}\n`) }),
    timeoutMs: 10_000,
  });
  const conns = server.connections.slice(first);
  await Promise.all(conns.map((c) => c.done));
  return { info: readFileSync(logfile, "latin1") + r.stderr, data: r.stdout.toString("latin1"), conns };
}

function summary(c: ConnectionRecord): SessionSummary {
  const o = c.outputs.find((x) => x.kind === "handshake-complete");
  assert.ok(o && o.kind === "handshake-complete", "the engine completed the handshake");
  return o.session;
}

function closedBy(c: ConnectionRecord) {
  const o = c.outputs.find((x) => x.kind === "closed");
  return o && o.kind === "closed" ? o : undefined;
}

// GnuTLS names: version, cipher, MAC → the engine's suite name.
const VERSIONS = [
  { gnutls: "TLS1.0", code: 0x0301 },
  { gnutls: "TLS1.1", code: 0x0302 },
  { gnutls: "TLS1.2", code: 0x0303 },
];
const SUITES = [
  { cipher: "AES-128-CBC", mac: "SHA1", suite: "TLS_RSA_WITH_AES_128_CBC_SHA", tls12only: false },
  { cipher: "AES-256-CBC", mac: "SHA1", suite: "TLS_RSA_WITH_AES_256_CBC_SHA", tls12only: false },
  { cipher: "AES-128-CBC", mac: "SHA256", suite: "TLS_RSA_WITH_AES_128_CBC_SHA256", tls12only: true },
  { cipher: "AES-256-CBC", mac: "SHA256", suite: "TLS_RSA_WITH_AES_256_CBC_SHA256", tls12only: true },
  { cipher: "ARCFOUR-128", mac: "SHA1", suite: "TLS_RSA_WITH_RC4_128_SHA", tls12only: false },
  { cipher: "ARCFOUR-128", mac: "MD5", suite: "TLS_RSA_WITH_RC4_128_MD5", tls12only: false },
];

for (const v of VERSIONS) {
  test(`gnutls-cli ${v.gnutls}: every enabled suite, EMS and safe renegotiation reported, echo, close_notify`, async () => {
    for (const s of SUITES) {
      if (s.tls12only && v.code !== 0x0303) continue;
      const line = `ping ${v.gnutls} ${s.suite}`;
      const r = await gnutlsCli(priority(v.gnutls, s.cipher, s.mac), line);
      const what = `${v.gnutls} ${s.suite}`;
      assert.ok(r.info.includes(`- Description: (${v.gnutls}-X.509)-(RSA)-(${s.cipher})-(${s.mac})`), `${what}: negotiated\n${r.info}`);
      // The client's own view of RFC 7627 and RFC 5746 (gnutls-cli prints the session options).
      assert.ok(r.info.includes("- Options: extended master secret, safe renegotiation,"), `${what}: options\n${r.info}`);
      assert.equal(r.data, `${line}\n`, `${what}: echo`);
      assert.equal(r.conns.length, 1);
      const sess = summary(r.conns[0]!);
      assert.deepEqual([sess.version, sess.cipherSuite, sess.resumed, sess.extendedMasterSecret, sess.secureRenegotiation], [v.code, s.suite, false, true, true], what);
      assert.equal(closedBy(r.conns[0]!)?.reason, "close_notify", `${what}: gnutls-cli's close_notify answered`);
    }
  });
}

test("gnutls-cli --resume: TLS 1.0 RC4-SHA and TLS 1.2 AES128-SHA256 sessions resumed (session ID, EMS)", async () => {
  for (const p of [priority("TLS1.0", "ARCFOUR-128", "SHA1"), priority("TLS1.2", "AES-128-CBC", "SHA256")]) {
    const r = await gnutlsCli(p, "resumed ping", ["--resume"]);
    assert.match(r.info, /\*\*\* This is a resumed session/, r.info);
    assert.equal(r.data, "resumed ping\n");
    assert.equal(r.conns.length, 2);
    const [full, resumed] = r.conns.map(summary);
    assert.equal(full!.resumed, false);
    assert.equal(resumed!.resumed, true);
    assert.deepEqual(Buffer.from(resumed!.sessionId), Buffer.from(full!.sessionId));
    assert.equal(resumed!.cipherSuite, full!.cipherSuite);
    assert.equal(resumed!.extendedMasterSecret, true);
  }
});

test("gnutls-cli without EMS (%NO_SESSION_HASH): negotiated without it, and such a session is not resumed (RFC 7627 §5.3)", async () => {
  const r = await gnutlsCli(priority("TLS1.2", "AES-128-CBC", "SHA1", ":%NO_SESSION_HASH"), "", ["--resume"]);
  assert.match(r.info, /- Options: safe renegotiation,/);
  assert.doesNotMatch(r.info, /extended master secret/);
  assert.doesNotMatch(r.info, /This is a resumed session/);
  assert.equal(r.conns.length, 2);
  assert.deepEqual(r.conns.map((c) => [summary(c).extendedMasterSecret, summary(c).resumed]), [[false, false], [false, false]]);
});

test("gnutls-cli --rehandshake: every renegotiation ClientHello is refused with a no_renegotiation warning", async () => {
  // Observed behaviour of GnuTLS 3.7: gnutls_handshake() returns
  // GNUTLS_E_WARNING_ALERT_RECEIVED for our warning, gnutls-cli retries the
  // rehandshake (it treats the error as non-fatal), each retry sends a new
  // ClientHello that we refuse again, and after its retry limit it gives up
  // with a fatal internal_error alert. The engine never renegotiates and
  // never fails on its own: the client ends the connection.
  const r = await gnutlsCli(priority("TLS1.2", "AES-128-CBC", "SHA1"), "", ["--rehandshake"]);
  const refusals = r.info.match(/Received alert \[100\]: No renegotiation is allowed/g) ?? [];
  assert.ok(refusals.length >= 1, r.info);
  assert.equal(r.conns.length, 1);
  const c = r.conns[0]!;
  summary(c);
  const closed = closedBy(c);
  assert.ok(closed, "closed");
  assert.equal(closed.reason, "fatal_alert_received", JSON.stringify(closed));
  assert.equal(closed.alert, "internal_error");
  assert.equal(c.conn.steps.length, SEQUENCES.full.length, "no step beyond the initial full handshake");
});
