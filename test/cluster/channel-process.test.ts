// Members as separate processes on loopback (docs/cluster-protocol.md §10),
// default timers (keepalive 100 ms, dead after 400 ms), the key read from a
// file: 5 members form a cluster, one is SIGKILLed, then the master; each
// time the survivors own every bucket within 1 s. A session put on one member
// is found on the others.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, waitForAsync } from "./channel-helpers.js";
import type { ChildCommand, ChildStatus } from "./channel-child.js";

class Child {
  private next = 1;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  readonly ready: Promise<void>;
  constructor(readonly id: number, readonly proc: ChildProcess) {
    let ready!: () => void;
    this.ready = new Promise((r) => (ready = r));
    proc.on("message", (m: { req: number; value: unknown }) => {
      if (m.req === 0) return ready();
      this.waiting.get(m.req)?.(m.value);
      this.waiting.delete(m.req);
    });
  }
  ask<T>(r: ChildCommand): Promise<T> {
    const req = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(req, resolve as (v: unknown) => void);
      this.proc.send({ ...r, req });
    });
  }
}

async function converged(children: Child[]): Promise<{ ok: boolean; why: string }> {
  const sts = await Promise.all(children.map((c) => c.ask<ChildStatus>({ cmd: "status" })));
  const owners = new Int32Array(1024);
  for (const s of sts) for (const b of s.owned) owners[b]!++;
  if (owners.some((n) => n > 1)) throw new Error("a bucket owned by two live members");
  if (new Set(sts.map((s) => s.master)).size !== 1) return { ok: false, why: `masters ${sts.map((s) => s.master)}` };
  if (new Set(sts.map((s) => s.map)).size !== 1) return { ok: false, why: `maps ${sts.map((s) => s.map)}` };
  const unowned = owners.filter((n) => n === 0).length;
  return { ok: unowned === 0, why: `${unowned} buckets unowned` };
}

test("5 member processes: SIGKILL a member, then the master: buckets reassigned within 1 s each time; sessions cross processes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-cluster-"));
  const keyFile = join(dir, "cluster.key");
  writeFileSync(keyFile, "9f".repeat(32) + "\n", { mode: 0o600 });
  const ports = await freePorts(5);
  // The HOST:PORT form: ids by position, the same list for every member.
  const peers = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const children = [1, 2, 3, 4, 5].map(
    (id) => new Child(id, fork(new URL("./channel-child.js", import.meta.url), [JSON.stringify({ nodeId: id, clusterId: 9, keyFile, peers })], { stdio: ["ignore", "inherit", "inherit", "ipc"] })),
  );
  try {
    await Promise.all(children.map((c) => c.ready));
    const formed = await waitForAsync(() => converged(children), 5000, 10);
    const [c1, c2, c3, c4, c5] = children as [Child, Child, Child, Child, Child];
    assert.equal((await c2.ask<ChildStatus>({ cmd: "status" })).master, 1);

    await c3.ask({ cmd: "put", idByte: 0x33 });
    const spread = await waitForAsync(async () => (await Promise.all([c1, c2, c4, c5].map((c) => c.ask<boolean>({ cmd: "has", idByte: 0x33 })))).every(Boolean), 1000, 2);

    c4.proc.kill("SIGKILL");
    const member = await waitForAsync(() => converged([c1, c2, c3, c5]), 3000, 10);
    // The master: detection, then a new master that waits deadAfterMs before it plans (docs §5.2).
    c1.proc.kill("SIGKILL");
    const master = await waitForAsync(() => converged([c2, c3, c5]), 3000, 10);
    assert.equal((await c3.ask<ChildStatus>({ cmd: "status" })).master, 2);
    assert.ok(await c5.ask<boolean>({ cmd: "has", idByte: 0x33 }));
    console.log(
      `# 5 processes (timers 100/400): formed in ${formed.toFixed(0)} ms; session on 4 peers in ${spread.toFixed(0)} ms; ` +
        `SIGKILL member → reassigned in ${member.toFixed(0)} ms; SIGKILL master → ${master.toFixed(0)} ms`,
    );
    assert.ok(member < 1000, `member death: ${member.toFixed(0)} ms`);
    assert.ok(master < 1000, `master death: ${master.toFixed(0)} ms`);
  } finally {
    for (const c of children) c.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
