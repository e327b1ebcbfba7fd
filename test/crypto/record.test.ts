// Record protection (src/crypto/record.ts and its two providers): round trips,
// wasm ⇄ native differential, tampering, padding edge cases, limits,
// checkpoint export/import and the portable state's binary encoding.
// Real OpenSSL traffic is in record-interop.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { HASH_LENGTH, SSL3, TLS10, TLS11, TLS12, type RecordVersion } from "../../src/crypto/types.js";
import {
  MAX_CIPHERTEXT, RC4_BASE_INTERVAL, RecordError, SEQ_LIMIT, decodeRecordState, encKeyLength, encodeRecordState,
  macHeader, type RecordCipher, type RecordMac, type RecordProvider, type RecordState,
} from "../../src/crypto/record.js";
import { wasmRecordProvider } from "../../src/crypto/wasm/record.js";
import { nativeRecordProvider } from "../../src/crypto/native/record.js";

type AnyProvider = RecordProvider<unknown>;
const providers = [wasmRecordProvider, nativeRecordProvider] as unknown as AnyProvider[];
const [wasm, native] = providers as [AnyProvider, AnyProvider];

const SIZES = [0, 1, 15, 16, 255, 16384];
const SUITES: readonly { cipher: RecordCipher; mac: RecordMac }[] = [
  { cipher: "aes128-cbc", mac: "sha1" }, { cipher: "aes128-cbc", mac: "sha256" },
  { cipher: "aes256-cbc", mac: "sha1" }, { cipher: "aes256-cbc", mac: "sha256" },
  { cipher: "rc4-128", mac: "md5" }, { cipher: "rc4-128", mac: "sha1" },
  { cipher: "null", mac: "sha1" },
];
const VERSIONS: readonly RecordVersion[] = [TLS10, TLS11, TLS12];

function configs() {
  const out: { version: RecordVersion; cipher: RecordCipher; mac: RecordMac; name: string }[] = [];
  for (const version of VERSIONS) {
    for (const s of SUITES) {
      if (s.mac === "sha256" && version !== TLS12) continue; // RFC 5246 App. A.5
      out.push({ version, ...s, name: `${s.cipher}/${s.mac}/0x${version.toString(16)}` });
    }
  }
  return out;
}

