// Relay checkpoints: versioned binary encoding (format byte first), a round
// trip changing each relay field in turn, the optional engine parts, refusal
// of malformed encodings, and the fold (relay offsets are the authority,
// deltas folded into the engine snapshot, order enforced).
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { RecordState } from "../../src/crypto/record.js";
import type { ConnectionSnapshot } from "../../src/tls/checkpoint.js";
import {
  decodeRelayCheckpoint, decodeRelaySnapshot, encodeRelayCheckpoint, encodeRelaySnapshot, ENGINE_RECORD, foldRelay,
  RELAY_CHECKPOINT_FORMAT, RelayCheckpointError, type EngineDelta, type RelayCheckpoint, type RelayFields,
} from "../../src/relay/checkpoint.js";

const rs = (seq: bigint): RecordState => ({
  version: 0x0301, cipher: "aes128-cbc", mac: "sha1", encKey: randomBytes(16), macKey: randomBytes(20), seq, cbcResidue: randomBytes(16),
});

function engineSnapshot(): ConnectionSnapshot {
  return {
    seq: 5, phase: "server-finished", clientConsumed: 400, serverWritten: 3000,
    negotiated: {
      version: 0x0301, clientVersion: 0x0303, cipherSuite: 0x002f, clientRandom: randomBytes(32), serverRandom: randomBytes(32),
      sessionId: randomBytes(32), resumed: false, extendedMasterSecret: true, secureRenegotiation: true, sniAck: false,
      serverName: null, certIndex: 0,
    },
    transcript: randomBytes(180), encryptedPremaster: null, random46: null, masterSecret: randomBytes(48),
    read: rs(1n), write: rs(1n), pendingRead: null, pendingWrite: null,
    clientVerifyData: randomBytes(12), serverVerifyData: randomBytes(12), pendingHandshake: new Uint8Array(0),
  };
}

const fields: RelayFields = {
  clientConsumed: 400, backendWritten: 0, serverWritten: 3000, backendConsumed: 0, preWrites: [], backendRequested: true,
};

function delta(direction: "read" | "write", seq: number, recordSeq: bigint, clientConsumed: number, serverWritten: number): EngineDelta {
  return { kind: "data", seq, direction, clientConsumed, serverWritten, record: { seq: recordSeq, cbcResidue: randomBytes(16) } };
}

const normal = (x: unknown) =>
  JSON.parse(JSON.stringify(x, (_k, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
    if (v && typeof v === "object" && v.type === "Buffer" && Array.isArray(v.data)) return Buffer.from(v.data).toString("hex");
    return v;
  }));

const VARIANTS: Record<string, (f: RelayFields) => RelayFields> = {
  clientConsumed: (f) => ({ ...f, clientConsumed: 2 ** 40 + 7 }),
  backendWritten: (f) => ({ ...f, backendWritten: 2 ** 41 + 1 }),
  serverWritten: (f) => ({ ...f, serverWritten: 2 ** 42 + 3 }),
  backendConsumed: (f) => ({ ...f, backendConsumed: 2 ** 43 + 5 }),
  preWrites: (f) => ({ ...f, preWrites: [16384, ENGINE_RECORD, 1, 9000] }),
  backendRequested: (f) => ({ ...f, backendRequested: false }),
};

test("relay checkpoint round trip, field by field", () => {
  const base: RelayCheckpoint = { seq: 9, fields, handshake: engineSnapshot(), read: null, write: null };
  const enc = encodeRelayCheckpoint(base);
  assert.equal(enc[0], RELAY_CHECKPOINT_FORMAT, "format byte first");
  assert.deepEqual(normal(decodeRelayCheckpoint(enc)), normal(base));
  for (const [name, change] of Object.entries(VARIANTS)) {
    const c: RelayCheckpoint = { ...base, fields: change(fields) };
    const back = decodeRelayCheckpoint(encodeRelayCheckpoint(c));
    assert.deepEqual(normal(back), normal(c), name);
    assert.notDeepEqual(normal(back.fields), normal(fields), `${name} changed`);
  }
  const seq = decodeRelayCheckpoint(encodeRelayCheckpoint({ ...base, seq: 0xfffffff0 }));
  assert.equal(seq.seq, 0xfffffff0);
});

