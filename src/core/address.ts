import { isIP } from 'node:net';
import { HastackError } from './errors.ts';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port` or (with a default port) a bare host.
 * Ports must be 0..65535; 0 means "any free port" for listeners.
 */
export function parseHostPort(input: string, defaultPort?: number): HostPort {
  const text = input.trim();
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw invalid(input);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw invalid(input);
      portText = rest.slice(1);
    }
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') === colon) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else {
      host = text; // bare IPv4/hostname, or bare IPv6 without port
    }
  }
  if (host === '') throw invalid(input);
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) throw invalid(input, 'a port is required');
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw invalid(input);
    port = Number(portText);
  }
  if (port > 65535) throw invalid(input, 'port out of range');
  return { host, port };
}

function invalid(input: string, why = 'expected host:port'): HastackError {
  return new HastackError('HASTACK_ADDRESS_INVALID', `invalid address "${input}": ${why}`);
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** IPv4 dotted quad → unsigned 32-bit integer; IPv6 → fold of its 32-bit words (for hashing). */
export function ipToInt(ip: string): number {
  if (isIP(ip) === 4) {
    const p = ip.split('.');
    return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return ipToInt(mapped[1]!);
  let acc = 0;
  for (const word of expandIpv6(ip)) acc = (acc ^ word) >>> 0;
  return acc;
}

function expandIpv6(ip: string): number[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  const groups = [...h, ...Array<string>(Math.max(0, missing)).fill('0'), ...t].map((g) =>
    parseInt(g || '0', 16),
  );
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((groups[i]! << 16) | groups[i + 1]!) >>> 0);
  return words;
}
