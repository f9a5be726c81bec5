import type { IpSet } from './ip-match.ts';
import { headerValue } from './router.ts';
import type { Template, TemplateVars } from './template.ts';

/*
 * The heads hastack sends on: the request to the upstream and the response to
 * the client. Hop-by-hop fields and every field named in Connection are removed
 * (RFC 9110 §7.6.1), framing is set by the proxy, X-Forwarded-* / Forwarded and
 * Via are added, and the route's header rules applied. Pure string building.
 */

/** Fields that describe one connection, never forwarded (framing is re-declared by the proxy). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'content-length',
  // hastack answers 100-continue itself (the upstream gets the whole body).
  'expect',
]);

const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

export interface HeaderRuleSet {
  set: readonly [string, Template][];
  add: readonly [string, Template][];
  remove: readonly string[];
}

/** How the body is framed on the way out. */
export const FRAME_NONE = 0;
export const FRAME_LENGTH = 1;
export const FRAME_CHUNKED = 2;
/** Delimited by closing the connection (responses to HTTP/1.0 clients). */
export const FRAME_CLOSE = 3;

export interface ForwardingInfo {
  /** Peer address as the socket reports it. */
  peer: string;
  /** The peer is a trusted proxy: its X-Forwarded-* are kept and extended. */
  peerTrusted: boolean;
  proto: 'http' | 'https';
  host: string;
  xForwarded: boolean;
  forwarded: boolean;
  via: boolean;
}

function skipped(
  name: string,
  tokens: readonly string[],
  rules: HeaderRuleSet,
  dropForwarding: boolean,
): boolean {
  if (HOP_BY_HOP.has(name)) return true;
  if (tokens.length > 0 && tokens.includes(name)) return true;
  if (dropForwarding && FORWARDING.has(name)) return true;
  if (rules.remove.length > 0 && rules.remove.includes(name)) return true;
  for (const [n] of rules.set) if (n === name) return true;
  return false;
}

function forwardedFor(address: string): string {
  let a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (a.includes(':')) a = `"[${a}]"`;
  return `for=${a}`;
}

/** The Forwarded element this hop adds (RFC 7239). */
export function forwardedElement(info: ForwardingInfo): string {
  const host = /^[A-Za-z0-9.-]+(:\d+)?$/.test(info.host) ? info.host : `"${info.host.replaceAll('"', '')}"`;
  return `${forwardedFor(info.peer)};proto=${info.proto}${info.host === '' ? '' : `;host=${host}`}`;
}

function plainPeer(peer: string): string {
  return peer.startsWith('::ffff:') && peer.includes('.') ? peer.slice(7) : peer;
}

/**
 * The client address behind trusted proxies: walking X-Forwarded-For from the
 * right, the first address that is not a trusted proxy (nginx real_ip_recursive).
 */
export function clientAddress(peer: string, headers: readonly string[], trusted: IpSet | undefined): string {
  if (trusted === undefined || trusted.size === 0 || !trusted.contains(peer)) return plainPeer(peer);
  const xff = headerValue(headers, 'x-forwarded-for');
  if (xff === undefined) return plainPeer(peer);
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (hop === '') continue;
    if (i === 0 || !trusted.contains(hop)) return hop;
  }
  return plainPeer(peer);
}

export interface UpstreamRequest {
  method: string;
  target: string;
  headers: readonly string[];
  connectionTokens: readonly string[];
  rules: HeaderRuleSet;
  vars: TemplateVars;
  info: ForwardingInfo;
  framing: number;
  contentLength: number;
  /** Keep Upgrade and Connection: upgrade (WebSocket). */
  upgrade: string;
  /** false: ask the upstream to close after the response. */
  keepAlive: boolean;
  /** Replaces the Host field (absolute-form targets: the authority wins, RFC 9112 §3.2.2). */
  hostOverride?: string;
}

