import { isIP } from 'node:net';
import { HastackError } from '../core/errors.ts';

/*
 * Client address matching for routes (`client_ip`) and the trusted-proxy list:
 * IPv4 and IPv6 prefixes, IPv4-mapped IPv6 addresses treated as IPv4. Pure.
 */

export interface IpPrefix {
  readonly v6: boolean;
  /** Four 32-bit words (IPv4 uses the first only). */
  readonly words: readonly number[];
  readonly bits: number;
}

/** Words of an address, or undefined when it is not an IP address. */
export function ipWords(address: string): { v6: boolean; words: number[] } | undefined {
  let text = address;
  if (text.startsWith('::ffff:') && isIP(text.slice(7)) === 4) text = text.slice(7);
  const kind = isIP(text);
  if (kind === 4) {
    const p = text.split('.');
    return { v6: false, words: [((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0, 0, 0, 0] };
  }
  if (kind !== 6) return undefined;
  let head = text;
  let tail = '';
  const zone = head.indexOf('%');
  if (zone >= 0) head = head.slice(0, zone);
  const dbl = head.indexOf('::');
  if (dbl >= 0) {
    tail = head.slice(dbl + 2);
    head = head.slice(0, dbl);
  }
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const w = ipWords(part)!.words[0]!;
        out.push(w >>> 16, w & 0xffff);
      } else out.push(parseInt(part, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  const all = dbl >= 0 ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((all[i]! << 16) | all[i + 1]!) >>> 0);
  return { v6: true, words };
}

/** Parses "10.0.0.0/8", "::1", "fd00::/8"; a bare address is a full-length prefix. */
export function parsePrefix(text: string): IpPrefix {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text.trim() : text.slice(0, slash).trim();
  const parsed = ipWords(addr);
  if (parsed === undefined) throw new HastackError('HASTACK_HTTP_INVALID_CIDR', `invalid address "${text}"`);
  const max = parsed.v6 ? 128 : 32;
  const bits = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max) {
    throw new HastackError('HASTACK_HTTP_INVALID_CIDR', `invalid prefix length in "${text}"`);
  }
  return { v6: parsed.v6, words: parsed.words, bits };
}

function maskWord(word: number, bitsLeft: number): number {
  if (bitsLeft >= 32) return word >>> 0;
  if (bitsLeft <= 0) return 0;
  return (word & (0xffffffff << (32 - bitsLeft))) >>> 0;
}

export function prefixContains(
  prefix: IpPrefix,
  address: { v6: boolean; words: readonly number[] },
): boolean {
  if (prefix.v6 !== address.v6) return false;
  for (let i = 0, left = prefix.bits; left > 0; i++, left -= 32) {
    if (maskWord(prefix.words[i]!, left) !== maskWord(address.words[i]!, left)) return false;
  }
  return true;
}

/** A list of prefixes; `contains` takes an address string (as sockets report it). */
export class IpSet {
  readonly #prefixes: IpPrefix[];
  readonly #cache = new Map<string, boolean>();

  constructor(prefixes: readonly string[]) {
    this.#prefixes = prefixes.map(parsePrefix);
  }

  get size(): number {
    return this.#prefixes.length;
  }

  contains(address: string): boolean {
    // Clients repeat: remember answers (bounded) so the hot path parses an address once.
    const known = this.#cache.get(address);
    if (known !== undefined) return known;
    const words = ipWords(address);
    const hit = words !== undefined && this.#prefixes.some((p) => prefixContains(p, words));
    if (this.#cache.size >= 4096) this.#cache.clear();
    this.#cache.set(address, hit);
    return hit;
  }
}
