// The client of bench:failover's recovery runs, run in the client namespace
// (`ip netns exec NS node vip-client.js ...`): one HTTPS transfer through the
// VIP with Node's `tls`, and a CLOCK_MONOTONIC timestamp
// (`process.hrtime.bigint()`) for every step of progress the client itself
// can see — each chunk of the response read (download), or each chunk of
// the request body the kernel took off our hands (upload: the write callback
// fires when the socket's send buffer had room, i.e. after the peer's ACKs
// freed it). On stdout: "P <bytes>" every PROGRESS_STEP bytes (so the bench
// can kill mid-transfer), then one JSON line (Report) when the transfer ends.
//
// Why here and not on the hub: a capture in the bench's process stamps a
// frame when that process reads it, which under load is tens of ms late, and
// frames the dead node sent are still drained by its socat after the kill.
// The client's read is the event the issue names ("the first byte after
// takeover"). The bench compares these times with the kill's
// `process.hrtime.bigint()`: on Linux that is clock_gettime(CLOCK_MONOTONIC),
// one clock for every process on the machine (network namespaces do not
// virtualise clocks; `ip netns exec` makes no time namespace).
//
// argv: host down|up bytes maxMs
import { connect } from "node:tls";
import { createHash } from "node:crypto";
import { bodySha } from "../body.js";

const [host = "", direction = "", sizeArg = "", maxArg = "60000"] = process.argv.slice(2);
const bytes = Number(sizeArg);
if (!host || (direction !== "down" && direction !== "up") || !Number.isSafeInteger(bytes) || bytes < 0) {
  console.error("usage: vip-client.js HOST down|up BYTES [MAX_MS]");
  process.exit(2);
}

/** Upload chunk: small enough that the write callbacks trace the ACK clock closely. */
const UP_CHUNK = 16 << 10;

interface Report {
  readonly direction: string;
  readonly ok: boolean;
  readonly error: string | null;
  /** hrtime (ns, as a decimal string: beyond 2^53) when this process started the connect. */
  readonly startNs: string;
  /** Progress events: [ns since startNs, cumulative bytes]. */
  readonly events: [number, number][];
  /** Body bytes received (down) or taken by the kernel (up). */
  readonly moved: number;
}

const startNs = process.hrtime.bigint();
const events: [number, number][] = [];
/** A progress line every this many bytes. */
const PROGRESS_STEP = 128 << 10;
let nextProgress = PROGRESS_STEP;
const mark = (n: number) => {
  events.push([Number(process.hrtime.bigint() - startNs), n]);
  if (n < nextProgress) return;
  nextProgress = n + PROGRESS_STEP;
  process.stdout.write(`P ${n}\n`);
};
let done = false;
const finish = (error: string | null) => {
  if (done) return;
  done = true;
  const r: Report = { direction, ok: error === null, error, startNs: startNs.toString(), events, moved: events.at(-1)?.[1] ?? 0 };
  process.stdout.write(JSON.stringify(r) + "\n", () => process.exit(0));
};
setTimeout(() => finish(`timed out after ${maxArg} ms`), Number(maxArg)).unref();

const sock = connect({ host, port: 443, rejectUnauthorized: false, servername: "localhost" });
sock.on("error", (e) => finish(`socket: ${e.message}`));
let head = "";
let headerDone = false;
let body = 0;
let answer = "";
const sha = createHash("sha256");

sock.on("secureConnect", () => {
  if (direction === "down") {
    sock.write(`GET /bytes/${bytes} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    return;
  }
  sock.write(`POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`);
  const zero = Buffer.alloc(UP_CHUNK);
  let sent = 0;
  const next = () => {
    if (sent >= bytes) return;
    const n = Math.min(UP_CHUNK, bytes - sent);
    sent += n;
    const taken = sent;
    sock.write(n === UP_CHUNK ? zero : zero.subarray(0, n), () => {
      mark(taken);
      next();
    });
  };
  next();
});

sock.on("data", (d: Buffer) => {
  if (!headerDone) {
    head += d.toString("latin1");
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    headerDone = true;
    const rest = Buffer.from(head.slice(end + 4), "latin1");
    if (!/^HTTP\/1\.1 200 /.test(head)) return finish(`HTTP status: ${head.slice(0, head.indexOf("\r\n"))}`);
    d = rest;
  }
  if (direction === "up") {
    answer += d.toString();
    return;
  }
  body += d.length;
  sha.update(d);
  if (d.length > 0) mark(body);
});

sock.on("end", () => {
  if (direction === "down") {
    if (body !== bytes) return finish(`got ${body} of ${bytes} bytes`);
    return finish(sha.digest("hex") === bodySha(bytes) ? null : "body SHA-256 mismatch");
  }
  const want = `${createHash("sha256").update(Buffer.alloc(bytes)).digest("hex")} ${bytes}`;
  finish(answer.trim() === want ? null : `upload answer ${JSON.stringify(answer.slice(0, 80))}`);
});
