// The provider record (STYLE.md §5): everything the TLS engine needs from
// crypto, as plain functions. The engine is handed one record and never
// imports the WASM core or node:crypto itself, so providers are
// interchangeable in tests and benches.
//
// Two complete providers exist — `wasm` (our AssemblyScript core) and
// `native` (node:crypto/OpenSSL) — and `composeProvider` picks per primitive.
// `defaultProvider` is the per-primitive choice the crypto bench showed is
// faster on this machine (see DEFAULT_CHOICE).
//
// Streaming hashes with exportable state (the handshake hash a checkpoint
// carries) exist only in the WASM core: node:crypto cannot export a hash's
// chaining value. They are therefore not a per-provider choice (`hashState`).
import type { HashAlg, RsaPrivateKey, RsaPublicKey } from "./types.js";
import type { RecordProvider } from "./record.js";
import { wasmRsaDecryptPremaster, wasmRsaPrivate, wasmRsaPublic } from "./wasm/rsa.js";
import { nativeRsaDecryptPremaster, nativeRsaPrivate, nativeRsaPublic } from "./native/rsa.js";
import {
  exportHashState,
  importHashState,
  wasmHash,
  wasmHashDigest,
  wasmHashInit,
  wasmHashUpdate,
  wasmHmac,
  wasmPrf,
} from "./wasm/hash.js";
import { nativeHash, nativeHmac, nativePrf } from "./native/hash.js";
import { wasmCbcDecrypt, wasmCbcEncrypt, wasmCbcExport, wasmCbcImport, wasmCbcInit } from "./wasm/cipher.js";
import { nativeCbcDecrypt, nativeCbcEncrypt, nativeCbcExport, nativeCbcImport, nativeCbcInit } from "./native/cipher.js";
import { wasmRecordProvider } from "./wasm/record.js";
import { nativeRecordProvider } from "./native/record.js";
import { sizedRecordProvider } from "./sized-record.js";

export type ProviderName = "wasm" | "native";

/** AES-CBC with the chaining value as state: `{key, residue}` is what a checkpoint carries. */
export interface CbcOps<S> {
  init(key: Uint8Array, iv: Uint8Array): S;
  encrypt(state: S, data: Uint8Array): Uint8Array;
  decrypt(state: S, data: Uint8Array): Uint8Array;
  exportState(state: S): { key: Uint8Array; residue: Uint8Array };
  importState(snapshot: { key: Uint8Array; residue: Uint8Array }): S;
}

export interface CryptoProvider {
  readonly name: string;
  /** Raw RSA private operation, k bytes big-endian (blinded, result checked). */
  readonly rsaPrivate: (key: RsaPrivateKey, input: Uint8Array) => Uint8Array;
  /** Raw RSA public operation, k bytes big-endian. */
  readonly rsaPublic: (key: RsaPublicKey, input: Uint8Array) => Uint8Array;
  /** ClientKeyExchange → 48-byte pre-master secret, RFC 5246 §7.4.7.1 (never fails visibly). */
  readonly rsaDecryptPremaster: (key: RsaPrivateKey, ciphertext: Uint8Array, clientVersion: number, random46: Uint8Array) => Uint8Array;
  readonly hash: (alg: HashAlg, data: Uint8Array) => Uint8Array;
  readonly hmac: (alg: HashAlg, key: Uint8Array, data: Uint8Array) => Uint8Array;
  /** TLS PRF: SHA-256 for TLS 1.2, MD5⊕SHA-1 for TLS 1.0/1.1. */
  readonly prf: (version: number, secret: Uint8Array, label: string | Uint8Array, seed: Uint8Array, length: number) => Uint8Array;
  readonly cbc: CbcOps<unknown>;
  /** Whole-record seal/open for CBC and RC4 suites. */
  readonly record: RecordProvider<unknown>;
}

export const wasmProvider: CryptoProvider = {
  name: "wasm",
  rsaPrivate: (key, input) => wasmRsaPrivate(key, input),
  rsaPublic: wasmRsaPublic,
  rsaDecryptPremaster: wasmRsaDecryptPremaster,
  hash: wasmHash,
  hmac: wasmHmac,
  prf: wasmPrf,
  cbc: {
    init: wasmCbcInit,
    encrypt: wasmCbcEncrypt,
    decrypt: wasmCbcDecrypt,
    exportState: wasmCbcExport,
    importState: wasmCbcImport,
  } as CbcOps<unknown>,
  record: wasmRecordProvider as RecordProvider<unknown>,
};

