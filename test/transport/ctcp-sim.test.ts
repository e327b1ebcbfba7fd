// Issue 7 proof in simulation: three clustered-TCP nodes, Node's TLS client
// (OpenSSL) over our TCP, a backend that records every byte; the node owning
// the client's bucket crashes at its k-th input, for k spread over the whole
// connection (connect, full or resumed handshake, client→server data with
// partial ACKs, server→client data with pre-writes, close — by the client
// or first by the backend), with 0-10 %
// loss and reordering, eager and selective recovery. Every run: the client
// ends with byte-exact data and no error, the backend got the request once
// on one connection, nobody saw a RST.
// Every crash point, more seeds, and the takeover measurements: `npm run sim:ctcp` (test/transport/ctcp-soak.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { crashSweep, measureThroughput, newerIncarnationAfterTakeover, newTally, PHASES, runSim } from "./ctcp-sim.js";

const PER_PHASE = 10;

for (const recovery of ["eager", "selective"] as const) {
  test(`crash the owner at inputs spread over full, resumed, upload and backend-closes-first connections, 0-10 % loss, ${recovery} recovery: byte-exact, backend once, no RST`, async () => {
    const t = newTally();
    await crashSweep("full", recovery, PER_PHASE, 11, t);
    await crashSweep("resumed", recovery, PER_PHASE, 12, t);
    await crashSweep("upload", recovery, PER_PHASE, 13, t);
    await crashSweep("backend-close", recovery, 6, 14, t);
    const summary = JSON.stringify({ ...t, failures: t.failures.length });
    console.log(`ctcp-sim ${recovery}: ${summary}`);
    assert.deepEqual(t.failures, [], `${summary}\n${t.failures.join("\n")}`);
    const crashRuns = t.runs - 4;
    assert.ok(crashRuns >= 80, `crash runs: ${summary}`);
    // A point beyond a lossy run's phase does not crash; most do.
    assert.ok(t.crashed >= 0.8 * crashRuns, `crashed: ${summary}`);
    for (const p of PHASES) assert.ok(t.phases[p] >= (p === "connect" ? 6 : 12), `phase ${p}: ${summary}`);
    assert.ok(t.resumed >= 25, `resumed handshakes: ${summary}`);
    assert.ok(t.partialAcks >= 10, `partial ACKs: ${summary}`);
    if (recovery === "eager") assert.ok(t.restored.eager >= crashRuns / 2 && t.restored["on-packet"] === 0, `restored: ${summary}`);
    else assert.ok(t.restored.eager === 0 && t.restored["on-packet"] >= crashRuns / 2, `restored: ${summary}`);
  });
}

// Every input its own step (CtcpNodeConfig.batchTurns off), as the node runs without a shell turn.
test("crash sweep of the full scenario with every input its own relay step (no turn batching), eager: byte-exact, backend once, no RST", async () => {
  const t = newTally();
  await crashSweep("full", "eager", 6, 15, t, false);
  assert.deepEqual(t.failures, [], t.failures.join("\n"));
  // A point beyond a lossy run's phase does not crash; most do.
  assert.ok(t.runs >= 20 && t.crashed >= 0.6 * (t.runs - 1), JSON.stringify(t));
});

// Throughput in simulated time (docs/ctcp.md "Throughput"; deterministic, not
// a timed test): records pipeline — many in flight, the backend and the
// client send ahead within the leg window while only checkpointed bytes are
// acknowledged — so a transfer moves at a good fraction of window / (time a
// byte is held unacknowledged). Before the fix an upload with a 100 ms mirror
// round trip ran at 8 % of it (a spurious client RTO on the withheld ClientHello
// ACK, then congestion avoidance from 2 SMSS on stretch ACKs).
test("throughput in simulated time: 4 MB down and up within a factor of window / mirror latency, 20 and 100 ms mirror round trips; a 4x window moves ≥ 1.8x as fast", async () => {
  const W = 256 * 1024;
  for (const rtt of [20, 100]) {
    for (const dir of ["down", "up"] as const) {
      const r = await measureThroughput(dir, 4_000_000, rtt, W);
      const what = `${dir} mirror RTT ${rtt} ms: ${r.mbps.toFixed(2)} MB/s, bound ${r.boundMbps.toFixed(2)} MB/s`;
      console.log(`ctcp-sim throughput ${what}`);
      assert.ok(r.ok, what);
      assert.ok(r.mbps >= 0.5 * r.boundMbps, what);
      assert.ok(r.mbps <= 1.05 * r.boundMbps, `faster than the bound (is the bound wrong?): ${what}`);
    }
  }
  const small = await measureThroughput("down", 8_000_000, 100, W);
  const large = await measureThroughput("down", 8_000_000, 100, 4 * W);
  assert.ok(small.ok && large.ok);
  console.log(`ctcp-sim throughput 8 MB down, mirror RTT 100 ms: window ${W} ${small.mbps.toFixed(2)} MB/s, ${4 * W} ${large.mbps.toFixed(2)} MB/s`);
  assert.ok(large.mbps >= 1.8 * small.mbps, `window ${W}: ${small.mbps.toFixed(2)} MB/s, ${4 * W}: ${large.mbps.toFixed(2)} MB/s`);
});

