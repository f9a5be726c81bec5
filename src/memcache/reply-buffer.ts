/**
 * Replies of one connection, assembled while a batch of requests is processed
 * and written with one socket write per batch. Writing numbers and constant
 * strings allocates nothing; a buffer that fills up is set aside (in order) and
 * a new one started, so a large reply never needs one huge buffer.
 */
export const REPLY_BUFFER_SIZE = 16 * 1024;

export class ReplyBuffer {
  buf: Buffer;
  pos = 0;
  /** Filled buffers waiting to be written, before `buf`. */
  readonly full: Buffer[] = [];
  fullBytes = 0;
  readonly #size: number;

  constructor(size = REPLY_BUFFER_SIZE) {
    this.#size = size;
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Bytes waiting to be written. */
  get length(): number {
    return this.fullBytes + this.pos;
  }

  /** Room for n more bytes in `buf` (sets the current buffer aside when needed). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) {
      this.full.push(this.buf.subarray(0, this.pos));
      this.fullBytes += this.pos;
    }
    this.buf = Buffer.allocUnsafeSlow(Math.max(this.#size, n));
    this.pos = 0;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  crlf(): void {
    this.ensure(2);
    this.buf[this.pos++] = 13;
    this.buf[this.pos++] = 10;
  }

  /** Copies bytes (a pre-encoded constant or part of a page). */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    if (n <= 32) {
      for (let i = start; i < end; i++) buf[p++] = src[i]!;
    } else {
      buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), p);
      p += n;
    }
    this.pos = p;
  }

  /** ASCII text (for rare replies: stats lines, versions). */
  ascii(text: string): void {
    this.ensure(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
  }

  /** A non-negative integer below 2^53 in decimal. */
  uint(value: number): void {
    this.ensure(20);
    const buf = this.buf;
    if (value < 10) {
      buf[this.pos++] = 48 + value;
      return;
    }
    let digits = 0;
    for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    let v = value;
    while (v >= 1) {
      const q = Math.floor(v / 10);
      buf[--p] = 48 + (v - q * 10);
      v = q;
    }
  }

  /** A signed 32-bit integer in decimal. */
  int(value: number): void {
    if (value < 0) {
      this.byte(45);
      this.uint(-value);
    } else {
      this.uint(value);
    }
  }

  /** An unsigned 64-bit number given as two 32-bit halves. */
  u64(lo: number, hi: number): void {
    if (hi < 0x200000) this.uint(hi * 4294967296 + lo);
    else this.ascii(((BigInt(hi) << 32n) | BigInt(lo)).toString());
  }

  /** Drops everything written since a mark (a reply that must not go out, e.g. noreply). */
  mark(): number {
    return this.length;
  }

  rewind(mark: number): void {
    // Marks are only rewound within the current buffer (replies are small).
    const inBuf = mark - this.fullBytes;
    if (inBuf >= 0) this.pos = inBuf;
  }

  /** Hands the pending bytes to `write` in order and empties the buffer (reusing it). */
  flush(write: (chunk: Buffer) => void): void {
    for (const chunk of this.full) write(chunk);
    this.full.length = 0;
    this.fullBytes = 0;
    if (this.pos > 0) {
      write(this.buf.subarray(0, this.pos));
      this.pos = 0;
    }
  }

  /** After a write the kernel did not take at once: the current buffer is still referenced. */
  detach(): void {
    this.buf = Buffer.allocUnsafeSlow(this.#size);
    this.pos = 0;
  }

  /** Everything pending as one buffer (tests). */
  takeAll(): Buffer {
    const parts: Buffer[] = [];
    this.flush((c) => parts.push(Buffer.from(c)));
    return Buffer.concat(parts);
  }
}

/** Pre-encoded replies. */
export const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