export function buildUpstreamRequestHead(r: UpstreamRequest): string {
  const info = r.info;
  const dropForwarding = !info.peerTrusted;
  let head = `${r.method} ${r.target} HTTP/1.1\r\n`;
  const override = r.hostOverride;
  if (override !== undefined) head += `host: ${override}\r\n`;
  let xff: string | undefined;
  let xfProto = false;
  let xfHost = false;
  let fwd: string | undefined;
  let via: string | undefined;
  const h = r.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (skipped(name, r.connectionTokens, r.rules, dropForwarding)) continue;
    if (override !== undefined && name === 'host') continue;
    const value = h[i + 1]!;
    if (name.length === 15 && name === 'x-forwarded-for' && info.xForwarded) {
      xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (name === 'forwarded' && info.forwarded) {
      fwd = fwd === undefined ? value : `${fwd}, ${value}`;
      continue;
    }
    if (name === 'via' && info.via) {
      via = via === undefined ? value : `${via}, ${value}`;
      continue;
    }
    if (name === 'x-forwarded-proto') xfProto = true;
    else if (name === 'x-forwarded-host') xfHost = true;
    head += `${name}: ${value}\r\n`;
  }
  if (info.xForwarded) {
    const peer = plainPeer(info.peer);
    head += `x-forwarded-for: ${xff === undefined ? peer : `${xff}, ${peer}`}\r\n`;
    if (!xfProto) head += `x-forwarded-proto: ${info.proto}\r\n`;
    if (!xfHost && info.host !== '') head += `x-forwarded-host: ${info.host}\r\n`;
  }
  if (info.forwarded) {
    const element = forwardedElement(info);
    head += `forwarded: ${fwd === undefined ? element : `${fwd}, ${element}`}\r\n`;
  }
  if (info.via) head += `via: ${via === undefined ? '1.1 hastack' : `${via}, 1.1 hastack`}\r\n`;
  head += ruleLines(r.rules, r.vars);
  if (r.framing === FRAME_LENGTH) head += `content-length: ${r.contentLength}\r\n`;
  else if (r.framing === FRAME_CHUNKED) head += 'transfer-encoding: chunked\r\n';
  if (r.upgrade !== '') head += `connection: upgrade\r\nupgrade: ${r.upgrade}\r\n`;
  else if (!r.keepAlive) head += 'connection: close\r\n';
  return `${head}\r\n`;
}

function ruleLines(rules: HeaderRuleSet, vars: TemplateVars): string {
  let out = '';
  for (const [n, t] of rules.set) out += `${n}: ${t.expand(vars)}\r\n`;
  for (const [n, t] of rules.add) out += `${n}: ${t.expand(vars)}\r\n`;
  return out;
}

export interface ClientResponse {
  status: number;
  reason: string;
  headers: readonly string[];
  connectionTokens: readonly string[];
  rules: HeaderRuleSet;
  vars: TemplateVars;
  via: boolean;
  framing: number;
  contentLength: number;
  /** Tell the client the connection closes after this response. */
  close: boolean;
  /** An HTTP/1.0 client asked for keep-alive and gets it: say so. */
  keepAlive10: boolean;
  /** 101 Switching Protocols: keep Upgrade and Connection: upgrade. */
  upgrade: string;
}

export function buildClientResponseHead(r: ClientResponse): string {
  let head = `HTTP/1.1 ${r.status} ${r.reason}\r\n`;
  let via: string | undefined;
  const h = r.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (skipped(name, r.connectionTokens, r.rules, false)) continue;
    if (name === 'via' && r.via) {
      via = via === undefined ? h[i + 1] : `${via}, ${h[i + 1]}`;
      continue;
    }
    head += `${name}: ${h[i + 1]}\r\n`;
  }
  if (r.via) head += `via: ${via === undefined ? '1.1 hastack' : `${via}, 1.1 hastack`}\r\n`;
  head += ruleLines(r.rules, r.vars);
  if (r.framing === FRAME_LENGTH) head += `content-length: ${r.contentLength}\r\n`;
  else if (r.framing === FRAME_CHUNKED) head += 'transfer-encoding: chunked\r\n';
  if (r.upgrade !== '') head += `connection: upgrade\r\nupgrade: ${r.upgrade}\r\n`;
  else if (r.close) head += 'connection: close\r\n';
  else if (r.keepAlive10) head += 'connection: keep-alive\r\n';
  return `${head}\r\n`;
}
