// Real-socket cluster helpers for the channel tests: free loopback ports,
// N members in this process, polling for convergence. Timers are short
// (keepalive 20 ms, dead after 120 ms) so a test file stays within seconds.
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { startClusterNode, type ClusterNodeConfig, type RunningClusterNode } from "../../src/cluster/run-node.js";
import type { PeerAddress } from "../../src/cluster/channel.js";
import type { ClusterEvent } from "../../src/cluster/cluster-node.js";
import { BUCKETS } from "../../src/cluster/messages.js";
import { KEY } from "./sim.js";

export const FAST = { keepaliveMs: 20, deadAfterMs: 120 } as const;
export const CLUSTER_ID = 7;

/** Ports the kernel hands out for port 0, released again: free for the next instant (good enough on loopback). */
export async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((res) => {
      const s = createSocket("udp4");
      s.bind(0, "127.0.0.1", () => res(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((res) => s.close(() => res()))));
  return ports;
}

export interface Member {
  readonly id: number;
  readonly run: RunningClusterNode;
  readonly events: ClusterEvent[];
  alive: boolean;
}

export class LocalCluster {
  readonly members = new Map<number, Member>();
  constructor(readonly peers: PeerAddress[]) {}

  static async start(ids: readonly number[], extra: Partial<ClusterNodeConfig> = {}, peerOverride?: (p: PeerAddress[], id: number) => PeerAddress[]): Promise<LocalCluster> {
    const ports = await freePorts(ids.length);
    const peers = ids.map((id, i) => ({ id, host: "127.0.0.1", port: ports[i]! }));
    const c = new LocalCluster(peers);
    await Promise.all(ids.map((id) => c.startMember(id, extra, peerOverride?.(peers, id) ?? peers)));
    return c;
  }

  async startMember(id: number, extra: Partial<ClusterNodeConfig> = {}, peers = this.peers): Promise<Member> {
    const events: ClusterEvent[] = [];
    const run = await startClusterNode({
      nodeId: id,
      clusterId: CLUSTER_ID,
      key: KEY,
      peers,
      port: this.peers.find((p) => p.id === id)!.port,
      ...extra,
      core: { ...FAST, ...extra.core },
      channel: { ...extra.channel, onEvents: (e) => events.push(...e) },
    });
    const m: Member = { id, run, events, alive: true };
    this.members.set(id, m);
    return m;
  }

  get(id: number): Member {
    return this.members.get(id)!;
  }

  live(): Member[] {
    return [...this.members.values()].filter((m) => m.alive);
  }

  /** A crash: the member falls silent (no LEAVE), its sockets close. */
  async kill(id: number): Promise<void> {
    const m = this.get(id);
    m.alive = false;
    await m.run.close({ leave: false });
  }

  async close(): Promise<void> {
    await Promise.all(this.live().map((m) => m.run.close()));
    for (const m of this.members.values()) m.alive = false;
  }

  /** Every live member: same master and map; every bucket acted for by exactly one of them. */
  converged(): { ok: boolean; why: string } {
    const live = this.live();
    const owners = new Int32Array(BUCKETS).fill(0);
    const first = live[0]!.run;
    const master = first.node.master(first.channel.now());
    for (const m of live) {
      const { node, channel } = m.run;
      const now = channel.now();
      if (node.master(now) !== master) return { ok: false, why: `member ${m.id} names master ${node.master(now)}, member ${live[0]!.id} names ${master}` };
      if (node.map.version !== first.node.map.version || node.map.issuer !== first.node.map.issuer) return { ok: false, why: `member ${m.id} map v${node.map.version}/${node.map.issuer}` };
      for (const b of node.ownedBuckets(now)) owners[b]!++;
    }
    const unowned = owners.filter((n) => n === 0).length;
    const doubled = owners.filter((n) => n > 1).length;
    if (doubled > 0) throw new Error(`${doubled} buckets owned by two live members`);
    return unowned === 0 ? { ok: true, why: "" } : { ok: false, why: `${unowned} buckets unowned` };
  }

  /** Polls `converged` every 5 ms; returns how long it took (ms). */
  async waitConverged(timeoutMs: number): Promise<number> {
    return waitFor(() => this.converged(), timeoutMs);
  }
}

export async function waitFor(check: () => { ok: boolean; why: string } | boolean, timeoutMs: number, stepMs = 5): Promise<number> {
  const t0 = performance.now();
  let why = "";
  for (;;) {
    const r = check();
    const ok = typeof r === "boolean" ? r : r.ok;
    if (ok) return performance.now() - t0;
    if (typeof r !== "boolean") why = r.why;
    if (performance.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${why}`);
    await sleep(stepMs);
  }
}

export async function waitForAsync(check: () => Promise<{ ok: boolean; why: string } | boolean>, timeoutMs: number, stepMs = 5): Promise<number> {
  const t0 = performance.now();
  let why = "";
  for (;;) {
    const r = await check();
    const ok = typeof r === "boolean" ? r : r.ok;
    if (ok) return performance.now() - t0;
    if (typeof r !== "boolean") why = r.why;
    if (performance.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${why}`);
    await sleep(stepMs);
  }
}
