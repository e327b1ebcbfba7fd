// Checkpoint records: versioned binary encoding (format byte first), a
// round trip that changes each field in turn and sees the change survive,
// refusal of malformed encodings, and the fold (absolute deltas, RC4 base
// kept across deltas that do not carry one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { RecordState } from "../../src/crypto/record.js";
import {
  CHECKPOINT_FORMAT, CheckpointError, decodeCheckpoint, encodeCheckpoint, fold, type Checkpoint, type ConnectionSnapshot,
} from "../../src/tls/checkpoint.js";

const rs = (over: Partial<RecordState> = {}): RecordState => ({
  version: 0x0301, cipher: "aes128-cbc", mac: "sha1", encKey: randomBytes(16), macKey: randomBytes(20), seq: 7n,
  cbcResidue: randomBytes(16), ...over,
});
const rc4 = (offset: number, baseOffset = 0): RecordState => ({
  version: 0x0303, cipher: "rc4-128", mac: "sha1", encKey: randomBytes(16), macKey: randomBytes(20), seq: 3n,
  rc4: { base: randomBytes(258), baseOffset, offset },
});

function base(): ConnectionSnapshot {
  return {
    seq: 5, phase: "client-finished", clientConsumed: 1234, serverWritten: 987,
    negotiated: {
      version: 0x0301, clientVersion: 0x0303, cipherSuite: 0x002f, clientRandom: randomBytes(32), serverRandom: randomBytes(32),
      sessionId: randomBytes(32), resumed: false, extendedMasterSecret: true, secureRenegotiation: true, sniAck: true,
      serverName: "www.example.com", certIndex: 2,
    },
    transcript: randomBytes(180), encryptedPremaster: randomBytes(256), random46: randomBytes(46), masterSecret: randomBytes(48),
    read: rs(), write: rs({ seq: 1n }), pendingRead: null, pendingWrite: rs({ seq: 0n }),
    clientVerifyData: randomBytes(12), serverVerifyData: null, pendingHandshake: randomBytes(5),
  };
}

/** One variant per field: the field changed, everything else as in base(). */
const VARIANTS: Record<string, (s: ConnectionSnapshot) => ConnectionSnapshot> = {
  seq: (s) => ({ ...s, seq: 0xfffffff0 }),
  phase: (s) => ({ ...s, phase: "resumed-client-ccs" }),
  clientConsumed: (s) => ({ ...s, clientConsumed: 2 ** 40 + 3 }),
  serverWritten: (s) => ({ ...s, serverWritten: 2 ** 45 + 1 }),
  "negotiated.version": (s) => ({ ...s, negotiated: { ...s.negotiated, version: 0x0303 } }),
  "negotiated.clientVersion": (s) => ({ ...s, negotiated: { ...s.negotiated, clientVersion: 0x0399 } }),
  "negotiated.cipherSuite": (s) => ({ ...s, negotiated: { ...s.negotiated, cipherSuite: 0x003d } }),
  "negotiated.clientRandom": (s) => ({ ...s, negotiated: { ...s.negotiated, clientRandom: randomBytes(32) } }),
  "negotiated.serverRandom": (s) => ({ ...s, negotiated: { ...s.negotiated, serverRandom: randomBytes(32) } }),
  "negotiated.sessionId": (s) => ({ ...s, negotiated: { ...s.negotiated, sessionId: new Uint8Array(0) } }),
  "negotiated.resumed": (s) => ({ ...s, negotiated: { ...s.negotiated, resumed: true } }),
  "negotiated.extendedMasterSecret": (s) => ({ ...s, negotiated: { ...s.negotiated, extendedMasterSecret: false } }),
  "negotiated.secureRenegotiation": (s) => ({ ...s, negotiated: { ...s.negotiated, secureRenegotiation: false } }),
  "negotiated.sniAck": (s) => ({ ...s, negotiated: { ...s.negotiated, sniAck: false } }),
  "negotiated.serverName": (s) => ({ ...s, negotiated: { ...s.negotiated, serverName: null } }),
  "negotiated.certIndex": (s) => ({ ...s, negotiated: { ...s.negotiated, certIndex: 0 } }),
  transcript: (s) => ({ ...s, transcript: randomBytes(104) }),
  encryptedPremaster: (s) => ({ ...s, encryptedPremaster: null }),
  random46: (s) => ({ ...s, random46: null }),
  masterSecret: (s) => ({ ...s, masterSecret: null }),
  read: (s) => ({ ...s, read: null }),
  "read (RC4 position)": (s) => ({ ...s, read: rc4(5_000_000, 4_194_304) }),
  write: (s) => ({ ...s, write: rs({ seq: 2n ** 64n - 2n }) }),
  pendingRead: (s) => ({ ...s, pendingRead: rs({ version: 0x0302, cbcResidue: undefined }) }),
  pendingWrite: (s) => ({ ...s, pendingWrite: null }),
  clientVerifyData: (s) => ({ ...s, clientVerifyData: null }),
  serverVerifyData: (s) => ({ ...s, serverVerifyData: randomBytes(12) }),
  pendingHandshake: (s) => ({ ...s, pendingHandshake: new Uint8Array(0) }),
};

