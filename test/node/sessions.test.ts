// One session cache per node (src/node/sessions.ts): the node's cache and a
// shard's copy in isolation, then the daemon with two shards and real
// clients. Each connection's client source port is chosen (openssl
// s_client -bind, Node's localPort) so that its bucket belongs to the shard
// the test wants: the session is made on shard 0 and resumed on shard 1
// with no RSA operation, also after shard 1 is respawned; a fatal alert on a resumed connection of shard 1
// removes it from shard 0 too (the next offer gets a full handshake).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { Daemon } from "../../src/node/daemon.js";
import { MemoryNodeSessionCache, ShardSessionCopy, type SessionChange } from "../../src/node/sessions.js";
import type { SessionData } from "../../src/tls/session-cache.js";
import { CHILD_TIMEOUT_MS, clientPortsFor, fromSourcePort, SourcePortInUse, startBackend, startDaemon, within } from "./helpers.js";

function session(n: number, createdAt: number): SessionData {
  return {
    id: new Uint8Array(32).fill(n), version: 0x0303, cipherSuite: 0x002f, masterSecret: new Uint8Array(48).fill(n),
    extendedMasterSecret: true, serverName: null, createdAt,
  };
}

const idByte = (c: SessionChange) => (c.type === "add" ? c.session.id[0] : c.id[0]);

test("node session cache: changes announced, LRU bound, expiry, bad bounds named", () => {
  let now = 1000;
  const cache = new MemoryNodeSessionCache({ maxEntries: 2, ttlMs: 100, now: () => now });
  const seen: string[] = [];
  cache.onChange((c) => seen.push(`${c.type}${idByte(c)}`));
  cache.put(session(1, now));
  cache.put(session(2, now));
  assert.ok(cache.get(new Uint8Array(32).fill(1)), "hit on 1 makes 2 the least recently used");
  cache.put(session(3, now));
  assert.deepEqual(seen, ["add1", "add2", "add3", "remove2"]);
  assert.deepEqual(cache.entries().map((s) => s.id[0]), [1, 3]);
  cache.remove(new Uint8Array(32).fill(1));
  assert.deepEqual(seen.slice(4), ["remove1"]);
  now += 100;
  assert.equal(cache.get(new Uint8Array(32).fill(3)), undefined, "expired");
  assert.deepEqual(seen.slice(5), ["remove3"]);
  cache.put(session(4, now - 100));
  assert.equal(cache.size, 0, "an already expired session is not taken");
  cache.put(session(5, now));
  now += 100;
  assert.equal(cache.sweep(), 1);
  assert.deepEqual(seen.slice(6), ["add5", "remove5"]);
  assert.throws(() => new MemoryNodeSessionCache({ maxEntries: 0, ttlMs: 1, now: Date.now }), /maxEntries/);
  assert.throws(() => new MemoryNodeSessionCache({ maxEntries: 1, ttlMs: 0, now: Date.now }), /ttlMs/);
});

test("shard session copy: own changes local at once and sent; node changes applied; expired refused", () => {
  let now = 1000;
  const sent: SessionChange[] = [];
  const copy = new ShardSessionCopy(100, [session(1, now)], (c) => sent.push(c), () => now);
  assert.ok(copy.get(new Uint8Array(32).fill(1)), "initial entries");
  copy.put(session(2, now));
  assert.ok(copy.get(new Uint8Array(32).fill(2)));
  copy.remove(new Uint8Array(32).fill(1));
  assert.equal(copy.get(new Uint8Array(32).fill(1)), undefined);
  assert.deepEqual(sent.map((c) => `${c.type}${idByte(c)}`), ["add2", "remove1"]);
  copy.apply({ type: "add", session: session(3, now) });
  copy.apply({ type: "remove", id: new Uint8Array(32).fill(2) });
  assert.ok(copy.get(new Uint8Array(32).fill(3)));
  assert.equal(copy.get(new Uint8Array(32).fill(2)), undefined);
  assert.equal(sent.length, 2, "applied changes are not sent back");
  now += 100;
  assert.equal(copy.get(new Uint8Array(32).fill(3)), undefined, "expired");
});

/** How long the test waits for a daemon event before failing (far above what one takes on a loaded machine). */
const WAIT_MS = 60_000;

/** The shard that ran the next accepted connection. */
function nextShard(daemon: Daemon): Promise<number | undefined> {
  return new Promise((resolve) => daemon.once("accept", (id: number) => resolve(daemon.shardOf(id))));
}

/**
 * openssl s_client from a chosen source port; "New" or "Reused" from its
 * summary line. A failed bind (the port is in use) rejects with
 * SourcePortInUse, so fromSourcePort() runs it again from another port.
 */
function sClientSession(port: number, from: number, sess: string[]): Promise<{ kind: string; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-bind", `127.0.0.1:${from}`, "-tls1_2", ...sess],
      { timeout: CHILD_TIMEOUT_MS, killSignal: "SIGKILL" });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
    p.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
    p.on("error", reject);
    p.on("close", () => {
      if (/BIO_bind:.*(Address already in use|Cannot assign requested address)/.test(out)) return reject(new SourcePortInUse(from, out));
      resolve({ kind: /^(New|Reused), /m.exec(out)?.[1] ?? "none", out });
    });
    p.stdin.end("GET / HTTP/1.0\r\nx-req-id: sess\r\n\r\n");
  });
}

