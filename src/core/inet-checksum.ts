/*
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit words, used by
 * IPv4, ICMP and VRRP. Pure; no allocation.
 */

/** Adds `buf[start..end)` as big-endian 16-bit words to a running 32-bit sum (not folded). */
export function onesSum(buf: Uint8Array, start = 0, end = buf.length, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8; // odd length: pad with a zero byte
  return sum;
}

/** Folds a running sum and complements it: the value to put in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Checksum of `buf[start..end)`; a buffer whose checksum field is right sums to 0. */
export function inetChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return finishChecksum(onesSum(buf, start, end, initial));
}
