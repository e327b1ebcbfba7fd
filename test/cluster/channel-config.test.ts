// startClusterNode's configuration checks (src/cluster/run-node.ts): each
// error names the flag at fault; plus the channel's multicast group on
// loopback and a clean close.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { loadClusterKey, parsePeers, parseReplication, startClusterNode, ClusterConfigError } from "../../src/cluster/run-node.js";
import { sealDatagram, FLAG_MULTICAST, BROADCAST } from "../../src/cluster/wire.js";
import { encodeMessage } from "../../src/cluster/messages.js";
import { wasmProvider } from "../../src/crypto/provider.js";
import { freePorts, waitFor, CLUSTER_ID, FAST } from "./channel-helpers.js";
import { KEY } from "./sim.js";

const fails = async (f: () => Promise<unknown> | unknown, field: string, detail: RegExp): Promise<void> => {
  await assert.rejects(async () => f(), (e: unknown) => e instanceof ClusterConfigError && e.field === field && detail.test(e.message));
};

test("--cluster-key: missing file, directory, short key rejected naming the flag; hex text and raw bytes accepted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-key-"));
  try {
    await fails(() => loadClusterKey(join(dir, "nope")), "--cluster-key", /cannot read .*ENOENT/);
    await fails(() => loadClusterKey(dir), "--cluster-key", /not a regular file/);
    writeFileSync(join(dir, "short"), "ab".repeat(31));
    await fails(() => loadClusterKey(join(dir, "short")), "--cluster-key", /31 bytes of key material; at least 32/);
    writeFileSync(join(dir, "hex"), "  " + "0a".repeat(32) + "\n");
    assert.deepEqual(await loadClusterKey(join(dir, "hex")), new Uint8Array(32).fill(10));
    writeFileSync(join(dir, "raw"), Buffer.from(KEY));
    assert.deepEqual(await loadClusterKey(join(dir, "raw")), KEY);
    await fails(() => startClusterNode({ nodeId: 1, clusterId: 1, peers: "127.0.0.1:1,127.0.0.1:2" }), "--cluster-key", /required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--peers, --node-id, --cluster-id, --replication: parsed or rejected naming the flag", async () => {
  assert.deepEqual(parsePeers("2@10.0.0.2:4320, 5@[fd00::5]:4321"), [
    { id: 2, host: "10.0.0.2", port: 4320 },
    { id: 5, host: "fd00::5", port: 4321 },
  ]);
  assert.deepEqual(parsePeers("a:1,b:2").map((p) => p.id), [1, 2]);
  await fails(() => parsePeers(""), "--peers", /empty/);
  await fails(() => parsePeers("1@a:1,b:2"), "--peers", /mix/);
  await fails(() => parsePeers("1@a:1,1@b:2"), "--peers", /listed twice/);
  await fails(() => parsePeers("a:70000"), "--peers", /port "70000"/);
  await fails(() => parsePeers("0@a:1"), "--peers", /member id "0"/);
  await fails(() => parsePeers("a"), "--peers", /not HOST:PORT/);
  assert.deepEqual(parseReplication("all"), { kind: "all" });
  assert.deepEqual(parseReplication("k=2"), { kind: "k", k: 2 });
  await fails(() => parseReplication("some"), "--replication", /expected "all"/);
  await fails(() => startClusterNode({ nodeId: 0, clusterId: 1, key: KEY, peers: "a:1,b:2" }), "--node-id", /0/);
  await fails(() => startClusterNode({ nodeId: 1, clusterId: -1, key: KEY, peers: "a:1,b:2" }), "--cluster-id", /-1/);
  await fails(() => startClusterNode({ nodeId: 1, clusterId: 1, key: KEY, peers: "127.0.0.1:9" }), "--peers", /no member but this one/);
  await fails(() => startClusterNode({ nodeId: 1, clusterId: 1, key: KEY, peers: "a:1,b:2", replication: "k=2" }), "--replication", /k=2 needs more than 2/);
  await fails(() => startClusterNode({ nodeId: 1, clusterId: 1, key: KEY, peers: "a:1,b:2", core: { keepaliveMs: 100, deadAfterMs: 150 } }), "cluster options", /leaseMs/);
});

test("a port already bound is a clear error; close() with LEAVE makes the master drop the member at once", async () => {
  const [p1, p2, p3] = await freePorts(3);
  const peers = `127.0.0.1:${p1},127.0.0.1:${p2},127.0.0.1:${p3}`;
  const start = (id: number) => startClusterNode({ nodeId: id, clusterId: CLUSTER_ID, key: KEY, peers, core: FAST });
  const [a, b, c] = await Promise.all([start(1), start(2), start(3)]);
  try {
    await assert.rejects(() => start(1), /cannot bind 127\.0\.0\.1:\d+/);
    await waitFor(() => a.node.map.members.length === 3 && a.node.map.handoffs.size === 0, 3000);
    await c.close();
    // LEAVE(shutdown): forgotten at once, not after deadAfterMs (120 ms here).
    const t = await waitFor(() => !a.node.membership.alive(3, a.channel.now()), 1000, 1);
    assert.ok(t < 60, `LEAVE took effect after ${t.toFixed(0)} ms`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("multicast: a member joins the group on loopback and accepts an authentic group datagram once (a replay is refused)", async () => {
  const [p1, p2, group] = await freePorts(3);
  const peers = `127.0.0.1:${p1},127.0.0.1:${p2}`;
  const multicast = { group: "239.255.43.20", port: group!, interface: "127.0.0.1" };
  const a = await startClusterNode({ nodeId: 1, clusterId: CLUSTER_ID, key: KEY, peers, core: FAST, channel: { multicast } });
  const raw = createSocket("udp4");
  try {
    await new Promise<void>((r) => raw.bind(0, "127.0.0.1", () => r()));
    raw.setMulticastInterface("127.0.0.1");
    // What member 2 would send to the group (the core does not send multicast yet; docs §2, §10).
    const ka = encodeMessage({ type: "keepalive", sentAt: 5, echo: 0, master: false, mapVersion: 0, mapIssuer: 0, readyVersion: 0, streamNext: 0, streamAck: 0, checkpointAck: 0, sessionDigest: 0, follows: 1 });
    const d = sealDatagram({ clusterId: CLUSTER_ID, nodeId: 2, key: KEY, provider: wasmProvider }, BROADCAST, 2 ** 40, 0, 1, ka, FLAG_MULTICAST);
    for (let i = 0; i < 2; i++) {
      raw.send(d, group!, multicast.group);
      await sleep(50);
    }
    assert.equal(a.channel.counters.multicastIn, 2);
    assert.equal(a.node.drops.replayed, 1);
    assert.equal(a.node.membership.epochOf(2), 2 ** 40, "the group datagram was accepted: member 2 heard");
  } finally {
    raw.close();
    await a.close();
  }
});
