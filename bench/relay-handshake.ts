// One shard's CPU per full handshake, in process (`node dist/bench/relay-handshake.js [--n 2000] [--repeats 5] [--compare-records]`;
// `node --cpu-prof dist/bench/relay-handshake.js` for where it goes).
//
//   recorded Node TLS client (TLS 1.2 AES128-SHA, RSA-2048) ──segments──> Relay (engine, native RSA in place)
//                                                              ──checkpoints──> encode (shard) / decode + fold (main's store)
//
// The daemon benches (bench/handshake.ts) measure the whole process with the
// load client on the same two cores, where other agents' load moves the
// figures by ±25 %. This replays the part a shard runs for one connection —
// the same loop as src/shard/shard.ts flush(): every output acknowledged as
// the kernel transport does, RSA answered in place, a 100-byte backend reply
// then the backend's end — plus the main thread's decode and fold of each
// checkpoint, on one thread with no I/O, so a change to the engine, the relay
// or the checkpoint encoding shows as µs per handshake. The client was
// recorded once against the engine with the deterministic random tape of
// test/relay/sim.ts; every replay draws the same tape, so the client's
// Finished verifies each time.
import { nativeRsaDecryptPremaster } from "../src/crypto/native/rsa.js";
import { composeProvider, defaultProvider, type CryptoProvider } from "../src/crypto/provider.js";
import type { RsaPrivateKey } from "../src/crypto/types.js";
import { decodeRelayCheckpoint, encodeRelayCheckpoint, foldRelay, type RelayCheckpoint, type RelaySnapshot } from "../src/relay/checkpoint.js";
import { Relay } from "../src/relay/relay.js";
import { MemorySessionCache } from "../src/tls/session-cache.js";
import { testIdentity } from "../test/helpers/engine-harness.js";
import { recordClient, tape } from "../test/relay/sim.js";
import { argValue, median, round } from "./harness.js";

const REPLY = new TextEncoder().encode(`HTTP/1.0 200 OK\r\nContent-Length: 62\r\n\r\n${"x".repeat(62)}`);

