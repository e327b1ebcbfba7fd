// The cluster flags of `sslacc start` (docs/cluster-protocol.md §10.1 item 1):
// defaults, the config file's fields, and every bad value named by the flag
// or file field it came from — also the errors raised only when the member
// starts (key file, UDP port in use).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStartConfig, StartConfigError } from "../../src/node/config.js";

const cli = new URL("../../src/cli.js", import.meta.url).pathname;
const PEERS = "127.0.0.1:4401,127.0.0.1:4402,127.0.0.1:4403";

function fails(flags: Record<string, unknown>, file: unknown, re: RegExp): void {
  assert.throws(() => parseStartConfig(flags, file, "cfg.json"), (e: unknown) => e instanceof StartConfigError && re.test(e.message), `${JSON.stringify(flags)} ${JSON.stringify(file)} → ${re}`);
}

test("cluster config: none without --peers; defaults; flags; file fields", () => {
  assert.equal(parseStartConfig({}, undefined).cluster, null);
  const d = parseStartConfig({ peers: PEERS, nodeId: "2", clusterKey: "k" }, undefined).cluster!;
  assert.equal(d.nodeId, 2);
  assert.equal(d.clusterId, 1);
  assert.equal(d.port, null);
  assert.deepEqual(d.peers.map((p) => [p.id, p.port]), [[1, 4401], [2, 4402], [3, 4403]]);
  assert.deepEqual(d.replication, { kind: "all" });
  assert.equal(d.aggregation, true);
  assert.deepEqual([d.keepaliveMs, d.deadAfterMs, d.leaseMs], [100, 400, 250], "docs §5.3 defaults");
  const f = parseStartConfig({}, {
    peers: "7@127.0.0.1:5001,9@127.0.0.1:5002,11@127.0.0.1:5003", nodeId: 9, clusterKey: "/k", clusterId: 77, clusterPort: 6000,
    replication: "k=1", clusterAggregation: "off", clusterKeepalive: "20ms", clusterDeadAfter: "120ms",
  }, "cfg.json").cluster!;
  assert.deepEqual([f.nodeId, f.clusterId, f.port, f.keyFile, f.aggregation], [9, 77, 6000, "/k", false]);
  assert.deepEqual(f.replication, { kind: "k", k: 1 });
  assert.deepEqual([f.keepaliveMs, f.deadAfterMs, f.leaseMs], [20, 120, 70]);
  assert.ok(2 * f.keepaliveMs < f.leaseMs && f.leaseMs < f.deadAfterMs - f.keepaliveMs);
  assert.equal(f.fields["--replication"], "cfg.json: replication", "errors at start name the file field");
  // Flags win over the file.
  assert.equal(parseStartConfig({ nodeId: "3" }, { peers: PEERS, nodeId: 1, clusterKey: "k" }).cluster!.nodeId, 3);
});

test("cluster config: every bad value is named", () => {
  const ok = { peers: PEERS, nodeId: "1", clusterKey: "k" };
  fails({ nodeId: "1" }, undefined, /^--node-id: is a cluster setting and needs --peers/);
  fails({}, { clusterAggregation: "on" }, /^cfg\.json: clusterAggregation: is a cluster setting and needs --peers/);
  fails({ peers: PEERS, clusterKey: "k" }, undefined, /^--node-id: required with --peers/);
  fails({ peers: PEERS, nodeId: "1" }, undefined, /^--cluster-key: required with --peers/);
  fails({ ...ok, nodeId: "4" }, undefined, /^--node-id: 4 is not in --peers \(ids 1, 2, 3/);
  fails({ ...ok, nodeId: "0" }, undefined, /^--node-id: expected an integer from 1 to 65534/);
  fails({ ...ok, peers: "127.0.0.1:4401" }, undefined, /^--peers: names no member but this one/);
  fails({ ...ok, peers: "127.0.0.1" }, undefined, /^--peers: "127\.0\.0\.1" is not HOST:PORT/);
  fails({ ...ok, peers: "1@a:1,b:2" }, undefined, /^--peers: mix of ID@HOST:PORT and HOST:PORT/);
  fails({ ...ok, peers: "1@a:1,1@b:2" }, undefined, /^--peers: member id 1 listed twice/);
  fails({ ...ok, peers: "a:1,b:99999" }, undefined, /^--peers: b:99999: port "99999" is not 1\.\.65535/);
  fails({ ...ok, clusterId: "-1" }, undefined, /^--cluster-id: expected an integer from 0 to 4294967295/);
  fails({ ...ok, clusterPort: "0" }, undefined, /^--cluster-port: expected an integer from 1 to 65535/);
  fails({ ...ok, replication: "some" }, undefined, /^--replication: "some": expected "all" or k=N/);
  fails({}, { ...ok, replication: "k=3" }, /^cfg\.json: replication: k=3 needs more than 3 members; 3 configured/);
  fails({ ...ok, clusterAggregation: "yes" }, undefined, /^--cluster-aggregation: expected on or off, got "yes"/);
  fails({ ...ok, clusterKeepalive: "1ms" }, undefined, /^--cluster-keepalive: expected a duration from 5 ms/);
  fails({ ...ok, clusterDeadAfter: "200ms" }, { clusterKeepalive: "100ms" }, /^--cluster-dead-after: dead-after \(200 ms\) must exceed 3 × keepalive \(100 ms\)/);
});

test("sslacc start --help lists the cluster flags; errors found at start name the field", async () => {
  const help = spawnSync(process.execPath, [cli, "start", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0, help.stderr);
  for (const flag of ["--peers", "--node-id", "--cluster-key", "--cluster-id", "--cluster-port", "--replication", "--cluster-aggregation", "--cluster-keepalive", "--cluster-dead-after"]) {
    assert.match(help.stdout, new RegExp(`${flag} `), flag);
  }
  const dir = mkdtempSync(join(tmpdir(), "sslacc-cluster-cfg-"));
  writeFileSync(join(dir, "short.key"), "abcd");
  writeFileSync(join(dir, "good.key"), "ab".repeat(32));
  const busy = createSocket("udp4");
  await new Promise<void>((r) => busy.bind(0, "127.0.0.1", () => r()));
  const busyPort = busy.address().port;
  const run = (args: string[]) => spawnSync(process.execPath, [cli, "start", "--listen", "127.0.0.1:0", "--admin", "off", "--shards", "1", "--rsa-workers", "1", ...args], { encoding: "utf8", cwd: dir, timeout: 20_000 });
  try {
    const cases: [string[], RegExp][] = [
      [["--peers", PEERS, "--node-id", "1", "--cluster-key", "short.key"], /sslacc: --cluster-key: short\.key holds 2 bytes of key material; at least 32/],
      [["--peers", PEERS, "--node-id", "1", "--cluster-key", "missing.key"], /sslacc: --cluster-key: cannot read missing\.key: ENOENT/],
      [["--peers", `127.0.0.1:${busyPort},127.0.0.1:4402`, "--node-id", "1", "--cluster-key", "good.key"], /sslacc: --cluster-port: cluster channel: cannot bind 127\.0\.0\.1:\d+/],
    ];
    for (const [args, re] of cases) {
      const r = run(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
    }
    writeFileSync(join(dir, "cfg.json"), JSON.stringify({ peers: PEERS, nodeId: 2, clusterKey: "short.key" }));
    const r = run(["--config", "cfg.json"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /sslacc: cfg\.json: clusterKey: short\.key holds 2 bytes/);
  } finally {
    busy.close();
  }
});
