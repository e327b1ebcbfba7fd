// The handshake hash (RFC 5246 §7.4.9 handshake_messages) as exportable
// streaming hash states, so a checkpoint carries a few hundred bytes of hash
// state rather than the transcript itself (DESIGN.md "Checkpoints", SSLACC
// §5.1: "the current value of the SSL handshake hashes").
//
// TLS 1.2 with our suites hashes with SHA-256 (the PRF hash, RFC 5246
// §7.4.9); TLS 1.0/1.1 keep MD5 and SHA-1 side by side and use MD5 ‖ SHA-1
// (RFC 2246 §7.4.9, 36 bytes). The engine feeds every handshake message's
// raw bytes (header included) except HelloRequest (RFC 5246 §7.4.1.1).
import { hashState } from "../crypto/provider.js";
import type { HashAlg } from "../crypto/types.js";
import { ProtocolVersion } from "./codec/index.js";
import { concatBytes } from "../bytes.js";

/** Which hashes a version's transcript keeps. */
export function transcriptHashes(version: number): readonly HashAlg[] {
  return version >= ProtocolVersion.TLS12 ? ["sha256"] : ["md5", "sha1"];
}

export class Transcript {
  private constructor(
    readonly version: number,
    private readonly algs: readonly HashAlg[],
    private readonly states: Uint8Array[],
  ) {}

  static create(version: number): Transcript {
    const algs = transcriptHashes(version);
    return new Transcript(version, algs, algs.map((a) => hashState.init(a)));
  }

  /** Continues from `exportState()` bytes (a checkpoint's transcript field). */
  static import(version: number, bytes: Uint8Array): Transcript {
    const algs = transcriptHashes(version);
    const states: Uint8Array[] = [];
    let at = 0;
    for (const a of algs) {
      const len = hashState.init(a).length;
      if (at + len > bytes.length) throw new RangeError(`transcript state for ${a} truncated`);
      states.push(hashState.importState(a, bytes.subarray(at, at + len)));
      at += len;
    }
    if (at !== bytes.length) throw new RangeError(`transcript state has ${bytes.length - at} trailing bytes`);
    return new Transcript(version, algs, states);
  }

  update(raw: Uint8Array): void {
    for (let i = 0; i < this.algs.length; i++) hashState.update(this.algs[i]!, this.states[i]!, raw);
  }

  /**
   * Hash(handshake_messages) so far; the state goes on. TLS 1.0/1.1: MD5 ‖
   * SHA-1 (RFC 2246 §7.4.9, and RFC 7627 §3 session_hash); TLS 1.2: SHA-256.
   */
  digest(): Uint8Array {
    const parts = this.algs.map((a, i) => hashState.digest(a, this.states[i]!));
    return parts.length === 1 ? parts[0]! : concatBytes(...parts);
  }

  /** The flat hash states, concatenated in `transcriptHashes` order. */
  exportState(): Uint8Array {
    const parts = this.algs.map((a, i) => hashState.exportState(a, this.states[i]!));
    return concatBytes(...parts);
  }
}