/** CPU time of this process in µs (one busy thread here; wall time would count other agents' load). */
function cpuNow(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

type Recorded = Awaited<ReturnType<typeof recordClient>>;

/** What one handshake hands to the parts measured apart. */
interface Trace {
  readonly checkpoints: RelayCheckpoint[];
  rsa: { ciphertext: Uint8Array; clientVersion: number; random46: Uint8Array } | null;
}

/** One relayed connection from the recorded segments to the backend's end, as the shard's flush() runs it. */
function handshake(rec: Recorded, sessions: MemorySessionCache, key: RsaPrivateKey, trace?: Trace, provider: CryptoProvider = defaultProvider): void {
  const relay = Relay.create(rec.config, { provider, random: tape(0), now: () => 0, sessions });
  let snapshot: RelaySnapshot | undefined;
  let toBackend = 0;
  let connect = false;
  const flush = () => {
    for (;;) {
      const outs = relay.drain();
      if (outs.length === 0) return;
      let clientAck = -1;
      let backendAck = -1;
      for (const o of outs) {
        switch (o.kind) {
          case "checkpoint":
            trace?.checkpoints.push(o.checkpoint);
            // The shard encodes, the main thread decodes and folds (its store).
            snapshot = foldRelay(snapshot, decodeRelayCheckpoint(encodeRelayCheckpoint(o.checkpoint)));
            relay.stored(o.seq);
            break;
          case "client":
            clientAck = o.offset + o.data.length;
            break;
          case "backend":
            toBackend += o.data.length;
            backendAck = o.offset + o.data.length;
            break;
          case "rsa":
            if (trace) trace.rsa = { ciphertext: o.ciphertext, clientVersion: o.clientVersion, random46: o.random46 };
            relay.rsaDone(o.id, nativeRsaDecryptPremaster(key, o.ciphertext, o.clientVersion, o.random46));
            break;
          case "connect-backend":
            connect = true;
            break;
          default:
            break;
        }
      }
      if (clientAck >= 0) relay.clientAcked(clientAck);
      if (backendAck >= 0) relay.backendAcked(backendAck);
    }
  };
  flush();
  let offset = 0;
  for (const s of rec.segments) {
    relay.clientData(s.data, offset);
    offset += s.data.length;
    flush();
    if (connect) {
      connect = false;
      relay.backendConnectedEvent();
      flush();
    }
  }
  if (toBackend !== rec.request.length) throw new Error(`backend got ${toBackend} bytes, expected the ${rec.request.length}-byte request`);
  relay.backendData(REPLY, 0);
  flush();
  relay.backendEnded(REPLY.length);
  flush();
  if (!snapshot) throw new Error("no checkpoint stored");
}

/** µs of CPU per call of `fn`, over `n` calls. */
function perCall(n: number, fn: () => void): number {
  const c0 = cpuNow();
  for (let i = 0; i < n; i++) fn();
  return (cpuNow() - c0) / n;
}

async function main(): Promise<void> {
  const n = Number(argValue("--n") ?? 2000);
  const repeats = Number(argValue("--repeats") ?? 5);
  const rec = await recordClient({
    minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES128-SHA", request: new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"),
  });
  const key = testIdentity().key;
  const sessions = new MemorySessionCache({ maxEntries: 20_000, ttlMs: 2 * 3600_000, now: () => 0 });
  const trace: Trace = { checkpoints: [], rsa: null };
  handshake(rec, sessions, key, trace);
  const rsa = trace.rsa;
  if (!rsa) throw new Error("the handshake asked for no RSA operation");
  const encoded = trace.checkpoints.map(encodeRelayCheckpoint);
  for (let i = 0; i < 300; i++) handshake(rec, sessions, key); // JIT warm-up
  // --compare-records: the same handshakes with node:crypto for every record, interleaved (an A/B of the sized records).
  const compare = process.argv.includes("--compare-records") ? composeProvider({ record: "native" }) : null;
  const nativeTotals: number[] = [];
  const rows: { total: number; rsa: number; encode: number; store: number }[] = [];
  for (let r = 0; r < repeats; r++) {
    if (compare) nativeTotals.push(perCall(n, () => handshake(rec, sessions, key, undefined, compare)));
    rows.push({
      total: perCall(n, () => handshake(rec, sessions, key)),
      rsa: perCall(n, () => nativeRsaDecryptPremaster(key, rsa.ciphertext, rsa.clientVersion, rsa.random46)),
      encode: perCall(n, () => {
        for (const c of trace.checkpoints) encodeRelayCheckpoint(c);
      }),
      store: perCall(n, () => {
        let s: RelaySnapshot | undefined;
        for (const b of encoded) s = foldRelay(s, decodeRelayCheckpoint(b));
      }),
    });
  }
  const m = (f: (r: (typeof rows)[number]) => number) => round(median(rows.map(f)));
  const bytes = encoded.reduce((a, b) => a + b.length, 0);
  console.log(`relay handshake (one shard's part + the store's), µs of CPU per handshake, median of ${repeats} × ${n}:`);
  console.log(`  total ${m((r) => r.total)} (runs ${rows.map((r) => round(r.total)).join(" ")})`);
  console.log(`  RSA (native, in place) ${m((r) => r.rsa)}; checkpoint encode ${m((r) => r.encode)}, decode+fold ${m((r) => r.store)} (${encoded.length} checkpoints, ${bytes} bytes)`);
  console.log(`  the rest (engine, relay, records, transcript, PRF) ${round(m((r) => r.total) - m((r) => r.rsa) - m((r) => r.encode) - m((r) => r.store))}`);
  if (compare) console.log(`  records all node:crypto instead (same run): total ${round(median(nativeTotals))} (runs ${nativeTotals.map((x) => round(x)).join(" ")})`);
}

await main();
