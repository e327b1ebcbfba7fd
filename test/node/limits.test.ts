// Limits, backpressure and hostile peers (docs/daemon.md "Limits"):
// slowloris against the handshake deadline, garbage instead of a
// ClientHello, 5,000 idle connections (memory per connection measured),
// max connections, idle timeout, a backend and a client that read at
// 1 MiB/s (the daemon's held bytes stay under the buffer bound), and a
// backend that refuses or resets (a fatal internal_error alert to the
// client, counted by reason). Timeouts are small so the file runs in ~15 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect as tcpConnect, createServer, type Server, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { curl, startBackend, startDaemon } from "./helpers.js";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Daemon } from "../../src/node/daemon.js";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Full GCs before each memory reading, so garbage is not counted as held.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/**
 * JS heap + Buffers (external) of this process and its workers' transfers,
 * after GCs. A dead ArrayBuffer's bytes leave `external` only some GCs and
 * milliseconds after it died (measured here: 19 MiB of dropped Buffers still
 * counted after two back-to-back gc() calls, gone after a third 10 ms
 * later), so one gc() can count megabytes of garbage as held: GC every
 * 10 ms, eight times, and take the lowest reading.
 */
async function retained(): Promise<number> {
  let low = Infinity;
  for (let i = 0; i < 8; i++) {
    gc();
    const m = process.memoryUsage();
    low = Math.min(low, m.heapUsed + m.external);
    await delay(10);
  }
  return low;
}

function closed(s: Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((r) => (s.destroyed ? r(0) : s.once("close", () => r(Date.now() - t0))));
}

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

