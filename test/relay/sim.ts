// Deterministic simulation of one relayed connection with crashes.
//
// A real Node TLS client is recorded once against the bare engine whose
// randomness comes from a deterministic tape; because the relay's engine
// draws from the same tape, its handshake bytes are the same and the
// recorded client bytes stay valid when replayed into relays. The simulator
// then plays the node's "TCP stack" (keeps input until a checkpoint says it
// was consumed, drops regenerated output already written and checks it is
// byte-identical), the store (checkpoints through the binary encoding, FIFO,
// with delays), the RSA pool and a backend, on a seeded event queue, and
// crashes the relay at chosen events: the relay is thrown away and restored
// from the store's snapshot; in-flight messages of the dead incarnation are
// lost.
import { createHash } from "node:crypto";
import { createServer, type Socket } from "node:net";
import * as tls from "node:tls";
import { defaultProvider } from "../../src/crypto/provider.js";
import {
  decodeRelayCheckpoint, decodeRelaySnapshot, encodeRelayCheckpoint, encodeRelaySnapshot, foldRelay, type RelaySnapshot,
} from "../../src/relay/checkpoint.js";
import { Relay, type RelayOutput } from "../../src/relay/relay.js";
import type { TlsServerConfig } from "../../src/tls/config.js";
import { ServerConnection, type EngineDeps } from "../../src/tls/server.js";
import { MemorySessionCache } from "../../src/tls/session-cache.js";
import { service, testConfig, testIdentity } from "../helpers/engine-harness.js";

/**
 * Randomness as a tape of draws: draw i is SHA-256 blocks of `tape/i`. A
 * restored engine gets the tape from the first draw its checkpoint does not
 * hold (law 0: nothing is drawn twice).
 */
export function tape(start: number): (n: number) => Uint8Array {
  let i = start;
  return (n) => {
    const out = new Uint8Array(n);
    const draw = i++;
    for (let at = 0, b = 0; at < n; at += 32, b++) {
      const block = createHash("sha256").update(`tape/${draw}/${b}`).digest();
      out.set(block.subarray(0, Math.min(32, n - at)), at);
    }
    return out;
  };
}

/** Draws made before a snapshot: server random + session id by checkpoint 1, random46 by checkpoint 2. */
function drawsBefore(s: RelaySnapshot | undefined): number {
  if (!s) return 0;
  return s.engine.phase === "client-hello" || s.engine.phase === "resumed-client-hello" ? 2 : 3;
}

export interface Segment {
  readonly data: Uint8Array;
  /** Server→client bytes the client had seen before sending it. */
  readonly need: number;
}

export interface Recording {
  readonly config: TlsServerConfig;
  readonly segments: readonly Segment[];
  readonly request: Uint8Array;
}

