// A tiny TCP front end for the sans-I/O engine, for interop tests with real
// clients (Node/OpenSSL, openssl s_client, curl, gnutls-cli, NSS tstclnt).
//
// One loopback `net` server; per accepted socket one ServerConnection fed
// with `receive`, whose `transmit` outputs are written to the socket. Every
// checkpoint is acknowledged at once (a one-node "cluster"), RSA requests are
// served synchronously with the provider's rsaDecryptPremaster, and the
// application is an echo (each plaintext record is sent back as one record),
// a minimal HTTP/1.1 responder (for curl: one response, then close_notify)
// or nothing. Everything the client sent and every backend `send` is recorded
// in order, so a test can replay the connection into fresh engines.
import { createHash, X509Certificate } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { selfSignedCertificate, type CertificateAndKey } from "../../src/cert.js";
import { defaultProvider, type CryptoProvider } from "../../src/crypto/provider.js";
import { rsaKeyFromPem } from "../../src/crypto/rsa-key.js";
import type { RsaPrivateKey } from "../../src/crypto/types.js";
import type { Checkpoint } from "../../src/tls/checkpoint.js";
import { resolveConfig, type TlsServerConfig, type TlsServerConfigInput } from "../../src/tls/config.js";
import { ServerConnection, type EngineDeps, type EngineOutput } from "../../src/tls/server.js";
import { MemorySessionCache, type SessionCache } from "../../src/tls/session-cache.js";

export type HarnessEvent =
  | { readonly t: "recv"; readonly data: Buffer }
  | { readonly t: "send"; readonly data: Buffer }
  /** The application called close() (the HTTP responder after its response). */
  | { readonly t: "close" };

/** What the harness's backend does with the plaintext it receives. */
export type HarnessApp = "echo" | "http" | "none";

export interface ConnectionRecord {
  readonly conn: ServerConnection;
  readonly events: HarnessEvent[];
  readonly outputs: EngineOutput[];
  readonly checkpoints: Checkpoint[];
  readonly transmitted: Buffer[];
  /** Resolves when the socket closed. */
  readonly done: Promise<void>;
}

export interface EngineServer {
  readonly port: number;
  readonly connections: ConnectionRecord[];
  readonly config: TlsServerConfig;
  readonly sessions: SessionCache;
  close(): Promise<void>;
}

/** Deterministic "random" bytes for replayable runs: SHA-256(seed ‖ counter). */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) {
      const block = createHash("sha256").update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - at)), at);
    }
    return out;
  };
}

let shared: { cert: CertificateAndKey; key: RsaPrivateKey; der: Uint8Array } | undefined;
/** One 2048-bit self-signed "localhost" certificate per test process. */
export function testIdentity(): { cert: CertificateAndKey; key: RsaPrivateKey; der: Uint8Array } {
  if (!shared) {
    const cert = selfSignedCertificate({ commonName: "localhost", bits: 2048 });
    shared = { cert, key: rsaKeyFromPem(cert.keyPem), der: new Uint8Array(new X509Certificate(cert.certPem).raw) };
  }
  return shared;
}

export function testConfig(extra: Partial<TlsServerConfigInput> = {}): TlsServerConfig {
  const id = testIdentity();
  return resolveConfig({ certificates: [{ names: ["localhost"], certChainDer: [id.der], keyId: "test", key: id.key }], ...extra });
}

export interface HarnessOptions {
  readonly config?: TlsServerConfig;
  readonly provider?: CryptoProvider;
  readonly sessions?: SessionCache;
  /** Random source per connection (index = accept order). */
  readonly random?: (index: number) => (n: number) => Uint8Array;
  readonly app?: HarnessApp;
}

/** The HTTP responder's per-connection request buffer. */
const httpRequests = new WeakMap<ServerConnection, { head: string; answered: boolean }>();

