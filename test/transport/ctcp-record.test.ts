// The clustered-TCP connection record (src/transport/ctcp/record.ts): the
// relay checkpoint wrapped with both legs' TCP state and the §5.5 kept
// bytes. Round trip field by field, the fold (TCP parts replace, the relay
// part folds; a TCP-only record keeps the relay snapshot), refusal of
// malformed input with a precise error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { RecordState } from "../../src/crypto/record.js";
import type { ConnectionSnapshot } from "../../src/tls/checkpoint.js";
import type { RelayCheckpoint } from "../../src/relay/checkpoint.js";
import {
  CTCP_RECORD_FORMAT, CtcpRecordError, decodeCtcpRecord, decodeCtcpSnapshot, encodeCtcpRecord, encodeCtcpSnapshot, foldCtcp, NOTHING_KEPT, type CtcpRecord,
} from "../../src/transport/ctcp/record.js";
import type { TcpCheckpoint } from "../../src/transport/tcp/checkpoint.js";

const rs = (seq: bigint): RecordState => ({
  version: 0x0303, cipher: "aes128-cbc", mac: "sha1", encKey: randomBytes(16), macKey: randomBytes(20), seq, cbcResidue: randomBytes(16),
});

function engine(): ConnectionSnapshot {
  return {
    seq: 2, phase: "client-hello", clientConsumed: 200, serverWritten: 0,
    negotiated: {
      version: 0x0303, clientVersion: 0x0303, cipherSuite: 0x002f, clientRandom: randomBytes(32), serverRandom: randomBytes(32),
      sessionId: randomBytes(32), resumed: false, extendedMasterSecret: true, secureRenegotiation: true, sniAck: false,
      serverName: null, certIndex: 0,
    },
    transcript: randomBytes(100), encryptedPremaster: null, random46: null, masterSecret: null,
    read: rs(0n), write: rs(0n), pendingRead: null, pendingWrite: null,
    clientVerifyData: null, serverVerifyData: null, pendingHandshake: new Uint8Array(0),
  };
}

function tcp(over: Partial<TcpCheckpoint> = {}): TcpCheckpoint {
  return {
    version: 1, tuple: { localAddr: 0xc6336401, localPort: 443, remoteAddr: 0xc000020a, remotePort: 40000 }, state: "ESTABLISHED",
    iss: 0xfffffff0, irs: 12345, rcvNxt: 12346 + 200, sndNxt: 0xfffffff1, sndWscale: 7, rcvWscale: 7, peerMss: 1460, sndWnd: 65535, ...over,
  };
}

const relay1: RelayCheckpoint = {
  seq: 1, handshake: engine(), read: null, write: null,
  fields: { clientConsumed: 200, backendWritten: 0, serverWritten: 0, backendConsumed: 0, preWrites: [], backendRequested: false },
};

const base: CtcpRecord = { client: tcp(), clientKept: NOTHING_KEPT, backend: { port: 0, tcp: null, kept: NOTHING_KEPT }, relay: relay1 };

const hex = (x: unknown) =>
  JSON.stringify(x, (_k, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
    if (v && typeof v === "object" && v.type === "Buffer" && Array.isArray(v.data)) return Buffer.from(v.data).toString("hex");
    return v;
  });

test("ctcp record round trip, field by field (format byte first)", () => {
  const variants: Record<string, CtcpRecord> = {
    base,
    client: { ...base, client: tcp({ state: "CLOSE_WAIT", rcvNxt: 7, sndNxt: 0, sndWscale: 0, rcvWscale: 14, peerMss: 536, sndWnd: 1 }) },
    clientKept: { ...base, clientKept: { from: 2 ** 40 + 3, bytes: randomBytes(3000) } },
    backendPort: { ...base, backend: { ...base.backend, port: 31337 } },
    backendTcp: { ...base, backend: { port: 20001, tcp: tcp({ iss: 12345, irs: 99, tuple: { localAddr: 1, localPort: 20001, remoteAddr: 2, remotePort: 8080 } }), kept: NOTHING_KEPT } },
    backendKept: { ...base, backend: { ...base.backend, kept: { from: 17, bytes: randomBytes(70_000) } } },
    tcpOnly: { ...base, relay: null },
  };
  for (const [name, r] of Object.entries(variants)) {
    const enc = encodeCtcpRecord(r);
    assert.equal(enc[0], CTCP_RECORD_FORMAT, name);
    assert.equal(hex(decodeCtcpRecord(enc)), hex(r), name);
  }
});

