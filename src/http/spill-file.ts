import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HastackError } from '../core/errors.ts';

let sequence = 0;

/**
 * The part of a response that did not fit the memory buffer while the client
 * reads slowly (nginx's proxy_temp_path). The file is unlinked as soon as it is
 * open, so nothing is left behind even after a crash. Reads and writes are
 * synchronous page-cache operations, as nginx does without aio threads; this path
 * runs only for slow clients with large responses.
 */
export class SpillFile {
  readonly #fd: number;
  #written = 0;
  #read = 0;
  #closed = false;

  constructor(dir = tmpdir()) {
    const path = join(dir, `hastack-http-${process.pid}-${++sequence}-${Date.now()}.tmp`);
    try {
      this.#fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
    } catch (err) {
      throw new HastackError('HASTACK_HTTP_SPILL', `cannot create a temp file: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Bytes written and not read back yet. */
  get pending(): number {
    return this.#written - this.#read;
  }

  get size(): number {
    return this.#written;
  }

  append(data: Uint8Array, start: number, end: number): void {
    let off = start;
    while (off < end) off += writeSync(this.#fd, data, off, end - off, this.#written + (off - start));
    this.#written += end - start;
  }

  /** The next at most `max` bytes, or undefined when everything was read. */
  next(max = 64 * 1024): Buffer | undefined {
    const n = Math.min(max, this.pending);
    if (n === 0) return undefined;
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.#fd, out, got, n - got, this.#read + got);
      if (r === 0) break;
      got += r;
    }
    this.#read += got;
    return got === n ? out : out.subarray(0, got);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      closeSync(this.#fd);
    } catch {
      // already gone
    }
  }
}
