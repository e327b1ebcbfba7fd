// The embedded demo backend of `npm start`: a small HTTP responder on
// loopback so that the daemon can be tried without any other server.
import { createServer, type Server } from "node:http";
import { listenHttp, type ListeningHttp } from "./http-listen.js";

export async function startDemoBackend(address = "127.0.0.1", port = 0): Promise<ListeningHttp> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    const body = [
      "hello from the sslacc demo backend",
      `request ${n}: ${req.method} ${req.url}`,
      `relayed from ${req.socket.remoteAddress}:${req.socket.remotePort} (the source port keeps the client's bucket, SSLACC §4.5)`,
      "",
    ].join("\n");
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  return listenHttp(server, address, port);
}
