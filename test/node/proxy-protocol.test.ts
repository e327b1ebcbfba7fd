// PROXY protocol v1/v2 towards the backend: a backend that parses both
// versions (its own parser, written from proxy-protocol.txt, not the
// daemon's encoder) checks the client's addresses over IPv4 and IPv6, and
// that the header comes exactly once per connection, first — also when the
// owning shard dies during the handshake or mid-download (the restored relay
// asks to connect again; its offsets do not count the header).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { proxyHeader } from "../../src/node/proxy-protocol.js";
import { parseStartConfig, StartConfigError } from "../../src/node/config.js";
import { bodyBlocks, bodySha, startDaemon } from "./helpers.js";

interface Seen {
  version: 1 | 2;
  family: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

const SIG = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

/** Parses one header at the start of `b`; null: need more bytes. Throws on a malformed header. */
function parseHeader(b: Buffer): { seen: Seen; length: number } | null {
  if (b.length >= 5 && b.subarray(0, 5).toString("latin1") === "PROXY") {
    const end = b.indexOf("\r\n");
    if (end < 0) {
      if (b.length > 107) throw new Error("v1 line longer than 107 bytes");
      return null;
    }
    const f = b.subarray(0, end).toString("latin1").split(" ");
    if (f.length !== 6 || (f[1] !== "TCP4" && f[1] !== "TCP6")) throw new Error(`bad v1 line ${JSON.stringify(f)}`);
    return { seen: { version: 1, family: f[1], src: f[2]!, dst: f[3]!, srcPort: Number(f[4]), dstPort: Number(f[5]) }, length: end + 2 };
  }
  if (b.length < 16) return null;
  if (!b.subarray(0, 12).equals(SIG)) throw new Error("no PROXY header");
  if (b[12] !== 0x21) throw new Error(`version/command 0x${b[12]!.toString(16)}`);
  const len = b.readUInt16BE(14);
  if (b.length < 16 + len) return null;
  const a = b.subarray(16, 16 + len);
  if (b[13] === 0x11 && len >= 12) {
    const ip = (o: number) => [...a.subarray(o, o + 4)].join(".");
    return { seen: { version: 2, family: "TCP4", src: ip(0), dst: ip(4), srcPort: a.readUInt16BE(8), dstPort: a.readUInt16BE(10) }, length: 16 + len };
  }
  if (b[13] === 0x21 && len >= 36) {
    const ip = (o: number) => Array.from({ length: 8 }, (_, i) => a.readUInt16BE(o + 2 * i).toString(16)).join(":");
    return { seen: { version: 2, family: "TCP6", src: ip(0), dst: ip(16), srcPort: a.readUInt16BE(32), dstPort: a.readUInt16BE(34) }, length: 16 + len };
  }
  throw new Error(`family 0x${b[13]!.toString(16)} length ${len}`);
}

interface ProxyBackend {
  readonly port: number;
  /** One entry per backend connection: its header, and the first bytes after it. */
  readonly conns: { seen: Seen | null; error?: string; after: string }[];
  close(): Promise<void>;
}

/** After the header: "bytes N\n" → N deterministic bytes then EOF; anything else is echoed. */
async function proxyBackend(): Promise<ProxyBackend> {
  const conns: ProxyBackend["conns"] = [];
  const server: Server = createServer((s) => {
    const rec: ProxyBackend["conns"][number] = { seen: null, after: "" };
    conns.push(rec);
    let buf = Buffer.alloc(0);
    let mode: "header" | "first" | "echo" = "header";
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      if (mode === "echo") return void s.write(d);
      buf = Buffer.concat([buf, d]);
      if (mode === "header") {
        let h;
        try {
          h = parseHeader(buf);
        } catch (e) {
          rec.error = (e as Error).message;
          return void s.destroy();
        }
        if (!h) return;
        rec.seen = h.seen;
        buf = buf.subarray(h.length);
        mode = "first";
      }
      if (buf.length === 0) return;
      rec.after = buf.subarray(0, 64).toString("latin1");
      const m = /^bytes (\d+)\n/.exec(rec.after);
      if (m) {
        const it = bodyBlocks(Number(m[1]));
        const pump = () => {
          for (;;) {
            const b = it.next();
            if (b.done) return void s.end();
            if (!s.write(b.value)) return void s.once("drain", pump);
          }
        };
        mode = "echo";
        return pump();
      }
      mode = "echo";
      s.write(buf);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, conns, close: () => new Promise((r) => server.close(() => r())) };
}

function tlsOpen(host: string, port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, rejectUnauthorized: false }, () => resolve(s));
    s.on("error", reject);
  });
}

function echo(s: TLSSocket, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = "";
    const t = setTimeout(() => reject(new Error(`no echo of ${line}`)), 10_000);
    const on = (d: Buffer) => {
      got += d.toString();
      if (got.includes(line)) {
        clearTimeout(t);
        s.off("data", on);
        resolve();
      }
    };
    s.on("data", on);
    s.write(line);
  });
}

const expand6 = (a: string) => (a === "::1" ? "0:0:0:0:0:0:0:1" : a);

