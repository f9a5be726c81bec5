/**
 * memcached's tokenize_command over a line [start, end): tokens split on single
 * spaces only (tabs belong to tokens), at most MAX_TOKENS - 1 real tokens; the
 * count includes memcached's terminal token, so `set k 0 0 1` has 6.
 */
export const MAX_TOKENS = 24;

export class LineTokens {
  readonly starts = new Int32Array(MAX_TOKENS);
  readonly ends = new Int32Array(MAX_TOKENS);
  /** Tokens including the terminal one. */
  count = 0;
  /** Where unprocessed text starts when the line had more tokens (-1: all scanned). */
  rest = -1;

  tokenize(buf: Uint8Array, start: number, end: number): number {
    let n = 0;
    let s = start;
    let i = start;
    this.rest = -1;
    for (; i < end; i++) {
      if (buf[i] === 32) {
        if (s !== i) {
          this.starts[n] = s;
          this.ends[n] = i;
          n++;
          if (n === MAX_TOKENS - 1) {
            i++;
            s = i;
            break;
          }
        }
        s = i + 1;
      }
    }
    if (n < MAX_TOKENS - 1 && s < end && s !== i) {
      this.starts[n] = s;
      this.ends[n] = i;
      n++;
    } else if (n === MAX_TOKENS - 1 && i < end) {
      this.rest = i;
    }
    this.starts[n] = i;
    this.ends[n] = i;
    this.count = n + 1;
    return this.count;
  }

  length(i: number): number {
    return this.ends[i]! - this.starts[i]!;
  }

  /** Token i equals an ASCII word. */
  is(buf: Uint8Array, i: number, word: string): boolean {
    const s = this.starts[i]!;
    const len = this.ends[i]! - s;
    if (len !== word.length) return false;
    for (let k = 0; k < len; k++) if (buf[s + k] !== word.charCodeAt(k)) return false;
    return true;
  }
}
