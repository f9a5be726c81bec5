import { Buffer } from 'node:buffer';

/**
 * Replies of one connection, assembled while a batch of requests is processed
 * and written with one socket write per batch. Writing numbers and constant
 * strings allocates nothing; a buffer that fills up is set aside (in order) and
 * a new one started, so a large reply never needs one huge buffer.
 */
export const REPLY_BUFFER_SIZE = 16 * 1024;

/** Views of `buf` kept for reuse, by length (direct-mapped): most replies repeat a few lengths. */
const VIEW_SLOTS = 64;
const VIEW_MAX = 4096;

export class ReplyBuffer {
  buf: Buffer;
  pos = 0;
  /** Filled buffers waiting to be written, before `buf`. */
  readonly full: Buffer[] = [];
  fullBytes = 0;
  readonly #size: number;
  /** buf.subarray(0, n) views handed to writes, reused while `buf` stays the same. */
  readonly #views: (Buffer | undefined)[] = new Array<Buffer | undefined>(VIEW_SLOTS).fill(undefined);

  constructor(size = REPLY_BUFFER_SIZE) {
    this.#size = size;
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Sets a new current buffer (views of the old one stay valid for whoever holds them). */
  #replace(size: number): void {
    this.buf = Buffer.allocUnsafeSlow(size);
    this.pos = 0;
    this.#views.fill(undefined);
  }

  /** buf[0, n) as a Buffer, reusing an earlier view of the same length. */
  #view(n: number): Buffer {
    if (n > VIEW_MAX) return this.buf.subarray(0, n);
    const slot = n & (VIEW_SLOTS - 1);
    const v = this.#views[slot];
    if (v !== undefined && v.length === n) return v;
    const view = this.buf.subarray(0, n);
    this.#views[slot] = view;
    return view;
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
    this.#replace(Math.max(this.#size, n));
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

  /** Copies bytes (a pre-encoded constant, a key or a value from a page). */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    if (n <= 24) {
      // Short constants: a loop beats a native call.
      for (let i = start; i < end; i++) buf[p++] = src[i]!;
    } else {
      // Buffer#copy is a native fast call that allocates no view (subarray + set would).
      if (src instanceof Buffer) src.copy(buf, p, start, end);
      else buf.set(src.subarray(start, end), p);
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
    if (this.full.length !== 0) {
      for (const chunk of this.full) write(chunk);
      this.full.length = 0;
      this.fullBytes = 0;
    }
    if (this.pos > 0) {
      const n = this.pos;
      this.pos = 0;
      write(this.#view(n));
    }
  }

  /** Drops everything pending (the connection is closing without a reply). */
  discard(): void {
    if (this.full.length !== 0) this.full.length = 0;
    this.fullBytes = 0;
    this.pos = 0;
  }

  /** After a write the kernel did not take at once: the current buffer is still referenced. */
  detach(): void {
    this.#replace(this.#size);
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
