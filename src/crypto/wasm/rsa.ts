// Typed glue over rsa.wasm: RSA private/public operations, the fused TLS
// pre-master decryption, and the constant-time RFC 5246 §7.4.7.1 unpadding.
//
// A key is prepared once into a flat block (assembly/rsa-core.ts) that this
// module keeps as bytes, cached per key object in a WeakMap. The block of the
// key last used stays resident at the start of scratch; switching keys copies
// the outgoing key's mutable front (its blinding state) back and the incoming
// block in. Inputs and outputs go through fixed scratch offsets (STYLE.md §10).
import { randomFillSync } from "node:crypto";
import type { RsaPrivateKey, RsaPublicKey } from "../types.js";
import { loadCore } from "./load.js";

interface RsaExports {
  rsaPrepare(blk: number, desc: number, isPrivate: number): number;
  rsaMutableLength(blk: number): number;
  rsaModulusBytes(blk: number): number;
  rsaBlindingDue(blk: number): number;
  rsaBlindingRefresh(blk: number, rnd: number): number;
  rsaPrivate(blk: number, inp: number, outp: number): number;
  rsaPublic(blk: number, inp: number, outp: number): number;
  tlsPremasterUnpad(block: number, k: number, clientVersion: number, random46: number, out48: number): void;
  rsaDecryptPremaster(blk: number, ct: number, clientVersion: number, random46: number, out48: number): number;
}

// Result codes of assembly/rsa-core.ts.
const RSA_OK = 0;
const RSA_ERR_RANGE = -1;
const RSA_ERR_FAULT = -2;
const RSA_ERR_BLINDING = -3;
const RSA_ERR_KEY = -4;

/** The largest modulus the core takes (4096 bits). */
const MAX_MODULUS_BYTES = 512;

// Scratch layout (offsets from the scratch start).
const BLOCK = 0; // resident key block, < 8 KiB for 4096-bit keys
const BLOCK_MAX = 16 * 1024;
const DESC = BLOCK_MAX; // 7 (ptr, len) pairs for rsaPrepare
const KEYDATA = DESC + 64; // key integers for rsaPrepare, 7 slots of 512
const IN = KEYDATA + 7 * MAX_MODULUS_BYTES;
const OUT = IN + MAX_MODULUS_BYTES;
const RND = OUT + MAX_MODULUS_BYTES;
const R46 = RND + MAX_MODULUS_BYTES;
const OUT48 = R46 + 64;
const SCRATCH_USED = OUT48 + 64;

export type RsaErrorReason = "input-range" | "fault" | "key" | "blinding";

