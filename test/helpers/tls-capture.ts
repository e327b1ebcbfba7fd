// Real-traffic capture for record-layer interop tests.
//
// A Node `tls` server and a Node `tls` client (both OpenSSL) talk through a
// TCP relay in this process that sees every byte. The relay frames records
// (RFC 5246 §6.2.1), forwards handshake records untouched, and hands every
// record after a direction's ChangeCipherSpec to a test callback whose return
// value is forwarded instead — so a test can open OpenSSL's records and
// substitute records it sealed itself. The client's `keylog` line gives the
// master secret; the ServerHello gives the server random; keys come from the
// TLS PRF (RFC 5246 §5 / RFC 2246 §5) computed here on node:crypto HMAC.
import { constants, createHmac } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { selfSignedCertificate, type CertificateAndKey } from "../../src/cert.js";
import { HASH_LENGTH, TLS10, TLS12, type RecordVersion } from "../../src/crypto/types.js";
import { encKeyLength, type RecordCipher, type RecordMac, type RecordState } from "../../src/crypto/record.js";

export type Direction = "c2s" | "s2c";

export interface TlsRecord {
  readonly type: number;
  readonly version: number;
  readonly body: Buffer;
  /** Header and body as they came off the wire. */
  readonly raw: Buffer;
}

export interface SessionSecrets {
  readonly clientRandom: Buffer;
  readonly serverRandom: Buffer;
  readonly masterSecret: Buffer;
}

export interface Suite {
  readonly cipher: RecordCipher;
  readonly mac: RecordMac;
}

let cert: CertificateAndKey | undefined;
function testCert(): CertificateAndKey {
  cert ??= selfSignedCertificate({ commonName: "localhost", bits: 2048 });
  return cert;
}

// --- TLS PRF (RFC 5246 §5, RFC 2246 §5) on node:crypto ---------------------

function pHash(alg: "md5" | "sha1" | "sha256", secret: Buffer, seed: Buffer, len: number): Buffer {
  const out: Buffer[] = [];
  let a = seed;
  let n = 0;
  while (n < len) {
    a = createHmac(alg, secret).update(a).digest();
    const chunk = createHmac(alg, secret).update(a).update(seed).digest();
    out.push(chunk);
    n += chunk.length;
  }
  return Buffer.concat(out).subarray(0, len);
}

export function tlsPrf(version: RecordVersion, secret: Buffer, label: string, seed: Buffer, len: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, "latin1"), seed]);
  if (version === TLS12) return pHash("sha256", secret, labelSeed, len); // RFC 5246 §5 (non-SHA384 suites)
  // RFC 2246 §5: S1 and S2 are the halves of the secret, sharing a byte if odd.
  const half = Math.ceil(secret.length / 2);
  const md5 = pHash("md5", secret.subarray(0, half), labelSeed, len);
  const sha = pHash("sha1", secret.subarray(secret.length - half), labelSeed, len);
  for (let i = 0; i < len; i++) md5[i]! ^= sha[i]!;
  return md5;
}

/** RFC 5246 §6.3 key block → the two directions' initial record states. */
export function deriveRecordStates(version: RecordVersion, suite: Suite, s: SessionSecrets): Record<Direction, RecordState> {
  const macLen = HASH_LENGTH[suite.mac];
  const keyLen = encKeyLength(suite.cipher);
  // RFC 2246 §6.3: TLS 1.0 block ciphers also take their IVs from the key block.
  const ivLen = version === TLS10 && suite.cipher !== "rc4-128" && suite.cipher !== "null" ? 16 : 0;
  const kb = tlsPrf(version, s.masterSecret, "key expansion", Buffer.concat([s.serverRandom, s.clientRandom]),
    2 * (macLen + keyLen + ivLen));
  let p = 0;
  const take = (n: number) => { const b = kb.subarray(p, p + n); p += n; return new Uint8Array(b); };
  const cMac = take(macLen), sMac = take(macLen), cKey = take(keyLen), sKey = take(keyLen);
  const cIv = take(ivLen), sIv = take(ivLen);
  const mk = (encKey: Uint8Array, macKey: Uint8Array, iv: Uint8Array): RecordState => ({
    version, cipher: suite.cipher, mac: suite.mac, encKey, macKey, seq: 0n, ...(ivLen ? { cbcResidue: iv } : {}),
  });
  return { c2s: mk(cKey, cMac, cIv), s2c: mk(sKey, sMac, sIv) };
}

// --- The relay ------------------------------------------------------------

export interface InterceptOptions {
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  readonly ciphers: string;
  /** What the client application writes (then waits for the reply). */
  readonly clientData: Buffer;
  /** What the server application writes once it has read `serverExpects` bytes. */
  readonly serverData: Buffer;
  readonly serverExpects: number;
  readonly clientExpects: number;
  /**
   * Called for each record after the direction's ChangeCipherSpec, in order;
   * returns the bytes to forward in its place (the raw record to pass it on).
   */
  readonly onProtected: (dir: Direction, rec: TlsRecord, secrets: SessionSecrets) => Uint8Array;
}

