import { HastackError } from '../core/errors.ts';

export const CODE_BAD_RESPONSE = 'HASTACK_CHECK_HTTP_BAD_RESPONSE';

export interface HttpResponseHead {
  /** "1.0", "1.1"... */
  version: string;
  status: number;
  reason: string;
  /** Declared body length, when the body is framed by Content-Length. */
  contentLength?: number;
  chunked: boolean;
}

export interface HttpResponseReaderOptions {
  /** Limit on status line + headers; more is a bad response. Default 64 KiB. */
  maxHeadBytes?: number;
  /** Body bytes as the application sees them (chunked framing removed). */
  onBody?: (data: Buffer) => void;
  /** Body bytes as they came off the wire after the headers (what keepalived's genhash hashes). */
  onRawBody?: (data: Buffer) => void;
}

type BodyMode = 'none' | 'length' | 'chunked' | 'eof';
type ChunkState = 'size' | 'data' | 'data-end' | 'trailer';

const MAX_CHUNK_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const STATUS_LINE = /^HTTP\/(\d\.\d) (\d{3})(?:[ \t]([^\r\n]*))?$/;
const CHUNK_SIZE = /^[0-9a-fA-F]{1,12}$/;
const DECIMAL = /^\d{1,15}$/;
const HTTP_PREFIX = Buffer.from('HTTP/');
const CR = 13;
const LF = 10;

/**
 * Incremental HTTP/1.x response parser for health probes: feed it whatever the
 * socket delivers, then `end()` at EOF. Frames the body by Content-Length,
 * chunked encoding, or connection close; anything that is not HTTP throws a
 * HastackError (HASTACK_CHECK_HTTP_BAD_RESPONSE). Pure: no I/O.
 */
export class HttpResponseReader {
  head: HttpResponseHead | undefined;
  /** The whole response (head and body) has been read. */
  complete = false;
  /** EOF came before the body's declared end. */
  truncated = false;
  /** Decoded body bytes seen so far. */
  bodyBytes = 0;

  readonly #maxHeadBytes: number;
  readonly #onBody: ((data: Buffer) => void) | undefined;
  readonly #onRawBody: ((data: Buffer) => void) | undefined;
  #headBuffer: Buffer = Buffer.alloc(0);
  #mode: BodyMode = 'none';
  #remaining = 0;
  #chunkState: ChunkState = 'size';
  #line: number[] = [];
  #trailerBytes = 0;
  #sawAnything = false;

  constructor(options: HttpResponseReaderOptions = {}) {
    this.#maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
    this.#onBody = options.onBody;
    this.#onRawBody = options.onRawBody;
  }

  /** True once any byte arrived (to tell "no response" from "garbage"). */
  get receivedAnything(): boolean {
    return this.#sawAnything;
  }

  feed(chunk: Buffer): void {
    if (chunk.length === 0 || this.complete) return;
    this.#sawAnything = true;
    let data = chunk;
    while (this.head === undefined) {
      const rest = this.#feedHead(data);
      if (rest === undefined) return;
      data = rest;
      if (this.complete) return;
    }
    if (data.length > 0) this.#feedBody(data);
  }

