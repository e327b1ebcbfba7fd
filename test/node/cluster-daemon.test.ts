// A clustered Daemon in this process (member 1) with two bare cluster members
// (2, 3) as its mirrors (docs/cluster-protocol.md §10.1 items 2-4, 6-8):
// connections in member 1's buckets are replicated — the mirrors hold the
// relay's folded snapshot (the handshake's last phase) and forget it when the
// connection closes — the others are served unreplicated and never reach a
// mirror; `stop` detaches and says LEAVE, so the survivors reassign without
// waiting to declare it dead. A connection whose checkpoint the cluster
// refuses mid-download (a lease lapsed) goes on unreplicated to the last byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRelayCheckpoint, decodeRelaySnapshot } from "../../src/relay/checkpoint.js";
import { CLUSTER_ID, freePorts, LocalCluster, waitFor } from "../cluster/channel-helpers.js";
import { KEY } from "../cluster/sim.js";
import { handshakeOnce } from "./cluster-helpers.js";
import { bodySha, nodeFetch, startBackend, startDaemon } from "./helpers.js";
import { ClusterLink } from "../../src/node/cluster-link.js";
import { startDemoBackend } from "../../src/node/demo-backend.js";

/**
 * Members 2 and 3 in this process and member 1's link, for a daemon to use. Default timers: with
 * 20 ms keepalives a handshake burst in this one event loop (daemon main thread, both members, the
 * clients) can outlast a lease, and the daemon then closes on not_owner.
 */
async function threeMembers(): Promise<{ mirrors: LocalCluster; link: ClusterLink }> {
  const ports = await freePorts(3);
  const peers = [1, 2, 3].map((id, i) => ({ id, host: "127.0.0.1", port: ports[i]! }));
  const mirrors = new LocalCluster(peers);
  const timers = { keepaliveMs: 100, deadAfterMs: 400 };
  await mirrors.startMember(2, { core: timers });
  await mirrors.startMember(3, { core: timers });
  const link = await ClusterLink.start({ nodeId: 1, clusterId: CLUSTER_ID, key: KEY, peers, port: ports[0]!, core: timers }, () => {});
  return { mirrors, link };
}

test("clustered daemon: owned buckets replicated to both mirrors (folded relay snapshots), others served alone; closed connections forgotten; LEAVE on stop", async () => {
  const { mirrors, link } = await threeMembers();
  const backend = await startDemoBackend();
  const { daemon, port } = await startDaemon(backend.endpoint.port, { shards: 1, cluster: link });
  try {
    await waitFor(() => {
      const c = daemon.clusterStatus()!;
      const others = [2, 3].reduce((n, id) => n + mirrors.get(id).run.node.ownedBuckets(mirrors.get(id).run.channel.now()).size, 0);
      return c.members.length === 3 && c.handoffs === 0 && c.owned + others === 1024;
    }, 5000);

    // Hold connections open (no reply read to the end yet) until some are replicated and some not.
    let results = 0;
    for (let i = 0; i < 40; i++) {
      const r = await handshakeOnce(port);
      assert.ok(r.ok, `${r.error}: ${JSON.stringify(daemon.clusterStatus()!.link)} ${JSON.stringify(daemon.status().failures)} ${JSON.stringify(daemon.status().counters)}`);
      results++;
      const l = daemon.clusterStatus()!.link;
      if (l.replicatedConnections >= 3 && l.unreplicatedConnections >= 3) break;
    }
    const link = daemon.clusterStatus()!.link;
    assert.ok(link.replicatedConnections >= 3 && link.unreplicatedConnections >= 3, `${results} handshakes: ${JSON.stringify(link)}`);
    assert.equal(link.replicatedConnections + link.unreplicatedConnections, results);
    const st = daemon.clusterStatus()!;
    assert.ok((st.replication["replicated"] ?? 0) >= 4 * link.replicatedConnections, "every checkpoint of a replicated connection acknowledged");
    assert.equal(link.notOwner + link.checkpointTooLarge, 0);
    // Every connection closed: the owner told the mirrors (CONNECTION_CLOSED), nothing stays mirrored.
    await waitFor(() => mirrors.get(2).run.node.replication.mirror.size === 0 && mirrors.get(3).run.node.replication.mirror.size === 0 && daemon.activeConnections === 0, 2000);

    // A connection held open mid-stream: both mirrors hold its relay snapshot, folded, past the handshake.
    const { connect } = await import("node:tls");
    let held: import("node:tls").TLSSocket | undefined;
    for (let i = 0; i < 40 && !held; i++) {
      const before = daemon.clusterStatus()!.link.replicatedConnections;
      const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, maxVersion: "TLSv1.2" });
      await new Promise<void>((r, j) => s.once("secureConnect", () => r()).once("error", j));
      if (daemon.clusterStatus()!.link.replicatedConnections > before) held = s;
      else s.destroy();
    }
    assert.ok(held, "a replicated connection");
    await waitFor(() => [2, 3].every((id) => mirrors.get(id).run.node.replication.mirror.size === 1), 2000);
    for (const id of [2, 3]) {
      const e = [...mirrors.get(id).run.node.replication.mirror.values()][0]!;
      assert.equal(e.owner, 1);
      assert.equal(Math.floor(e.connId / 2 ** 37), 1, "cluster connection ids carry the member id");
      const snap = decodeRelaySnapshot(e.state);
      assert.ok(["client-finished", "server-finished"].includes(snap.engine.phase), `past the key exchange, folded over the earlier checkpoints: ${snap.engine.phase}`);
      assert.ok(snap.fields.clientConsumed > 0, "the client's handshake bytes are consumed in the mirrored state");
    }
    held.destroy();
    await waitFor(() => [2, 3].every((id) => mirrors.get(id).run.node.replication.mirror.size === 0), 2000);

    // Graceful stop: LEAVE; the master left, so the new one waits out its leases (docs §5.3) but
    // not the death timeout before it (~400 ms instead of ~800 ms after a crash).
    const t0 = performance.now();
    await daemon.stop();
    await waitFor(() => mirrors.converged().ok && mirrors.get(2).run.node.map.members.every((m) => m.id !== 1), 2000);
    console.log(`# after LEAVE the survivors owned every bucket in ${(performance.now() - t0).toFixed(0)} ms`);
  } finally {
    await daemon.stop();
    await mirrors.close();
    await backend.close();
  }
});

