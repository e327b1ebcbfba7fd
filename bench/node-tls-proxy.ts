// The reference: the plainest Node TLS terminating proxy (tls.createServer
// piping each connection to a fresh backend socket), one process, one thread.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { createServer } from "node:tls";

const [certFile, keyFile, port, backendPort] = process.argv.slice(2);
createServer({ cert: readFileSync(certFile!), key: readFileSync(keyFile!), minVersion: "TLSv1", ciphers: "AES128-SHA:@SECLEVEL=0" }, (c) => {
  const b = connect({ host: "127.0.0.1", port: Number(backendPort), noDelay: true });
  c.on("error", () => b.destroy());
  b.on("error", () => c.destroy());
  c.pipe(b).pipe(c);
}).listen(Number(port), "127.0.0.1", () => console.log("ready"));