export const nativeProvider: CryptoProvider = {
  name: "native",
  rsaPrivate: nativeRsaPrivate,
  rsaPublic: nativeRsaPublic,
  rsaDecryptPremaster: nativeRsaDecryptPremaster,
  hash: nativeHash,
  hmac: nativeHmac,
  prf: nativePrf,
  cbc: {
    init: nativeCbcInit,
    encrypt: nativeCbcEncrypt,
    decrypt: nativeCbcDecrypt,
    exportState: nativeCbcExport,
    importState: nativeCbcImport,
  } as CbcOps<unknown>,
  record: nativeRecordProvider as RecordProvider<unknown>,
};

export const PROVIDERS: Readonly<Record<ProviderName, CryptoProvider>> = { wasm: wasmProvider, native: nativeProvider };

/** The primitives a provider record is made of, each chosen independently. */
export type Primitive = "rsa" | "hash" | "hmac" | "prf" | "cbc" | "record";
/** Records may also be "sized": wasm below SIZED_RECORD_THRESHOLD bytes, native from there (src/crypto/sized-record.ts). */
export type ProviderChoice = Readonly<Record<Exclude<Primitive, "record">, ProviderName> & { record: ProviderName | "sized" }>;

/** Where wasm and node:crypto records cost the same here (src/crypto/sized-record.ts). */
export const SIZED_RECORD_THRESHOLD = 2048;

const sizedRecords = sizedRecordProvider(
  wasmRecordProvider as RecordProvider<unknown>, nativeRecordProvider as RecordProvider<unknown>, SIZED_RECORD_THRESHOLD,
) as RecordProvider<unknown>;

/**
 * Which provider is faster per primitive on this machine (AMD EPYC, 2 vCPUs,
 * Node 20 / OpenSSL 3.0 with AVX-512 IFMA, AES-NI and SHA-NI), medians of
 * `npm run bench:crypto -- --repeats 3`, wasm ÷ native in the same run:
 */
export const DEFAULT_CHOICE: ProviderChoice = {
  // RSA-2048 private 0.18× (OpenSSL's IFMA path), public 0.64×.
  rsa: "native",
  // 16 KiB: SHA-1 0.45×, SHA-256 0.30× (SHA-NI), MD5 0.88×.
  hash: "native",
  // 16 KiB HMAC-SHA1 0.50×; on 100 bytes wasm is 3.2× (no per-call
  // node:crypto object), so callers hashing many small messages may prefer wasm.
  hmac: "native",
  // Handshake-sized PRF calls: TLS 1.2 master secret 2.8×, TLS 1.0 key block 6.5×.
  prf: "wasm",
  // AES-128-CBC 16 KiB: encrypt 0.21×, decrypt 0.20× (AES-NI).
  cbc: "native",
  // 16 KiB AES128-SHA record seal+open 0.26×, RC4-SHA 0.75×; a 100-byte
  // record is 3.7× with wasm: CBC records below 2 KiB go to wasm (a handshake's
  // Finished, requests, short replies), larger ones to node:crypto.
  record: "sized",
};

/** A provider record taking each primitive from the provider named in `choice`. */
export function composeProvider(choice: Partial<ProviderChoice> = {}): CryptoProvider {
  const c: ProviderChoice = { ...DEFAULT_CHOICE, ...choice };
  for (const [primitive, name] of Object.entries(c)) {
    if (primitive === "record" && name === "sized") continue;
    if (!(name in PROVIDERS)) {
      throw new RangeError(`crypto provider for ${primitive}: expected wasm or native${primitive === "record" ? " or sized" : ""}, got ${JSON.stringify(name)}`);
    }
  }
  const rsa = PROVIDERS[c.rsa];
  return {
    name: Object.values(c).every((n) => n === c.rsa) ? c.rsa : `mixed(${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(",")})`,
    rsaPrivate: rsa.rsaPrivate,
    rsaPublic: rsa.rsaPublic,
    rsaDecryptPremaster: rsa.rsaDecryptPremaster,
    hash: PROVIDERS[c.hash].hash,
    hmac: PROVIDERS[c.hmac].hmac,
    prf: PROVIDERS[c.prf].prf,
    cbc: PROVIDERS[c.cbc].cbc,
    record: c.record === "sized" ? sizedRecords : PROVIDERS[c.record].record,
  };
}

export const defaultProvider: CryptoProvider = composeProvider();

/**
 * Streaming hashes whose state is a flat block (chaining value, byte count,
 * partial block): export is a copy, import is a copy (STYLE.md §6). The
 * handshake hash lives here so a checkpoint can carry it.
 */
export const hashState = {
  init: wasmHashInit,
  update: wasmHashUpdate,
  digest: wasmHashDigest,
  exportState: exportHashState,
  importState: importHashState,
} as const;
