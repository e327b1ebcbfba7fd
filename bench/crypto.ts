// `npm run bench:crypto -- [--json FILE] [--repeats N] [--ms N] [--only SUBSTR]`
//
// Every primitive the TLS engine uses, for every provider — wasm (our
// AssemblyScript core), native (node:crypto/OpenSSL) and node-forge (pure JS,
// a baseline only) — measured interleaved in one run, medians of the repeats,
// with the ratio to native measured in the same run. `--only` picks rows by
// primitive name when tuning one (e.g. `--only aes`, `--only hmac`); whole
// records in every suite and the Lucky 13 timing check are
// bench/record-micro.ts, RSA by key size bench/rsa-micro.ts.
import { randomBytes } from "node:crypto";
import forge from "node-forge";
import { benchArgs, machine, measure, printTable, writeJson, type Candidate } from "./harness.js";
import { generateRsaKey, rsaPublicOf } from "../src/crypto/rsa-key.js";
import { rsaPrivateKeyObject } from "../src/crypto/native/rsa.js";
import { nativeProvider, wasmProvider, type CryptoProvider } from "../src/crypto/provider.js";
import { wasmAesKey, wasmCbcEncryptMany, wasmRc4Init, wasmRc4Process } from "../src/crypto/wasm/cipher.js";
import { nativeRc4Available, nativeRc4Init } from "../src/crypto/native/cipher.js";
import type { RecordState } from "../src/crypto/record.js";
import { TLS10, TLS12 } from "../src/crypto/types.js";

const args = benchArgs();
const SIZE = 16 * 1024;
const data = randomBytes(SIZE);
const providers: readonly CryptoProvider[] = [wasmProvider, nativeProvider];
const candidates: Candidate[] = [];

// RSA-2048: private (CRT, blinded, result checked) and public (e = 65537).
const key = generateRsaKey(2048);
const pub = rsaPublicOf(key);
const rsaInput = randomBytes(256);
rsaInput[0] = 0x01; // < n
for (const p of providers) {
  candidates.push({ primitive: "rsa2048-private", provider: p.name, size: 0, run: () => void p.rsaPrivate(key, rsaInput) });
  candidates.push({ primitive: "rsa2048-public", provider: p.name, size: 0, run: () => void p.rsaPublic(pub, rsaInput) });
}
const forgeKey = forge.pki.privateKeyFromPem(rsaPrivateKeyObject(key).export({ type: "pkcs1", format: "pem" }).toString());
const forgePub = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
const forgeRsaInput = forge.util.binary.raw.encode(rsaInput);
candidates.push({ primitive: "rsa2048-private", provider: "forge", size: 0, run: () => void forgeKey.decrypt(forgeRsaInput, "RAW") });
candidates.push({ primitive: "rsa2048-public", provider: "forge", size: 0, run: () => void forgePub.encrypt(forgeRsaInput, "RAW") });

// Bulk primitives on 16 KiB.
const aesKey = randomBytes(16);
const iv = randomBytes(16);
const macKey = randomBytes(20);
const aes256Key = randomBytes(32);
for (const p of providers) {
  const enc = p.cbc.init(aesKey, iv);
  const dec = p.cbc.init(aesKey, iv);
  candidates.push({ primitive: "aes128-cbc-encrypt", provider: p.name, size: SIZE, run: () => void p.cbc.encrypt(enc, data) });
  candidates.push({ primitive: "aes128-cbc-decrypt", provider: p.name, size: SIZE, run: () => void p.cbc.decrypt(dec, data) });
  candidates.push({ primitive: "sha1", provider: p.name, size: SIZE, run: () => void p.hash("sha1", data) });
  candidates.push({ primitive: "sha256", provider: p.name, size: SIZE, run: () => void p.hash("sha256", data) });
  candidates.push({ primitive: "md5", provider: p.name, size: SIZE, run: () => void p.hash("md5", data) });
  candidates.push({ primitive: "hmac-sha1", provider: p.name, size: SIZE, run: () => void p.hmac("sha1", macKey, data) });
  candidates.push({ primitive: "hmac-sha256", provider: p.name, size: SIZE, run: () => void p.hmac("sha256", macKey, data) });
  candidates.push({ primitive: "hmac-md5", provider: p.name, size: SIZE, run: () => void p.hmac("md5", macKey, data) });
  const enc256 = p.cbc.init(aes256Key, iv);
  const dec256 = p.cbc.init(aes256Key, iv);
  candidates.push({ primitive: "aes256-cbc-encrypt", provider: p.name, size: SIZE, run: () => void p.cbc.encrypt(enc256, data) });
  candidates.push({ primitive: "aes256-cbc-decrypt", provider: p.name, size: SIZE, run: () => void p.cbc.decrypt(dec256, data) });
}
// Eight independent 16 KiB CBC chains (TLS 1.1+ records each start from their
// own IV): the WASM core interleaves them in one call; node:crypto does one
// cipher per chain.
const chains = Array.from({ length: 8 }, (_, n) => ({ iv: iv.map((x) => x ^ n), data }));
const wasmKey128 = wasmAesKey(aesKey);
candidates.push({ primitive: "aes128-cbc-encrypt-8-chains", provider: "wasm", size: 8 * SIZE, run: () => void wasmCbcEncryptMany(wasmKey128, chains) });
candidates.push({
  primitive: "aes128-cbc-encrypt-8-chains", provider: "native", size: 8 * SIZE,
  run: () => {
    for (const c of chains) nativeProvider.cbc.encrypt(nativeProvider.cbc.init(aesKey, c.iv), c.data);
  },
});
const rc4 = wasmRc4Init(randomBytes(16));
candidates.push({ primitive: "rc4", provider: "wasm", size: SIZE, run: () => void wasmRc4Process(rc4, data) });
if (nativeRc4Available) {
  const n = nativeRc4Init(randomBytes(16));
  candidates.push({ primitive: "rc4", provider: "native", size: SIZE, run: () => void n.process(data) });
}
const fdata = forge.util.binary.raw.encode(data);
const fkey = forge.util.binary.raw.encode(aesKey);
const fiv = forge.util.binary.raw.encode(iv);
candidates.push({
  primitive: "aes128-cbc-encrypt",
  provider: "forge",
  size: SIZE,
  run: () => {
    const c = forge.cipher.createCipher("AES-CBC", fkey);
    c.start({ iv: fiv });
    c.update(forge.util.createBuffer(fdata));
    // forge's finish(pad) accepts a padding function (its typings omit it):
    // returning true adds none, the data being whole blocks.
    (c.finish as unknown as (pad: () => boolean) => boolean)(() => true);
  },
});
candidates.push({
  primitive: "aes128-cbc-decrypt",
  provider: "forge",
  size: SIZE,
  run: () => {
    const c = forge.cipher.createDecipher("AES-CBC", fkey);
    c.start({ iv: fiv });
    c.update(forge.util.createBuffer(fdata));
    (c.finish as unknown as (unpad: () => boolean) => boolean)(() => true);
  },
});
candidates.push({ primitive: "sha1", provider: "forge", size: SIZE, run: () => void forge.md.sha1.create().update(fdata).digest() });
candidates.push({ primitive: "sha256", provider: "forge", size: SIZE, run: () => void forge.md.sha256.create().update(fdata).digest() });
candidates.push({ primitive: "md5", provider: "forge", size: SIZE, run: () => void forge.md.md5.create().update(fdata).digest() });
candidates.push({
  primitive: "hmac-sha1",
  provider: "forge",
  size: SIZE,
  run: () => {
    const h = forge.hmac.create();
    h.start("sha1", forge.util.binary.raw.encode(macKey));
    h.update(fdata);
    h.digest();
  },
});