  /** The peer closed the connection. */
  end(): void {
    if (this.complete) return;
    if (this.head === undefined) {
      throw new HastackError(
        CODE_BAD_RESPONSE,
        this.#sawAnything
          ? 'connection closed inside the response headers'
          : 'connection closed without a response',
      );
    }
    if (this.#mode !== 'eof') this.truncated = true;
    this.complete = true;
  }

  /** Returns the bytes after the head once it is complete, or undefined while it is not. */
  #feedHead(data: Buffer): Buffer | undefined {
    const searchFrom = Math.max(0, this.#headBuffer.length - 3);
    const buffer = this.#headBuffer.length === 0 ? data : Buffer.concat([this.#headBuffer, data]);
    const prefixLength = Math.min(HTTP_PREFIX.length, buffer.length);
    if (!buffer.subarray(0, prefixLength).equals(HTTP_PREFIX.subarray(0, prefixLength))) {
      throw new HastackError(CODE_BAD_RESPONSE, 'response does not start with HTTP/');
    }
    const end = headEnd(buffer, searchFrom);
    if (end === undefined) {
      if (buffer.length > this.#maxHeadBytes) {
        throw new HastackError(CODE_BAD_RESPONSE, `response headers larger than ${this.#maxHeadBytes} bytes`);
      }
      this.#headBuffer = buffer;
      return undefined;
    }
    if (end.headLength > this.#maxHeadBytes) {
      throw new HastackError(CODE_BAD_RESPONSE, `response headers larger than ${this.#maxHeadBytes} bytes`);
    }
    this.#headBuffer = Buffer.alloc(0);
    const head = parseHead(buffer.toString('latin1', 0, end.headLength));
    const rest = buffer.subarray(end.bodyStart);
    // 1xx (100 Continue, 103 Early Hints) come before the real answer.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) return rest;
    this.head = head;
    if (head.status === 101 || head.status === 204 || head.status === 304) {
      this.#mode = 'none';
    } else if (head.chunked) {
      this.#mode = 'chunked';
    } else if (head.contentLength !== undefined) {
      this.#mode = 'length';
      this.#remaining = head.contentLength;
    } else {
      this.#mode = 'eof';
    }
    if (this.#mode === 'none' || (this.#mode === 'length' && this.#remaining === 0)) this.complete = true;
    return rest;
  }

  #feedBody(data: Buffer): void {
    switch (this.#mode) {
      case 'none':
        return;
      case 'eof':
        this.#emit(data, data);
        return;
      case 'length': {
        const take = data.length <= this.#remaining ? data : data.subarray(0, this.#remaining);
        this.#remaining -= take.length;
        this.#emit(take, take);
        if (this.#remaining === 0) this.complete = true;
        return;
      }
      case 'chunked':
        this.#feedChunked(data);
        return;
    }
  }

  #emit(decoded: Buffer | undefined, raw: Buffer | undefined): void {
    if (decoded !== undefined && decoded.length > 0) {
      this.bodyBytes += decoded.length;
      this.#onBody?.(decoded);
    }
    if (raw !== undefined && raw.length > 0) this.#onRawBody?.(raw);
  }

  #feedChunked(data: Buffer): void {
    let i = 0;
    while (i < data.length && !this.complete) {
      switch (this.#chunkState) {
        case 'data': {
          const take = Math.min(this.#remaining, data.length - i);
          this.#emit(data.subarray(i, i + take), undefined);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#chunkState = 'data-end';
          break;
        }
        case 'data-end': {
          const byte = data[i++]!;
          if (byte === CR && this.#line.length === 0) {
            this.#line.push(CR);
          } else if (byte === LF) {
            this.#line = [];
            this.#chunkState = 'size';
          } else {
            throw new HastackError(CODE_BAD_RESPONSE, 'chunk data not followed by CRLF');
          }
          break;
        }
        case 'size':
        case 'trailer': {
          const byte = data[i++]!;
          if (this.#chunkState === 'trailer' && ++this.#trailerBytes > MAX_TRAILER_BYTES) {
            throw new HastackError(CODE_BAD_RESPONSE, 'chunked trailer too large');
          }
          if (byte !== LF) {
            if (this.#line.length >= MAX_CHUNK_LINE) {
              throw new HastackError(CODE_BAD_RESPONSE, 'chunk size line too long');
            }
            this.#line.push(byte);
            break;
          }
          const line = Buffer.from(this.#line).toString('latin1').replace(/\r$/, '');
          this.#line = [];
          if (this.#chunkState === 'trailer') {
            if (line === '') this.complete = true;
            break;
          }
          const sizeText = line.split(';', 1)[0]!.trim();
          if (!CHUNK_SIZE.test(sizeText)) {
            throw new HastackError(
              CODE_BAD_RESPONSE,
              `bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`,
            );
          }
          this.#remaining = Number.parseInt(sizeText, 16);
          this.#chunkState = this.#remaining === 0 ? 'trailer' : 'data';
          break;
        }
      }
    }
    // Everything consumed by the chunked framing counts as raw body (genhash hashes it all).
    this.#emit(undefined, data.subarray(0, i));
  }
}

function headEnd(buffer: Buffer, from: number): { headLength: number; bodyStart: number } | undefined {
  for (let i = from; i < buffer.length; i++) {
    if (buffer[i] !== LF) continue;
    if (buffer[i + 1] === LF) return { headLength: i, bodyStart: i + 2 };
    if (buffer[i + 1] === CR && buffer[i + 2] === LF) return { headLength: i, bodyStart: i + 3 };
  }
  return undefined;
}

function parseHead(text: string): HttpResponseHead {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const match = STATUS_LINE.exec(lines[0]!);
  if (match === null) {
    throw new HastackError(CODE_BAD_RESPONSE, `bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  }
  let contentLength: number | undefined;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    // Headers other than the two that frame the body do not matter to a probe; skip odd lines.
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      for (const part of value.split(',')) {
        const text = part.trim();
        if (!DECIMAL.test(text))
          throw new HastackError(CODE_BAD_RESPONSE, `bad Content-Length ${JSON.stringify(value)}`);
        const length = Number(text);
        if (contentLength !== undefined && contentLength !== length) {
          throw new HastackError(CODE_BAD_RESPONSE, 'conflicting Content-Length headers');
        }
        contentLength = length;
      }
    } else if (name === 'transfer-encoding') {
      const codings = value.toLowerCase().split(',');
      chunked = codings[codings.length - 1]!.trim() === 'chunked';
    }
  }
  return {
    version: match[1]!,
    status: Number(match[2]),
    reason: match[3] ?? '',
    // Chunked framing wins over Content-Length (RFC 9112 §6.3).
    ...(contentLength !== undefined && !chunked && { contentLength }),
    chunked,
  };
}
