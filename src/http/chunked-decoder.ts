import { FIELD_VALUE_CHAR, HEX_VALUE } from './char-tables.ts';

/*
 * Chunked transfer coding (RFC 9112 §7.1) as a byte-level state machine, so a
 * read boundary can fall anywhere (inside a size, an extension or a CRLF)
 * without buffering. Data is not copied: `decode` reports where the payload
 * bytes lie in the caller's buffer. Strict: CRLF only, hex sizes of at most 13
 * digits, extensions and trailers bounded and free of control characters.
 * Trailer fields are validated and dropped.
 */

export const CHUNK_NEED_MORE = 0;
/** Payload bytes are at [dataStart, dataEnd). */
export const CHUNK_DATA = 1;
/** The last chunk and the trailer section are complete. */
export const CHUNK_DONE = 2;
export const CHUNK_ERROR = 3;
export type ChunkResult = 0 | 1 | 2 | 3;

const SIZE = 0;
const SIZE_MORE = 1;
const SIZE_WS = 2;
const EXT = 3;
const SIZE_LF = 4;
const DATA = 5;
const DATA_CR = 6;
const DATA_LF = 7;
const TRAILER_START = 8;
const TRAILER_LINE = 9;
const TRAILER_LINE_LF = 10;
const TRAILER_END_LF = 11;
const FINISHED = 12;
const FAILED = 13;

/** Most hex digits in a chunk size: 13 keeps every size below 2^53. */
const MAX_SIZE_DIGITS = 13;

export class ChunkedDecoder {
  /** Where the next decode call starts: set by every call. */
  pos = 0;
  dataStart = 0;
  dataEnd = 0;
  /** Why decoding failed (CHUNK_ERROR). */
  error = '';
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #extBytes = 0;
  #trailerBytes = 0;
  readonly #maxExtension: number;
  readonly #maxTrailer: number;

  constructor(maxExtension = 4096, maxTrailer = 16384) {
    this.#maxExtension = maxExtension;
    this.#maxTrailer = maxTrailer;
  }

  get done(): boolean {
    return this.#state === FINISHED;
  }

  reset(): void {
    this.#state = SIZE;
    this.#size = 0;
    this.#digits = 0;
    this.#extBytes = 0;
    this.#trailerBytes = 0;
    this.error = '';
  }

  #fail(pos: number, why: string): ChunkResult {
    this.#state = FAILED;
    this.error = why;
    this.pos = pos;
    return CHUNK_ERROR;
  }

  /** Advances through buf[pos, end); see the CHUNK_* results. */
  decode(buf: Uint8Array, pos: number, end: number): ChunkResult {
    while (pos < end) {
      const state = this.#state;
      if (state === DATA) {
        const take = Math.min(this.#size, end - pos);
        this.dataStart = pos;
        this.dataEnd = pos + take;
        this.#size -= take;
        if (this.#size === 0) this.#state = DATA_CR;
        this.pos = pos + take;
        return CHUNK_DATA;
      }
      const c = buf[pos]!;
      switch (state) {
        case SIZE: {
          const v = HEX_VALUE[c]!;
          if (v === 255) return this.#fail(pos, 'invalid chunk size');
          this.#size = v;
          this.#digits = 1;
          this.#state = SIZE_MORE;
          break;
        }
        case SIZE_MORE: {
          const v = HEX_VALUE[c]!;
          if (v !== 255) {
            if (++this.#digits > MAX_SIZE_DIGITS) return this.#fail(pos, 'chunk size too large');
            this.#size = this.#size * 16 + v;
          } else if (c === 13) this.#state = SIZE_LF;
          else if (c === 59)
            this.#state = EXT; // ;
          else if (c === 32 || c === 9)
            this.#state = SIZE_WS; // BWS before ';'
          else return this.#fail(pos, 'invalid chunk size');
          break;
        }
        case SIZE_WS:
          if (c === 59) this.#state = EXT;
          else if (c !== 32 && c !== 9) return this.#fail(pos, 'invalid chunk extension');
          break;
        case EXT:
          if (c === 13) this.#state = SIZE_LF;
          else if (FIELD_VALUE_CHAR[c] !== 1) return this.#fail(pos, 'invalid chunk extension');
          else if (++this.#extBytes > this.#maxExtension) return this.#fail(pos, 'chunk extension too long');
          break;
        case SIZE_LF:
          if (c !== 10) return this.#fail(pos, 'chunk size line not ended by CRLF');
          this.#extBytes = 0;
          this.#state = this.#size === 0 ? TRAILER_START : DATA;
          break;
        case DATA_CR:
          if (c !== 13) return this.#fail(pos, 'chunk data not followed by CRLF');
          this.#state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== 10) return this.#fail(pos, 'chunk data not followed by CRLF');
          this.#state = SIZE;
          break;
        case TRAILER_START:
          if (c === 13) this.#state = TRAILER_END_LF;
          else if (c === 32 || c === 9 || FIELD_VALUE_CHAR[c] !== 1)
            return this.#fail(pos, 'invalid trailer field');
          else {
            this.#state = TRAILER_LINE;
            if (++this.#trailerBytes > this.#maxTrailer) return this.#fail(pos, 'trailer section too large');
          }
          break;
        case TRAILER_LINE:
          if (c === 13) this.#state = TRAILER_LINE_LF;
          else if (FIELD_VALUE_CHAR[c] !== 1) return this.#fail(pos, 'invalid trailer field');
          else if (++this.#trailerBytes > this.#maxTrailer)
            return this.#fail(pos, 'trailer section too large');
          break;
        case TRAILER_LINE_LF:
          if (c !== 10) return this.#fail(pos, 'trailer field not ended by CRLF');
          this.#state = TRAILER_START;
          break;
        case TRAILER_END_LF:
          if (c !== 10) return this.#fail(pos, 'chunked body not ended by CRLF');
          this.#state = FINISHED;
          this.pos = pos + 1;
          return CHUNK_DONE;
        case FINISHED:
          this.pos = pos;
          return CHUNK_DONE;
        default:
          return this.#fail(pos, this.error || 'decoder failed');
      }
      pos++;
    }
    this.pos = pos;
    if (this.#state === FINISHED) return CHUNK_DONE;
    if (this.#state === DATA && this.#size === 0) this.#state = DATA_CR;
    return CHUNK_NEED_MORE;
  }
}