/** An RSA operation refused its input or detected a fault; no result is released. */
export class RsaError extends Error {
  override readonly name = "RsaError";
  constructor(
    readonly reason: RsaErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export const rsaInputRangeError = (what: string) =>
  new RsaError("input-range", `${what} representative out of range (RFC 8017 §5.1: must be < n)`);
export const rsaFaultError = () =>
  new RsaError("fault", "RSA private operation failed its fault check (result^e != input); result withheld");
export const rsaKeyError = (why: string) => new RsaError("key", `RSA key rejected: ${why}`);

function errorFor(rc: number, what: string): RsaError {
  switch (rc) {
    case RSA_ERR_RANGE:
      return rsaInputRangeError(what);
    case RSA_ERR_FAULT:
      return rsaFaultError();
    case RSA_ERR_BLINDING:
      return new RsaError("blinding", "no usable blinding value (r = 0 or not invertible mod n)");
    case RSA_ERR_KEY:
      return rsaKeyError("not a usable private key block");
    default:
      return new RsaError("key", `unexpected rsa.wasm result ${rc}`);
  }
}

interface PreparedKey {
  readonly block: Uint8Array;
  readonly nBytes: number;
  readonly mutableLength: number;
}

let core: ReturnType<typeof loadCore<RsaExports>> | undefined;
let resident: PreparedKey | undefined;
const privateKeys = new WeakMap<RsaPrivateKey, PreparedKey>();
const publicKeys = new WeakMap<RsaPublicKey, PreparedKey>();

function getCore() {
  if (!core) {
    core = loadCore<RsaExports>("rsa");
    if (core.scratchSize < SCRATCH_USED) throw new Error("rsa.wasm scratch region too small");
  }
  return core;
}

function prepare(fields: readonly Uint8Array[], isPrivate: boolean): PreparedKey {
  const c = getCore();
  const base = c.scratch;
  const view = new DataView(c.memory.buffer);
  for (let i = 0; i < 7; i++) {
    const f = fields[i] ?? new Uint8Array(0);
    if (f.length > MAX_MODULUS_BYTES) throw rsaKeyError("integer longer than 4096 bits");
    const at = base + KEYDATA + i * MAX_MODULUS_BYTES;
    c.heap.set(f, at);
    view.setUint32(base + DESC + 8 * i, at, true);
    view.setUint32(base + DESC + 8 * i + 4, f.length, true);
  }
  // Preparing overwrites the resident block: save its state first.
  evict();
  const len = c.exports.rsaPrepare(base + BLOCK, base + DESC, isPrivate ? 1 : 0);
  c.heap.fill(0, base + KEYDATA, base + KEYDATA + 7 * MAX_MODULUS_BYTES);
  if (len < 0) {
    c.heap.fill(0, base + BLOCK, base + BLOCK_MAX);
    throw rsaKeyError("bad sizes, even modulus or primes, or p*q != n");
  }
  const pk: PreparedKey = {
    block: c.heap.slice(base + BLOCK, base + BLOCK + len),
    nBytes: c.exports.rsaModulusBytes(base + BLOCK),
    mutableLength: c.exports.rsaMutableLength(base + BLOCK),
  };
  resident = pk;
  return pk;
}

/** Copies the resident key's blinding state back into its block. */
function evict(): void {
  if (!resident) return;
  const c = getCore();
  resident.block.set(c.heap.subarray(c.scratch + BLOCK, c.scratch + BLOCK + resident.mutableLength));
  resident = undefined;
}

function activate(pk: PreparedKey): void {
  if (resident === pk) return;
  evict();
  getCore().heap.set(pk.block, getCore().scratch + BLOCK);
  resident = pk;
}

function preparedPrivate(key: RsaPrivateKey): PreparedKey {
  let pk = privateKeys.get(key);
  if (!pk) {
    pk = prepare([key.n, key.e, key.p, key.q, key.dp, key.dq, key.qinv], true);
    privateKeys.set(key, pk);
  }
  return pk;
}

function preparedPublic(key: RsaPublicKey): PreparedKey {
  let pk = publicKeys.get(key);
  if (!pk) {
    pk = prepare([key.n, key.e], false);
    publicKeys.set(key, pk);
  }
  return pk;
}

/** Writes input left-padded to k bytes at IN. */
function putInput(input: Uint8Array, k: number, what: string): void {
  const c = getCore();
  let start = 0;
  // Leading zero bytes beyond k are harmless (I2OSP of a smaller integer).
  while (input.length - start > k && input[start] === 0) start++;
  if (input.length - start > k) throw rsaInputRangeError(what);
  const src = input.subarray(start);
  const at = c.scratch + IN;
  c.heap.fill(0, at, at + k - src.length);
  c.heap.set(src, at + k - src.length);
}

/** Sets up a new blinding pair when due, or when the caller supplies r. */
function blind(pk: PreparedKey, blindingRandom: Uint8Array | undefined): void {
  const c = getCore();
  const blk = c.scratch + BLOCK;
  if (!blindingRandom && c.exports.rsaBlindingDue(blk) === 0) return;
  const rnd = c.heap.subarray(c.scratch + RND, c.scratch + RND + pk.nBytes);
  if (blindingRandom) {
    if (blindingRandom.length !== pk.nBytes) throw new RangeError(`blinding random must be ${pk.nBytes} bytes`);
    rnd.set(blindingRandom);
    const rc = c.exports.rsaBlindingRefresh(blk, c.scratch + RND);
    rnd.fill(0);
    if (rc !== RSA_OK) throw errorFor(rc, "blinding");
    return;
  }
  // A random r that is not invertible mod n is only plausible for toy
  // moduli: draw again. Repeated failure means r * r^-1 != 1 for every r,
  // i.e. the CRT inverse is broken (corrupted p, q or qinv): a fault.
  for (let attempt = 0; ; attempt++) {
    randomFillSync(rnd);
    const rc = c.exports.rsaBlindingRefresh(blk, c.scratch + RND);
    rnd.fill(0);
    if (rc === RSA_OK) return;
    if (rc !== RSA_ERR_BLINDING) throw errorFor(rc, "blinding");
    if (attempt === 3) throw rsaFaultError();
  }
}

/**
 * RSADP with CRT (RFC 8017 §5.1.2): returns input^d mod n as k big-endian
 * bytes. Blinded; the result is checked by re-encryption before release.
 * `blindingRandom` (k bytes) forces a fresh blinding value, for tests.
 */
export function wasmRsaPrivate(key: RsaPrivateKey, input: Uint8Array, blindingRandom?: Uint8Array): Uint8Array {
  const pk = preparedPrivate(key);
  const c = getCore();
  activate(pk);
  putInput(input, pk.nBytes, "ciphertext");
  blind(pk, blindingRandom);
  const rc = c.exports.rsaPrivate(c.scratch + BLOCK, c.scratch + IN, c.scratch + OUT);
  if (rc !== RSA_OK) throw errorFor(rc, "ciphertext");
  const out = c.heap.slice(c.scratch + OUT, c.scratch + OUT + pk.nBytes);
  c.heap.fill(0, c.scratch + OUT, c.scratch + OUT + pk.nBytes);
  return out;
}

/** RSAEP (RFC 8017 §5.1.1): input^e mod n as k big-endian bytes. */
export function wasmRsaPublic(key: RsaPublicKey, input: Uint8Array): Uint8Array {
  const pk = preparedPublic(key);
  const c = getCore();
  activate(pk);
  putInput(input, pk.nBytes, "message");
  const rc = c.exports.rsaPublic(c.scratch + BLOCK, c.scratch + IN, c.scratch + OUT);
  if (rc !== RSA_OK) throw errorFor(rc, "message");
  return c.heap.slice(c.scratch + OUT, c.scratch + OUT + pk.nBytes);
}

function putRandom46(random46: Uint8Array): void {
  if (random46.length !== 46) throw new RangeError("random46 must be 46 bytes");
  const c = getCore();
  c.heap.set(random46, c.scratch + R46);
}

/**
 * TLS RSA key exchange, server side (RFC 5246 §7.4.7.1): decrypts the
 * EncryptedPreMasterSecret and returns the 48-byte pre-master, which is
 * `clientVersion || random46` whenever the padding, the length or the
 * version is wrong, without revealing which. Throws only on a fault-check
 * failure (a hardware or key-corruption problem, not the peer's input).
 */
export function wasmRsaDecryptPremaster(
  key: RsaPrivateKey,
  ciphertext: Uint8Array,
  clientVersion: number,
  random46: Uint8Array,
): Uint8Array {
  const pk = preparedPrivate(key);
  const c = getCore();
  activate(pk);
  putRandom46(random46);
  // A ciphertext longer than k is public malformation; like any other it
  // yields the random pre-master (RFC 5246 §7.4.7.1: no distinct failure).
  const at = c.scratch + IN;
  if (ciphertext.length > pk.nBytes) c.heap.fill(0xff, at, at + pk.nBytes);
  else putInput(ciphertext, pk.nBytes, "ciphertext");
  blind(pk, undefined);
  const rc = c.exports.rsaDecryptPremaster(c.scratch + BLOCK, at, clientVersion & 0xffff, c.scratch + R46, c.scratch + OUT48);
  if (rc !== RSA_OK) throw errorFor(rc, "ciphertext");
  const out = c.heap.slice(c.scratch + OUT48, c.scratch + OUT48 + 48);
  c.heap.fill(0, c.scratch + OUT48, c.scratch + OUT48 + 48);
  return out;
}

/**
 * Constant-time RFC 5246 §7.4.7.1 unpadding of an already decrypted k-byte
 * block (used by the native provider, whose node:crypto refuses PKCS#1 v1.5
 * decryption). Always 48 bytes.
 */
export function tlsPremasterUnpad(block: Uint8Array, clientVersion: number, random46: Uint8Array): Uint8Array {
  if (block.length > MAX_MODULUS_BYTES) throw new RangeError("block longer than a 4096-bit modulus");
  const c = getCore();
  putRandom46(random46);
  c.heap.set(block, c.scratch + IN);
  c.exports.tlsPremasterUnpad(c.scratch + IN, block.length, clientVersion & 0xffff, c.scratch + R46, c.scratch + OUT48);
  c.heap.fill(0, c.scratch + IN, c.scratch + IN + block.length);
  const out = c.heap.slice(c.scratch + OUT48, c.scratch + OUT48 + 48);
  c.heap.fill(0, c.scratch + OUT48, c.scratch + OUT48 + 48);
  return out;
}
