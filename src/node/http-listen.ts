// The small HTTP servers of the main thread (admin endpoint, demo backend):
// listen, report where, and close without waiting for keep-alive clients.
import type { Server } from "node:http";
import type { Endpoint } from "./buckets.js";

export interface ListeningHttp {
  readonly endpoint: Endpoint;
  close(): Promise<void>;
}

export async function listenHttp(server: Server, address: string, port: number): Promise<ListeningHttp> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  const a = server.address() as { address: string; port: number };
  return {
    endpoint: { address: a.address, port: a.port },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
