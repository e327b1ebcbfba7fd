// Fuzz targets for the whole engine (ServerConnection), shared by the
// bounded run in `npm test` (fuzz-engine.test.ts, fixed seed) and the long
// runs of scripts/fuzz.mjs. Input: client byte streams recorded from a
// scripted client that completes real handshakes against an engine with the
// same injected randomness (so an unmutated seed goes all the way to the data
// phase and close_notify), mutated at the record level (duplicated,
// reordered, skipped records, corrupted record lengths) and at the byte level
// (truncation, flips, insertions, deletions), fed in random splits; plus raw
// bytes. Checkpoints are acknowledged on a random schedule.
//
// Property: `receive` never throws; a transmit is never released before
// every handshake checkpoint emitted before it is acknowledged (law 1); the
// bytes sent are whole records; once `closed` is output nothing follows it,
// a close we initiated ends with an alert record (plaintext alerts name the
// same alert as `closed`), and a peer's bytes never make us send
// internal_error (that would be a bug of ours). Otherwise the handshake
// legitimately continues.
import assert from "node:assert/strict";
import fc from "fast-check";
import { nativeProvider } from "../../src/crypto/provider.js";
import { TLS10, TLS12, type RecordVersion } from "../../src/crypto/types.js";
import {
  AlertDescription, alertDescriptionName, ContentType, encodeHandshake, HandshakeType, RecordDeframer, writeClientHello,
} from "../../src/tls/codec/index.js";
import type { TlsServerConfig } from "../../src/tls/config.js";
import { ServerConnection, type EngineOutput } from "../../src/tls/server.js";
import { MemorySessionCache } from "../../src/tls/session-cache.js";
import { seededRandom, testConfig, testIdentity } from "../helpers/engine-harness.js";
import { SCRIPTED_SUITES, ScriptedClient, type ScriptedSuite } from "../helpers/scripted-client.js";
import { applyMutation, split, splitsArb, type Mutation } from "./fuzz-arbitraries.js";
import type { FuzzTarget } from "./fuzz-targets.js";

const keys = new Map([["test", testIdentity().key]]);

