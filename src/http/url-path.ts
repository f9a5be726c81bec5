/*
 * The path routes and static files see: percent-encoded unreserved characters
 * decoded and dot-segments removed (RFC 3986 §5.2.4), as nginx does before
 * matching locations, so "/%61dmin" and "/x/../admin" cannot slip past a route
 * for "/admin". The upstream still receives the target as the client sent it
 * unless a rewrite changes it. Pure.
 */

const HEX = '0123456789ABCDEFabcdef';

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

/** The normalized path, or undefined when it climbs above the root. */
export function normalizePath(path: string): string | undefined {
  if (path.indexOf('%') < 0 && path.indexOf('/.') < 0) return path; // the common case: nothing to do
  let decoded = path;
  if (path.indexOf('%') >= 0) {
    let out = '';
    let last = 0;
    for (let i = path.indexOf('%'); i >= 0 && i + 2 < path.length; i = path.indexOf('%', i + 1)) {
      const h = path.charAt(i + 1);
      const l = path.charAt(i + 2);
      if (h === '' || l === '' || !HEX.includes(h) || !HEX.includes(l)) continue;
      const c = parseInt(h + l, 16);
      if (!isUnreserved(c)) continue;
      out += path.slice(last, i) + String.fromCharCode(c);
      last = i + 3;
    }
    decoded = out + path.slice(last);
  }
  if (decoded.indexOf('/.') < 0) return decoded;
  const segments = decoded.split('/');
  const stack: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) stack.push('');
    } else if (s === '..') {
      if (stack.length === 0) return undefined;
      stack.pop();
      if (last) stack.push('');
    } else stack.push(s);
  }
  return `/${stack.join('/')}`;
}

/** Fully percent-decoded path for the file system; undefined for encoded NUL or slashes, or bad UTF-8. */
export function decodePathForFiles(path: string): string | undefined {
  if (/%(00|2f|5c)/i.test(path)) return undefined;
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/** The value of a query parameter (first occurrence), decoded; undefined when absent. */
export function queryParam(query: string, name: string): string | undefined {
  if (query.length < 2) return undefined;
  let start = 1;
  while (start < query.length) {
    let amp = query.indexOf('&', start);
    if (amp < 0) amp = query.length;
    const eq = query.indexOf('=', start);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (decodeComponent(query.slice(start, keyEnd)) === name) {
      return keyEnd === amp ? '' : decodeComponent(query.slice(keyEnd + 1, amp));
    }
    start = amp + 1;
  }
  return undefined;
}

function decodeComponent(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return s;
  }
}
