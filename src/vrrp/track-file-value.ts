/*
 * The number in a track_file, read as keepalived reads it: C's strtol(text, NULL, 0)
 * on the first 127 bytes. Leading white space, an optional sign, then 0x… hex,
 * 0… octal or decimal; the longest valid prefix counts and no digits at all is 0
 * (an empty or missing file reads 0). Pure.
 */

/** keepalived reads at most this many bytes of the file. */
export const TRACK_FILE_READ_BYTES = 127;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function digitValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return 99;
}

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * The value, or undefined when the number does not fit a 32-bit int (keepalived
 * then logs "Invalid number" and keeps the previous value).
 */
export function parseTrackFileValue(text: string): number | undefined {
  const s = text.length > TRACK_FILE_READ_BYTES ? text.slice(0, TRACK_FILE_READ_BYTES) : text;
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  let base = 10;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s.charCodeAt(i + 2)) < 16) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  // BigInt keeps exact values past 2^53 so that overflow is detected, not rounded away.
  let value = 0n;
  const big = BigInt(base);
  for (; i < s.length; i++) {
    const d = digitValue(s.charCodeAt(i));
    if (d >= base) break;
    value = value * big + BigInt(d);
    if (value > 2n ** 64n) break; // far outside int32 already; strtol would say ERANGE
  }
  const n = negative ? -value : value;
  if (n < BigInt(INT32_MIN) || n > BigInt(INT32_MAX)) return undefined;
  return Number(n);
}