export interface InterceptResult {
  readonly serverReceived: Buffer;
  readonly clientReceived: Buffer;
  readonly secrets: SessionSecrets;
  readonly negotiated: { protocol: string | null; cipher: string };
  readonly raw: Record<Direction, Buffer>;
}

function listen(server: Server | tls.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
}

/** NSS key log format: CLIENT_RANDOM <client random hex> <master secret hex>. */
export function parseKeyLog(text: string): { clientRandom: Buffer; masterSecret: Buffer } | undefined {
  const m = /^CLIENT_RANDOM ([0-9a-f]{64}) ([0-9a-f]{96})/im.exec(text);
  return m ? { clientRandom: Buffer.from(m[1]!, "hex"), masterSecret: Buffer.from(m[2]!, "hex") } : undefined;
}

export interface RecordRelay {
  readonly port: number;
  readonly raw: Record<Direction, Buffer[]>;
  serverRandom?: Buffer;
  /** The first exception of the callback (the connection is then torn down). */
  error?: unknown;
  close(): void;
}

/**
 * A TCP relay on 127.0.0.1 towards `upstreamPort` that frames records
 * (RFC 5246 §6.2.1) and passes each protected one through `onProtected`.
 * `keys()` supplies the client random and master secret (from a key log)
 * when the first protected record arrives.
 */
export async function startRecordRelay(
  upstreamPort: number,
  keys: () => { clientRandom: Buffer; masterSecret: Buffer } | undefined,
  onProtected: InterceptOptions["onProtected"],
): Promise<RecordRelay> {
  const sockets: Socket[] = [];
  const state: { raw: Record<Direction, Buffer[]>; serverRandom?: Buffer; error?: unknown } = { raw: { c2s: [], s2c: [] } };
  const server = createServer((down) => {
    const up = new Socket();
    sockets.push(down, up);
    up.connect(upstreamPort, "127.0.0.1");
    const pipeOne = (dir: Direction, from: Socket, to: Socket) => {
      let pending = Buffer.alloc(0);
      let protectedNow = false;
      from.on("data", (chunk: Buffer) => {
        state.raw[dir].push(chunk);
        pending = Buffer.concat([pending, chunk]);
        try {
          while (pending.length >= 5) {
            const len = pending.readUInt16BE(3);
            if (pending.length < 5 + len) break;
            const rec: TlsRecord = {
              type: pending[0]!, version: pending.readUInt16BE(1),
              body: Buffer.from(pending.subarray(5, 5 + len)), raw: Buffer.from(pending.subarray(0, 5 + len)),
            };
            pending = pending.subarray(5 + len);
            if (!protectedNow) {
              // RFC 5246 §7.4.1.3: ServerHello = type(1) len(3) version(2) random(32).
              if (dir === "s2c" && rec.type === 22 && !state.serverRandom && rec.body[0] === 2) {
                state.serverRandom = Buffer.from(rec.body.subarray(6, 38));
              }
              if (rec.type === 20) protectedNow = true; // ChangeCipherSpec
              to.write(rec.raw);
              continue;
            }
            const k = keys();
            if (!k || !state.serverRandom) throw new Error(`${dir}: keys unknown at first protected record`);
            to.write(onProtected(dir, rec, { ...k, serverRandom: state.serverRandom }));
          }
        } catch (e) {
          state.error ??= e;
          down.destroy();
          up.destroy();
        }
      });
      from.on("end", () => to.end());
      from.on("error", () => to.destroy());
    };
    pipeOne("c2s", down, up);
    pipeOne("s2c", up, down);
  });
  const port = await listen(server);
  return Object.assign(state, {
    port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  });
}