function tls(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Held bytes of a daemon's connections: kept input + bytes waiting in the other leg, per direction. */
function held(daemon: Daemon): { up: number; down: number } {
  let up = 0;
  let down = 0;
  for (const c of daemon.status().connections) {
    up = Math.max(up, c.keptClientBytes + c.toBackendBuffered);
    down = Math.max(down, c.keptBackendBytes + c.toClientBuffered);
  }
  return { up, down };
}

/** A socket that delivers at most `bytesPerSec` to 'data' (pause/resume on a token bucket). */
function throttle(s: Socket, bytesPerSec: number, onData: (n: number) => void): void {
  const t0 = Date.now();
  let got = 0;
  s.on("data", (d: Buffer) => {
    got += d.length;
    onData(d.length);
    const ahead = got / bytesPerSec * 1000 - (Date.now() - t0);
    if (ahead > 0) {
      s.pause();
      setTimeout(() => s.resume(), ahead);
    }
  });
}

async function rawBackend(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

test("limits: slowloris hits the handshake deadline; garbage gets an alert; the daemon serves on", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, { limits: { handshakeTimeoutMs: 400 } });
  try {
    // A ClientHello record header, then one byte every 50 ms: each byte
    // would reset an inactivity timer, the whole-handshake deadline fires.
    const s = await tcp(port);
    s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    const drip = setInterval(() => !s.destroyed && s.write(Buffer.from([0x01])), 50);
    const ms = await closed(s);
    clearInterval(drip);
    assert.ok(ms >= 300 && ms < 2000, `closed after ${ms} ms`);
    assert.equal(daemon.counters.handshakeTimeouts, 1);
    assert.equal(daemon.failures.handshake["timeout"], 1);

    // Garbage: 4 KiB of random bytes that do not start a handshake record.
    const g = await tcp(port);
    const got: Buffer[] = [];
    g.on("data", (d: Buffer) => got.push(d));
    const junk = randomBytes(4096);
    junk[0] = 0x47; // "G": not a TLS content type
    g.end(junk);
    await closed(g);
    const reply = Buffer.concat(got);
    assert.equal(reply[0], 0x15, `an alert record, got ${reply.subarray(0, 8).toString("hex")}`);
    assert.equal(reply[5], 2, "fatal");
    assert.equal(Object.values(daemon.failures.handshake).reduce((a, b) => a + b, 0), 2, JSON.stringify(daemon.failures));

    const c = await curl(["-H", "x-req-id: after", `https://127.0.0.1:${port}/`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, "hello after\n");
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("limits: 5,000 idle connections hold bounded memory; max connections; idle timeout", async () => {
  const backend = await startBackend();
  const { daemon, port } = await startDaemon(backend.port, { limits: { maxConnections: 5000, handshakeTimeoutMs: 60_000, idleTimeoutMs: 300 } });
  const sockets: Socket[] = [];
  try {
    // Warm up (shards' code, one handshake), then measure the increase.
    assert.equal((await curl([`https://127.0.0.1:${port}/`])).code, 0);
    gc();
    await delay(100);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 5000; i += 250) {
      sockets.push(...await Promise.all(Array.from({ length: 250 }, () => tcp(port))));
    }
    for (let i = 0; i < 100 && daemon.status().connections.length < 5000; i++) await delay(20);
    assert.equal(daemon.status().connections.length, 5000);
    await delay(200);
    gc();
    const perConn = (process.memoryUsage().rss - before) / 5000;
    // Client and daemon sockets are both in this process: the figure covers both.
    console.log(`# 5,000 idle connections: ${(perConn / 1024).toFixed(1)} KiB RSS per connection (client + daemon sides)`);
    assert.ok(perConn < 24 * 1024, `${perConn} bytes per connection`);

    // The 5,001st is refused at accept (and counted).
    const extra = await tcp(port);
    await closed(extra);
    for (let i = 0; i < 50 && daemon.counters.rejectedConnections === 0; i++) await delay(10);
    assert.equal(daemon.counters.rejectedConnections, 1);
    await Promise.all(sockets.splice(0).map((s) => (s.destroy(), closed(s))));
    for (let i = 0; i < 100 && daemon.status().connections.length > 0; i++) await delay(20);

    // Idle timeout: a finished handshake and then silence.
    const t = await tls(port);
    t.on("error", () => {});
    const ms = await closed(t);
    assert.ok(ms >= 200 && ms < 2000, `idle close after ${ms} ms`);
    assert.equal(daemon.counters.idleTimeouts, 1);
  } finally {
    for (const s of sockets) s.destroy();
    await daemon.stop();
    await backend.close();
  }
});

test("backpressure: a backend reading at 1 MiB/s pauses the client; a client reading at 1 MiB/s pauses the backend", async () => {
  const RATE = 1 << 20;
  const MAX = 128 * 1024;
  // Upload: the client writes as fast as the daemon lets it for 2.5 s.
  let backendGot = 0;
  const slow = await rawBackend((s) => throttle(s, RATE, (n) => (backendGot += n)));
  const { daemon, port } = await startDaemon(slow.port, { limits: { maxBufferBytes: MAX } });
  try {
    const mem0 = await retained();
    const rss0 = process.memoryUsage().rss;
    const t = await tls(port);
    t.on("error", () => {});
    let sent = 0;
    let stop = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!stop && t.write(chunk)) sent += chunk.length;
      if (!stop) t.once("drain", () => (sent += chunk.length, pump()));
    };
    pump();
    let peak = { up: 0, down: 0 };
    let rssPeak = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      await delay(50);
      const h = held(daemon);
      peak = { up: Math.max(peak.up, h.up), down: Math.max(peak.down, h.down) };
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss - rss0);
    }
    stop = true;
    const grown = (await retained()) - mem0;
    console.log(`# upload to a 1 MiB/s backend: client sent ${(sent / 2 ** 20).toFixed(1)} MiB in 2.5 s (the rest sits in kernel socket buffers), backend read ${(backendGot / 2 ** 20).toFixed(1)} MiB, daemon held at most ${(peak.up / 1024).toFixed(0)} KiB (bound ${(MAX / 1024)} KiB + one 64 KiB read), heap+buffers +${(grown / 2 ** 20).toFixed(1)} MiB after GC, RSS +${(rssPeak / 2 ** 20).toFixed(1)} MiB peak`);
    // The bound: pause above MAX, checked after each read of at most 64 KiB,
    // plus one client record's plaintext counted on both sides of the leg.
    assert.ok(peak.up <= MAX + 64 * 1024 + 18 * 1024, `held ${peak.up} bytes`);
    assert.ok(daemon.counters.clientPauses > 0);
    // Everything in this process (client, daemon, shards' transfers) after GC.
    // Measured +0.3 to +0.5 MiB (load average 10-14); a daemon that buffered what the client sent would hold several MiB.
    assert.ok(grown < 4 * 2 ** 20, `heap + buffers grew ${grown} bytes`);
    t.destroy();
  } finally {
    await daemon.stop();
    slow.server.close();
  }

  // Download: the backend writes 64 MiB as fast as it may; the client reads at 1 MiB/s.
  const fast = await rawBackend((s) => {
    const block = Buffer.alloc(64 * 1024, 0x62);
    let left = 64;
    const pump = () => {
      while (left > 0) {
        left--;
        if (!s.write(block)) return void s.once("drain", pump);
      }
      s.end();
    };
    s.once("data", pump);
    s.on("error", () => {});
  });
  const d2 = await startDaemon(fast.port, { limits: { maxBufferBytes: MAX } });
  try {
    const t = await tls(d2.port);
    t.on("error", () => {});
    let got = 0;
    throttle(t, RATE, (n) => (got += n));
    t.write("go");
    let peak = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      await delay(50);
      peak = Math.max(peak, held(d2.daemon).down);
    }
    console.log(`# download by a 1 MiB/s client: client read ${(got / 2 ** 20).toFixed(1)} MiB in 2.5 s, daemon held at most ${(peak / 1024).toFixed(0)} KiB`);
    assert.ok(got > 1 << 20 && got < 6 << 20, `client read ${got}`);
    assert.ok(peak <= MAX + 64 * 1024 + 18 * 1024, `held ${peak} bytes`);
    assert.ok(d2.daemon.counters.backendPauses > 0);
    t.destroy();
  } finally {
    await d2.daemon.stop();
    fast.server.close();
  }
});

