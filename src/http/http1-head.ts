import { FIELD_VALUE_CHAR, HOST_CHAR, TARGET_CHAR, TCHAR } from './char-tables.ts';
import { latin1Slice } from './latin1.ts';
import { ParseFailure } from './parse-failure.ts';

/*
 * Strict HTTP/1.1 message heads (RFC 9112 §2-§6). Pure: bytes in, a parsed head
 * or a ParseFailure out, no I/O. The head is only parsed once it is complete
 * (CRLF CRLF seen), so a read boundary never splits a token; until then the
 * caller checks `headIncomplete` for the size limits.
 */

export interface HeadLimits {
  /** Longest request line (status line for responses): 414 above it. */
  maxRequestLine: number;
  /** Largest head, start line and fields together: 431 above it. */
  maxHeaderBytes: number;
  /** Most header fields: 431 above it. */
  maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: Readonly<HeadLimits> = {
  maxRequestLine: 8192,
  maxHeaderBytes: 32768,
  maxHeaders: 100,
};

/** Framing and connection facts every message has, read while the fields are parsed. */
interface MessageHead {
  versionMinor: number;
  /** [name, value, name, value...]: names lowercased, values without surrounding whitespace. */
  headers: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Transfer-Encoding present (chunked or not). */
  hasTransferEncoding: boolean;
  /** Connection tokens, lowercased: the fields they name are hop-by-hop. */
  connectionTokens: string[];
  connectionClose: boolean;
  connectionKeepAlive: boolean;
  connectionUpgrade: boolean;
  /** Lowercased Upgrade field, '' when absent. */
  upgrade: string;
  /** Bytes of the head, the final CRLF CRLF included (leading empty lines too). */
  headLength: number;
}

export interface RequestHead extends MessageHead {
  method: string;
  /** The request-target as received. */
  target: string;
  /** Origin-form path (absolute-form converted), without the query. '*' for OPTIONS *. */
  path: string;
  /** '?...' or ''. */
  query: string;
  /** From the absolute-form authority, else the Host field ('' when absent). */
  host: string;
  absoluteForm: boolean;
  expectContinue: boolean;
}

export interface ResponseHead extends MessageHead {
  status: number;
  reason: string;
}

const CR = 13;
const LF = 10;

/** Skips the empty lines RFC 9112 §2.2 lets a server ignore before a request line. */
function skipLeadingEmptyLines(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
  return p;
}

/** Index just past CRLF CRLF, or -1. */
function findHeadEnd(buf: Buffer, start: number, end: number): number {
  const i = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (i < 0 || i + 4 > end) return -1;
  return i + 4;
}

/**
 * For a head not complete yet: the failure its size already proves, or undefined
 * to wait for more bytes.
 */
export function headIncomplete(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
  isRequest = true,
): ParseFailure | undefined {
  const p = skipLeadingEmptyLines(buf, start, end);
  const lineEnd = buf.indexOf(LF, p);
  const firstLine = lineEnd < 0 || lineEnd >= end ? end - p : lineEnd - p;
  if (firstLine > limits.maxRequestLine) {
    return isRequest
      ? new ParseFailure(414, 'HASTACK_HTTP_URI_TOO_LONG', 'request line too long')
      : new ParseFailure(502, 'HASTACK_HTTP_BAD_RESPONSE', 'status line too long');
  }
  if (end - p > limits.maxHeaderBytes) {
    return isRequest
      ? new ParseFailure(431, 'HASTACK_HTTP_HEADERS_TOO_LARGE', 'request header section too large')
      : new ParseFailure(502, 'HASTACK_HTTP_BAD_RESPONSE', 'response header section too large');
  }
  return undefined;
}

function bad(message: string): ParseFailure {
  return new ParseFailure(400, 'HASTACK_HTTP_BAD_REQUEST', message);
}

function badResponse(message: string): ParseFailure {
  return new ParseFailure(502, 'HASTACK_HTTP_BAD_RESPONSE', message);
}

/** Parses "HTTP/1.x"; returns the minor version, -1 malformed, -2 a well-formed other version. */
function parseVersion(text: string, from: number, to: number): number {
  if (to - from !== 8) return -1;
  if (text.charCodeAt(from) !== 72 || text.charCodeAt(from + 1) !== 84) return -1; // HT
  if (text.charCodeAt(from + 2) !== 84 || text.charCodeAt(from + 3) !== 80) return -1; // TP
  if (text.charCodeAt(from + 4) !== 47 || text.charCodeAt(from + 6) !== 46) return -1; // / .
  const major = text.charCodeAt(from + 5) - 48;
  const minor = text.charCodeAt(from + 7) - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return -1;
  if (major !== 1 || minor > 1) return -2;
  return minor;
}

function isToken(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (TCHAR[text.charCodeAt(i)] !== 1) return false;
  return true;
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function newHead(): MessageHead {
  return {
    versionMinor: 1,
    headers: [],
    contentLength: -1,
    chunked: false,
    hasTransferEncoding: false,
    connectionTokens: [],
    connectionClose: false,
    connectionKeepAlive: false,
    connectionUpgrade: false,
    upgrade: '',
    headLength: 0,
  };
}

interface FieldState {
  host: string | undefined;
  hostCount: number;
  expectContinue: boolean;
  transferCodings: string[] | undefined;
}

function newFieldState(): FieldState {
  return { host: undefined, hostCount: 0, expectContinue: false, transferCodings: undefined };
}

// Module-level so that parsing a head allocates no closure per message.
function tooManyRequestFields(): ParseFailure {
  return new ParseFailure(431, 'HASTACK_HTTP_HEADERS_TOO_LARGE', 'too many header fields');
}

function tooManyResponseFields(): ParseFailure {
  return badResponse('too many header fields');
}

function connectNotSupported(): ParseFailure {
  return new ParseFailure(405, 'HASTACK_HTTP_METHOD_NOT_ALLOWED', 'CONNECT is not supported');
}

/**
 * The field lines of `text` from `pos` (just after the start line's CRLF) to the
 * end (which is the blank line's CRLF). Fills `head`; returns a failure or undefined.
 */
function parseFields(
  text: string,
  pos: number,
  head: MessageHead,
  fields: FieldState,
  limits: HeadLimits,
  fail: (message: string) => ParseFailure,
  tooMany: () => ParseFailure,
): ParseFailure | undefined {
  const headers = head.headers;
  const endOfFields = text.length - 2; // the final CRLF
  let count = 0;
  while (pos < endOfFields) {
    const eol = text.indexOf('\r\n', pos);
    const lineEnd = eol < 0 ? text.length : eol;
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) return fail('obsolete line folding in a header field');
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon >= lineEnd) return fail('header field without a colon');
    // No whitespace is allowed between the name and the colon (RFC 9112 §5.1): it is not a tchar.
    if (!isToken(text, pos, colon)) return fail('invalid header field name');
    let vs = colon + 1;
    let ve = lineEnd;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    for (let i = vs; i < ve; i++) {
      if (FIELD_VALUE_CHAR[text.charCodeAt(i)] !== 1)
        return fail('invalid character in a header field value');
    }
    if (++count > limits.maxHeaders) return tooMany();
    let name = text.slice(pos, colon);
    let lower = false;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 65 && c <= 90) {
        lower = true;
        break;
      }
    }
    if (lower) name = name.toLowerCase();
    const value = text.slice(vs, ve);
    headers.push(name, value);
    const failure = noteField(name, value, head, fields, fail);
    if (failure !== undefined) return failure;
    pos = lineEnd + 2;
  }
  return undefined;
}

