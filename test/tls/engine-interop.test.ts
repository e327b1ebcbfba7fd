// Interop with a real client in-process: Node's `tls.connect` (OpenSSL)
// talks to the engine through the loopback harness (test/helpers/engine-harness.ts).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as tls from "node:tls";
import { startEngineServer, type EngineServer } from "../helpers/engine-harness.js";
import type { EngineOutput } from "../../src/tls/server.js";
import { SEQUENCES } from "../../src/tls/sequences.js";

let server: EngineServer | undefined;
async function getServer(): Promise<EngineServer> {
  server ??= await startEngineServer();
  return server;
}
after(async () => server?.close());

interface ClientResult {
  readonly socket: tls.TLSSocket;
  readonly protocol: string | null;
  readonly cipher: string;
  readonly reused: boolean;
  readonly session: Buffer | undefined;
  readonly keylog: string[];
  readonly echoed: Buffer;
}

/** Connects, writes `payload`, reads the same number of bytes back, ends. */
async function roundTrip(opts: tls.ConnectionOptions, payload: Buffer): Promise<ClientResult> {
  const s = await getServer();
  return new Promise((resolve, reject) => {
    const keylog: string[] = [];
    let session: Buffer | undefined;
    const chunks: Buffer[] = [];
    let got = 0;
    const socket = tls.connect({ host: "127.0.0.1", port: s.port, rejectUnauthorized: false, servername: "localhost", ...opts });
    socket.on("keylog", (line) => keylog.push(line.toString()));
    socket.on("session", (sess) => (session = sess));
    socket.on("error", reject);
    socket.on("secureConnect", () => {
      socket.write(payload);
      if (payload.length === 0) finish();
    });
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) finish();
    });
    function finish() {
      const cipher = socket.getCipher().standardName;
      const result = {
        socket, protocol: socket.getProtocol(), cipher, reused: socket.isSessionReused(), session, keylog,
        echoed: Buffer.concat(chunks),
      };
      socket.end(() => resolve(result));
      setTimeout(() => resolve({ ...result, session: session ?? result.session }), 50);
    }
  });
}

function lastConnection(s: EngineServer) {
  return s.connections[s.connections.length - 1]!;
}

function completion(outputs: EngineOutput[]) {
  const o = outputs.find((x) => x.kind === "handshake-complete");
  assert.ok(o && o.kind === "handshake-complete", "handshake-complete output");
  return o.session;
}

const CASES: { name: string; opts: tls.ConnectionOptions; protocol: string; suite: string }[] = [
  { name: "TLS 1.2 AES128-SHA", opts: { ciphers: "AES128-SHA", maxVersion: "TLSv1.2" }, protocol: "TLSv1.2", suite: "TLS_RSA_WITH_AES_128_CBC_SHA" },
  { name: "TLS 1.2 AES256-SHA", opts: { ciphers: "AES256-SHA", maxVersion: "TLSv1.2" }, protocol: "TLSv1.2", suite: "TLS_RSA_WITH_AES_256_CBC_SHA" },
  { name: "TLS 1.2 AES128-SHA256", opts: { ciphers: "AES128-SHA256", maxVersion: "TLSv1.2" }, protocol: "TLSv1.2", suite: "TLS_RSA_WITH_AES_128_CBC_SHA256" },
  { name: "TLS 1.2 AES256-SHA256", opts: { ciphers: "AES256-SHA256", maxVersion: "TLSv1.2" }, protocol: "TLSv1.2", suite: "TLS_RSA_WITH_AES_256_CBC_SHA256" },
  { name: "TLS 1.1 AES128-SHA", opts: { ciphers: "AES128-SHA:@SECLEVEL=0", minVersion: "TLSv1.1", maxVersion: "TLSv1.1" }, protocol: "TLSv1.1", suite: "TLS_RSA_WITH_AES_128_CBC_SHA" },
  { name: "TLS 1.0 AES128-SHA", opts: { ciphers: "AES128-SHA:@SECLEVEL=0", minVersion: "TLSv1", maxVersion: "TLSv1" }, protocol: "TLSv1", suite: "TLS_RSA_WITH_AES_128_CBC_SHA" },
  { name: "TLS 1.0 AES256-SHA", opts: { ciphers: "AES256-SHA:@SECLEVEL=0", minVersion: "TLSv1", maxVersion: "TLSv1" }, protocol: "TLSv1", suite: "TLS_RSA_WITH_AES_256_CBC_SHA" },
];

for (const c of CASES) {
  test(`${c.name}: full handshake, EMS, echo, our master secret = OpenSSL's keylog`, async () => {
    const payload = randomBytes(50_000);
    const r = await roundTrip(c.opts, payload);
    assert.equal(r.protocol, c.protocol);
    assert.equal(r.cipher, c.suite);
    assert.equal(r.reused, false);
    assert.ok(r.echoed.equals(payload), "echo");
    const s = await getServer();
    const rec = lastConnection(s);
    await rec.done;
    const sess = completion(rec.outputs);
    assert.equal(sess.extendedMasterSecret, true, "OpenSSL sends extended_master_secret by default (RFC 7627)");
    assert.equal(sess.secureRenegotiation, true);
    assert.deepEqual(rec.conn.steps.map((x) => `${x.actor} ${x.message}`), SEQUENCES.full.map((x) => `${x.actor} ${x.message}`));
    // Known answer from the real world: OpenSSL's CLIENT_RANDOM keylog line.
    const line = r.keylog.find((l) => l.startsWith("CLIENT_RANDOM "));
    assert.ok(line, "keylog line");
    const [, , ms] = line.trim().split(" ");
    const snap = rec.checkpoints.filter((cp) => cp.kind === "handshake").pop();
    assert.ok(snap && snap.kind === "handshake");
    assert.equal(Buffer.from(snap.snapshot.masterSecret!).toString("hex"), ms);
    const closed = rec.outputs.find((o) => o.kind === "closed");
    assert.ok(closed && closed.kind === "closed" && closed.reason === "close_notify", JSON.stringify(closed));
  });
}

test("resumption by session ID (Node `session` option), with EMS", async () => {
  const first = await roundTrip({ maxVersion: "TLSv1.2", ciphers: "AES128-SHA256" }, Buffer.from("hello"));
  assert.ok(first.session, "session from the first connection");
  const second = await roundTrip({ maxVersion: "TLSv1.2", ciphers: "AES128-SHA256", session: first.session }, Buffer.from("again"));
  assert.equal(second.reused, true);
  assert.equal(second.echoed.toString(), "again");
  const rec = lastConnection(await getServer());
  await rec.done;
  const sess = completion(rec.outputs);
  assert.equal(sess.resumed, true);
  assert.equal(sess.extendedMasterSecret, true);
  assert.deepEqual(rec.conn.steps.map((x) => `${x.actor} ${x.message}`), SEQUENCES.resumed.map((x) => `${x.actor} ${x.message}`));
});

test("several hundred KiB of application data both ways", async () => {
  const payload = randomBytes(600 * 1024);
  const r = await roundTrip({ maxVersion: "TLSv1.2", ciphers: "AES128-SHA" }, payload);
  assert.ok(r.echoed.equals(payload));
});
