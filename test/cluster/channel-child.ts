// One cluster member in its own process, for channel-process.test.ts: started
// from a JSON config in argv[2] (key from a file, as the daemon will), it
// answers status and session requests from the parent over the IPC channel.
// The parent ends it with SIGKILL, like a crash.
import { startClusterNode, type ClusterNodeConfig } from "../../src/cluster/run-node.js";
import type { SessionData } from "../../src/tls/session-cache.js";

export type ChildCommand =
  | { readonly cmd: "status" }
  | { readonly cmd: "put"; readonly idByte: number }
  | { readonly cmd: "has"; readonly idByte: number };
export type ChildRequest = ChildCommand & { readonly req: number };

export interface ChildStatus {
  readonly id: number;
  readonly master: number;
  readonly map: string;
  readonly owned: number[];
  readonly drops: number;
}

const cfg = JSON.parse(process.argv[2]!) as ClusterNodeConfig;
const run = await startClusterNode(cfg);
const { node, channel } = run;

const session = (idByte: number): SessionData => ({
  id: new Uint8Array(32).fill(idByte),
  version: 0x0303,
  cipherSuite: 0x002f,
  masterSecret: new Uint8Array(48).fill(idByte),
  extendedMasterSecret: true,
  serverName: null,
  createdAt: channel.now(),
});

process.on("message", (m: ChildRequest) => {
  const now = channel.now();
  switch (m.cmd) {
    case "status": {
      const st: ChildStatus = {
        id: node.nodeId,
        master: node.master(now),
        map: `${node.map.version}/${node.map.issuer}`,
        owned: [...node.ownedBuckets(now)],
        drops: Object.values(node.drops).reduce((a, b) => a + b, 0),
      };
      process.send!({ req: m.req, value: st });
      return;
    }
    case "put":
      channel.sessions.put(session(m.idByte));
      process.send!({ req: m.req, value: true });
      return;
    case "has":
      process.send!({ req: m.req, value: channel.sessions.get(session(m.idByte).id) !== undefined });
      return;
  }
});
// The cluster's timer is unref'd (the daemon's servers hold the process); here the IPC channel does.
process.send!({ req: 0, value: "ready" });