test("clustered daemon: a checkpoint refused mid-download (not_owner) leaves the connection unreplicated, not closed; the download completes byte-exact", async () => {
  const { mirrors, link } = await threeMembers();
  const backend = await startBackend();
  // A lease that lapses for a moment (docs §5.3), made deterministic: the channel refuses, once per
  // connection, the first checkpoint after the client has part of the body (the rest still to come).
  const size = 1_500_000;
  const channel = link.running.channel;
  const replicate = channel.replicate.bind(channel);
  const refused = new Set<number>();
  channel.replicate = (cid, bucket, bytes) => {
    const sent = decodeRelayCheckpoint(bytes).fields.backendConsumed;
    if (refused.has(cid) || sent === 0 || sent > size / 2) return replicate(cid, bucket, bytes);
    refused.add(cid);
    return { ok: false, reason: "not_owner" };
  };
  const { daemon, port } = await startDaemon(backend.port, { shards: 1, cluster: link });
  try {
    await waitFor(() => daemon.clusterStatus()!.members.length === 3 && daemon.clusterStatus()!.handoffs === 0, 5000);
    for (let i = 0; i < 40 && refused.size < 2; i++) {
      const r = await nodeFetch(port, `/bytes/${size}`, { id: `d${i}` });
      assert.equal(r.status, 200);
      assert.equal(r.length, size, `d${i}: ${JSON.stringify(daemon.clusterStatus()!.link)}`);
      assert.equal(r.sha, bodySha(size), `d${i}`);
    }
    const l = daemon.clusterStatus()!.link;
    // notOwner may count more: a real lease lapse on this loaded machine is refused the same way.
    assert.ok(refused.size >= 2 && l.notOwner >= refused.size, `refusals happened mid-download: ${JSON.stringify(l)}`);
    assert.ok(l.detached >= l.notOwner, "each refused connection went on unreplicated (detached)");
    assert.ok([...backend.seen.values()].every((n) => n === 1), "each request reached the backend once");
    assert.equal(daemon.status().counters.shardRestarts, 0);
    // The refused connections' mirrored state was dropped (CONNECTION_CLOSED on the refusal).
    await waitFor(() => [2, 3].every((id) => mirrors.get(id).run.node.replication.mirror.size === 0), 2000);
  } finally {
    await daemon.stop();
    await mirrors.close();
    await backend.close();
  }
});
