import { isIP } from 'node:net';

/*
 * Address forms of a virtual_server_group entry (keepalived.conf(5)):
 *   10.0.0.1            one address
 *   10.0.0.3-10         last IPv4 octet range, both ends included
 *   10.0.0.250-10.0.1.5 full IPv4 range
 *   10.0.0.8/29         every address of the block
 *   ae00::2-9           last IPv6 group range (hex)
 *   ae00::/124          every address of the block
 */

export type RangeResult = { ok: true; addresses: string[] } | { ok: false; message: string };

export function expandAddressRange(text: string, limit: number): RangeResult {
  const slash = text.indexOf('/');
  if (slash >= 0) return expandCidr(text.slice(0, slash), text.slice(slash + 1), limit);
  const dash = text.indexOf('-');
  if (dash < 0) {
    return isIP(text) === 0
      ? { ok: false, message: `invalid IP address "${text}"` }
      : { ok: true, addresses: [text] };
  }
  const start = text.slice(0, dash);
  const end = text.slice(dash + 1);
  const family = isIP(start);
  if (family === 4) {
    const first = ipv4ToInt(start);
    let last: number;
    if (isIP(end) === 4) last = ipv4ToInt(end);
    else if (/^\d{1,3}$/.test(end) && Number(end) <= 255) last = ((first & 0xffffff00) | Number(end)) >>> 0;
    else return { ok: false, message: `invalid range end "${end}" in "${text}"` };
    return spread(BigInt(first), BigInt(last), limit, text, (n) => intToIpv4(Number(n)));
  }
  if (family === 6) {
    const first = ipv6ToBigInt(start);
    if (!/^[0-9a-fA-F]{1,4}$/.test(end))
      return { ok: false, message: `invalid range end "${end}" in "${text}"` };
    const last = (first & ~0xffffn) | BigInt(parseInt(end, 16));
    return spread(first, last, limit, text, bigIntToIpv6);
  }
  return { ok: false, message: `invalid IP address "${start}" in "${text}"` };
}

function expandCidr(base: string, prefixText: string, limit: number): RangeResult {
  const family = isIP(base);
  const bits = family === 4 ? 32 : family === 6 ? 128 : 0;
  if (bits === 0) return { ok: false, message: `invalid IP address "${base}"` };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return { ok: false, message: `invalid prefix length "/${prefixText}"` };
  }
  const hostBits = BigInt(bits - Number(prefixText));
  const value = family === 4 ? BigInt(ipv4ToInt(base)) : ipv6ToBigInt(base);
  const first = (value >> hostBits) << hostBits;
  const last = first + (1n << hostBits) - 1n;
  const text = `${base}/${prefixText}`;
  return family === 4
    ? spread(first, last, limit, text, (n) => intToIpv4(Number(n)))
    : spread(first, last, limit, text, bigIntToIpv6);
}

function spread(
  first: bigint,
  last: bigint,
  limit: number,
  text: string,
  format: (n: bigint) => string,
): RangeResult {
  if (last < first) return { ok: false, message: `range "${text}" ends before it starts` };
  if (last - first + 1n > BigInt(limit)) {
    return { ok: false, message: `range "${text}" holds more than ${limit} addresses` };
  }
  const addresses: string[] = [];
  for (let n = first; n <= last; n++) addresses.push(format(n));
  return { ok: true, addresses };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const n = ipv4ToInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function bigIntToIpv6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // The URL parser writes the canonical compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
