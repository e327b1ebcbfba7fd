// Micro-benchmark: whole-record protection of 16 KiB fragments, the WASM
// provider (one call per record, copies into scratch included) against the
// node:crypto provider, interleaved in one process (bench/harness.ts).
// "seal" seals one record; "seal+open" seals one and opens it with the peer
// state, which is the per-record cost of a relay that decrypts one direction
// and encrypts the other. MB/s counts plaintext bytes once.
// Run: npm run build && node dist/bench/record-micro.js [--repeats N --ms N --json FILE --only SUBSTR]
import { createCipheriv, randomBytes } from "node:crypto";
import { HASH_LENGTH, TLS10, TLS12, type RecordVersion } from "../src/crypto/types.js";
import { encKeyLength, type RecordCipher, type RecordMac, type RecordProvider, type RecordState } from "../src/crypto/record.js";
import { wasmRecordProvider } from "../src/crypto/wasm/record.js";
import { nativeRecordProvider } from "../src/crypto/native/record.js";
import { benchArgs, machine, measure, printTable, writeJson, type Candidate } from "./harness.js";

const SIZE = 16 * 1024;
const frag = new Uint8Array(randomBytes(SIZE));
const providers = [wasmRecordProvider, nativeRecordProvider] as unknown as RecordProvider<unknown>[];

const suites: { version: RecordVersion; cipher: RecordCipher; mac: RecordMac; label: string }[] = [
  { version: TLS12, cipher: "aes128-cbc", mac: "sha1", label: "tls12-aes128-sha" },
  { version: TLS10, cipher: "aes128-cbc", mac: "sha1", label: "tls10-aes128-sha" },
  { version: TLS12, cipher: "aes256-cbc", mac: "sha256", label: "tls12-aes256-sha256" },
  { version: TLS10, cipher: "rc4-128", mac: "sha1", label: "tls10-rc4-sha" },
];

const args = benchArgs();
const candidates: Candidate[] = [];
for (const s of suites) {
  const state: RecordState = {
    version: s.version, cipher: s.cipher, mac: s.mac, seq: 0n,
    encKey: new Uint8Array(randomBytes(encKeyLength(s.cipher))),
    macKey: new Uint8Array(randomBytes(HASH_LENGTH[s.mac])),
    ...(s.version === TLS10 && s.cipher !== "rc4-128" ? { cbcResidue: new Uint8Array(16) } : {}),
  };
  for (const pr of providers) {
    const sealOnly = pr.init(state);
    candidates.push({ primitive: `seal ${s.label}`, provider: pr.name, size: SIZE, run: () => void pr.seal(sealOnly, 23, s.version, frag) });
    const sealer = pr.init(state);
    const opener = pr.init(state);
    candidates.push({
      primitive: `seal+open ${s.label}`, provider: pr.name, size: SIZE,
      run: () => {
        const rec = pr.seal(sealer, 23, s.version, frag);
        const r = pr.open(opener, 23, s.version, rec.subarray(5));
        if (!r.ok) throw new Error(`${pr.name} ${s.label}: ${r.description}`);
      },
    });
  }
}
// Lucky 13 check (AlFardan & Paterson 2013): records of one length whose MAC
// fails, with padding_length 0, 255 or invalid padding. Failed opens leave
// the state as it was, so the same record can be opened again and again. A
// constant-time open shows the same rate for the three.
for (const L of [288, 16384 + 32]) {
  const state: RecordState = {
    version: TLS12, cipher: "aes128-cbc", mac: "sha1", seq: 0n,
    encKey: new Uint8Array(randomBytes(16)), macKey: new Uint8Array(randomBytes(20)),
  };
  const body = (padLen: number, validPad: boolean): Uint8Array => {
    const pt = randomBytes(L); // garbage data and MAC: the MAC check fails
    pt.fill(padLen, L - 1 - padLen);
    if (!validPad) pt[L - 2] ^= 1;
    const iv = randomBytes(16);
    return new Uint8Array(Buffer.concat([iv, createCipheriv("aes-128-cbc", state.encKey, iv).setAutoPadding(false).update(pt)]));
  };
  const variants: [string, Uint8Array][] = [["pad0", body(0, true)], ["pad255", body(255, true)], ["badpad", body(255, false)]];
  for (const pr of providers) {
    const st = pr.init(state);
    for (const [name, b] of variants) {
      candidates.push({
        primitive: `lucky13 L=${L} ${name}`, provider: pr.name, size: L,
        run: () => { if (pr.open(st, 23, TLS12, b).ok) throw new Error("forged record accepted"); },
      });
    }
  }
}
const chosen = args.only ? candidates.filter((c) => c.primitive.includes(args.only!)) : candidates;
const results = measure(chosen, { repeats: args.repeats, ms: args.ms, reference: "native" });
printTable(results);
if (args.json) writeJson(args.json, { machine: machine(), bench: "record-micro", results });
