// A connection's identity: the 4-tuple, always seen from our side.

export interface FourTuple {
  readonly localAddr: number;
  readonly localPort: number;
  readonly remoteAddr: number;
  readonly remotePort: number;
}

/** 12 bytes: local addr, local port, remote addr, remote port, big-endian. */
export function tupleBytes(t: FourTuple): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, t.localAddr >>> 0);
  v.setUint16(4, t.localPort);
  v.setUint32(6, t.remoteAddr >>> 0);
  v.setUint16(10, t.remotePort);
  return b;
}

/** A map key for the tuple. */
export function tupleKey(t: FourTuple): string {
  return `${t.localAddr >>> 0}:${t.localPort}-${t.remoteAddr >>> 0}:${t.remotePort}`;
}
