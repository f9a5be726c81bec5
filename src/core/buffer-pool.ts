/**
 * Read buffers for sockets read with `onread`: a read lands in a pooled buffer
 * the connection borrowed instead of a fresh 64 KiB allocation per read (what
 * Node's default read path does). Used by the L4 relay (two per connection,
 * one per direction) and the HTTP proxy (one per client and upstream socket).
 * 16 KiB is HAProxy's default tune.bufsize.
 */
export const READ_BUFFER_SIZE = 16 * 1024;

export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #size: number;
  readonly #maxFree: number;

  /** `maxFree` bounds what an idle pool keeps: buffers given back beyond it are left to the GC. */
  constructor(size = READ_BUFFER_SIZE, maxFree = 1024) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  get freeCount(): number {
    return this.#free.length;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size);
  }

  /** Only once no pending write can still point into the buffer (e.g. both sockets closed). */
  give(buf: Buffer): void {
    if (this.#free.length < this.#maxFree && buf.length === this.#size) this.#free.push(buf);
  }
}
