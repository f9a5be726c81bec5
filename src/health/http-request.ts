import type { HttpCheckUrl, StatusRange } from '../config/model.ts';
import { formatHostPort } from '../core/address.ts';
import { HastackError } from '../core/errors.ts';
import { CODE_INVALID } from './probe-attempt.ts';
import type { ProbeEndpoint } from './probe-endpoint.ts';

export type HttpVersionOption = '1.0' | '1.0C' | '1.1';

/**
 * The Host header keepalived sends: the URL's virtualhost, else the check's,
 * else the address probed as host:port ([v6]:port).
 */
export function hostHeader(url: HttpCheckUrl, checkVirtualhost: string | undefined, endpoint: ProbeEndpoint) {
  return url.virtualhost ?? checkVirtualhost ?? formatHostPort(endpoint.host, endpoint.port);
}

/** Spaces or control characters could end the request line or a header early: refuse to send them. */
function hasUnsafeChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * The GET request as keepalived's HTTP_GET writes it: HTTP/1.0 by default,
 * `Connection: close` for 1.0C and 1.1 (so the server ends the body by closing).
 */
export function buildHttpRequest(path: string, host: string, version: HttpVersionOption): string {
  if (path === '' || hasUnsafeChar(path)) {
    throw new HastackError(CODE_INVALID, `invalid url path ${JSON.stringify(path)}`);
  }
  if (host === '' || hasUnsafeChar(host)) {
    throw new HastackError(CODE_INVALID, `invalid Host header ${JSON.stringify(host)}`);
  }
  const minor = version === '1.1' ? 1 : 0;
  const connection = version === '1.0' ? '' : 'Connection: close\r\n';
  return `GET ${path} HTTP/1.${minor}\r\nUser-Agent: KeepAliveClient (hastack)\r\n${connection}Host: ${host}\r\n\r\n`;
}

export function statusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  for (const range of ranges) if (status >= range.min && status <= range.max) return true;
  return false;
}

export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(',');
}
