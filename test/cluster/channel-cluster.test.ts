// The cluster on real UDP sockets over loopback, all members in this process
// (docs/cluster-protocol.md §10): formation, a member's and the master's
// death with buckets reassigned within 1 s, sessions and checkpoints across
// members.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalCluster, waitFor } from "./channel-helpers.js";
import type { SessionData } from "../../src/tls/session-cache.js";

function session(idByte: number, now: number): SessionData {
  return {
    id: new Uint8Array(32).fill(idByte),
    version: 0x0303,
    cipherSuite: 0x002f,
    masterSecret: new Uint8Array(48).fill(idByte ^ 0x5a),
    extendedMasterSecret: true,
    serverName: "a.test",
    createdAt: now,
  };
}

test("3 members form a cluster on loopback: one master, every bucket owned once; the master dies: reassigned within 1 s", async () => {
  const c = await LocalCluster.start([1, 2, 3]);
  try {
    const formed = await c.waitConverged(3000);
    const st = c.get(2).run.channel.status();
    assert.equal(st.master, 1);
    assert.equal(st.members.reduce((n, m) => n + m.buckets, 0), 1024);
    assert.equal(st.channel.coreErrors, 0);
    assert.ok(st.channel.datagramsIn > 0 && st.channel.unknownSource === 0);
    console.log(`# formed in ${formed.toFixed(0)} ms; buckets ${st.members.map((m) => `${m.id}:${m.buckets}`).join(" ")}`);

    await c.kill(1);
    const master = await c.waitConverged(3000);
    assert.equal(c.get(3).run.node.master(c.get(3).run.channel.now()), 2);
    assert.ok(master < 1000, `master death: buckets reassigned in ${master.toFixed(0)} ms`);

    await c.kill(3);
    // One of three configured is no majority: with the default rule the survivor must stop owning.
    await waitFor(() => c.get(2).run.node.ownedBuckets(c.get(2).run.channel.now()).size === 0, 1000);
    console.log(`# master death → reassigned in ${master.toFixed(0)} ms; with 1 of 3 left the survivor owns nothing (majority rule)`);
  } finally {
    await c.close();
  }
});

test("5 members: kill a member and then the master (id 1): each time every bucket is reassigned within 1 s", async () => {
  const c = await LocalCluster.start([1, 2, 3, 4, 5]);
  try {
    await c.waitConverged(4000);
    assert.equal(c.get(4).run.node.master(c.get(4).run.channel.now()), 1);
    await c.kill(4);
    const member = await c.waitConverged(3000);
    await c.kill(1);
    const master = await c.waitConverged(3000);
    assert.equal(c.get(2).run.node.master(c.get(2).run.channel.now()), 2, "next lowest live id");
    console.log(`# 5 members: member death ${member.toFixed(0)} ms, master death ${master.toFixed(0)} ms (keepalive 20, dead 120)`);
    assert.ok(member < 1000, `member death: ${member.toFixed(0)} ms`);
    assert.ok(master < 1000, `master death: ${master.toFixed(0)} ms`);
    // The dead master comes back under a new epoch: admitted again, buckets spread to it.
    await c.startMember(1);
    await waitFor(() => c.converged().ok && c.get(1).run.node.ownedBuckets(c.get(1).run.channel.now()).size > 0, 5000);
  } finally {
    await c.close();
  }
});

test("a session put on member A is resumable from member B's cache; a removal reaches B too", async () => {
  const c = await LocalCluster.start([1, 2, 3]);
  try {
    await c.waitConverged(3000);
    const a = c.get(3).run.channel;
    // onChange (what a node's shard copies follow): local and remote adds and removes, in order.
    const seen = new Map<number, string[]>();
    for (const id of [1, 2, 3]) {
      seen.set(id, []);
      c.get(id).run.channel.sessions.onChange((ch) => seen.get(id)!.push(`${ch.type}:${(ch.type === "add" ? ch.session.id : ch.id)[0]}`));
    }
    const s = session(0x41, a.now());
    a.sessions.put(s);
    const took = await waitFor(() => c.get(1).run.channel.sessions.get(s.id) !== undefined && c.get(2).run.channel.sessions.get(s.id) !== undefined, 1000, 1);
    assert.deepEqual(c.get(1).run.channel.sessions.get(s.id)!.masterSecret, s.masterSecret);
    assert.deepEqual(c.get(1).run.channel.sessions.entries().map((e) => e.id[0]), [0x41]);
    c.get(2).run.channel.sessions.remove(s.id);
    await waitFor(() => c.get(1).run.channel.sessions.get(s.id) === undefined && c.get(3).run.channel.sessions.get(s.id) === undefined, 1000, 1);
    for (const id of [1, 2, 3]) assert.deepEqual(seen.get(id), ["add:65", "remove:65"], `member ${id}'s onChange`);
    assert.deepEqual(c.get(1).run.channel.sessions.entries(), []);
    console.log(`# session visible on both peers after ${took.toFixed(1)} ms`);
  } finally {
    await c.close();
  }
});

test("a checkpoint replicated by its bucket's owner is acknowledged by both mirrors and sits in their mirror tables", async () => {
  const c = await LocalCluster.start([1, 2, 3]);
  try {
    await c.waitConverged(3000);
    const owner = c.get(2).run;
    const bucket = [...owner.node.ownedBuckets(owner.channel.now())][0]!;
    const other = [...c.members.values()].find((m) => m.id !== 2)!.run;
    assert.deepEqual(other.channel.replicate(77, bucket, new Uint8Array([1])), { ok: false, reason: "not_owner" });
    const data = new Uint8Array([0xca, 0xfe, 0x01]);
    const r = owner.channel.replicate(77, bucket, data);
    assert.ok(r.ok);
    await waitFor(() => c.get(2).events.some((e) => e.kind === "replicated" && e.rid === r.rid), 1000, 1);
    const ev = c.get(2).events.find((e) => e.kind === "replicated" && e.rid === r.rid);
    assert.ok(ev && ev.kind === "replicated");
    assert.deepEqual(ev.mirrors.map((m) => m.id).sort(), [1, 3]);
    for (const id of [1, 3]) {
      const e = c.get(id).run.node.replication.mirror.get(77);
      assert.ok(e, `mirror ${id} holds connection 77`);
      assert.deepEqual(e.state, data);
      assert.equal(e.owner, 2);
    }
    console.log(`# checkpoint acknowledged by both mirrors in ${ev.latencyMs} ms`);
    // The owner dies: a mirror takes the bucket over and gets the connection in bucketAcquired.
    await c.kill(2);
    await c.waitConverged(3000);
    const heir = c.live().find((m) => m.run.node.owns(bucket, m.run.channel.now()))!;
    await waitFor(() => heir.events.some((e) => e.kind === "bucketAcquired" && e.bucket === bucket && e.entries.some((x) => x.connId === 77)), 1000);
  } finally {
    await c.close();
  }
});
