// Certificate reload (SIGHUP): new connections get the new certificate,
// established ones keep working — also after their shard dies and they are
// restored under the certificate generation they began with; a bad file is
// logged and the current certificates stay; the old generation's RSA pool
// and shard configuration are retired when no connection needs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { selfSignedCertificate } from "../../src/cert.js";
import { CertificateError } from "../../src/node/certificates.js";
import { startDaemon } from "./helpers.js";

const cli = new URL("../../src/cli.js", import.meta.url).pathname;
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

/** A TCP echo backend. */
async function echoBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** A TLS client kept open; `echo` sends a line and waits for it back. */
function open(port: number): Promise<{ s: TLSSocket; fingerprint: string; echo(line: string): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      let got = "";
      let waiting: { line: string; done: () => void } | null = null;
      s.on("data", (d: Buffer) => {
        got += d.toString();
        if (waiting && got.includes(waiting.line)) {
          const w = waiting;
          waiting = null;
          w.done();
        }
      });
      resolve({
        s, fingerprint: s.getPeerCertificate().fingerprint256,
        echo: (line) => new Promise<void>((done, fail) => {
          const t = setTimeout(() => fail(new Error(`no echo of ${line}`)), 10_000);
          waiting = { line, done: () => (clearTimeout(t), done()) };
          s.write(line);
        }),
      });
    });
    s.on("error", reject);
  });
}

test("reload: new connections see the new certificate, an established one keeps working across a shard kill", async () => {
  const a = selfSignedCertificate({ commonName: "localhost" });
  const b = selfSignedCertificate({ commonName: "localhost" });
  const backend = await echoBackend();
  const { daemon, port } = await startDaemon(backend.port, { certificates: [{ certPem: a.certPem, keyPem: a.keyPem }] });
  try {
    const c1 = await open(port);
    assert.equal(c1.fingerprint, fp(a.certPem));
    await c1.echo("before reload\n");
    // A bad set is refused whole, naming the field; nothing changes.
    assert.throws(() => daemon.reloadCertificates([{ certPem: b.certPem, keyPem: a.keyPem }]), (e: unknown) => e instanceof CertificateError && e.field === "certificates[0].key");
    assert.equal((await open(port).then((c) => (c.s.destroy(), c))).fingerprint, fp(a.certPem));
    const r = daemon.reloadCertificates([{ certPem: b.certPem, keyPem: b.keyPem }]);
    assert.equal(r.generation, 2);
    const c2 = await open(port);
    assert.equal(c2.fingerprint, fp(b.certPem), "a new connection sees the new certificate");
    await c2.echo("new connection\n");
    await c1.echo("after reload\n");
    assert.deepEqual(daemon.status().certificates.generationsInUse, [1, 2]);
    // c1 is restored under generation 1 (its shard gets that configuration at respawn).
    const owner = daemon.shardOf(1)!;
    const restarted = new Promise((r) => daemon.once("shard-restarted", r));
    daemon.killShard(owner, "terminate");
    await restarted;
    await c1.echo("after a shard kill\n");
    await c2.echo("c2 after a shard kill\n");
    assert.ok(daemon.counters.restoredConnections >= 1);
    c1.s.destroy();
    for (let i = 0; i < 100 && daemon.status().certificates.generationsInUse.length > 1; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(daemon.status().certificates.generationsInUse, [2], "generation 1 retired with its last connection");
    // And again: generation 3 while c2 (generation 2) stays open.
    daemon.reloadCertificates([{ certPem: a.certPem, keyPem: a.keyPem }]);
    assert.equal((await open(port).then((c) => (c.s.destroy(), c))).fingerprint, fp(a.certPem));
    await c2.echo("c2 after the second reload\n");
    c2.s.destroy();
    assert.equal(daemon.counters.certificateReloads, 2);
  } finally {
    await daemon.stop();
    await backend.close();
  }
});

test("sslacc start: SIGHUP re-reads the files; a bad file is logged and the old certificate kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-reload-"));
  const a = selfSignedCertificate({ commonName: "localhost" });
  const b = selfSignedCertificate({ commonName: "localhost" });
  writeFileSync(join(dir, "c.pem"), a.certPem);
  writeFileSync(join(dir, "k.pem"), a.keyPem);
  const backend = await echoBackend();
  const p = spawn(process.execPath, [cli, "start", "--listen", "127.0.0.1:0", "--admin", "off", "--backend", `127.0.0.1:${backend.port}`,
    "--cert", "c.pem", "--key", "k.pem", "--shards", "2", "--rsa-workers", "1"], { cwd: dir });
  let out = "";
  const waitFor = (re: RegExp, from: number) => new Promise<RegExpExecArray>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${re} in: ${out}`)), 15_000);
    const check = () => {
      const m = re.exec(out.slice(from));
      if (m) {
        clearTimeout(t);
        p.stdout.off("data", check);
        p.stderr.off("data", check);
        resolve(m);
      }
    };
    p.stdout.on("data", check);
    p.stderr.on("data", check);
    check();
  });
  p.stdout.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr.on("data", (d: Buffer) => (out += d.toString()));
  try {
    const port = Number((await waitFor(/try: curl -k https:\/\/127\.0\.0\.1:(\d+)\//, 0))[1]);
    const c1 = await open(port);
    assert.equal(c1.fingerprint, fp(a.certPem));
    await c1.echo("one\n");
    writeFileSync(join(dir, "c.pem"), b.certPem);
    writeFileSync(join(dir, "k.pem"), b.keyPem);
    let mark = out.length;
    p.kill("SIGHUP");
    await waitFor(/"msg":"certificates reloaded"/, mark);
    const c2 = await open(port);
    assert.equal(c2.fingerprint, fp(b.certPem), "new connection, new certificate");
    await c1.echo("two\n");
    // A half-written file (the cert replaced, the key not yet): refused, logged naming the flag.
    writeFileSync(join(dir, "c.pem"), a.certPem);
    mark = out.length;
    p.kill("SIGHUP");
    const m = await waitFor(/\{[^\n]*"msg":"certificate reload failed; keeping the current certificates"[^\n]*/, mark);
    assert.equal(JSON.parse(m[0]).field, "--key");
    writeFileSync(join(dir, "c.pem"), "garbage");
    mark = out.length;
    p.kill("SIGHUP");
    assert.equal(JSON.parse((await waitFor(/\{[^\n]*"msg":"certificate reload failed[^\n]*/, mark))[0]).field, "--cert");
    const c3 = await open(port);
    assert.equal(c3.fingerprint, fp(b.certPem), "the certificates in use stayed");
    await c1.echo("three\n");
    await c2.echo("four\n");
    for (const c of [c1, c2, c3]) c.s.destroy();
    assert.equal(p.exitCode, null, "still running");
  } finally {
    p.kill("SIGINT");
    await new Promise((r) => p.once("exit", r));
    await backend.close();
  }
});
