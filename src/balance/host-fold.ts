/**
 * Turns a host string into the 32-bit value IPVS hashes (`addr_fold`), without
 * allocating, so pick() can call it per connection. The result is returned as a
 * signed 32-bit integer (`>>> 0` gives the unsigned value): V8 boxes unsigned
 * values above 2^31 into heap numbers when a call is not inlined.
 * - IPv4: the address's 32 bits;
 * - IPv4-mapped IPv6 (::ffff:a.b.c.d, as dual-stack sockets report IPv4 clients):
 *   the IPv4 value, so both spellings of one client hash alike;
 * - other IPv6: the XOR of its four 32-bit words, as the kernel folds IPv6 (and as
 *   `ipToInt` in src/core/address.ts does); a `%zone` suffix is ignored;
 * - anything else (a hostname): FNV-1a of the text, so it is at least stable.
 */
export function foldHost(host: string): number {
  if (parseIpv4(host, 0, host.length)) return parsed[0]!;
  if (foldIpv6(host)) return parsed[0]!;
  return fnv1a(host);
}

// Scratch shared by the parsers below: the parsed value (parsers return whether it
// is valid), and the 8 groups of an IPv6 address. Parsing is synchronous and never
// re-entered, so one set per module (per worker thread) is safe and allocation-free.
const parsed = new Int32Array(1);
const headGroups = new Uint16Array(8);
const tailGroups = new Uint16Array(8);

/** Dotted quad in host[start, end) → parsed[0]; false when it is not one. */
function parseIpv4(host: string, start: number, end: number): boolean {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = host.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
      if (digits > 3 || part > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return false;
      value = (value << 8) | part; // at most 24 bits here
      part = 0;
      digits = 0;
      dots++;
    } else {
      return false;
    }
  }
  if (dots !== 3 || digits === 0) return false;
  parsed[0] = (value << 8) | part;
  return true;
}

/** XOR-fold of an IPv6 address (mapped IPv4 → the IPv4 value) → parsed[0]; false when `host` is not one. */
function foldIpv6(host: string): boolean {
  let end = host.indexOf('%');
  if (end < 0) end = host.length;
  let head = 0;
  let tail = 0;
  let gap = false;
  let i = 0;
  if (end >= 2 && host.charCodeAt(0) === 58 && host.charCodeAt(1) === 58) {
    gap = true;
    i = 2;
  }
  while (i < end) {
    if (head + tail >= 8) return false;
    const groupEnd = nextColon(host, i, end);
    if (groupEnd === end && hasDot(host, i, end)) {
      // Embedded IPv4 fills the last two groups ("::ffff:1.2.3.4", "64:ff9b::1.2.3.4").
      if (head + tail > 6 || !parseIpv4(host, i, end)) return false;
      const v4 = parsed[0]!;
      if (gap) {
        tailGroups[tail++] = v4 >>> 16;
        tailGroups[tail++] = v4 & 0xffff;
      } else {
        headGroups[head++] = v4 >>> 16;
        headGroups[head++] = v4 & 0xffff;
      }
      break;
    }
    const len = groupEnd - i;
    if (len < 1 || len > 4) return false;
    let group = 0;
    for (let j = i; j < groupEnd; j++) {
      const h = hexValue(host.charCodeAt(j));
      if (h < 0) return false;
      group = group * 16 + h;
    }
    if (gap) tailGroups[tail++] = group;
    else headGroups[head++] = group;
    if (groupEnd === end) break;
    if (groupEnd + 1 < end && host.charCodeAt(groupEnd + 1) === 58) {
      if (gap) return false; // a second "::"
      gap = true;
      i = groupEnd + 2;
    } else {
      i = groupEnd + 1;
      if (i === end) return false; // trailing single ':'
    }
  }
  const total = head + tail;
  if (gap ? total > 7 : total !== 8) return false;
  // Expand into headGroups: the tail lands at the end, zeros in the gap.
  for (let k = head; k < 8 - tail; k++) headGroups[k] = 0;
  for (let k = 0; k < tail; k++) headGroups[8 - tail + k] = tailGroups[k]!;
  const g = headGroups;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    parsed[0] = (g[6]! << 16) | g[7]!;
    return true;
  }
  let fold = 0;
  for (let k = 0; k < 8; k += 2) fold ^= (g[k]! << 16) | g[k + 1]!;
  parsed[0] = fold;
  return true;
}

function nextColon(host: string, from: number, end: number): number {
  for (let i = from; i < end; i++) if (host.charCodeAt(i) === 58) return i;
  return end;
}

function hasDot(host: string, from: number, end: number): boolean {
  for (let i = from; i < end; i++) if (host.charCodeAt(i) === 46) return true;
  return false;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** 32-bit FNV-1a over UTF-16 code units (signed, like foldHost). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}