/** Reads the fields that frame the message or steer the connection. */
function noteField(
  name: string,
  value: string,
  head: MessageHead,
  fields: FieldState,
  fail: (message: string) => ParseFailure,
): ParseFailure | undefined {
  switch (name.length) {
    case 4:
      if (name === 'host') {
        fields.hostCount++;
        fields.host = value;
      }
      return undefined;
    case 6:
      if (name === 'expect' && value.toLowerCase() === '100-continue') fields.expectContinue = true;
      return undefined;
    case 7:
      if (name === 'upgrade') head.upgrade = value.toLowerCase();
      return undefined;
    case 10:
      if (name === 'connection') {
        for (const raw of value.split(',')) {
          const token = raw.trim().toLowerCase();
          if (token === '') continue;
          head.connectionTokens.push(token);
          if (token === 'close') head.connectionClose = true;
          else if (token === 'keep-alive') head.connectionKeepAlive = true;
          else if (token === 'upgrade') head.connectionUpgrade = true;
        }
      }
      return undefined;
    case 14:
      if (name === 'content-length') {
        // A list of identical values is one length (RFC 9110 §8.6); anything else is an attack or a bug.
        for (const raw of value.split(',')) {
          const item = raw.trim();
          if (!isDigits(item)) return fail('invalid Content-Length');
          const n = Number(item);
          if (head.contentLength !== -1 && head.contentLength !== n)
            return fail('conflicting Content-Length values');
          head.contentLength = n;
        }
      }
      return undefined;
    case 17:
      if (name === 'transfer-encoding') {
        head.hasTransferEncoding = true;
        fields.transferCodings ??= [];
        for (const raw of value.split(',')) fields.transferCodings.push(raw.trim().toLowerCase());
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Parses a request head starting at `start`. Returns undefined while the head is
 * incomplete (then call `headIncomplete` for the limits), a ParseFailure, or the head.
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): RequestHead | ParseFailure | undefined {
  const p = skipLeadingEmptyLines(buf, start, end);
  const headEnd = findHeadEnd(buf, p, end);
  if (headEnd < 0) return undefined;
  if (headEnd - p > limits.maxHeaderBytes) {
    return new ParseFailure(431, 'HASTACK_HTTP_HEADERS_TOO_LARGE', 'request header section too large');
  }
  const text = latin1Slice(buf, p, headEnd);
  const lineEnd = text.indexOf('\r\n');
  if (lineEnd > limits.maxRequestLine) {
    return new ParseFailure(414, 'HASTACK_HTTP_URI_TOO_LONG', 'request line too long');
  }
  // request-line = method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 > lineEnd) return bad('malformed request line');
  if (!isToken(text, 0, sp1)) return bad('invalid method');
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 > lineEnd || sp2 === sp1 + 1) return bad('malformed request line');
  for (let i = sp1 + 1; i < sp2; i++) {
    if (TARGET_CHAR[text.charCodeAt(i)] !== 1) return bad('invalid character in the request target');
  }
  const minor = parseVersion(text, sp2 + 1, lineEnd);
  if (minor === -2) return new ParseFailure(505, 'HASTACK_HTTP_VERSION', 'HTTP version not supported');
  if (minor < 0) return bad('malformed HTTP version');
  const method = text.slice(0, sp1);
  const target = text.slice(sp1 + 1, sp2);

  const base = newHead();
  base.versionMinor = minor;
  base.headLength = headEnd - start;
  const fields = newFieldState();
  const failure = parseFields(text, lineEnd + 2, base, fields, limits, bad, tooManyRequestFields);
  if (failure !== undefined) return failure;

  const framing = requestFraming(base, fields);
  if (framing !== undefined) return framing;
  if (fields.hostCount > 1) return bad('more than one Host field');
  if (minor === 1 && fields.hostCount === 0) return bad('HTTP/1.1 request without Host');
  let host = fields.host ?? '';
  if (!isHostText(host)) return bad('invalid Host');

  let path: string;
  let query = '';
  let absoluteForm = false;
  const first = target.charCodeAt(0);
  if (first === 47) {
    const q = target.indexOf('?');
    if (q < 0) path = target;
    else {
      path = target.slice(0, q);
      query = target.slice(q);
    }
    const hash = (q < 0 ? target : query).indexOf('#');
    if (hash >= 0) return bad('fragment in the request target');
  } else if (target === '*') {
    if (method !== 'OPTIONS') return bad('asterisk-form is only for OPTIONS');
    path = '*';
  } else {
    const absolute = parseAbsoluteForm(target);
    if (absolute === undefined) {
      return method === 'CONNECT' ? connectNotSupported() : bad('invalid request target');
    }
    // RFC 9112 §3.2.2: the authority of an absolute-form target replaces Host.
    host = absolute.host;
    path = absolute.path;
    query = absolute.query;
    absoluteForm = true;
  }
  if (method === 'CONNECT') return connectNotSupported();
  const head = base as RequestHead;
  head.method = method;
  head.target = target;
  head.path = path;
  head.query = query;
  head.host = host;
  head.absoluteForm = absoluteForm;
  head.expectContinue = fields.expectContinue;
  return head;
}

/** RFC 9112 §6: the body length must be unambiguous, or the request is refused and the connection closed. */
function requestFraming(head: MessageHead, fields: FieldState): ParseFailure | undefined {
  const codings = fields.transferCodings;
  if (codings === undefined) return undefined;
  if (head.versionMinor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request');
  if (head.contentLength !== -1) return bad('both Content-Length and Transfer-Encoding');
  if (codings.length === 0 || codings.some((c) => c === '')) return bad('empty transfer coding');
  if (codings[codings.length - 1] !== 'chunked') return bad('chunked is not the final transfer coding');
  if (codings.length > 1) {
    if (codings.indexOf('chunked') !== codings.length - 1) return bad('chunked applied more than once');
    for (const c of codings) if (!isToken(c, 0, c.length)) return bad('invalid transfer coding');
    return new ParseFailure(501, 'HASTACK_HTTP_NOT_IMPLEMENTED', 'transfer coding not implemented');
  }
  head.chunked = true;
  return undefined;
}

function isHostText(host: string): boolean {
  for (let i = 0; i < host.length; i++) if (HOST_CHAR[host.charCodeAt(i)] !== 1) return false;
  return true;
}

function parseAbsoluteForm(target: string): { host: string; path: string; query: string } | undefined {
  const m = /^[hH][tT][tT][pP][sS]?:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/.exec(target);
  if (m === null) return undefined;
  const authority = m[1]!;
  if (authority === '' || authority.includes('@') || !isHostText(authority)) return undefined;
  return { host: authority, path: m[2] === '' ? '/' : m[2]!, query: m[3] ?? '' };
}

/** Parses a response head (status line and fields). Undefined while incomplete. */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): ResponseHead | ParseFailure | undefined {
  const headEnd = findHeadEnd(buf, start, end);
  if (headEnd < 0) return undefined;
  if (headEnd - start > limits.maxHeaderBytes) return badResponse('response header section too large');
  const text = latin1Slice(buf, start, headEnd);
  const lineEnd = text.indexOf('\r\n');
  // The same limit as headIncomplete applies, whether the head arrived in pieces or at once.
  if (lineEnd > limits.maxRequestLine) return badResponse('status line too long');
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const minor = parseVersion(text, 0, 8);
  if (minor < 0) return badResponse('malformed status line');
  if (text.charCodeAt(8) !== 32 || lineEnd < 12) return badResponse('malformed status line');
  const d0 = text.charCodeAt(9) - 48;
  const d1 = text.charCodeAt(10) - 48;
  const d2 = text.charCodeAt(11) - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return badResponse('invalid status code');
  let reason = '';
  if (lineEnd > 12) {
    if (text.charCodeAt(12) !== 32) return badResponse('malformed status line');
    for (let i = 13; i < lineEnd; i++) {
      if (FIELD_VALUE_CHAR[text.charCodeAt(i)] !== 1) return badResponse('invalid reason phrase');
    }
    reason = text.slice(13, lineEnd);
  }
  const head = newHead() as ResponseHead;
  head.versionMinor = minor;
  head.headLength = headEnd - start;
  head.status = d0 * 100 + d1 * 10 + d2;
  head.reason = reason;
  const fields = newFieldState();
  const failure = parseFields(text, lineEnd + 2, head, fields, limits, badResponse, tooManyResponseFields);
  if (failure !== undefined) return failure;
  const codings = fields.transferCodings;
  if (codings !== undefined) {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; an intermediary must not pass both on.
    // Only plain chunked is passed on: re-framing a body with another coding would hide that coding.
    head.contentLength = -1;
    if (codings.length !== 1 || codings[0] !== 'chunked') return badResponse('unsupported transfer coding');
    head.chunked = true;
  }
  return head;
}