/**
 * A one-request HTTP/1.1 responder: once the request head is complete it
 * answers 200 with a body naming the request line and the negotiated
 * connection, as one record, then closes (close_notify, RFC 5246 §7.2.1) —
 * `Connection: close` tells the client not to reuse the connection.
 */
export function httpResponse(requestHead: string): Uint8Array {
  const requestLine = requestHead.split("\r\n")[0] ?? "";
  const body = `sslacc engine saw: ${requestLine}\n`;
  return Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Drives one engine: drains outputs, acknowledges checkpoints, serves RSA,
 * echoes, and hands transmits to `write`. Shared by the socket harness and
 * replay tests.
 */
export function service(
  conn: ServerConnection,
  rec: { outputs: EngineOutput[]; checkpoints: Checkpoint[]; events?: HarnessEvent[] },
  opts: { provider: CryptoProvider; keys: ReadonlyMap<string, RsaPrivateKey>; app: HarnessApp; write: (b: Uint8Array) => void; end?: () => void },
): void {
  for (;;) {
    const outs = conn.drain();
    if (outs.length === 0) return;
    for (const o of outs) {
      rec.outputs.push(o);
      switch (o.kind) {
        case "checkpoint":
          rec.checkpoints.push(o.checkpoint);
          conn.acknowledge(o.seq);
          break;
        case "transmit":
          opts.write(o.data);
          break;
        case "plaintext":
          if (opts.app === "echo") {
            rec.events?.push({ t: "send", data: Buffer.from(o.data) });
            conn.send(o.data);
          } else if (opts.app === "http") {
            const req = httpRequests.get(conn) ?? { head: "", answered: false };
            httpRequests.set(conn, req);
            req.head += Buffer.from(o.data).toString("latin1");
            if (!req.answered && req.head.includes("\r\n\r\n")) {
              req.answered = true;
              const response = httpResponse(req.head);
              rec.events?.push({ t: "send", data: Buffer.from(response) }, { t: "close" });
              conn.send(response);
              conn.close();
            }
          }
          break;
        case "rsa": {
          const key = opts.keys.get(o.keyId);
          if (!key) throw new Error(`no RSA key ${o.keyId}`);
          conn.completeRsa(o.id, opts.provider.rsaDecryptPremaster(key, o.ciphertext, o.clientVersion, o.random46));
          break;
        }
        case "closed":
          opts.end?.();
          break;
        case "handshake-complete":
        case "session-invalidated":
          break;
        default:
          throw new Error(`unknown output ${JSON.stringify(o)}`);
      }
    }
  }
}

export async function startEngineServer(options: HarnessOptions = {}): Promise<EngineServer> {
  const config = options.config ?? testConfig();
  const provider = options.provider ?? defaultProvider;
  const keys = new Map([["test", testIdentity().key]]);
  const sessions = options.sessions ?? new MemorySessionCache({ maxEntries: 100, ttlMs: 3600_000, now: () => Date.now() });
  const connections: ConnectionRecord[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const index = connections.length;
    const deps: EngineDeps = {
      provider,
      random: options.random?.(index) ?? seededRandom(`conn-${index}-${Math.random()}`),
      now: () => Date.now(),
      sessions,
    };
    const conn = ServerConnection.create(config, deps);
    let resolveDone!: () => void;
    const rec: ConnectionRecord = {
      conn, events: [], outputs: [], checkpoints: [], transmitted: [],
      done: new Promise<void>((r) => (resolveDone = r)),
    };
    connections.push(rec);
    const io = {
      provider, keys, app: options.app ?? "echo",
      write: (b: Uint8Array) => {
        rec.transmitted.push(Buffer.from(b));
        if (!socket.destroyed) socket.write(b);
      },
      end: () => socket.end(),
    } as const;
    socket.on("data", (d: Buffer) => {
      rec.events.push({ t: "recv", data: Buffer.from(d) });
      conn.receive(d);
      service(conn, rec, io);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      resolveDone();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return {
    port: addr.port, connections, config, sessions,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
