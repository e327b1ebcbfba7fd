// Law 1 (DESIGN.md): output that depends on new state is released only when
// the checkpoint holding that state is acknowledged; checkpoints and RSA
// requests are released at once so clustering and RSA overlap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { nativeProvider } from "../../src/crypto/provider.js";
import { ContentType, encodeHandshake, encodeRecord, HandshakeType, writeClientHello } from "../../src/tls/codec/index.js";
import { ServerConnection } from "../../src/tls/server.js";
import { seededRandom, testConfig } from "../helpers/engine-harness.js";

test("the server flight waits for checkpoint 1's acknowledgement", () => {
  const conn = ServerConnection.create(testConfig(), { provider: nativeProvider, random: seededRandom("gate"), now: () => 0, sessions: null });
  const ch = encodeHandshake(HandshakeType.client_hello, (w) =>
    writeClientHello(w, {
      clientVersion: 0x0303, random: randomBytes(32), sessionId: new Uint8Array(0), cipherSuites: [0x2f], compressionMethods: [0], extensions: null,
    }));
  conn.receive(encodeRecord(ContentType.handshake, 0x0301, ch));
  const first = conn.drain();
  assert.deepEqual(first.map((o) => o.kind), ["checkpoint"]);
  const cp = first[0]!;
  assert.ok(cp.kind === "checkpoint" && cp.checkpoint.kind === "handshake");
  assert.equal(cp.checkpoint.snapshot.phase, "client-hello");
  assert.equal(cp.checkpoint.snapshot.serverWritten, 0);
  assert.equal(cp.checkpoint.snapshot.negotiated.sessionId.length, 0, "no session cache, no session id");
  assert.deepEqual(conn.drain(), [], "nothing more before the acknowledgement");
  conn.acknowledge(cp.seq);
  const second = conn.drain();
  assert.deepEqual(second.map((o) => o.kind), ["transmit"]);
  assert.ok(second[0]!.kind === "transmit" && second[0]!.offset === 0);
  // No ServerHello extensions block: the client sent none (RFC 5246 §7.4.1.4).
});