test("relay checkpoint: engine parts are optional and keep their direction", () => {
  const c: RelayCheckpoint = {
    seq: 10, fields, handshake: null, read: delta("read", 7, 3n, 500, 3000), write: delta("write", 8, 2n, 500, 3100),
  };
  assert.deepEqual(normal(decodeRelayCheckpoint(encodeRelayCheckpoint(c))), normal(c));
  const onlyWrite: RelayCheckpoint = { ...c, read: null };
  assert.deepEqual(normal(decodeRelayCheckpoint(encodeRelayCheckpoint(onlyWrite))), normal(onlyWrite));
  // A read delta in the write slot is refused.
  const swapped = encodeRelayCheckpoint({ ...c, read: null, write: delta("read", 7, 3n, 500, 3000) });
  assert.throws(() => decodeRelayCheckpoint(swapped), /write delta/);
});

test("relay checkpoint: malformed encodings name what is wrong", () => {
  const enc = encodeRelayCheckpoint({ seq: 1, fields, handshake: engineSnapshot(), read: null, write: null });
  const bad = enc.slice();
  bad[0] = 99;
  assert.throws(() => decodeRelayCheckpoint(bad), /unknown relay checkpoint format 99/);
  assert.throws(() => decodeRelayCheckpoint(enc.subarray(0, 20)), RelayCheckpointError);
  assert.throws(() => decodeRelayCheckpoint(new Uint8Array([...enc, 0])), RelayCheckpointError);
  const flags = enc.slice();
  flags[1 + 4 + 32] = 0x80;
  assert.throws(() => decodeRelayCheckpoint(flags), /unknown relay flags/);
  assert.throws(() => decodeRelayCheckpoint(new Uint8Array(0)), RelayCheckpointError);
});

test("fold: deltas go into the engine snapshot, relay offsets win, order is enforced", () => {
  const hs = engineSnapshot();
  let s = foldRelay(undefined, { seq: 1, fields, handshake: hs, read: null, write: null });
  assert.equal(s.engine.phase, "server-finished");
  const f2: RelayFields = { ...fields, clientConsumed: 600, backendWritten: 150, serverWritten: 3000, preWrites: [100] };
  s = foldRelay(s, { seq: 2, fields: f2, handshake: null, read: delta("read", 9, 4n, 650, 3200), write: null });
  assert.equal(s.engine.read?.seq, 4n);
  assert.equal(s.engine.write?.seq, 1n, "write state untouched");
  assert.equal(s.engine.clientConsumed, 600, "relay's clientConsumed, not the delta's");
  assert.equal(s.engine.serverWritten, 3000);
  assert.equal(s.engine.seq, 9);
  s = foldRelay(s, { seq: 3, fields: { ...f2, serverWritten: 3130, backendConsumed: 100, preWrites: [] }, handshake: null, read: null, write: delta("write", 8, 2n, 650, 3130) });
  assert.equal(s.engine.write?.seq, 2n);
  assert.equal(s.engine.read?.seq, 4n);
  assert.equal(s.engine.seq, 9, "engine numbering never goes back");
  assert.throws(() => foldRelay(s, { seq: 3, fields, handshake: null, read: null, write: null }), /out of order/);
  assert.throws(() => foldRelay(undefined, { seq: 1, fields, handshake: null, read: null, write: null }), /no engine state/);
  const back = decodeRelaySnapshot(encodeRelaySnapshot(s));
  assert.deepEqual(normal(back), normal(s), "snapshot round trip");
  assert.throws(() => decodeRelaySnapshot(encodeRelayCheckpoint({ seq: 4, fields, handshake: null, read: null, write: null })), /whole engine state/);
});
