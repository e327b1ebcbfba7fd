// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Every sequence
// number in the engine and in its checkpoints is an absolute 32-bit value
// (SSLACC §4.8, figure 13: never a delta against some earlier state); these
// helpers compare and advance them across the wrap.

/** a + n mod 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The signed distance b - a, in [-2^31, 2^31). */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return seqDiff(b, a) > 0;
}

export function seqLeq(a: number, b: number): boolean {
  return seqDiff(b, a) >= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGeq(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}

export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}
