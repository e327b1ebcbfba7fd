// The local admin endpoint: `GET /status` answers the daemon's status as
// JSON for `sslacc status`. Loopback only by default; Prometheus /metrics
// will live here too (later work).
import { createServer, type Server } from "node:http";
import type { Endpoint } from "./buckets.js";
import type { Daemon } from "./daemon.js";

export async function startAdmin(daemon: Daemon, at: Endpoint): Promise<{ endpoint: Endpoint; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/status") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(daemon.status()));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("try GET /status\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.address, () => resolve());
  });
  const a = server.address() as { address: string; port: number };
  return {
    endpoint: { address: a.address, port: a.port },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