// The real wire's forward-ACK stall (docs/ctcp.md, issue 7): a large download
// whose mirrors lag ~100 ms, the owner killed with many records beyond the
// last checkpoint in flight, so the client's first ACK after the takeover is
// ahead of the restored SND.NXT (§4.6). The engine discards the regenerated
// bytes up to it; the relay must still learn the client has them, or it never
// consumes the backend's bytes, the partial-ACK records grow past a datagram
// and the channel refuses them. Records obey the channel's size limit here.
test("forward ACK after a takeover in a 2 MB download with 50 ms mirror latency: the relay learns the discarded bytes, byte-exact", async () => {
  const conns = [{ upload: 1500, download: 2_000_000, resume: false }];
  let forwardAcks = 0;
  for (const nth of [240, 320]) {
    const r = await runSim({ seed: 100 + nth, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns, crashAt: { phase: "s2c", nth }, clusterDelayMs: 50 });
    const c = r.conns[0]!;
    assert.ok(r.crashed, `nth=${nth}: no crash`);
    assert.equal(r.tooLarge, 0, `nth=${nth}: records refused as too large`);
    assert.ok(c.ok, `nth=${nth}: ${c.why}`);
    forwardAcks += r.forwardAcks;
  }
  // Whether a crash point leaves the client ahead of the mirrored state depends on the timing; one of them does.
  assert.ok(forwardAcks >= 1, `the heirs counted the clients' forward ACKs (${forwardAcks})`);
});

// Port reuse (docs/ctcp.md "Port reuse after a takeover"): curl binds a port
// from a range, Linux reuses it once its TIME_WAIT is over, while the cluster
// holds the previous incarnation for 2·MSL — and a takeover restores it, its
// client leg in LAST_ACK. Seen on the real wire as the proof's handshake-phase
// failures (a new connection's SYNs captured by the old one: "Connection
// timed out", the backend never saw the request) and an ACK/RST storm.
for (const [crash, backendCloses] of [[false, false], [true, false], [false, true]] as const) {
  const held = crash ? " after a takeover restored the first (LAST_ACK)" : backendCloses ? " while the first, closed by us first, is in TIME_WAIT here" : " while the node still holds the first";
  test(`a client reuses its port for a second connection${held}: both byte-exact, backend once each`, async () => {
    const conns = [{ upload: 1500, download: 20_000, resume: false, backendCloses }, { upload: 1500, download: 20_000, resume: false, samePort: true }];
    for (const seed of [21, 22, 23]) {
      const r = await runSim({ seed, loss: 0.02, latencyMs: 1, jitterMs: 2, recovery: "eager", conns, maxTimeMs: 20_000, ...(crash && { crashAfterConn: 0 }) });
      const what = `seed ${seed}: ${JSON.stringify(r.conns)}, restored ${JSON.stringify(r.restored)}`;
      assert.equal(r.conns.length, 2, what);
      for (const c of r.conns) assert.ok(c.ok, `${what}: ${c.why}`);
      if (crash) assert.ok(r.restored.eager >= 1, `the first connection was restored: ${what}`);
      // The second SYN (or, after the challenge ACK and the client's RST, its retransmission) took the tuple over.
      assert.ok(r.reopened >= 1, `a SYN reopened the tuple: ${what}, reopened ${r.reopened}`);
    }
  });
}

// Every input of the connect and handshake phases (full and resumed) with the
// real wire's timings (docs/ctcp.md "Port reuse after a takeover", where the
// handshake-phase kills were examined): mirror acks of 25 ms each way, the
// RSA decryption in a worker (answered 20-60 ms later as a separate input, so
// a crash can fall while it runs and lose it), the peers' 200 ms minimum RTO.
for (const recovery of ["eager", "selective"] as const) {
  test(`crash at every connect and handshake input with mirror acks of 25 ms and the RSA decryption asynchronous (40 ms), ${recovery}: byte-exact, backend once, no RST`, async () => {
    const t = newTally();
    const timings = { clusterDelayMs: 25, rsaDelayMs: 40 };
    for (const seed of [31, 33]) {
      await crashSweep("full", recovery, 40, seed, t, true, timings, ["connect", "handshake"]);
      await crashSweep("resumed", recovery, 40, seed + 1, t, true, timings, ["connect", "handshake"]);
    }
    const summary = JSON.stringify({ ...t, failures: t.failures.length });
    assert.deepEqual(t.failures, [], `${summary}\n${t.failures.join("\n")}`);
    assert.ok(t.phases.handshake >= 15 && t.phases.connect >= 8, `crash points: ${summary}`);
  });
}

// The old connection back at a second takeover (hs-kill --fixed-ports
// --recovery selective on the real wire): the client reused its port, the new
// connection's owner died before its first checkpoint, and the heir holds only
// the old connection (mirrored, finished, restored into LAST_ACK). The client's
// retransmitted first segment of the new connection must open it, not vanish
// into the old one (before the fix: not accepted, the client stuck with 0 bytes).
test("a takeover restores a finished connection; the first segment of a newer incarnation on its 4-tuple opens the new connection, eager and selective", async () => {
  const first = await runSim({ seed: 50, loss: 0, latencyMs: 1, jitterMs: 0, recovery: "eager", conns: [{ upload: 1500, download: 20_000, resume: false }], crashAfterConn: 0 });
  assert.ok(first.conns[0]!.ok && first.mirroredAtTakeover.length === 1, JSON.stringify(first.conns));
  for (const recovery of ["eager", "selective"] as const) {
    const r = newerIncarnationAfterTakeover(first.mirroredAtTakeover[0]!, recovery);
    assert.equal(r.restored, 1, `${recovery}: the old connection was restored: ${JSON.stringify(r)}`);
    assert.equal(r.accepted, 1, `${recovery}: the new one accepted: ${JSON.stringify(r)}`);
    assert.equal(r.reopened, 1, `${recovery}: counted: ${JSON.stringify(r)}`);
  }
});
