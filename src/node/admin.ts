// The local admin endpoint: `GET /status` answers the daemon's status as
// JSON for `sslacc status`; `GET /metrics` the Prometheus text format
// (src/node/metrics.ts). Loopback only by default.
import { createServer, type Server } from "node:http";
import type { Endpoint } from "./buckets.js";
import type { Daemon } from "./daemon.js";
import type { Metrics } from "./metrics.js";
import { listenHttp, type ListeningHttp } from "./http-listen.js";

export async function startAdmin(daemon: Daemon, at: Endpoint, metrics?: Metrics): Promise<ListeningHttp> {
  metrics?.bind(daemon);
  return startStatusAdmin(() => daemon.status(), at, metrics);
}

/** `GET /status` from any status source, `GET /metrics` from its registry (the ctcp daemon: createCtcpMetrics). */
export async function startStatusAdmin(status: () => unknown, at: Endpoint, metrics?: Pick<Metrics, "registry">): Promise<ListeningHttp> {
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/status") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(status()));
      return;
    }
    if (req.method === "GET" && req.url === "/metrics" && metrics) {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`metrics: ${e.message}\n`);
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(metrics ? "try GET /status or GET /metrics\n" : "try GET /status\n");
  });
  return listenHttp(server, at.address, at.port);
}