export async function interceptTlsSession(opts: InterceptOptions): Promise<InterceptResult> {
  const { certPem, keyPem } = testCert();
  // OpenSSL negotiates encrypt_then_mac (RFC 7366) by default; this test is
  // about RFC 5246 MAC-then-encrypt, so both peers turn it off.
  const secureOptions = constants.SSL_OP_NO_ENCRYPT_THEN_MAC;
  const common = { minVersion: opts.minVersion, maxVersion: opts.maxVersion, ciphers: opts.ciphers, secureOptions };

  let serverReceived = Buffer.alloc(0);
  const tlsServer = tls.createServer({ ...common, key: keyPem, cert: certPem }, (sock) => {
    const parts: Buffer[] = [];
    let n = 0;
    sock.on("data", (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= opts.serverExpects) {
        serverReceived = Buffer.concat(parts);
        sock.write(opts.serverData);
      }
    });
    sock.on("error", () => {});
  });
  const serverPort = await listen(tlsServer);
  let keyLog: { clientRandom: Buffer; masterSecret: Buffer } | undefined;
  const relay = await startRecordRelay(serverPort, () => keyLog, opts.onProtected);
  const relayPort = relay.port;
  const raw = relay.raw;

  try {
    const clientReceived = await new Promise<{ data: Buffer; protocol: string | null; cipher: string }>((resolve, reject) => {
      const c = tls.connect({ ...common, host: "127.0.0.1", port: relayPort, rejectUnauthorized: false });
      c.on("keylog", (line: Buffer) => { keyLog ??= parseKeyLog(line.toString("latin1")); });
      const parts: Buffer[] = [];
      let n = 0;
      c.on("secureConnect", () => c.write(opts.clientData));
      c.on("data", (d: Buffer) => {
        parts.push(d);
        n += d.length;
        if (n >= opts.clientExpects) {
          const cipher = c.getCipher().name;
          const protocol = c.getProtocol();
          c.end();
          resolve({ data: Buffer.concat(parts), protocol, cipher });
        }
      });
      c.on("error", (e) => reject(relay.error ?? e));
      c.on("close", () => reject(relay.error ?? new Error(`client closed after ${n} bytes`)));
      c.setTimeout(10_000, () => reject(relay.error ?? new Error("client timed out")));
    });
    // Let the close_notify records pass through the relay callback too.
    await new Promise((r) => setTimeout(r, 50));
    if (relay.error) throw relay.error;
    return {
      serverReceived,
      clientReceived: clientReceived.data,
      secrets: { ...keyLog!, serverRandom: relay.serverRandom! },
      negotiated: { protocol: clientReceived.protocol, cipher: clientReceived.cipher },
      raw: { c2s: Buffer.concat(raw.c2s), s2c: Buffer.concat(raw.s2c) },
    };
  } finally {
    relay.close();
    tlsServer.close();
  }
}

// --- GnuTLS on both ends (it still speaks RC4; this OpenSSL does not) -------

export interface GnutlsOptions {
  /** GnuTLS priority string for both peers. */
  readonly priority: string;
  /** Lines the client sends; gnutls-serv --echo returns each one. */
  readonly lines: readonly string[];
  /** Stop once the client printed this (the echo of the last line, as transformed). */
  readonly until: string;
  readonly onProtected: InterceptOptions["onProtected"];
}

export interface GnutlsResult {
  readonly clientOutput: string;
  readonly secrets: SessionSecrets;
}

function freePort(): Promise<number> {
  const s = createServer();
  return listen(s).then((port) => new Promise((resolve) => s.close(() => resolve(port))));
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = new Socket();
      c.once("connect", () => { c.destroy(); resolve(true); });
      c.once("error", () => resolve(false));
      c.connect(port, "127.0.0.1");
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`gnutls-serv did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** gnutls-cli → relay → gnutls-serv --echo; the client writes its key log to a file (SSLKEYLOGFILE). */
export async function interceptGnutlsSession(opts: GnutlsOptions): Promise<GnutlsResult> {
  const dir = mkdtempSync(join(tmpdir(), "sslacc-gnutls-"));
  const { certPem, keyPem } = testCert();
  writeFileSync(join(dir, "cert.pem"), certPem);
  writeFileSync(join(dir, "key.pem"), keyPem);
  const keyLogFile = join(dir, "keylog.txt");
  const children: ChildProcess[] = [];
  let relay: RecordRelay | undefined;
  try {
    const port = await freePort();
    // gnutls-serv binds every interface: it lives only as long as this test.
    const serv = spawn("gnutls-serv", ["--echo", "-p", String(port), "--priority", opts.priority,
      "--x509certfile", join(dir, "cert.pem"), "--x509keyfile", join(dir, "key.pem")], { stdio: "ignore" });
    children.push(serv);
    await waitForPort(port, 5000);
    let keys: ReturnType<typeof parseKeyLog>;
    relay = await startRecordRelay(port, () => (keys ??= existsSync(keyLogFile) ? parseKeyLog(readFileSync(keyLogFile, "latin1")) : undefined),
      opts.onProtected);
    const cli = spawn("gnutls-cli", ["--insecure", "--priority", opts.priority, "-p", String(relay.port), "127.0.0.1"],
      { env: { ...process.env, SSLKEYLOGFILE: keyLogFile }, stdio: ["pipe", "pipe", "pipe"] });
    children.push(cli);
    const r = relay;
    const clientOutput = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => reject(r.error ?? new Error(`gnutls-cli timed out; stderr: ${err}`)), 10_000);
      cli.stderr!.on("data", (d: Buffer) => { err += d.toString("latin1"); });
      cli.stdout!.on("data", (d: Buffer) => {
        out += d.toString("latin1");
        if (out.includes(opts.until)) {
          clearTimeout(timer);
          cli.stdin!.end();
          resolve(out);
        }
      });
      cli.on("exit", (code) => {
        clearTimeout(timer);
        reject(r.error ?? new Error(`gnutls-cli exited (${code}) early: ${err}`));
      });
      // gnutls-cli reads stdin only once the handshake is done; the pipe buffers meanwhile.
      for (const line of opts.lines) cli.stdin!.write(line + "\n");
    });
    await new Promise((res) => setTimeout(res, 50));
    if (r.error) throw r.error;
    return { clientOutput, secrets: { ...keys!, serverRandom: r.serverRandom! } };
  } finally {
    relay?.close();
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