/** Comparable form: bigints and byte arrays (Buffer or Uint8Array, which JSON renders differently) as strings. */
const normal = (x: unknown) =>
  JSON.parse(JSON.stringify(x, (_k, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
    if (v && typeof v === "object" && v.type === "Buffer" && Array.isArray(v.data)) return Buffer.from(v.data).toString("hex");
    return v;
  }));

test("handshake checkpoint round trip, field by field", () => {
  const b = base();
  const bEnc = encodeCheckpoint({ kind: "handshake", snapshot: b });
  assert.equal(bEnc[0], CHECKPOINT_FORMAT, "format byte first");
  assert.deepEqual(normal(decodeCheckpoint(bEnc)), normal({ kind: "handshake", snapshot: b }));
  for (const [field, change] of Object.entries(VARIANTS)) {
    const s = change(b);
    const enc = encodeCheckpoint({ kind: "handshake", snapshot: s });
    assert.notDeepEqual(Buffer.from(enc), Buffer.from(bEnc), `${field} changes the encoding`);
    assert.deepEqual(normal(decodeCheckpoint(enc)), normal({ kind: "handshake", snapshot: s }), field);
  }
});

test("data checkpoint round trip: CBC residue, RC4 offset, RC4 base", () => {
  const cases: Checkpoint[] = [
    { kind: "data", seq: 9, direction: "read", clientConsumed: 10, serverWritten: 20, record: { seq: 3n } },
    { kind: "data", seq: 9, direction: "write", clientConsumed: 10, serverWritten: 20, record: { seq: 3n, cbcResidue: randomBytes(16) } },
    { kind: "data", seq: 9, direction: "write", clientConsumed: 10, serverWritten: 20, record: { seq: 3n, rc4Offset: 123456 } },
    {
      kind: "data", seq: 9, direction: "read", clientConsumed: 10, serverWritten: 20,
      record: { seq: 2n ** 63n, rc4Offset: 2 ** 33, rc4Base: { base: randomBytes(258), baseOffset: 2 ** 32 } },
    },
  ];
  for (const c of cases) assert.deepEqual(normal(decodeCheckpoint(encodeCheckpoint(c))), normal(c));
});

test("malformed encodings are refused with CheckpointError", () => {
  const enc = encodeCheckpoint({ kind: "handshake", snapshot: base() });
  const bad = [
    enc.subarray(0, enc.length - 1),
    Buffer.concat([enc, Buffer.alloc(1)]),
    Buffer.from([CHECKPOINT_FORMAT + 1, ...enc.subarray(1)]),
    Buffer.from([CHECKPOINT_FORMAT, 9]),
    new Uint8Array(0),
  ];
  for (const b of bad) assert.throws(() => decodeCheckpoint(b), CheckpointError);
});

test("fold: handshake replaces, deltas apply per direction with absolute values; RC4 keeps the last base", () => {
  const s0: ConnectionSnapshot = { ...base(), phase: "server-finished", read: rc4(100), write: rs() };
  let s = fold(undefined, { kind: "handshake", snapshot: s0 });
  const newBase = { base: randomBytes(258), baseOffset: 1 << 20 };
  s = fold(s, { kind: "data", seq: 6, direction: "read", clientConsumed: 2000, serverWritten: 987, record: { seq: 4n, rc4Offset: 1 << 20, rc4Base: newBase } });
  s = fold(s, { kind: "data", seq: 7, direction: "read", clientConsumed: 3000, serverWritten: 987, record: { seq: 5n, rc4Offset: (1 << 20) + 500 } });
  const res = randomBytes(16);
  s = fold(s, { kind: "data", seq: 8, direction: "write", clientConsumed: 3000, serverWritten: 1500, record: { seq: 9n, cbcResidue: res } });
  assert.equal(s.seq, 8);
  assert.equal(s.clientConsumed, 3000);
  assert.equal(s.serverWritten, 1500);
  assert.equal(s.read!.seq, 5n);
  assert.deepEqual(s.read!.rc4, { base: newBase.base, baseOffset: newBase.baseOffset, offset: (1 << 20) + 500 });
  assert.equal(s.write!.seq, 9n);
  assert.deepEqual(s.write!.cbcResidue, res);
  assert.equal(s.write!.encKey, s0.write!.encKey);
  assert.throws(() => fold(undefined, { kind: "data", seq: 1, direction: "read", clientConsumed: 0, serverWritten: 0, record: { seq: 0n } }), CheckpointError);
});
