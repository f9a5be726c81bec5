import type { Ipv4Header } from './ipv4-header.ts';
import { AUTH_NONE, AUTH_PASS, type VrrpAdvert, type VrrpVersion } from './vrrp-packet.ts';

/*
 * Whether an instance accepts a decoded advert (RFC 3768/9568 §7.1 plus
 * keepalived's checks). Pure. Each reason is a drop counter in `hastack status`.
 */

export type AdvertDropReason =
  | 'ttl'
  | 'vrid'
  | 'version'
  | 'auth'
  | 'address-count'
  | 'addresses'
  | 'interval'
  | 'unicast-source'
  | 'own';

export interface AdvertCheckSettings {
  vrid: number;
  version: VrrpVersion;
  advertIntMs: number;
  /** Our advert source (u32): our own looped-back adverts are dropped. */
  primaryIp: number;
  /** u32 group address (224.0.0.18): TTL 255 is required there. */
  mcastGroup: number;
  /** v2 PASS: the 8 bytes expected, or undefined for no authentication. */
  authData: Uint8Array | undefined;
  /** The addresses we advertise (u32, config order). */
  vips: readonly number[];
  skipCheckAdvAddr: boolean;
  /** Unicast peers by address (u32), with optional TTL bounds. */
  unicastPeers: ReadonlyMap<number, { minTtl?: number; maxTtl?: number }>;
  checkUnicastSrc: boolean;
}

export function checkAdvert(
  settings: AdvertCheckSettings,
  ip: Ipv4Header,
  advert: VrrpAdvert,
): AdvertDropReason | undefined {
  if (advert.vrid !== settings.vrid) return 'vrid';
  if (ip.src === settings.primaryIp) return 'own';
  if (ip.dst === settings.mcastGroup) {
    if (ip.ttl !== 255) return 'ttl';
  } else {
    // Unicast: keepalived checks TTL only against a peer's min_ttl/max_ttl.
    const peer = settings.unicastPeers.get(ip.src);
    if (peer === undefined) {
      if (settings.checkUnicastSrc) return 'unicast-source';
    } else if (
      (peer.minTtl !== undefined && ip.ttl < peer.minTtl) ||
      (peer.maxTtl !== undefined && ip.ttl > peer.maxTtl)
    ) {
      return 'ttl';
    }
  }
  if (advert.version !== settings.version) return 'version';
  if (advert.version === 2) {
    const expected = settings.authData === undefined ? AUTH_NONE : AUTH_PASS;
    if (advert.authType !== expected) return 'auth';
    if (settings.authData !== undefined && !sameBytes(advert.authData, settings.authData)) return 'auth';
  }
  if (advert.addresses.length !== settings.vips.length) return 'address-count';
  if (!settings.skipCheckAdvAddr && !sameSet(advert.addresses, settings.vips)) return 'addresses';
  // v2 routers must agree on the interval (keepalived drops); a v3 backup learns the master's.
  if (advert.version === 2 && advert.advertIntMs !== settings.advertIntMs) return 'interval';
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  for (const x of a) if (!b.includes(x)) return false;
  return true;
}
