/*
 * Base64 (RFC 4648, with padding) for meta-protocol binary keys: decoded in
 * place over the request bytes (the output is always shorter), encoded straight
 * into a reply. Invalid input decodes to length 0, as memcached's base64_decode.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** Decodes buf[start, start+length) onto itself; returns the decoded length or 0 when invalid. */
export function base64DecodeInPlace(buf: Uint8Array, start: number, length: number): number {
  if (length === 0 || length % 4 !== 0) return 0;
  let out = start;
  const end = start + length;
  for (let i = start; i < end; i += 4) {
    const a = DECODE[buf[i]!]!;
    const b = DECODE[buf[i + 1]!]!;
    const c3 = buf[i + 2]!;
    const c4 = buf[i + 3]!;
    if (a < 0 || b < 0) return 0;
    const last = i + 4 === end;
    if (c3 === 61 /* = */) {
      if (!last || c4 !== 61) return 0;
      buf[out++] = (a << 2) | (b >> 4);
      break;
    }
    const c = DECODE[c3]!;
    if (c < 0) return 0;
    if (c4 === 61) {
      if (!last) return 0;
      buf[out++] = (a << 2) | (b >> 4);
      buf[out++] = ((b & 15) << 4) | (c >> 2);
      break;
    }
    const d = DECODE[c4]!;
    if (d < 0) return 0;
    buf[out++] = (a << 2) | (b >> 4);
    buf[out++] = ((b & 15) << 4) | (c >> 2);
    buf[out++] = ((c & 3) << 6) | d;
  }
  return out - start;
}

/** Encodes src[start, end) into dst at pos; returns the new pos. dst must have room (4/3 + 4). */
export function base64EncodeInto(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  pos: number,
): number {
  let i = start;
  for (; i + 3 <= end; i += 3) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    dst[pos++] = ENCODE[n >> 18]!;
    dst[pos++] = ENCODE[(n >> 12) & 63]!;
    dst[pos++] = ENCODE[(n >> 6) & 63]!;
    dst[pos++] = ENCODE[n & 63]!;
  }
  const rest = end - i;
  if (rest === 1) {
    const n = src[i]! << 16;
    dst[pos++] = ENCODE[n >> 18]!;
    dst[pos++] = ENCODE[(n >> 12) & 63]!;
    dst[pos++] = 61;
    dst[pos++] = 61;
  } else if (rest === 2) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8);
    dst[pos++] = ENCODE[n >> 18]!;
    dst[pos++] = ENCODE[(n >> 12) & 63]!;
    dst[pos++] = ENCODE[(n >> 6) & 63]!;
    dst[pos++] = 61;
  }
  return pos;
}
