/*
 * memcached's safe_strto* family over a token [start, end) of a request line:
 * leading whitespace, an optional sign, digits, then the token end or whitespace.
 * Results land in module-level scratch fields (no objects per call); each parse
 * returns false for text memcached refuses.
 */

const INT64_LIMIT = 9223372036854775807n;
const UINT64_MAX = 18446744073709551615n;

/** Last parsed value. For 64-bit results `parsedBig` holds it exactly too. */
export let parsedNumber = 0;
export let parsedBig = 0n;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Digit run after optional whitespace and sign: returns [sign, digitsStart, digitsEnd] packed, or -1. */
let signNegative = false;
let digitsStart = 0;
let digitsEnd = 0;

function scan(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && isSpace(buf[i]!)) i++;
  signNegative = false;
  if (i < end && (buf[i] === 43 || buf[i] === 45)) {
    signNegative = buf[i] === 45;
    i++;
  }
  digitsStart = i;
  while (i < end && buf[i]! >= 48 && buf[i]! <= 57) i++;
  digitsEnd = i;
  if (digitsEnd === digitsStart) return false;
  // strtol stops at the first non-digit: memcached accepts it only when it is whitespace.
  return i === end || isSpace(buf[i]!);
}

function digitsValue(buf: Uint8Array): bigint {
  let v = 0n;
  if (digitsEnd - digitsStart <= 15) {
    let small = 0;
    for (let i = digitsStart; i < digitsEnd; i++) small = small * 10 + (buf[i]! - 48);
    return BigInt(small);
  }
  for (let i = digitsStart; i < digitsEnd; i++) v = v * 10n + BigInt(buf[i]! - 48);
  return v;
}

/** Small non-negative decimal fast path (the common case: lengths, flags, exptimes). */
function smallValue(buf: Uint8Array): number {
  let small = 0;
  for (let i = digitsStart; i < digitsEnd; i++) small = small * 10 + (buf[i]! - 48);
  return small;
}

/**
 * safe_strtol into int32: parsed as a 64-bit long (out of range: false), then
 * truncated to 32 bits as memcached's `*out = l` does on 64-bit builds.
 */
export function parseInt32(buf: Uint8Array, start: number, end: number): boolean {
  if (!scan(buf, start, end)) return false;
  if (digitsEnd - digitsStart <= 9) {
    const v = smallValue(buf);
    parsedNumber = signNegative ? -v : v;
    return true;
  }
  let v = digitsValue(buf);
  if (signNegative) v = -v;
  if (v > INT64_LIMIT || v < -INT64_LIMIT - 1n) return false;
  parsedNumber = Number(BigInt.asIntN(32, v));
  return true;
}

/**
 * safe_strtoul into uint32: strtoul (64-bit) then truncation; a '-' is refused
 * when the 64-bit result reads as negative (memcached's check).
 */
export function parseUint32(buf: Uint8Array, start: number, end: number): boolean {
  if (!parseUint64Raw(buf, start, end)) return false;
  parsedNumber = Number(BigInt.asUintN(32, parsedBig));
  return true;
}

/** safe_strtoull: a uint64 in parsedBig (and parsedNumber when exact). */
export function parseUint64(buf: Uint8Array, start: number, end: number): boolean {
  if (!parseUint64Raw(buf, start, end)) return false;
  parsedNumber = Number(parsedBig);
  return true;
}

function parseUint64Raw(buf: Uint8Array, start: number, end: number): boolean {
  if (!scan(buf, start, end)) return false;
  let v = digitsValue(buf);
  if (v > UINT64_MAX) return false;
  if (signNegative && v !== 0n) {
    v = BigInt.asUintN(64, -v);
    if (v > INT64_LIMIT) return false;
  }
  parsedBig = v;
  return true;
}

/** Splits a uint64 (bigint) into 32-bit halves. */
export function lowWord(v: bigint): number {
  return Number(v & 0xffffffffn);
}

export function highWord(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn);
}