/**
 * Node tls resuming `sessionDer` from a chosen source port over a socket
 * the test can also write to directly; once resumed, a record with a bad
 * MAC is written under TLS, and the server must answer with a fatal alert.
 */
function resumeThenCorrupt(port: number, from: number, sessionDer: Buffer): Promise<{ reused: boolean; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const raw = netConnect({ host: "127.0.0.1", port, localAddress: "127.0.0.1", localPort: from });
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        raw.write(chunk, cb);
      },
      final(cb) {
        raw.end();
        cb();
      },
    });
    raw.on("data", (d: Buffer) => wire.push(d));
    raw.on("end", () => wire.push(null));
    raw.on("error", reject);
    raw.setTimeout(WAIT_MS, () => raw.destroy(new Error(`the daemon did not close the connection in ${WAIT_MS} ms`)));
    const t = tlsConnect({ socket: wire, session: sessionDer, rejectUnauthorized: false, maxVersion: "TLSv1.2" });
    let reused = false;
    t.on("secureConnect", () => {
      reused = t.isSessionReused();
      // Once a byte under TLS is on the wire (so our Finished is before it),
      // an application_data record of four cipher blocks with nonsense in it:
      // RFC 5246 §6.2.3.2 → bad_record_mac, fatal (§7.2.2).
      t.write("G", () => raw.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), Buffer.alloc(0x40, 0x5a)])));
    });
    t.on("error", () => {});
    raw.on("close", () => resolve({ reused, closed: true }));
  });
}

test("daemon: a session made on shard 0 resumes on shard 1 (also respawned) without RSA; a fatal alert on shard 1 removes it from shard 0", async () => {
  const backend = await startBackend();
  const alerts: unknown[] = [];
  const log = () => {};
  const logger = { debug: log, warn: log, error: log, info: (f: Record<string, unknown>) => void (f["alert"] !== undefined && alerts.push(f["alert"])) };
  const { daemon, port } = await startDaemon(backend.port, { shards: 2, logger });
  const dir = mkdtempSync(join(tmpdir(), "sslacc-sess-"));
  const file = join(dir, "s.pem");
  try {
    const portOn = clientPortsFor(daemon, port);

    let shard = nextShard(daemon);
    const first = await fromSourcePort(() => portOn(0), (from) => sClientSession(port, from, ["-sess_out", file]));
    assert.equal(first.kind, "New", first.out);
    assert.equal(await within(shard, WAIT_MS, "accept"), 0);
    assert.equal(daemon.counters.rsaRequests, 1);

    const rsa = daemon.counters.rsaRequests;
    shard = nextShard(daemon);
    const second = await fromSourcePort(() => portOn(1), (from) => sClientSession(port, from, ["-sess_in", file]));
    assert.equal(second.kind, "Reused", second.out);
    assert.equal(await within(shard, WAIT_MS, "accept"), 1, "resumed on the other shard");
    assert.equal(daemon.counters.rsaRequests, rsa, "no RSA operation for the resumption");
    assert.equal(daemon.counters.resumed, 1);

    // A respawned shard starts with the node's sessions (ShardInit.sessions); wait until its buckets are back.
    const home = new Promise((r) => daemon.once("rebalanced", r));
    daemon.killShard(1, "terminate");
    await within(home, WAIT_MS, "shard 1 respawned and its buckets home");
    shard = nextShard(daemon);
    const again = await fromSourcePort(() => portOn(1), (from) => sClientSession(port, from, ["-sess_in", file]));
    assert.equal(again.kind, "Reused", again.out);
    assert.equal(await within(shard, WAIT_MS, "accept"), 1);
    assert.equal(daemon.counters.rsaRequests, rsa);

    // Resume on shard 1 again, then a bad record: the alert invalidates the session (RFC 5246 §7.2.2).
    const removed = new Promise<void>((r) => daemon.sessions.onChange((c) => c.type === "remove" && r()));
    const der = Buffer.from(readFileSync(file, "latin1").replace(/-----[^-]+-----|\s/g, ""), "base64");
    shard = nextShard(daemon);
    const bad = await fromSourcePort(() => portOn(1), (from) => resumeThenCorrupt(port, from, der));
    assert.equal(await within(shard, WAIT_MS, "accept"), 1);
    assert.ok(bad.reused, "the Node client resumed the openssl session");
    await within(removed, WAIT_MS, "session removed from the node cache");
    assert.equal(daemon.counters.resumed, 3);
    assert.deepEqual(daemon.failures.handshake, {}, "after the handshake: not a handshake failure");
    assert.deepEqual(alerts, ["bad_record_mac"]);

    shard = nextShard(daemon);
    const third = await fromSourcePort(() => portOn(0), (from) => sClientSession(port, from, ["-sess_in", file]));
    assert.equal(await within(shard, WAIT_MS, "accept"), 0);
    assert.equal(third.kind, "New", `removed from shard 0 as well: ${third.out}`);
    assert.equal(daemon.counters.rsaRequests, rsa + 1, "a full handshake");
    assert.equal(backend.seen.get("sess"), 4, "s_client's four requests reached the backend");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await daemon.stop();
    await backend.close();
  }
});
