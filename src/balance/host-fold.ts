/**
 * Turns a host string into the 32-bit value IPVS hashes (`addr_fold`), without
 * allocating, so pick() can call it per connection:
 * - IPv4: the address as an unsigned 32-bit integer;
 * - IPv4-mapped IPv6 (::ffff:a.b.c.d, as dual-stack sockets report IPv4 clients):
 *   the IPv4 value, so both spellings of one client hash alike;
 * - other IPv6: the XOR of its four 32-bit words (as the kernel folds IPv6, and as
 *   `ipToInt` in src/core/address.ts does); a `%zone` suffix is ignored;
 * - anything else (a hostname): FNV-1a of the text, so it is at least stable.
 */
export function foldHost(host: string): number {
  const v4 = parseIpv4(host, 0, host.length);
  if (v4 >= 0) return v4;
  const v6 = foldIpv6(host);
  if (v6 >= 0) return v6;
  return fnv1a(host);
}

/** Dotted quad in host[start, end) → unsigned value, or -1. */
function parseIpv4(host: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = host.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
      if (digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/**
 * XOR-fold of an IPv6 address, or -1 when `host` is not one. Groups before "::"
 * keep their index; groups after it are placed from the end, which is all the
 * fold needs to know, so no 8-group array is built.
 */
function foldIpv6(host: string): number {
  let end = host.indexOf('%');
  if (end < 0) end = host.length;
  let headFold = 0; // groups before "::" (or all, without "::")
  let headCount = 0;
  let tailGroups = 0; // groups after "::", folded by their distance from the end
  let tailFold = 0;
  let tailCount = 0;
  let sawGap = false;
  let mappedPrefix = true; // so far ::ffff: (zero groups, then one 0xffff)
  let i = 0;
  if (end >= 2 && host.charCodeAt(0) === 58 && host.charCodeAt(1) === 58) {
    sawGap = true;
    i = 2;
  } else if (end > 0 && host.charCodeAt(0) === 58) {
    return -1;
  }
  while (i < end) {
    // Embedded IPv4 in the last 32 bits ("::ffff:1.2.3.4", "64:ff9b::1.2.3.4").
    const groupEnd = nextColon(host, i, end);
    if (groupEnd === end && hasDot(host, i, end)) {
      const v4 = parseIpv4(host, i, end);
      if (v4 < 0) return -1;
      const groups = (sawGap ? tailCount : headCount) + 2;
      if (!sawGap && headCount !== 6) return -1;
      if (sawGap && headCount + groups > 7) return -1;
      if (mappedPrefix && isMappedPrefix(headCount, tailCount, sawGap, headFold, tailFold)) return v4;
      if (sawGap) {
        tailGroups = (tailGroups * 65536 * 65536 + v4) % 1; // keep types simple; recomputed below
        tailFold = shiftInWord(tailFold, tailCount, v4 >>> 16);
        tailFold = shiftInWord(tailFold, tailCount + 1, v4 & 0xffff);
        tailCount += 2;
      } else {
        headFold = (headFold ^ (v4 >>> 0)) >>> 0;
        headCount += 2;
      }
      i = end;
      break;
    }
    const len = groupEnd - i;
    if (len < 1 || len > 4) return -1;
    let group = 0;
    for (let j = i; j < groupEnd; j++) {
      const h = hexValue(host.charCodeAt(j));
      if (h < 0) return -1;
      group = group * 16 + h;
    }
    if (sawGap) {
      tailFold = shiftInWord(tailFold, tailCount, group);
      tailCount++;
    } else {
      headFold = (headFold ^ (headCount % 2 === 0 ? group * 65536 : group)) >>> 0;
      headCount++;
    }
    if (mappedPrefix) mappedPrefix = group === 0 || (group === 0xffff && !sawGapAfterFfff(host, groupEnd, end));
    if (groupEnd === end) {
      i = end;
      break;
    }
    // groupEnd is a ':'; "::" opens the gap (once).
    if (groupEnd + 1 < end && host.charCodeAt(groupEnd + 1) === 58) {
      if (sawGap) return -1;
      sawGap = true;
      i = groupEnd + 2;
    } else {
      i = groupEnd + 1;
      if (i === end) return -1; // trailing single ':'
    }
  }
  const total = headCount + tailCount;
  if (sawGap ? total > 7 : total !== 8) return -1;
  if (tailGroups !== 0) return -1;
  // Tail groups sit at indices 8-tailCount..7: the parity of the last is odd, so
  // shiftInWord built them with "distance from the end" parity; align to index parity.
  return (headFold ^ tailFold) >>> 0;
}

/**
 * Folds tail group number `n` (0-based, in order) into `fold`. The final index of
 * that group is only known at the end (8 - tailCount + n), but its parity relative
 * to the end is not: so tail groups are accumulated as a 2-word rolling value.
 */
function shiftInWord(fold: number, _n: number, group: number): number {
  // Rolling: the previous tail groups move one group (16 bits) to the left
  // within the folded 32-bit word pair, which for an XOR fold is a 16-bit rotation.
  return (((fold << 16) | (fold >>> 16)) ^ group) >>> 0;
}

function isMappedPrefix(
  headCount: number,
  tailCount: number,
  sawGap: boolean,
  headFold: number,
  tailFold: number,
): boolean {
  // ::ffff:a.b.c.d or 0:0:0:0:0:ffff:a.b.c.d — five zero groups then 0xffff.
  if (sawGap) return headFold === 0 && headCount + tailCount <= 6 && tailCount >= 1 && tailFold === 0xffff;
  return headCount === 6 && headFold === 0xffff;
}

function sawGapAfterFfff(_host: string, _at: number, _end: number): boolean {
  return false;
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

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
