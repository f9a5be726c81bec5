/**
 * Read buffers for the TCP relay. Each proxied connection borrows two (one per
 * direction) and reads straight into them (`onread`), so a chunk costs no
 * allocation: Node's default read path allocates a fresh 64 KiB buffer per read.
 * 16 KiB per direction is HAProxy's default `tune.bufsize`.
 */
export const RELAY_BUFFER_SIZE = 16 * 1024;

export class RelayBufferPool {
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;
  readonly #size: number;

  constructor(size = RELAY_BUFFER_SIZE, maxFree = 1024) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  get freeCount(): number {
    return this.#free.length;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size);
  }

  /** Only once no pending write can still point into the buffer (both sockets closed). */
  give(buf: Buffer): void {
    if (this.#free.length < this.#maxFree) this.#free.push(buf);
  }
}
