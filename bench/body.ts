// Deterministic HTTP body bytes, their SHA-256 without the bytes, and the
// routes that serve them: what the test and bench backends serve
// (test/node/helpers.ts startBackend, bench/wire/backend.mjs) and what a
// client's download is checked against.
import { createHash } from "node:crypto";
import type { IncomingMessage, RequestListener } from "node:http";
import type { Writable } from "node:stream";

/** 1 MiB of SHA-256 output, computed once. */
let base: Buffer | undefined;
function baseBytes(): Buffer {
  if (!base) {
    base = Buffer.alloc(1 << 20);
    for (let j = 0; j < base.length; j += 32) createHash("sha256").update(`base/${j}`).digest().copy(base, j);
  }
  return base;
}

/** Deterministic body bytes in 64 KiB blocks: a window of the base, shifted per block, stamped with the block number. */
export function* bodyBlocks(total: number): Generator<Buffer> {
  const b = baseBytes();
  for (let at = 0, i = 0; at < total; i++) {
    const n = Math.min(65536, total - at);
    const start = (i * 4099) % (b.length - 65536);
    const block = Buffer.from(b.subarray(start, start + n));
    if (n >= 8) block.writeUInt32BE(i, 0);
    at += n;
    yield block;
  }
}

export function bodySha(total: number): string {
  const h = createHash("sha256");
  for (const b of bodyBlocks(total)) h.update(b);
  return h.digest("hex");
}

/** Writes `blocks` to `w` as fast as it takes them (waiting for "drain" when full), then ends it. */
export function writeAll(w: Pick<Writable, "write" | "end" | "once">, blocks: Iterable<Buffer>): void {
  const it = blocks[Symbol.iterator]();
  const pump = (): void => {
    for (;;) {
      const b = it.next();
      if (b.done) return void w.end();
      if (!w.write(b.value)) return void w.once("drain", pump);
    }
  };
  pump();
}

/**
 * The backends' routes (test/node/helpers.ts startBackend on loopback, and
 * bench/wire/backend.mjs in the real wire's backend namespace):
 * GET /            → "hello <id>" (with `showPeer`: "hello <id> from <addr>:<port>", who connected)
 * GET /bytes/N     → N deterministic bytes (bodyBlocks)
 * POST /upload     → hex SHA-256 of the body and its length
 * `onRequest` sees each request first, with its x-req-id ("none" without one).
 */
export function backendRoutes(onRequest: (id: string, req: IncomingMessage) => void, opts: { showPeer: boolean }): RequestListener {
  return (req, res) => {
    const id = String(req.headers["x-req-id"] ?? "none");
    onRequest(id, req);
    const url = req.url ?? "/";
    if (req.method === "POST" && url === "/upload") {
      const h = createHash("sha256");
      let n = 0;
      req.on("data", (d: Buffer) => {
        h.update(d);
        n += d.length;
      });
      req.on("end", () => res.end(`${h.digest("hex")} ${n}`));
      return;
    }
    const m = /^\/bytes\/(\d+)$/.exec(url);
    if (m) {
      const total = Number(m[1]);
      res.writeHead(200, { "content-length": total, "content-type": "application/octet-stream" });
      writeAll(res, bodyBlocks(total));
      return;
    }
    res.end(opts.showPeer ? `hello ${id} from ${req.socket.remoteAddress}:${req.socket.remotePort}\n` : `hello ${id}\n`);
  };
}
