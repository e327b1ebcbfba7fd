// Record protection that picks a provider per record by its size: a fixed
// cost per call dominates small records and bytes dominate large ones, and
// the two providers cross over near 2 KiB here. Seal + open of one AES128-SHA
// TLS 1.2 record, µs of CPU (process.cpuUsage over a loop per size, medians
// of 3, both providers in one process, this 2-core EPYC; bench/record-micro.ts
// covers 16 KiB only): 100 B wasm 4.9 / node:crypto 18.8; 1 KiB 17.7 / 26.2;
// 2 KiB 28.2 / 28.1; 16 KiB 193 / 60. A handshake's records (Finished, a
// request, a short reply, close_notify) are all small; a download's are 16 KiB.
// In a handshake: `node dist/bench/relay-handshake.js --compare-records`.
//
// Both providers make the same bytes from the same portable RecordState
// (src/crypto/record.ts: deterministic IV and padding, law 0), so switching
// is an export from one and an import into the other, at the record where
// the size crosses the threshold. Only CBC suites switch: an RC4 import
// re-runs the keystream from its last base (up to RC4_BASE_INTERVAL bytes),
// so RC4 stays with the large-record provider, as does "null".
import type { OpenResult, RecordProvider, RecordState } from "./record.js";

/** The live state: which provider holds the direction now, and its state. */
export interface SizedRecordState {
  small: boolean;
  inner: unknown;
  readonly switchable: boolean;
}

export function sizedRecordProvider(
  small: RecordProvider<unknown>,
  large: RecordProvider<unknown>,
  threshold: number,
): RecordProvider<SizedRecordState> {
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`sized record provider: threshold must be a positive integer, got ${threshold}`);
  const provider = (st: SizedRecordState) => (st.small ? small : large);
  /** The provider for a record of `len` bytes, moving the state over if it is the other one. */
  const forLength = (st: SizedRecordState, len: number): RecordProvider<unknown> => {
    const wantSmall = st.switchable && len < threshold;
    if (wantSmall !== st.small) {
      st.inner = (wantSmall ? small : large).init(provider(st).exportState(st.inner));
      st.small = wantSmall;
    }
    return provider(st);
  };
  return {
    name: `sized(${small.name} below ${threshold} bytes, else ${large.name})`,
    init(state: RecordState): SizedRecordState {
      const switchable = state.cipher === "aes128-cbc" || state.cipher === "aes256-cbc";
      return { small: switchable, inner: (switchable ? small : large).init(state), switchable };
    },
    seal: (st, contentType, version, fragment) => forLength(st, fragment.length).seal(st.inner, contentType, version, fragment),
    open: (st, contentType, version, body): OpenResult => forLength(st, body.length).open(st.inner, contentType, version, body),
    exportState: (st) => provider(st).exportState(st.inner),
  };
}