test("fold: TCP parts are replaced, kept bytes appended, the relay checkpoint is folded, a TCP-only record keeps the relay snapshot", () => {
  const s1 = decodeCtcpSnapshot(foldCtcp(undefined, encodeCtcpRecord(base)));
  assert.equal(s1.relay.seq, 1);
  assert.equal(s1.relay.engine.phase, "client-hello");
  const backend = { port: 20001, tcp: tcp({ irs: 99 }), kept: { from: 0, bytes: Uint8Array.of(1, 2, 3) } };
  const tcpOnly: CtcpRecord = { ...base, client: tcp({ rcvNxt: 99 }), backend, relay: null };
  const s2 = decodeCtcpSnapshot(foldCtcp(encodeCtcpSnapshot(s1), encodeCtcpRecord(tcpOnly)));
  assert.equal(s2.client.rcvNxt, 99);
  assert.equal(hex(s2.backend), hex(backend));
  assert.equal(hex(s2.relay), hex(s1.relay));
  const relay2: RelayCheckpoint = { ...relay1, seq: 2, handshake: null, fields: { ...relay1.fields, backendRequested: true } };
  const s3 = decodeCtcpSnapshot(foldCtcp(encodeCtcpSnapshot(s2), encodeCtcpRecord({ ...tcpOnly, relay: relay2 })));
  assert.equal(s3.relay.seq, 2);
  assert.equal(s3.relay.fields.backendRequested, true);
  assert.equal(s3.relay.engine.phase, "client-hello");
  // Records must come in order (the relay's fold enforces it).
  assert.throws(() => foldCtcp(encodeCtcpSnapshot(s3), encodeCtcpRecord({ ...tcpOnly, relay: relay2 })), /out of order/);
});

test("fold: kept bytes are appended record by record and trimmed to what the relay consumed; a gap is refused", () => {
  const s1 = foldCtcp(undefined, encodeCtcpRecord(base));
  const keep = (from: number, ...b: number[]): CtcpRecord => ({ ...base, relay: null, clientKept: { from, bytes: Uint8Array.from(b) } });
  const s2 = foldCtcp(s1, encodeCtcpRecord(keep(200, 1, 2, 3)));
  const s3 = decodeCtcpSnapshot(foldCtcp(s2, encodeCtcpRecord(keep(203, 4, 5))));
  assert.deepEqual({ from: s3.clientKept.from, bytes: [...s3.clientKept.bytes] }, { from: 200, bytes: [1, 2, 3, 4, 5] });
  // A record with no new kept bytes keeps the mirror's.
  const s4 = decodeCtcpSnapshot(foldCtcp(encodeCtcpSnapshot(s3), encodeCtcpRecord({ ...base, relay: null })));
  assert.equal(s4.clientKept.bytes.length, 5);
  // The relay consumed 2 bytes: the mirror keeps the rest only.
  const relay2: RelayCheckpoint = { ...relay1, seq: 2, handshake: null, fields: { ...relay1.fields, clientConsumed: 202 } };
  const s5 = decodeCtcpSnapshot(foldCtcp(encodeCtcpSnapshot(s4), encodeCtcpRecord({ ...base, relay: relay2 })));
  assert.deepEqual({ from: s5.clientKept.from, bytes: [...s5.clientKept.bytes] }, { from: 202, bytes: [3, 4, 5] });
  assert.throws(() => foldCtcp(s2, encodeCtcpRecord(keep(204, 9))), /client kept bytes from offset 204, but the mirror holds them only up to 203: a gap/);
});

test("malformed records are refused with a precise error, never a crash", () => {
  const enc = encodeCtcpRecord(base);
  assert.throws(() => foldCtcp(undefined, encodeCtcpRecord({ ...base, relay: null })), /first ctcp record .* no relay checkpoint/);
  assert.throws(() => decodeCtcpRecord(Uint8Array.of(9, 1)), (e: unknown) => e instanceof CtcpRecordError && /format 9/.test(e.message));
  assert.throws(() => decodeCtcpRecord(Uint8Array.of(CTCP_RECORD_FORMAT, 7)), /kind 7/);
  assert.throws(() => decodeCtcpSnapshot(enc), /expected a ctcp snapshot/);
  assert.throws(() => decodeCtcpRecord(enc.subarray(0, enc.length - 1)), CtcpRecordError);
  assert.throws(() => decodeCtcpRecord(Uint8Array.from([...enc, 0])), CtcpRecordError);
  const badTcp = enc.slice();
  badTcp[3] = 9; // client TCP checkpoint version
  assert.throws(() => decodeCtcpRecord(badTcp), /client: TCP checkpoint version 9/);
  for (let i = 0; i < 2000; i++) {
    const m = enc.slice();
    m[Math.floor(Math.random() * m.length)] ^= 1 << Math.floor(Math.random() * 8);
    try {
      decodeCtcpRecord(m.subarray(0, Math.floor(Math.random() * (m.length + 1))));
    } catch (e) {
      assert.ok(e instanceof CtcpRecordError, String(e));
    }
  }
});
