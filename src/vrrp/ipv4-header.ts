/*
 * The IPv4 header of a datagram read from a raw socket (the kernel hands it over
 * with the payload). Pure: returns a reason instead of throwing on bad input.
 */

export const IPPROTO_VRRP = 112;

export interface Ipv4Header {
  headerLength: number;
  totalLength: number;
  tos: number;
  ttl: number;
  protocol: number;
  /** Source and destination as unsigned 32-bit integers. */
  src: number;
  dst: number;
}

export type Ipv4ParseResult = { ok: true; header: Ipv4Header } | { ok: false; reason: string };

export function parseIpv4Header(buf: Uint8Array): Ipv4ParseResult {
  if (buf.length < 20)
    return { ok: false, reason: `datagram of ${buf.length} bytes is shorter than an IPv4 header` };
  const version = buf[0]! >> 4;
  if (version !== 4) return { ok: false, reason: `IP version ${version}, expected 4` };
  const headerLength = (buf[0]! & 0x0f) * 4;
  if (headerLength < 20 || headerLength > buf.length) {
    return { ok: false, reason: `bad IPv4 header length ${headerLength}` };
  }
  const totalLength = (buf[2]! << 8) | buf[3]!;
  // Raw sockets on Linux report the real length; trust the smaller of the two.
  if (totalLength < headerLength) return { ok: false, reason: `bad IPv4 total length ${totalLength}` };
  return {
    ok: true,
    header: {
      headerLength,
      totalLength: Math.min(totalLength, buf.length),
      tos: buf[1]!,
      ttl: buf[8]!,
      protocol: buf[9]!,
      src: readU32(buf, 12),
      dst: readU32(buf, 16),
    },
  };
}

export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** "10.0.0.1" → 0x0a000001; throws RangeError on anything else (config is validated before). */
export function ipv4ToInt(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) throw new RangeError(`not an IPv4 address: ${text}`);
  let out = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new RangeError(`not an IPv4 address: ${text}`);
    out = out * 256 + octet;
  }
  return out >>> 0;
}

export function intToIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

export function isIpv4(text: string): boolean {
  try {
    ipv4ToInt(text);
    return true;
  } catch {
    return false;
  }
}
