// A FIFO of byte chunks, shared by the record deframer and the handshake
// reassembler: both receive bytes split arbitrarily and cut them at
// boundaries that length fields announce. Pushed chunks are kept as they are
// (no copy); bytes taken out come back as fresh copies. Consumed chunks are
// dropped by advancing an index (not Array.shift, which would make a peer
// sending one byte per segment cost quadratic time).

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk. */
  private first = 0;
  /** Read offset into chunks[first]. */
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Copies the first min(n, length) bytes without consuming them. */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.size));
    let filled = 0;
    let offset = this.head;
    for (let i = this.first; filled < out.length; i++) {
      const chunk = this.chunks[i]!;
      const part = chunk.subarray(offset, offset + (out.length - filled));
      out.set(part, filled);
      filled += part.length;
      offset = 0;
    }
    return out;
  }

  /** Removes and returns (as a copy) the first n bytes; n must not exceed length. */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  /** Drops the first n bytes; n must not exceed length. */
  skip(n: number): void {
    if (n > this.size) throw new RangeError(`skip(${n}) past ${this.size} queued bytes`);
    this.size -= n;
    while (n > 0) {
      const available = this.chunks[this.first]!.length - this.head;
      if (n < available) {
        this.head += n;
        break;
      }
      n -= available;
      this.first++;
      this.head = 0;
    }
    if (this.first > 32 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