let config: TlsServerConfig | undefined;
function fuzzConfig(): TlsServerConfig {
  config ??= testConfig({ cipherSuites: ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_RC4_128_SHA"] });
  return config;
}

function newEngine(name: string): ServerConnection {
  return ServerConnection.create(fuzzConfig(), {
    provider: nativeProvider, random: seededRandom(`fuzz-engine-${name}`), now: () => 0,
    sessions: new MemorySessionCache({ maxEntries: 4, ttlMs: 1e9, now: () => 0 }),
  });
}

export interface EngineRun {
  readonly outputs: EngineOutput[];
  readonly transmitted: Uint8Array;
  readonly conn: ServerConnection;
}

/**
 * Feeds `chunks` into a fresh engine (seeded as for `name`) and checks the
 * engine-wide invariants while driving it: checkpoints acknowledged when
 * `ackSchedule` says so (always at the end), RSA requests served, plaintext
 * echoed back as one record.
 */
export function driveEngine(name: string, chunks: readonly Uint8Array[], ackSchedule: readonly boolean[] = []): EngineRun {
  const conn = newEngine(name);
  const outputs: EngineOutput[] = [];
  const sent: Uint8Array[] = [];
  const handshakeSeqs: number[] = [];
  let lastSeq = 0;
  let acked = 0;
  const pump = (ackAll: boolean) => {
    for (let round = 0; ; round++) {
      const outs = conn.drain();
      if (outs.length === 0 && !(ackAll && acked < lastSeq)) return;
      if (ackAll && acked < lastSeq) {
        conn.acknowledge(lastSeq);
        acked = lastSeq;
      }
      for (const o of outs) {
        assert.ok(!outputs.some((x) => x.kind === "closed"), `output ${o.kind} after closed`);
        outputs.push(o);
        switch (o.kind) {
          case "checkpoint":
            lastSeq = o.seq;
            if (o.checkpoint.kind === "handshake") handshakeSeqs.push(o.seq);
            break;
          case "transmit": {
            const waiting = handshakeSeqs.filter((s) => s > acked);
            assert.deepEqual(waiting, [], `transmit at ${o.offset} released before checkpoint(s) ${waiting} were acknowledged (law 1)`);
            sent.push(o.data);
            break;
          }
          case "rsa":
            conn.completeRsa(o.id, nativeProvider.rsaDecryptPremaster(keys.get(o.keyId)!, o.ciphertext, o.clientVersion, o.random46));
            break;
          case "plaintext":
            conn.send(o.data.subarray(0, 1 << 14));
            break;
          default:
            break;
        }
      }
      if (round > 10_000) assert.fail("engine output does not settle");
    }
  };
  chunks.forEach((c, i) => {
    conn.receive(c); // must not throw
    pump(ackSchedule[i % Math.max(1, ackSchedule.length)] ?? true);
  });
  pump(true);
  return { outputs, transmitted: Buffer.concat(sent), conn };
}

/** The invariants at the end of a run. */
export function checkEnd(run: EngineRun): void {
  const d = new RecordDeframer();
  d.push(run.transmitted);
  const records = [];
  for (let r = d.next(); r; r = d.next()) records.push(r);
  assert.equal(d.bufferedBytes, 0, "the engine sent whole records only");
  const closed = run.outputs.find((o): o is Extract<EngineOutput, { kind: "closed" }> => o.kind === "closed");
  if (!closed) {
    assert.notEqual(run.conn.stateKind, "Closed");
    return;
  }
  assert.equal(run.outputs[run.outputs.length - 1], closed, "closed is the last output");
  assert.equal(run.conn.stateKind, "Closed");
  if (closed.reason === "fatal_alert_sent") {
    assert.notEqual(closed.alert, "internal_error", `a peer's bytes led to internal_error: ${closed.detail}`);
  }
  if (closed.reason === "fatal_alert_sent" || closed.reason === "close_notify") {
    const last = records[records.length - 1];
    // An alert we cannot seal (sequence numbers exhausted) is the only silent close; peers cannot cause it.
    assert.ok(last && last.type === ContentType.alert, `${closed.reason}: the last record sent is an alert`);
    if (last.body.length === 2) {
      // In the clear (no write keys yet): exactly the alert `closed` names (RFC 5246 §7.2).
      const level = closed.reason === "fatal_alert_sent" ? 2 : 1;
      assert.equal(last.body[0], level);
      assert.equal(alertDescriptionName(last.body[1]! as AlertDescription), closed.alert ?? "close_notify");
    }
  }
}

// --- seeds: client record streams from complete scripted sessions -----------

export interface Seed {
  readonly name: string;
  /** The client's records, in order, each a whole TLS record. */
  readonly records: readonly Uint8Array[];
}

/**
 * Runs a scripted client against a fresh engine seeded as for `name` and
 * returns the records it sent: a full handshake (the ClientHello optionally
 * split across two records), two data records, an optional renegotiation
 * attempt, and close_notify.
 */
function scriptedSeed(name: string, version: RecordVersion, suite: ScriptedSuite, opts: { splitHello?: boolean; renegotiate?: boolean } = {}): Seed {
  const c = new ScriptedClient(version, suite, name);
  const records: Uint8Array[] = [];
  const hello = c.hello();
  if (opts.splitHello) {
    // RFC 5246 §6.2.1: a handshake message may be fragmented across records.
    records.push(c.plain(ContentType.handshake, hello.subarray(0, 30), TLS10), c.plain(ContentType.handshake, hello.subarray(30), TLS10));
  } else {
    records.push(c.plain(ContentType.handshake, hello, TLS10));
  }
  const first = driveEngine(name, records);
  c.serverFlight(first.transmitted);
  records.push(c.plain(ContentType.handshake, c.keyExchange()), c.ccs(), c.seal(ContentType.handshake, c.finished()));
  records.push(c.seal(ContentType.application_data, Buffer.from("GET / HTTP/1.0\r\n\r\n")), c.seal(ContentType.application_data, new Uint8Array(300).fill(7)));
  if (opts.renegotiate) {
    const again = new ScriptedClient(version, suite, `${name}-again`, [{ type: "renegotiation_info", renegotiatedConnection: new Uint8Array(12) }]);
    records.push(c.seal(ContentType.handshake, encodeHandshake(HandshakeType.client_hello, (w) => writeClientHello(w, {
      clientVersion: version, random: again.random, sessionId: new Uint8Array(0), cipherSuites: [suite.code], compressionMethods: [0], extensions: null,
    }))));
    records.push(c.seal(ContentType.application_data, Buffer.from("after")));
  }
  records.push(c.seal(ContentType.alert, Uint8Array.of(1, AlertDescription.close_notify)));
  // The seed itself must run clean to the client's close_notify.
  const run = driveEngine(name, [Buffer.concat(records)]);
  checkEnd(run);
  const closed = run.outputs.find((o) => o.kind === "closed");
  assert.ok(closed && closed.kind === "closed" && closed.reason === "close_notify", `seed ${name}: ${JSON.stringify(closed)}`);
  return { name, records };
}

let seeds: Seed[] | undefined;
export function engineSeeds(): Seed[] {
  seeds ??= [
    scriptedSeed("tls12-aes128", TLS12, SCRIPTED_SUITES.AES128_SHA),
    scriptedSeed("tls12-aes256-sha256-split", TLS12, SCRIPTED_SUITES.AES256_SHA256, { splitHello: true }),
    scriptedSeed("tls10-rc4", TLS10, SCRIPTED_SUITES.RC4_SHA, { renegotiate: true }),
    scriptedSeed("tls11-aes128", 0x0302, SCRIPTED_SUITES.AES128_SHA),
  ];
  return seeds;
}

// --- mutations ------------------------------------------------------------------

type RecordOp =
  | { kind: "dup"; at: number }
  | { kind: "swap"; at: number }
  | { kind: "skip"; at: number }
  | { kind: "length"; at: number; delta: number };

const recordOpArb: fc.Arbitrary<RecordOp> = fc.oneof(
  fc.record({ kind: fc.constant("dup" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("skip" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("length" as const), at: fc.nat(), delta: fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -0xffff, max: 0xffff })) }),
);

function applyRecordOp(records: Uint8Array[], op: RecordOp): Uint8Array[] {
  if (records.length === 0) return records;
  const i = op.at % records.length;
  const out = records.slice();
  switch (op.kind) {
    case "dup":
      out.splice(i, 0, records[i]!);
      break;
    case "swap":
      if (i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      break;
    case "skip":
      out.splice(i, 1);
      break;
    case "length": {
      // RFC 5246 §6.2.1: the uint16 length at bytes 3-4 of the record header.
      const r = records[i]!.slice();
      const len = ((r[3]! << 8) | r[4]!) + op.delta;
      r[3] = (len >> 8) & 0xff;
      r[4] = len & 0xff;
      out[i] = r;
      break;
    }
  }
  return out;
}

const byteMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }) },
);