/** A TLS client that sends a request and reports the error it ends with. */
function requestError(port: number): Promise<{ error: string; data: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => s.write("GET / HTTP/1.0\r\n\r\n"));
    let data = "";
    s.on("data", (d: Buffer) => (data += d.toString()));
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ error: `${e.code ?? ""} ${e.message}`, data }));
    s.on("close", () => resolve({ error: "closed without an error", data }));
  });
}

test("backend refused or reset: a fatal internal_error alert to the client, counted by reason", async () => {
  // Refused: a port nobody listens on.
  const gone = await rawBackend(() => {});
  const gonePort = gone.port;
  await new Promise((r) => gone.server.close(r));
  const a = await startDaemon(gonePort);
  try {
    const r = await requestError(a.port);
    assert.match(r.error, /internal error/i, r.error);
    assert.equal(a.daemon.failures.backend["refused"], 1, JSON.stringify(a.daemon.failures));
    assert.equal(a.daemon.failures.handshake["internal_error"] ?? 0, 1, JSON.stringify(a.daemon.failures));
  } finally {
    await a.daemon.stop();
  }
  // Reset: the backend accepts, reads the request, and answers with a RST.
  const rst = await rawBackend((s) => {
    s.on("error", () => {});
    s.once("data", () => s.resetAndDestroy());
  });
  const b = await startDaemon(rst.port);
  try {
    const r = await requestError(b.port);
    assert.match(r.error, /internal error/i, r.error);
    assert.equal(b.daemon.failures.backend["reset"], 1, JSON.stringify(b.daemon.failures));
    assert.equal(b.daemon.counters.handshakes, 1);
  } finally {
    await b.daemon.stop();
    rst.server.close();
  }
});