function freshState(version: RecordVersion, cipher: RecordCipher, mac: RecordMac, seq = 0n): RecordState {
  const cbc10 = version === TLS10 && cipher.endsWith("-cbc");
  return {
    version, cipher, mac, seq,
    encKey: new Uint8Array(randomBytes(encKeyLength(cipher))),
    macKey: new Uint8Array(randomBytes(HASH_LENGTH[mac])),
    ...(cbc10 ? { cbcResidue: new Uint8Array(randomBytes(16)) } : {}),
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("round trip, every suite × version × fragment size, both providers; wasm seal == native seal", () => {
  for (const c of configs()) {
    const p = freshState(c.version, c.cipher, c.mac, 7n);
    const sealers = providers.map((pr) => pr.init(p));
    const openers = providers.map((pr) => pr.init(p));
    for (const len of SIZES) {
      const frag = new Uint8Array(randomBytes(len));
      const recs = providers.map((pr, i) => pr.seal(sealers[i], 23, c.version, frag));
      assert.equal(hex(recs[0]!), hex(recs[1]!), `${c.name} len ${len}: wasm and native seal differ`);
      const rec = recs[0]!;
      assert.deepEqual([...rec.subarray(0, 3)], [23, c.version >> 8, c.version & 0xff]);
      assert.equal((rec[3]! << 8) | rec[4]!, rec.length - 5, "header length");
      // Each provider opens the other's record.
      providers.forEach((pr, i) => {
        const r = pr.open(openers[i], 23, c.version, recs[1 - i]!.subarray(5));
        assert.ok(r.ok, `${c.name} len ${len}: ${pr.name} failed to open: ${!r.ok && r.description}`);
        assert.equal(hex(r.plaintext), hex(frag));
        assert.equal(r.contentType, 23);
      });
    }
    for (let i = 0; i < 2; i++) {
      assert.equal(providers[i]!.exportState(sealers[i]).seq, 7n + BigInt(SIZES.length));
      assert.equal(providers[i]!.exportState(openers[i]).seq, 7n + BigInt(SIZES.length));
    }
  }
});

test("CBC records: minimal padding and, for TLS 1.1+, IV = AES_K(0^8 ‖ seq)", () => {
  for (const version of [TLS10, TLS11, TLS12] as const) {
    for (const cipher of ["aes128-cbc", "aes256-cbc"] as const) {
      const p = freshState(version, cipher, "sha1", 0x0102030405060708n);
      const st = wasm.init(p);
      for (const len of SIZES) {
        const rec = wasm.seal(st, 23, version, new Uint8Array(len));
        const ivLen = version >= TLS11 ? 16 : 0;
        const minimal = (len + 20 + 1 + 15) & ~15;
        assert.equal(rec.length, 5 + ivLen + minimal, `len ${len}`);
        if (ivLen) {
          const seq = 0x0102030405060708n + BigInt(SIZES.indexOf(len));
          const nonce = Buffer.alloc(16);
          nonce.writeBigUInt64BE(seq, 8);
          const ecb = createCipheriv(cipher === "aes128-cbc" ? "aes-128-ecb" : "aes-256-ecb", p.encKey, null).setAutoPadding(false);
          assert.equal(hex(rec.subarray(5, 21)), hex(ecb.update(nonce)), `explicit IV for seq ${seq}`);
        }
      }
    }
  }
});

/**
 * Builds a record by hand on node:crypto with any padding, so tests can
 * create records our sealers never produce (long or corrupt padding,
 * oversized plaintext).
 */
function handSealCbc(p: RecordState, seq: bigint, frag: Uint8Array, padLen: number,
  corrupt?: (pt: Buffer, macEnd: number) => void): Uint8Array {
  const mac = createHmac(p.mac, p.macKey).update(macHeader(seq, 23, p.version, frag.length)).update(frag).digest();
  const pt = Buffer.concat([frag, mac, Buffer.alloc(padLen + 1, padLen)]);
  corrupt?.(pt, frag.length + mac.length);
  assert.equal(pt.length % 16, 0, "hand-built record must be block aligned");
  const iv = p.version >= TLS11 ? randomBytes(16) : Buffer.from(p.cbcResidue!);
  const name = p.cipher === "aes128-cbc" ? "aes-128-cbc" : "aes-256-cbc";
  const ct = createCipheriv(name, p.encKey, iv).setAutoPadding(false).update(pt);
  return new Uint8Array(p.version >= TLS11 ? Buffer.concat([iv, ct]) : ct);
}

test("every legal padding length 0..255 is accepted (constant-time MAC selection across block boundaries)", () => {
  // MD5 with CBC is no standard suite, but the constant-time MAC supports it
  // (little-endian length field, RFC 1321 §3.2), so it is checked too.
  for (const [mac, version] of [["sha1", TLS10], ["sha256", TLS12], ["sha1", TLS11], ["md5", TLS10]] as const) {
    const p = freshState(version, "aes128-cbc", mac);
    const macLen = HASH_LENGTH[mac];
    for (const base of [0, 37, 200]) {
      for (let padLen = 0; padLen < 256; padLen++) {
        // Pick the fragment length that block-aligns fragment ‖ MAC ‖ padding.
        let len = base;
        while ((len + macLen + 1 + padLen) % 16 !== 0) len++;
        const frag = new Uint8Array(randomBytes(len));
        const body = handSealCbc(p, 0n, frag, padLen);
        for (const pr of providers) {
          const r = pr.open(pr.init(p), 23, version, body);
          assert.ok(r.ok, `${pr.name} ${mac} base ${base} padLen ${padLen}: ${!r.ok && r.description}`);
          assert.equal(hex(r.plaintext), hex(frag));
        }
      }
    }
  }
});

test("bad padding is bad_record_mac, with nothing else said", () => {
  const expected = { ok: false, alert: "bad_record_mac", description: "record failed decryption, padding or MAC check" };
  for (const version of [TLS10, TLS12] as const) {
    const p = freshState(version, "aes256-cbc", "sha1");
    const cases: [string, Uint8Array][] = [
      // One padding byte differs from padding_length (RFC 5246 §6.2.3.2: each MUST equal it).
      ["one pad byte wrong", handSealCbc(p, 0n, new Uint8Array(43), 32, (pt) => { pt[pt.length - 10]! ^= 1; })],
      ["first pad byte wrong", handSealCbc(p, 0n, new Uint8Array(43), 32, (pt, end) => { pt[end]! ^= 0x80; })],
      // The 256th byte of a 255-byte padding: the far end of the scan window.
      ["first of 256 pad bytes wrong", handSealCbc(p, 0n, new Uint8Array(12), 255, (pt, end) => { pt[end]! ^= 1; })],
      ["last of 256 pad bytes wrong", handSealCbc(p, 0n, new Uint8Array(12), 255, (pt) => { pt[pt.length - 2]! ^= 1; })],
      // padding_length larger than what follows the MAC.
      ["pad length too long", handSealCbc(p, 0n, new Uint8Array(11), 0, (pt) => { pt[pt.length - 1] = 40; })],
      ["pad length 255 in a short record", handSealCbc(p, 0n, new Uint8Array(11), 0, (pt) => { pt[pt.length - 1] = 255; })],
      // Padding right but MAC shifted: length byte says one more than real.
      ["pad length off by one", handSealCbc(p, 0n, new Uint8Array(39), 4, (pt) => { pt.fill(5, pt.length - 6); })],
    ];
    for (const [what, body] of cases) {
      for (const pr of providers) {
        const st = pr.init(p);
        assert.deepEqual(pr.open(st, 23, version, body), expected, `${pr.name} 0x${version.toString(16)}: ${what}`);
        assert.equal(pr.exportState(st).seq, 0n, `${pr.name}: a failed open must not advance seq`);
      }
    }
  }
});

test("tampering with any bit of IV, ciphertext, MAC or padding gives bad_record_mac and leaves the state as it was", () => {
  for (const c of configs()) {
    const p = freshState(c.version, c.cipher, c.mac);
    const sealer = wasm.init(p);
    const frag = new Uint8Array(randomBytes(21));
    wasm.seal(sealer, 23, c.version, new Uint8Array(5)); // seq 0: so the tested record chains from a real residue
    const rec = wasm.seal(sealer, 23, c.version, frag);
    const body = rec.subarray(5);
    for (const pr of providers) {
      const st = pr.init(p);
      const first = pr.open(st, 23, c.version, wasm.seal(wasm.init(p), 23, c.version, new Uint8Array(5)).subarray(5));
      assert.ok(first.ok);
      const before = encodeRecordState(pr.exportState(st));
      for (let bit = 0; bit < body.length * 8; bit++) {
        const bad = body.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        const r = pr.open(st, 23, c.version, bad);
        assert.equal(r.ok, false, `${pr.name} ${c.name}: bit ${bit} flipped yet accepted`);
        if (!r.ok) assert.equal(r.alert, "bad_record_mac");
      }
      // Wrong header fields are MACed too (RFC 5246 §6.2.3.1).
      for (const [type, ver] of [[22, c.version], [23, c.version ^ 1]] as const) {
        const r = pr.open(st, type, ver, body);
        assert.equal(r.ok, false, `${pr.name} ${c.name}: header ${type}/${ver} accepted`);
      }
      assert.equal(hex(encodeRecordState(pr.exportState(st))), hex(before), `${pr.name} ${c.name}: state moved on failure`);
      const good = pr.open(st, 23, c.version, body);
      assert.ok(good.ok, `${pr.name} ${c.name}: original no longer opens after failures`);
      assert.equal(hex(good.plaintext), hex(frag));
    }
  }
});

test("short, misaligned and over-long records", () => {
  for (const c of configs()) {
    const p = freshState(c.version, c.cipher, c.mac);
    const macLen = HASH_LENGTH[c.mac];
    const cbc = c.cipher.endsWith("-cbc");
    const ivLen = cbc && c.version >= TLS11 ? 16 : 0;
    const shorts = cbc
      ? [0, ivLen, ivLen + 15, ivLen + 17, ivLen + ((macLen + 1 + 15) & ~15) - 16, ivLen + 33]
      : [0, macLen - 1];
    for (const pr of providers) {
      for (const n of shorts) {
        if (cbc && n >= ivLen + macLen + 1 && (n - ivLen) % 16 === 0) continue;
        const r = pr.open(pr.init(p), 23, c.version, new Uint8Array(n));
        assert.deepEqual(r.ok ? "ok" : r.alert, "bad_record_mac", `${pr.name} ${c.name}: ${n}-byte body`);
      }
      // RFC 5246 §6.2.3: more than 2^14 + 2048 bytes of ciphertext.
      const r = pr.open(pr.init(p), 23, c.version, new Uint8Array(MAX_CIPHERTEXT + 1));
      assert.deepEqual(r.ok ? "ok" : r.alert, "record_overflow", `${pr.name} ${c.name}`);
      assert.throws(() => pr.seal(pr.init(p), 23, c.version, new Uint8Array(16385)),
        (e: unknown) => e instanceof RecordError && e.code === "fragment_too_long");
    }
  }
  // A correctly MACed plaintext of 2^14 + 1 bytes decrypts fine but is a record_overflow.
  for (const version of [TLS10, TLS12] as const) {
    const p = freshState(version, "aes128-cbc", "sha1");
    const body = handSealCbc(p, 0n, new Uint8Array(16385), 10);
    for (const pr of providers) {
      const r = pr.open(pr.init(p), 23, version, body);
      assert.deepEqual(r.ok ? "ok" : r.alert, "record_overflow", pr.name);
    }
  }
});

test("sequence numbers: refuse at 2^64-1 (RFC 5246 §6.1)", () => {
  for (const c of configs()) {
    const p = freshState(c.version, c.cipher, c.mac, SEQ_LIMIT - 1n);
    for (const pr of providers) {
      const s = pr.init(p);
      const o = pr.init(p);
      const rec = pr.seal(s, 23, c.version, new Uint8Array(3));
      assert.equal(pr.exportState(s).seq, SEQ_LIMIT);
      const r = pr.open(o, 23, c.version, rec.subarray(5));
      assert.ok(r.ok);
      const exhausted = (e: unknown) => e instanceof RecordError && e.code === "seq_exhausted" && /2\^64-1/.test(e.message);
      assert.throws(() => pr.seal(s, 23, c.version, new Uint8Array(3)), exhausted, `${pr.name} ${c.name} seal`);
      assert.throws(() => pr.open(o, 23, c.version, rec.subarray(5)), exhausted, `${pr.name} ${c.name} open`);
    }
  }
});

test("SSL 3.0 is refused clearly", () => {
  for (const pr of providers) {
    assert.throws(() => pr.init({ ...freshState(TLS10, "aes128-cbc", "sha1"), version: SSL3 }),
      (e: unknown) => e instanceof RecordError && e.code === "unsupported" && /SSL 3\.0/.test(e.message));
  }
});

function drive(pr: AnyProvider, st: unknown, version: number, frags: Uint8Array[]): string[] {
  return frags.map((f) => hex(pr.seal(st, 23, version, f)));
}

test("checkpoint mid-stream: export → encode → decode → import continues with the same records", () => {
  for (const c of configs()) {
    const p = freshState(c.version, c.cipher, c.mac);
    const frags = Array.from({ length: 12 }, (_, i) => new Uint8Array(randomBytes(i * 97 % 700)));
    const reference = drive(wasm, wasm.init(p), c.version, frags);
    for (const from of providers) {
      for (const to of providers) {
        const st = from.init(p);
        const head = drive(from, st, c.version, frags.slice(0, 5));
        const restored = to.init(decodeRecordState(encodeRecordState(from.exportState(st))));
        const tail = drive(to, restored, c.version, frags.slice(5));
        assert.deepEqual([...head, ...tail], reference, `${c.name}: ${from.name} → ${to.name}`);
      }
    }
    // Opening side: checkpoint between records, the restored opener reads the rest.
    for (const from of providers) {
      for (const to of providers) {
        const o = from.init(p);
        const recs = reference.map((h) => Buffer.from(h, "hex").subarray(5));
        for (const r of recs.slice(0, 5)) assert.ok(from.open(o, 23, c.version, r).ok);
        const o2 = to.init(decodeRecordState(encodeRecordState(from.exportState(o))));
        recs.slice(5).forEach((r, i) => {
          const res = to.open(o2, 23, c.version, r);
          assert.ok(res.ok && hex(res.plaintext) === hex(frags[5 + i]!), `${c.name}: open ${from.name} → ${to.name}`);
        });
      }
    }
  }
});

test("RC4 checkpoint past a base refresh: base + skip reaches the same keystream", () => {
  for (const mac of ["md5", "sha1"] as const) {
    const p = freshState(TLS10, "rc4-128", mac);
    const big = new Uint8Array(randomBytes(16384));
    const n = Math.ceil(RC4_BASE_INTERVAL / (16384 + 16)) + 3;
    for (const from of providers) {
      const st = from.init(p);
      const ref = to_ref(p, n + 4, big);
      for (let i = 0; i < n; i++) assert.equal(hex(from.seal(st, 23, TLS10, big)), ref[i], `${from.name} record ${i}`);
      const exported = from.exportState(st);
      assert.ok(exported.rc4 && exported.rc4.baseOffset > 0, `${from.name}: base refreshed after 1 MiB`);
      assert.ok(exported.rc4!.offset > exported.rc4!.baseOffset, `${from.name}: offset beyond the base`);
      assert.ok(exported.rc4!.offset - exported.rc4!.baseOffset < RC4_BASE_INTERVAL);
      for (const to of providers) {
        const r = to.init(decodeRecordState(encodeRecordState(exported)));
        for (let i = n; i < n + 4; i++) assert.equal(hex(to.seal(r, 23, TLS10, big)), ref[i], `${from.name} → ${to.name} record ${i}`);
      }
    }
  }
  function to_ref(p: RecordState, count: number, frag: Uint8Array): string[] {
    const st = native.init(p);
    return Array.from({ length: count }, () => hex(native.seal(st, 23, TLS10, frag)));
  }
});

test("portable state binary encoding: round trip per field, version byte first, strict decode", () => {
  const samples: RecordState[] = [
    freshState(TLS10, "aes128-cbc", "sha1", 0n),
    freshState(TLS12, "aes256-cbc", "sha256", SEQ_LIMIT),
    freshState(TLS11, "null", "sha1", 12345678901234n),
    { ...freshState(TLS10, "rc4-128", "md5", 99n), rc4: { base: new Uint8Array(randomBytes(258)), baseOffset: 3 << 20, offset: (3 << 20) + 777 } },
  ];
  for (const s of samples) {
    const enc = encodeRecordState(s);
    assert.equal(enc[0], 1, "format version first");
    const d = decodeRecordState(enc);
    assert.equal(d.version, s.version);
    assert.equal(d.cipher, s.cipher);
    assert.equal(d.mac, s.mac);
    assert.equal(d.seq, s.seq);
    assert.equal(hex(d.encKey), hex(s.encKey));
    assert.equal(hex(d.macKey), hex(s.macKey));
    assert.equal(d.cbcResidue && hex(d.cbcResidue), s.cbcResidue && hex(s.cbcResidue));
    assert.deepEqual(d.rc4 && { ...d.rc4, base: hex(d.rc4.base) }, s.rc4 && { ...s.rc4, base: hex(s.rc4.base) });
    assert.equal(hex(encodeRecordState(d)), hex(enc));
    const bad = (b: Uint8Array) => assert.throws(() => decodeRecordState(b), RecordError);
    bad(enc.subarray(0, enc.length - 1));
    bad(new Uint8Array([...enc, 0]));
    bad(new Uint8Array([2, ...enc.subarray(1)]));
    const wrongCipher = enc.slice(); wrongCipher[3] = 9; bad(wrongCipher);
  }
});