const seedIndexArb = fc.nat({ max: 3 });

export const mutatedStreamArb = fc.record({
  seed: seedIndexArb,
  recordOps: fc.array(recordOpArb, { maxLength: 3 }),
  byteOps: fc.array(byteMutationArb, { maxLength: 3 }),
  splits: splitsArb,
  acks: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
});

export function mutatedStream(m: { seed: number; recordOps: RecordOp[]; byteOps: Mutation[] }): { seed: Seed; stream: Uint8Array } {
  const seed = engineSeeds()[m.seed % engineSeeds().length]!;
  let records = seed.records.slice();
  for (const op of m.recordOps) records = applyRecordOp(records, op);
  let stream: Uint8Array = Buffer.concat(records);
  for (const op of m.byteOps) stream = applyMutation(stream, op);
  return { seed, stream };
}

export const engineTargets: readonly FuzzTarget[] = [
  {
    name: "engine: mutated recorded client streams, any split and ack schedule",
    // ~0.5 ms a run here; about a fifth complete the handshake (measured over 3,000 runs).
    testRuns: 2000,
    property: fc.property(mutatedStreamArb, (m) => {
      const { seed, stream } = mutatedStream(m);
      checkEnd(driveEngine(seed.name, split(stream, m.splits), m.acks));
    }) as unknown as fc.IProperty<never>,
  },
  {
    name: "engine: raw bytes, and raw bytes after a valid ClientHello",
    testRuns: 1000,
    property: fc.property(fc.boolean(), fc.uint8Array({ maxLength: 600 }), splitsArb, (afterHello, raw, splits) => {
      const seed = engineSeeds()[0]!;
      const stream = afterHello ? Buffer.concat([seed.records[0]!, raw]) : raw;
      checkEnd(driveEngine(seed.name, split(stream, splits)));
    }) as unknown as fc.IProperty<never>,
  },
];
