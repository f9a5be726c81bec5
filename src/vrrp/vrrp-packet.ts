import { finishChecksum, inetChecksum, onesSum } from '../core/inet-checksum.ts';
import { IPPROTO_VRRP, readU32, writeU32 } from './ipv4-header.ts';

/*
 * VRRP advertisement codec: VRRPv2 (RFC 3768, with keepalived's PASS
 * authentication) and VRRPv3 for IPv4 (RFC 9568). Pure: no I/O, no throwing on
 * network input — decoding returns a drop reason the caller counts.
 *
 *  v2: Ver|Type VRID Prio Count | AuthType AdverInt(s) Checksum | IPv4 addrs | Auth data (8)
 *  v3: Ver|Type VRID Prio Count | rsvd(4) MaxAdverInt(12, cs)  Checksum | IPv4 addrs
 */

export const VRRP_HEADER_BYTES = 8;
export const VRRP_AUTH_BYTES = 8;
export const VRRP_TYPE_ADVERTISEMENT = 1;
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;
/** The multicast group of VRRP over IPv4. */
export const VRRP_GROUP = '224.0.0.18';
export const VRRP_TTL = 255;
/** IP precedence "internetwork control", as keepalived sends. */
export const VRRP_TOS = 0xc0;

export type VrrpVersion = 2 | 3;

export interface VrrpAdvert {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  /** v2: seconds × 1000; v3: centiseconds × 10. */
  advertIntMs: number;
  /** IPv4 addresses as unsigned 32-bit integers. */
  addresses: number[];
  /** v2 only (0 for v3). */
  authType: number;
  /** v2 PASS: the 8 auth bytes as sent (zero padded); empty for v3. */
  authData: Uint8Array;
}

export interface EncodeOptions {
  /** Source and destination IPv4 addresses (u32), for the v3 pseudo-header. */
  src: number;
  dst: number;
  /** v3: leave the IPv4 pseudo-header out of the checksum (RFC 9568 style; keepalived's v3_checksum_as_v2). */
  v3ChecksumAsV2?: boolean;
}

/** Why a datagram is not a usable advertisement; each is a drop counter. */
export type DecodeDropReason = 'truncated' | 'version' | 'type' | 'length' | 'checksum' | 'interval';

export type DecodeResult =
  | {
      ok: true;
      advert: VrrpAdvert /** v3: the checksum matched the other method than configured. */;
      otherChecksumMethod?: false;
    }
  | { ok: false; reason: DecodeDropReason; detail: string; otherChecksumMethod?: boolean };

/** Password bytes as keepalived sends them: the first 8 bytes, zero padded. */
export function passAuthData(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_BYTES);
  const bytes = Buffer.from(password, 'utf8');
  out.set(bytes.subarray(0, VRRP_AUTH_BYTES));
  return out;
}

/** The interval field as carried: v2 whole seconds (at least 1), v3 centiseconds (1..4095). */
export function advertIntField(version: VrrpVersion, advertIntMs: number): number {
  if (version === 2) return Math.min(255, Math.max(1, Math.round(advertIntMs / 1000)));
  return Math.min(4095, Math.max(1, Math.round(advertIntMs / 10)));
}

export function encodedLength(version: VrrpVersion, addressCount: number): number {
  return VRRP_HEADER_BYTES + 4 * addressCount + (version === 2 ? VRRP_AUTH_BYTES : 0);
}

/** Writes an advertisement into `out` (which must hold encodedLength bytes); returns the length. */
export function encodeAdvertInto(out: Uint8Array, advert: VrrpAdvert, options: EncodeOptions): number {
  const { version } = advert;
  const length = encodedLength(version, advert.addresses.length);
  if (out.length < length) throw new RangeError(`buffer of ${out.length} bytes < ${length}`);
  if (advert.addresses.length > 255) throw new RangeError('at most 255 addresses fit in an advertisement');
  out[0] = (version << 4) | VRRP_TYPE_ADVERTISEMENT;
  out[1] = advert.vrid;
  out[2] = advert.priority;
  out[3] = advert.addresses.length;
  const interval = advertIntField(version, advert.advertIntMs);
  if (version === 2) {
    out[4] = advert.authType;
    out[5] = interval;
  } else {
    out[4] = (interval >> 8) & 0x0f;
    out[5] = interval & 0xff;
  }
  out[6] = 0;
  out[7] = 0;
  let at = VRRP_HEADER_BYTES;
  for (const address of advert.addresses) {
    writeU32(out, at, address);
    at += 4;
  }
  if (version === 2) {
    out.fill(0, at, at + VRRP_AUTH_BYTES);
    if (advert.authType === AUTH_PASS) out.set(advert.authData.subarray(0, VRRP_AUTH_BYTES), at);
  }
  const checksum = checksumOf(
    out,
    0,
    length,
    version,
    options.src,
    options.dst,
    options.v3ChecksumAsV2 ?? false,
  );
  out[6] = checksum >> 8;
  out[7] = checksum & 0xff;
  return length;
}

