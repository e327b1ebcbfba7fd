// Interop with `openssl s_client` (a separate process) through the loopback
// harness: a full handshake saving the session (-sess_out), a resumed one
// (-sess_in), and a client-initiated renegotiation (the `R` command).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEngineServer, type EngineServer } from "../helpers/engine-harness.js";

const haveOpenssl = spawnSync("openssl", ["version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "sslacc-sclient-"));
let server: EngineServer | undefined;
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs s_client, writes each line of `script` once the previous output
 * contains its `waitFor`, and resolves with stdout+stderr when it exits.
 */
function sClient(args: string[], script: { send: string; waitFor: string }[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${server!.port}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let step = 0;
    const kick = () => {
      while (step < script.length && out.includes(script[step]!.waitFor)) p.stdin.write(script[step++]!.send);
      if (step === script.length) p.stdin.end();
    };
    p.stdout.on("data", (d) => { out += d; kick(); });
    p.stderr.on("data", (d) => { out += d; kick(); });
    const timer = setTimeout(() => { p.kill(); reject(new Error(`s_client timed out:\n${out}`)); }, 10_000);
    p.on("close", () => { clearTimeout(timer); resolve(out); });
    p.on("error", reject);
  });
}

test("openssl s_client: full handshake, then resumed with -sess_in", async () => {
  assert.ok(haveOpenssl, "openssl not found: install Debian's openssl (.ci/run does)");
  server ??= await startEngineServer();
  const sess = join(dir, "sess.pem");
  const first = await sClient(["-tls1_2", "-cipher", "AES256-SHA256", "-sess_out", sess], [
    { waitFor: "Extended master secret: yes", send: "ping one\n" },
    { waitFor: "\nping one", send: "" },
  ]);
  assert.match(first, /New, .*Cipher is AES256-SHA256/);
  assert.match(first, /Secure Renegotiation IS supported/);
  assert.match(first, /\nping one\n/);
  const second = await sClient(["-tls1_2", "-cipher", "AES256-SHA256", "-sess_in", sess], [
    { waitFor: "Extended master secret: yes", send: "ping two\n" },
    { waitFor: "\nping two", send: "" },
  ]);
  assert.match(second, /Reused, .*Cipher is AES256-SHA256/);
  assert.match(second, /\nping two\n/);
  const rec = server.connections[server.connections.length - 1]!;
  await rec.done;
  assert.ok(rec.outputs.some((o) => o.kind === "handshake-complete" && o.session.resumed));
});

test("openssl s_client TLS 1.0: full handshake", async () => {
  assert.ok(haveOpenssl, "openssl not found: install Debian's openssl (.ci/run does)");
  server ??= await startEngineServer();
  const out = await sClient(["-tls1", "-cipher", "AES128-SHA@SECLEVEL=0"], [
    { waitFor: "Verify return code", send: "ping ten\n" },
    { waitFor: "\nping ten", send: "" },
  ]);
  assert.match(out, /Protocol\s+: TLSv1\n/);
  assert.match(out, /\nping ten\n/);
});

test("openssl s_client renegotiation (R) is refused with a no_renegotiation warning", async () => {
  assert.ok(haveOpenssl, "openssl not found: install Debian's openssl (.ci/run does)");
  server ??= await startEngineServer();
  const out = await sClient(["-tls1_2", "-cipher", "AES128-SHA"], [
    { waitFor: "Extended master secret: yes", send: "before\n" },
    { waitFor: "\nbefore", send: "R\n" },
  ]);
  assert.match(out, /\nbefore\n/, "data flowed before the attempt");
  assert.match(out, /RENEGOTIATING/);
  // OpenSSL's client receives our warning-level no_renegotiation...
  assert.match(out, /no renegotiation/);
  // ...and, being mid-handshake, gives up itself with a fatal handshake_failure
  // (ssl/record/rec_layer_s3.c: SSL_R_NO_RENEGOTIATION). The engine refused
  // without failing: the client ended the connection.
  const rec = server.connections[server.connections.length - 1]!;
  await rec.done;
  const closed = rec.outputs.find((o) => o.kind === "closed");
  assert.ok(closed && closed.kind === "closed");
  assert.equal(closed.reason, "fatal_alert_received");
  assert.equal(closed.alert, "handshake_failure");
});