test("PROXY protocol encoder: v1 and v2 bytes for IPv4, IPv6 and mapped addresses", () => {
  assert.equal(proxyHeader("v1", { address: "192.0.2.1", port: 56324 }, { address: "198.51.100.2", port: 443 }).toString(), "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  assert.equal(proxyHeader("v1", { address: "::ffff:192.0.2.1", port: 1 }, { address: "::ffff:10.0.0.1", port: 2 }).toString(), "PROXY TCP4 192.0.2.1 10.0.0.1 1 2\r\n");
  assert.equal(proxyHeader("v1", { address: "2001:db8::1", port: 1 }, { address: "::1", port: 2 }).toString(), "PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
  assert.equal(proxyHeader("v1", { address: "10.0.0.1", port: 1 }, { address: "::1", port: 2 }).toString(), "PROXY UNKNOWN\r\n");
  assert.equal(proxyHeader("v2", { address: "192.0.2.1", port: 56324 }, { address: "198.51.100.2", port: 443 }).toString("hex"),
    "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "c0000201" + "c6336402" + "dc04" + "01bb");
  assert.equal(proxyHeader("v2", { address: "2001:db8::ffff:1.2.3.4", port: 1 }, { address: "::1", port: 2 }).toString("hex"),
    "0d0a0d0a000d0a515549540a" + "21" + "21" + "0024" + "20010db8000000000000ffff01020304" + "00000000000000000000000000000001" + "0001" + "0002");
  assert.equal(proxyHeader("v2", { address: "10.0.0.1", port: 1 }, { address: "::1", port: 2 }).toString("hex"), "0d0a0d0a000d0a515549540a" + "21" + "00" + "0000");
  const c = parseStartConfig({ proxyProtocol: "v2" }, { proxyProtocol: "v1" }, "f.json");
  assert.equal(c.proxyProtocol, "v2");
  assert.equal(parseStartConfig({}, {}).proxyProtocol, "off");
  assert.throws(() => parseStartConfig({}, { proxyProtocol: "v3" }, "f.json"), (e: unknown) => e instanceof StartConfigError && e.field === "f.json: proxyProtocol");
  assert.throws(() => parseStartConfig({ proxyProtocol: "yes" }, {}), /--proxy-protocol: expected one of off, v1, v2/);
});

for (const version of ["v1", "v2"] as const) {
  for (const host of ["127.0.0.1", "::1"]) {
    test(`PROXY protocol ${version}: the backend gets the client's addresses first (${host})`, async () => {
      const backend = await proxyBackend();
      const { daemon, port } = await startDaemon(backend.port, { proxyProtocol: version, listen: { address: host, port: 0 } });
      try {
        const s = await tlsOpen(host, port);
        await echo(s, "hello backend\n");
        const [rec] = backend.conns;
        assert.equal(backend.conns.length, 1);
        assert.equal(rec!.error, undefined);
        assert.deepEqual(rec!.seen, {
          version: version === "v1" ? 1 : 2, family: host === "::1" ? "TCP6" : "TCP4",
          src: version === "v2" ? expand6(s.localAddress!) : s.localAddress, srcPort: s.localPort,
          dst: version === "v2" ? expand6(host) : host, dstPort: port,
        });
        assert.equal(rec!.after, "hello backend\n", "the relayed stream starts right after the header");
        s.destroy();
      } finally {
        await daemon.stop();
        await backend.close();
      }
    });
  }
}

test("PROXY protocol: one header per connection across shard kills (handshake and mid-download)", async () => {
  const backend = await proxyBackend();
  const { daemon, port } = await startDaemon(backend.port, { proxyProtocol: "v2" });
  try {
    // (a) The owning shard dies after storing its last handshake checkpoint: the backend is connected, the restored relay asks again.
    daemon.armShards("server-finished", "exit", "after-post");
    const restarted = new Promise((r) => daemon.once("shard-restarted", r));
    const s1 = await tlsOpen("127.0.0.1", port);
    await restarted;
    await echo(s1, "after a handshake kill\n");
    s1.destroy();
    // (b) Mid-download: 8 MiB, the owner terminated after the first MiB.
    const total = 8 << 20;
    const s2 = await tlsOpen("127.0.0.1", port);
    const h = createHash("sha256");
    let got = 0;
    let killed = false;
    const done = new Promise<void>((resolve, reject) => {
      s2.on("data", (d: Buffer) => {
        h.update(d);
        got += d.length;
        if (!killed && got > 1 << 20) {
          killed = true;
          daemon.killShard(daemon.shardOf([...daemonConns(daemon)].at(-1)!)!, "terminate");
        }
      });
      s2.on("end", () => resolve());
      s2.on("error", reject);
    });
    s2.write(`bytes ${total}\n`);
    await done;
    assert.ok(killed);
    assert.equal(got, total);
    assert.equal(h.digest("hex"), bodySha(total));
    assert.ok(daemon.counters.shardRestarts >= 2, `restarts ${daemon.counters.shardRestarts}`);
    assert.equal(backend.conns.length, 2, "one backend connection per client connection");
    for (const rec of backend.conns) {
      assert.equal(rec.error, undefined);
      assert.equal(rec.seen?.src, "127.0.0.1");
      // A second header would show up here, at the start of the relayed stream.
      assert.match(rec.after, /^(after a handshake kill\n|bytes \d+\n)$/);
    }
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

/** Connection ids in the daemon, in accept order. */
function daemonConns(daemon: { status(): { connections: { id: number }[] } }): number[] {
  return daemon.status().connections.map((c) => c.id);
}