export function encodeAdvert(advert: VrrpAdvert, options: EncodeOptions): Buffer {
  const out = Buffer.alloc(encodedLength(advert.version, advert.addresses.length));
  encodeAdvertInto(out, advert, options);
  return out;
}

function pseudoHeaderSum(src: number, dst: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IPPROTO_VRRP + length;
}

/** The checksum over buf[start..end) (whose checksum field must hold its value or 0). */
function checksumOf(
  buf: Uint8Array,
  start: number,
  end: number,
  version: VrrpVersion,
  src: number,
  dst: number,
  asV2: boolean,
): number {
  const initial = version === 3 && !asV2 ? pseudoHeaderSum(src, dst, end - start) : 0;
  return inetChecksum(buf, start, end, initial);
}

/**
 * Decodes the VRRP message buf[start..end) received from `src` to `dst`. Checks
 * the structure and the checksum only; whether this instance accepts it (TTL,
 * VRID, auth, addresses, interval) is `checkAdvert`'s job.
 */
export function decodeAdvert(
  buf: Uint8Array,
  start: number,
  end: number,
  src: number,
  dst: number,
  v3ChecksumAsV2 = false,
): DecodeResult {
  const length = end - start;
  if (length < VRRP_HEADER_BYTES) {
    return { ok: false, reason: 'truncated', detail: `${length} bytes is shorter than a VRRP header` };
  }
  const version = buf[start]! >> 4;
  const type = buf[start]! & 0x0f;
  if (version !== 2 && version !== 3)
    return { ok: false, reason: 'version', detail: `VRRP version ${version}` };
  if (type !== VRRP_TYPE_ADVERTISEMENT) return { ok: false, reason: 'type', detail: `VRRP type ${type}` };
  const count = buf[start + 3]!;
  const needed = encodedLength(version, count);
  // keepalived sends exactly this many bytes; anything shorter cannot hold the addresses.
  if (length < needed) {
    return { ok: false, reason: 'length', detail: `${count} addresses need ${needed} bytes, got ${length}` };
  }
  const sum = onesSum(buf, start, end, 0);
  const plainOk = finishChecksum(sum) === 0;
  const pseudoOk = version === 3 && finishChecksum(sum + pseudoHeaderSum(src, dst, length)) === 0;
  const ok = version === 2 || v3ChecksumAsV2 ? plainOk : pseudoOk;
  if (!ok) {
    const other = version === 3 && (v3ChecksumAsV2 ? pseudoOk : plainOk);
    return {
      ok: false,
      reason: 'checksum',
      detail: other
        ? `VRRPv3 checksum computed ${v3ChecksumAsV2 ? 'with' : 'without'} the IPv4 pseudo-header: ` +
          `the peer's v3_checksum_as_v2 setting differs from ours`
        : 'bad checksum',
      otherChecksumMethod: other,
    };
  }
  const addresses: number[] = new Array(count);
  for (let i = 0; i < count; i++) addresses[i] = readU32(buf, start + VRRP_HEADER_BYTES + 4 * i);
  let advertIntMs: number;
  let authType = 0;
  let authData: Uint8Array = EMPTY;
  if (version === 2) {
    authType = buf[start + 4]!;
    advertIntMs = buf[start + 5]! * 1000;
    const authAt = start + VRRP_HEADER_BYTES + 4 * count;
    authData = buf.subarray(authAt, authAt + VRRP_AUTH_BYTES);
  } else {
    advertIntMs = (((buf[start + 4]! & 0x0f) << 8) | buf[start + 5]!) * 10;
  }
  if (advertIntMs === 0) return { ok: false, reason: 'interval', detail: 'advertisement interval 0' };
  return {
    ok: true,
    advert: {
      version,
      vrid: buf[start + 1]!,
      priority: buf[start + 2]!,
      advertIntMs,
      addresses,
      authType,
      authData,
    },
  };
}

const EMPTY = new Uint8Array(0);
