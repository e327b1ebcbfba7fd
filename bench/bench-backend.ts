// The benches' backend, a process of its own: each connection gets a fixed
// 100-byte HTTP/1.0 response after its first bytes and is closed, except
// "GET /bytes/N", which gets N bytes as fast as the connection takes them.
import { createServer } from "node:net";

const port = Number(process.argv[2]);
const body = "x".repeat(100 - "HTTP/1.0 200 OK\r\nContent-Length: 38\r\n\r\n".length);
const small = Buffer.from(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
if (small.length !== 100) throw new Error(`bench backend: reply is ${small.length} bytes, not 100`);
const block = Buffer.alloc(256 * 1024, 0x5a);

createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
  s.on("error", () => {});
  s.once("data", (d: Buffer) => {
    const m = /^GET \/bytes\/(\d+) /.exec(d.toString("latin1"));
    if (!m) return void s.end(small);
    let left = Number(m[1]);
    s.write(`HTTP/1.0 200 OK\r\nContent-Length: ${left}\r\n\r\n`);
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!s.write(n === block.length ? block : block.subarray(0, n))) return void s.once("drain", pump);
      }
      s.end();
    };
    pump();
  });
}).listen(port, "127.0.0.1", () => console.log("ready"));
