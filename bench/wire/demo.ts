// `npm run demo:ctcp [-- --nodes N] [--recovery eager|selective|selective-probe]`:
// a local clustered-TCP cluster to try by hand — a wire (scripts/ctcp-wire.sh:
// a hub-mode bridge, one TAP per node, client and backend namespaces), the
// fixture HTTP backend in its namespace and N `sslacc start --transport ctcp`
// processes; prints how to reach the VIP from the client namespace, each
// node's pid and /status, and how to kill one. Ctrl-C removes everything.
// Needs root, /dev/net/tun, socat, ip (docs/ctcp.md "The real wire").
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { wireMissing } from "./netns.js";
import { startCtcpCluster } from "./ctcp-cluster.js";

const { values } = parseArgs({ options: { nodes: { type: "string", default: "3" }, recovery: { type: "string", default: "eager" } } });
const n = Number(values.nodes);
if (!(Number.isInteger(n) && n >= 1 && n <= 8)) {
  console.error(`--nodes: 1-8, got ${JSON.stringify(values.nodes)}`);
  process.exit(2);
}
const recovery = values.recovery;
if (recovery !== "eager" && recovery !== "selective" && recovery !== "selective-probe") {
  console.error(`--recovery: eager, selective or selective-probe, got ${JSON.stringify(recovery)}`);
  process.exit(2);
}
const why = wireMissing(["socat", "ip"]);
if (why !== null) {
  console.error(`demo:ctcp cannot run: ${why}`);
  process.exit(1);
}
console.log(`starting ${n} clustered-TCP node${n > 1 ? "s" : ""} (${recovery} recovery) ...`);
const c = await startCtcpCluster(n, { recovery });
const ns = c.wire.clientNs;
console.log(`
VIP ${c.wire.vip}:443 on bridge ${c.wire.bridge}; backend ${c.wire.backendIp}:8080 in ${c.wire.backendNs}

try it from the client namespace:
  ip netns exec ${ns} curl -k https://${c.wire.vip}/
  ip netns exec ${ns} curl -k https://${c.wire.vip}/bytes/67108864 -o /dev/null    # 64 MiB; kill a node meanwhile
  ip netns exec ${ns} openssl s_client -connect ${c.wire.vip}:443 -quiet

the nodes:`);
for (const p of c.nodes) console.log(`  node ${p.id}: pid ${p.child?.pid}, status http://127.0.0.1:${p.admin}/status, kill -9 ${p.child?.pid}`);
console.log(`
a killed node is not restarted here (its connections live on in the others); Ctrl-C stops everything and removes the wire.`);

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    stopping = true;
    console.log("\nstopping the nodes and removing the wire ...");
    void c.stop().finally(() => process.exit(0));
  });
}
while (!stopping) await sleep(1000);