// The PRF on handshake-sized inputs: a TLS 1.2 master secret (48 bytes from a
// 48-byte pre-master and 77 bytes of label+randoms) and a TLS 1.0 key block.
// Per-call overhead dominates here, unlike the 16 KiB rows above.
const premaster = randomBytes(48);
const randoms = randomBytes(64);
for (const p of providers) {
  candidates.push({ primitive: "prf-tls12-master-secret", provider: p.name, size: 0, run: () => void p.prf(TLS12, premaster, "master secret", randoms, 48) });
  candidates.push({ primitive: "prf-tls10-key-block", provider: p.name, size: 0, run: () => void p.prf(TLS10, premaster, "key expansion", randoms, 104) });
  candidates.push({ primitive: "hmac-sha1-100B", provider: p.name, size: 100, run: () => void p.hmac("sha1", macKey, data.subarray(0, 100)) });
}

// Whole records: seal + open of a 16 KiB TLS 1.2 record, one call each.
function recordState(cipher: RecordState["cipher"], mac: RecordState["mac"]): RecordState {
  const keyLen = cipher === "aes256-cbc" ? 32 : 16;
  const macLen = mac === "md5" ? 16 : mac === "sha1" ? 20 : 32;
  return { version: TLS12, cipher, mac, encKey: randomBytes(keyLen), macKey: randomBytes(macLen), seq: 0n };
}
// Also a 100-byte record (an HTTP request, a small reply): per-call overhead.
for (const [label, cipher, mac, size] of [
  ["record-aes128-sha1", "aes128-cbc", "sha1", SIZE],
  ["record-rc4-sha1", "rc4-128", "sha1", SIZE],
  ["record-aes128-sha1", "aes128-cbc", "sha1", 100],
] as const) {
  const s = recordState(cipher, mac);
  const fragment = data.subarray(0, size);
  for (const p of providers) {
    const w = p.record.init(s);
    const r = p.record.init(s);
    candidates.push({
      primitive: `${label}-seal+open`,
      provider: p.name,
      size,
      run: () => {
        const rec = p.record.seal(w, 23, TLS12, fragment);
        const res = p.record.open(r, 23, TLS12, rec.subarray(5));
        if (!res.ok) throw new Error(`${p.name} ${label}: ${res.description}`);
      },
    });
  }
}

const selected = args.only ? candidates.filter((c) => c.primitive.includes(args.only!)) : candidates;
const measured = measure(selected, { repeats: args.repeats, ms: args.ms, reference: "native" });
// The design card's bar for the WASM core is ≥ 10× node-forge: give each wasm
// row its ratio to the forge row of the same primitive and size, if any.
const results = measured.map((r) => {
  const forgeRow = measured.find((o) => o.provider === "forge" && o.primitive === r.primitive && o.size === r.size);
  return r.provider === "wasm" && forgeRow ? { ...r, ratioVsForge: Math.round((r.opsPerSec / forgeRow.opsPerSec) * 1000) / 1000 } : r;
});
printTable(results);
if (args.json) {
  writeJson(args.json, { machine: machine(), repeats: args.repeats, msPerSample: args.ms, results });
  console.log(`\nwrote ${args.json}`);
}