/** Runs a Node TLS client against the bare engine and records what it sends. */
export async function recordClient(opts: {
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  ciphers: string;
  request: Uint8Array;
}): Promise<Recording> {
  const config = testConfig();
  const keys = new Map([["test", testIdentity().key]]);
  const segments: Segment[] = [];
  let written = 0;
  let sock: Socket | undefined;
  const server = createServer((s) => {
    sock = s;
    const conn = ServerConnection.create(config, {
      provider: defaultProvider, random: tape(0), now: () => 0,
      sessions: new MemorySessionCache({ maxEntries: 10, ttlMs: 1e9, now: () => 0 }),
    });
    const rec = { outputs: [], checkpoints: [] };
    s.on("data", (d: Buffer) => {
      segments.push({ data: new Uint8Array(d), need: written });
      conn.receive(d);
      service(conn, rec, {
        provider: defaultProvider, keys, app: "none",
        write: (b) => {
          written += b.length;
          s.write(b);
        },
      });
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve, reject) => {
    const c = tls.connect({
      host: "127.0.0.1", port, rejectUnauthorized: false, minVersion: opts.minVersion, maxVersion: opts.maxVersion,
      ciphers: opts.ciphers,
    });
    c.on("error", reject);
    c.on("secureConnect", () => {
      c.write(opts.request, () => setTimeout(() => {
        c.destroy();
        resolve();
      }, 150));
    });
  });
  sock?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { config, segments, request: opts.request };
}

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimOptions {
  readonly seed: number;
  /** Event indices at which the relay dies. */
  readonly crashAt: readonly number[];
  /** The backend's answer as it arrives (chunk boundaries matter: records follow them). */
  readonly response: readonly Uint8Array[];
  /** Delays are drawn in [0, maxDelay) virtual ms. */
  readonly maxDelay?: number;
  readonly maxRecord?: number;
  /** Every relay checkpoint as encoded for the store, in order (test/node/cluster-fold.test.ts folds them as a mirror does). */
  readonly onCheckpoint?: (bytes: Uint8Array) => void;
}

export interface SimResult {
  readonly client: Buffer;
  readonly backend: Buffer;
  readonly events: number;
  readonly restores: number;
  readonly restoredPhases: string[];
  readonly clientEnded: boolean;
  readonly checkpoints: number;
  readonly maxPreWrites: number;
}

type Ev = { t: number; n: number; inc: number | null; run: () => void };

export function simulate(rec: Recording, o: SimOptions): SimResult {
  const rnd = prng(o.seed);
  const maxDelay = o.maxDelay ?? 5;
  const delay = () => rnd() * maxDelay;
  const keys = new Map([["test", testIdentity().key]]);
  const sessions = new MemorySessionCache({ maxEntries: 10, ttlMs: 1e9, now: () => 0 });
  const queue: Ev[] = [];
  let now = 0;
  let order = 0;
  let inc = 0;
  const at = (t: number, incTag: number | null, run: () => void) => {
    const e = { t, n: order++, inc: incTag, run };
    let i = queue.length;
    while (i > 0 && (queue[i - 1]!.t > t || (queue[i - 1]!.t === t && queue[i - 1]!.n > e.n))) i--;
    queue.splice(i, 0, e);
  };

  // The store: FIFO in both directions.
  let store: RelaySnapshot | undefined;
  let storeFree = 0;
  let ackFree = 0;
  let checkpoints = 0;
  let maxPreWrites = 0;

  // The node's "TCP stack".
  const clientIn: { offset: number; data: Uint8Array }[] = [];
  let clientInEnd = 0;
  const backendIn: { offset: number; data: Uint8Array }[] = [];
  let backendInEnd = 0;
  let backendEof: number | null = null;
  const clientOut: Buffer[] = [];
  let clientWritten = 0;
  const backendOut: Buffer[] = [];
  let backendWritten = 0;
  let backendState: "none" | "connecting" | "connected" = "none";
  let clientEnded = false;
  let nextSegment = 0;
  let responseStarted = false;
  const restoredPhases: string[] = [];
  let restores = 0;

  const makeDeps = (start: number): EngineDeps => ({ provider: defaultProvider, random: tape(start), now: () => now, sessions });
  const relayOpts = o.maxRecord !== undefined ? { maxRecord: o.maxRecord } : {};
  let relay: Relay | null = Relay.create(rec.config, makeDeps(0), relayOpts);

  const trimKept = () => {
    if (!store) return;
    const f = store.fields;
    while (clientIn.length > 0 && clientIn[0]!.offset + clientIn[0]!.data.length <= f.clientConsumed) clientIn.shift();
    while (backendIn.length > 0 && backendIn[0]!.offset + backendIn[0]!.data.length <= f.backendConsumed) backendIn.shift();
  };

  /** Writes regenerated-or-new output: overlap must be identical (law 0), the rest is appended once. */
  const write = (side: string, out: Buffer[], written: number, data: Uint8Array, offset: number): number => {
    if (offset > written) throw new Error(`${side}: output at ${offset} beyond ${written} written: a gap`);
    const all = Buffer.concat(out);
    const overlap = Math.min(written - offset, data.length);
    if (overlap > 0 && !all.subarray(offset, offset + overlap).equals(Buffer.from(data.subarray(0, overlap)))) {
      throw new Error(`${side}: regenerated bytes at ${offset} differ from those already written (law 0)`);
    }
    if (overlap < data.length) {
      out.length = 0;
      out.push(all, Buffer.from(data.subarray(overlap)));
      return written + data.length - overlap;
    }
    return written;
  };

  const pumpClient = () => {
    while (nextSegment < rec.segments.length && rec.segments[nextSegment]!.need <= clientWritten) {
      const seg = rec.segments[nextSegment++]!;
      at(now + delay(), null, () => {
        const offset = clientInEnd;
        clientIn.push({ offset, data: seg.data });
        clientInEnd += seg.data.length;
        relay?.clientData(seg.data, offset);
        serve();
      });
    }
  };

  const startResponse = () => {
    if (responseStarted || backendWritten < rec.request.length) return;
    responseStarted = true;
    let t = now;
    for (const chunk of o.response) {
      t += delay();
      at(t, null, () => {
        const offset = backendInEnd;
        backendIn.push({ offset, data: chunk });
        backendInEnd += chunk.length;
        relay?.backendData(chunk, offset);
        serve();
      });
    }
    at(t + delay(), null, () => {
      backendEof = backendInEnd;
      relay?.backendEnded(backendInEnd);
      serve();
    });
  };

  const serve = () => {
    const r = relay;
    if (!r) return;
    const mine = inc;
    for (;;) {
      const outs: RelayOutput[] = r.drain();
      if (outs.length === 0) break;
      for (const out of outs) {
        switch (out.kind) {
          case "checkpoint": {
            checkpoints++;
            maxPreWrites = Math.max(maxPreWrites, out.checkpoint.fields.preWrites.length);
            const bytes = encodeRelayCheckpoint(out.checkpoint);
            o.onCheckpoint?.(bytes);
            storeFree = Math.max(storeFree, now + delay());
            at(storeFree, mine, () => {
              store = foldRelay(store, decodeRelayCheckpoint(bytes));
              trimKept();
              ackFree = Math.max(ackFree, now + delay());
              at(ackFree, mine, () => {
                relay?.stored(out.seq);
                serve();
              });
            });
            break;
          }
          case "client": {
            const before = clientWritten;
            clientWritten = write("client", clientOut, clientWritten, out.data, out.offset);
            if (clientEnded && clientWritten > before) {
              throw new Error(`new client output after end-client: ${before} -> ${clientWritten} (${Buffer.from(out.data.subarray(0, 8)).toString("hex")} at ${out.offset})`);
            }
            const end = out.offset + out.data.length;
            at(now + delay(), mine, () => {
              relay?.clientAcked(end);
              serve();
            });
            pumpClient();
            break;
          }
          case "backend": {
            if (backendState !== "connected") throw new Error("backend output before the backend is connected");
            backendWritten = write("backend", backendOut, backendWritten, out.data, out.offset);
            const end = out.offset + out.data.length;
            at(now + delay(), mine, () => {
              relay?.backendAcked(end);
              serve();
            });
            startResponse();
            break;
          }
          case "rsa": {
            const premaster = defaultProvider.rsaDecryptPremaster(keys.get(out.keyId)!, out.ciphertext, out.clientVersion, out.random46);
            at(now + delay(), mine, () => {
              relay?.rsaDone(out.id, premaster);
              serve();
            });
            break;
          }
          case "connect-backend":
            if (backendState === "none") {
              backendState = "connecting";
              at(now + delay(), null, () => {
                backendState = "connected";
                relay?.backendConnectedEvent();
                serve();
              });
            } else if (backendState === "connected") {
              r.backendConnectedEvent();
            }
            break;
          case "end-client":
            clientEnded = true;
            break;
          case "end-backend":
          case "handshake-complete":
          case "session-invalidated":
            break;
          case "closed":
            if (process.env.SIM_DEBUG) console.log("closed", out.reason, out.alert, out.detail, "restores", restores);
            break;
          default:
            throw new Error(`unknown relay output ${JSON.stringify(out)}`);
        }
      }
    }
  };

  const crash = () => {
    relay = null;
    inc++;
    at(now + delay(), null, () => {
      restores++;
      const snap = store ? decodeRelaySnapshot(encodeRelaySnapshot(store)) : undefined;
      restoredPhases.push(snap ? `${snap.engine.phase}/${snap.fields.preWrites.length}` : "none");
      relay = snap ? Relay.restore(rec.config, makeDeps(drawsBefore(snap)), snap, relayOpts) : Relay.create(rec.config, makeDeps(0), relayOpts);
      serve();
      if (backendState === "connected") relay.backendConnectedEvent();
      for (const c of clientIn) relay.clientData(c.data, c.offset);
      for (const c of backendIn) relay.backendData(c.data, c.offset);
      if (backendEof !== null) relay.backendEnded(backendEof);
      serve();
    });
  };

  const crashes = new Set(o.crashAt);
  let events = 0;
  pumpClient();
  while (queue.length > 0) {
    const e = queue.shift()!;
    now = e.t;
    if (e.inc !== null && e.inc !== inc) continue; // lost with the dead incarnation
    events++;
    e.run();
    if (crashes.has(events) && relay) crash();
    if (events > 200_000) throw new Error("simulation does not terminate");
  }
  return {
    client: Buffer.concat(clientOut), backend: Buffer.concat(backendOut), events, restores, restoredPhases, clientEnded,
    checkpoints, maxPreWrites,
  };
}
