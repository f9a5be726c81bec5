import { HastackError } from '../core/errors.ts';

/*
 * Little-endian byte writer/reader for event bodies and wire frames. The reader
 * checks every bound so a short or corrupt buffer becomes a clear error, never
 * an out-of-range read.
 */

export class ByteWriter {
  #buf: Buffer;
  #len = 0;

  constructor(initial = 256) {
    this.#buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.#len;
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  u8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
    return this;
  }

  u16(v: number): this {
    this.#ensure(2);
    this.#buf.writeUInt16LE(v, this.#len);
    this.#len += 2;
    return this;
  }

  u32(v: number): this {
    this.#ensure(4);
    this.#buf.writeUInt32LE(v >>> 0, this.#len);
    this.#len += 4;
    return this;
  }

  u64(v: number | bigint): this {
    this.#ensure(8);
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      // Two u32 halves: no BigInt allocation for the common case (sequence numbers, times).
      this.#buf.writeUInt32LE(v % 0x1_0000_0000, this.#len);
      this.#buf.writeUInt32LE(Math.floor(v / 0x1_0000_0000), this.#len + 4);
    } else this.#buf.writeBigUInt64LE(BigInt(v), this.#len);
    this.#len += 8;
    return this;
  }

  /** Leaves `n` bytes to be filled in later (event headers and checksums). */
  skip(n: number): this {
    this.#ensure(n);
    this.#len += n;
    return this;
  }

  /** Starts over, keeping the buffer (a writer reused for every transaction). */
  reset(): this {
    this.#len = 0;
    return this;
  }

  i64(v: bigint): this {
    this.#ensure(8);
    this.#buf.writeBigInt64LE(v, this.#len);
    this.#len += 8;
    return this;
  }

  f64(v: number): this {
    this.#ensure(8);
    this.#buf.writeDoubleLE(v, this.#len);
    this.#len += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  /** u32 length then the bytes. */
  lenBytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  /** u32 length then UTF-8. */
  str(s: string): this {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.#ensure(n);
    this.#buf.write(s, this.#len, n, 'utf8');
    this.#len += n;
    return this;
  }

  /** Fixed-width, zero-padded UTF-8 (truncated if longer). */
  fixedStr(s: string, width: number): this {
    this.#ensure(width);
    this.#buf.fill(0, this.#len, this.#len + width);
    this.#buf.write(s, this.#len, width, 'utf8');
    this.#len += width;
    return this;
  }

  /** A view of what was written (valid until the next write). */
  view(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }
}

export class ByteReader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;
  readonly #what: string;

  constructor(buf: Uint8Array, what: string, start = 0, end = buf.length) {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pos = start;
    this.#end = end;
    this.#what = what;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number): void {
    if (n < 0 || this.#pos + n > this.#end)
      throw new HastackError(
        'HASTACK_DB_EVENT_INVALID',
        `${this.#what} is malformed: needs ${n} more bytes at offset ${this.#pos}, has ${this.#end - this.#pos}`,
      );
  }

  u8(): number {
    this.#need(1);
    return this.#buf[this.#pos++]!;
  }

  u16(): number {
    this.#need(2);
    const v = this.#buf.readUInt16LE(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.#buf.readUInt32LE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** u64 as a number; larger than 2^53 is malformed for our counters. */
  u64(): number {
    this.#need(8);
    const v = this.#buf.readBigUInt64LE(this.#pos);
    this.#pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new HastackError('HASTACK_DB_EVENT_INVALID', `${this.#what} has a counter out of range`);
    return Number(v);
  }

  i64(): bigint {
    this.#need(8);
    const v = this.#buf.readBigInt64LE(this.#pos);
    this.#pos += 8;
    return v;
  }

  f64(): number {
    this.#need(8);
    const v = this.#buf.readDoubleLE(this.#pos);
    this.#pos += 8;
    return v;
  }

  bytes(n: number): Buffer {
    this.#need(n);
    const v = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  lenBytes(): Buffer {
    return this.bytes(this.u32());
  }

  str(): string {
    return this.lenBytes().toString('utf8');
  }

  fixedStr(width: number): string {
    const b = this.bytes(width);
    const zero = b.indexOf(0);
    return b.subarray(0, zero === -1 ? width : zero).toString('utf8');
  }

  rest(): Buffer {
    return this.bytes(this.#end - this.#pos);
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.#pos !== this.#end)
      throw new HastackError(
        'HASTACK_DB_EVENT_INVALID',
        `${this.#what} is malformed: ${this.#end - this.#pos} unexpected trailing bytes`,
      );
  }
}
