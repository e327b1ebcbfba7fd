// The send buffer: bytes written by the application and not yet
// acknowledged by the peer, addressed by offset from the oldest one. Chunks
// are kept as written; slices copy only when a segment spans chunks.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes already trimmed from chunks[0]
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.len += bytes.length;
  }

  /** Drop the first n bytes (n ≤ length). */
  trim(n: number): void {
    if (n < 0 || n > this.len) throw new RangeError(`trim ${n} of ${this.len}`);
    this.len -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Copy of bytes [offset, offset + n). */
  slice(offset: number, n: number): Uint8Array {
    if (offset < 0 || n < 0 || offset + n > this.len) throw new RangeError(`slice ${offset}+${n} of ${this.len}`);
    const out = new Uint8Array(n);
    let skip = offset + this.head;
    let filled = 0;
    for (const c of this.chunks) {
      if (filled === n) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, n - filled);
      out.set(c.subarray(skip, skip + take), filled);
      filled += take;
      skip = 0;
    }
    return out;
  }
}
