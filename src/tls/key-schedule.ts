// From the pre-master secret to record keys and Finished values.
//
//   pre_master_secret --(§8.1 / RFC 7627 §4)--> master_secret
//   master_secret --(§6.3 key expansion)--> key block --> two RecordStates
//   master_secret + Hash(handshake_messages) --(§7.4.9)--> verify_data
//
// All derivations go through the provider's PRF, which already picks
// P_SHA256 for TLS 1.2 and P_MD5 ⊕ P_SHA-1 for TLS 1.0/1.1 (RFC 5246 §5,
// RFC 2246 §5). Every suite we implement uses the SHA-256 PRF in TLS 1.2
// (CipherSuite.prfHash); a SHA-384 suite would need the hash passed down.
import type { CryptoProvider } from "../crypto/provider.js";
import type { RecordState } from "../crypto/record.js";
import type { RecordVersion } from "../crypto/types.js";
import { keyBlockIvLength, TLS_VERIFY_DATA_LENGTH, type CipherSuite } from "./codec/index.js";
import { concatBytes } from "../bytes.js";

export const MASTER_SECRET_LENGTH = 48;

type Prf = Pick<CryptoProvider, "prf">;

/**
 * RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret",
 * ClientHello.random + ServerHello.random)[0..47].
 */
export function masterSecret(p: Prf, version: number, premaster: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): Uint8Array {
  return p.prf(version, premaster, "master secret", concatBytes(clientRandom, serverRandom), MASTER_SECRET_LENGTH);
}

/**
 * RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master
 * secret", session_hash)[0..47], where session_hash (§3) is the handshake
 * hash through ClientKeyExchange - binding the secret to the whole handshake
 * (certificate included) instead of the two randoms.
 */
export function extendedMasterSecret(p: Prf, version: number, premaster: Uint8Array, sessionHash: Uint8Array): Uint8Array {
  return p.prf(version, premaster, "extended master secret", sessionHash, MASTER_SECRET_LENGTH);
}

export interface KeyBlock {
  readonly clientMacKey: Uint8Array;
  readonly serverMacKey: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly serverKey: Uint8Array;
  /** TLS 1.0 CBC only (RFC 2246 §6.3); empty otherwise. */
  readonly clientIv: Uint8Array;
  readonly serverIv: Uint8Array;
}

/**
 * RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion",
 * server_random + client_random), cut in this order: client MAC key, server
 * MAC key, client key, server key, client IV, server IV. IVs are taken only
 * where the version uses them (keyBlockIvLength: TLS 1.0 CBC).
 */
export function keyBlock(p: Prf, version: number, suite: CipherSuite, master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): KeyBlock {
  const mac = suite.macLength;
  const key = suite.keyLength;
  const iv = keyBlockIvLength(suite, version);
  const block = p.prf(version, master, "key expansion", concatBytes(serverRandom, clientRandom), 2 * (mac + key + iv));
  let at = 0;
  const take = (n: number) => block.slice(at, (at += n));
  const clientMacKey = take(mac);
  const serverMacKey = take(mac);
  const clientKey = take(key);
  const serverKey = take(key);
  const clientIv = take(iv);
  const serverIv = take(iv);
  block.fill(0);
  return { clientMacKey, serverMacKey, clientKey, serverKey, clientIv, serverIv };
}

/** The initial (sequence number 0) record state of one direction (RFC 5246 §6.1). */
export function initialRecordState(version: number, suite: CipherSuite, kb: KeyBlock, side: "client" | "server"): RecordState {
  const client = side === "client";
  const iv = client ? kb.clientIv : kb.serverIv;
  return {
    version: version as RecordVersion,
    cipher: suite.cipher,
    mac: suite.mac,
    encKey: client ? kb.clientKey : kb.serverKey,
    macKey: client ? kb.clientMacKey : kb.serverMacKey,
    seq: 0n,
    ...(iv.length > 0 && { cbcResidue: iv }),
  };
}

export type FinishedLabel = "client finished" | "server finished";

/**
 * RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label,
 * Hash(handshake_messages))[0..verify_data_length-1]; handshakeHash is
 * Transcript.digest() (MD5 ‖ SHA-1 before TLS 1.2).
 */
export function verifyData(p: Prf, version: number, master: Uint8Array, label: FinishedLabel, handshakeHash: Uint8Array): Uint8Array {
  return p.prf(version, master, label, handshakeHash, TLS_VERIFY_DATA_LENGTH);
}

/** Constant-time equality for secrets of public length (Finished values). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
