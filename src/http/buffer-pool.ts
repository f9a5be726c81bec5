/**
 * Read buffers for sockets read with `onread`: a read lands in the connection's
 * buffer instead of a fresh 64 KiB allocation per read (what Node's default read
 * path does), as the L4 relay learned. 16 KiB is HAProxy's default tune.bufsize.
 */
export const READ_BUFFER_SIZE = 16 * 1024;

export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #size: number;
  readonly #maxFree: number;

  constructor(size = READ_BUFFER_SIZE, maxFree = 2048) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  get freeCount(): number {
    return this.#free.length;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size);
  }

  /** Only when no pending write still points into the buffer. */
  give(buf: Buffer): void {
    if (this.#free.length < this.#maxFree && buf.length === this.#size) this.#free.push(buf);
  }
}
