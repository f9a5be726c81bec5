import http2 from 'node:http2';
import type { EngineContext, ListenerContext } from './context.ts';
import type { Downstream, OutgoingHead } from './downstream.ts';
import { Exchange } from './exchange.ts';
import type { RequestHead } from './http1-head.ts';

/*
 * An HTTP/2 stream from a client (TLS + ALPN h2, sessions run by node:http2) as
 * the downstream of one Exchange: the request is turned into the same head the
 * HTTP/1.1 parser produces, and the response goes out with stream.respond/write.
 * Upstreams stay HTTP/1.1.
 */

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Connection-specific fields are forbidden in HTTP/2 (RFC 9113 §8.2.2). */
const NOT_IN_H2 = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'expect',
]);

export function h2RequestHead(
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  endStream: boolean,
): RequestHead | string {
  const method = headers[':method'];
  const target = headers[':path'];
  if (typeof method !== 'string' || typeof target !== 'string') return 'missing :method or :path';
  if (method === 'CONNECT') return 'CONNECT is not supported';
  if (!target.startsWith('/') && !(method === 'OPTIONS' && target === '*')) return 'invalid :path';
  const flat: string[] = [];
  let cookie: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.charCodeAt(0) === 58) continue; // pseudo-header
    if (name === 'cookie') {
      cookie = cookie === undefined ? rawHeaders[i + 1]! : `${cookie}; ${rawHeaders[i + 1]}`;
      continue;
    }
    flat.push(name, rawHeaders[i + 1]!);
  }
  const authority = headers[':authority'] ?? headers.host ?? '';
  if (headers.host === undefined && authority !== '') flat.unshift('host', authority as string);
  if (cookie !== undefined) flat.push('cookie', cookie);
  const cl = headers['content-length'];
  const contentLength = typeof cl === 'string' && /^\d{1,15}$/.test(cl) ? Number(cl) : -1;
  const q = target.indexOf('?');
  return {
    method,
    target,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q),
    host: authority as string,
    absoluteForm: false,
    expectContinue: false,
    versionMinor: 1,
    headers: flat,
    contentLength: endStream ? (contentLength > 0 ? contentLength : -1) : contentLength,
    chunked: !endStream && contentLength < 0,
    hasTransferEncoding: false,
    connectionTokens: [],
    connectionClose: false,
    connectionKeepAlive: false,
    connectionUpgrade: false,
    upgrade: '',
    headLength: 0,
  };
}

export class H2Stream implements Downstream {
  readonly kind = 'h2';
  readonly stream: http2.ServerHttp2Stream;
  readonly exchange: Exchange;
  #upstreamPaused = false;
  #ended = false;

  constructor(engine: EngineContext, listener: ListenerContext, stream: http2.ServerHttp2Stream) {
    this.stream = stream;
    this.exchange = new Exchange(engine, listener, this);
    this.exchange.protocol = 'HTTP/2.0';
  }

  get queuedBytes(): number {
    return this.stream.writableLength;
  }

  start(headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const stream = this.stream;
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const head = h2RequestHead(headers, rawHeaders, endStream);
    if (typeof head === 'string') {
      this.exchange.listener.stats.badRequests++;
      stream.respond({ ':status': 400 }, { endStream: true });
      return;
    }
    const socket = stream.session?.socket;
    const ex = this.exchange;
    ex.requestDone = endStream;
    stream.on('close', () => {
      if (!ex.finished) ex.clientGone();
    });
    stream.on('error', () => {});
    stream.on('drain', () => {
      if (this.#upstreamPaused) {
        this.#upstreamPaused = false;
        ex.resumeUpstream();
      }
    });
    ex.begin(head, socket?.remoteAddress ?? '', socket?.remotePort ?? 0);
    if (endStream || ex.finished) return;
    stream.on('data', (chunk: Buffer) => {
      if (!ex.requestBody(chunk, 0, chunk.length)) stream.pause();
    });
    stream.on('end', () => ex.requestBodyEnd());
  }

  sendHead(h: OutgoingHead): void {
    if (this.stream.destroyed || this.stream.headersSent) return;
    const out: http2.OutgoingHttpHeaders = { ':status': h.status };
    const tokens = h.connectionTokens;
    const route = this.exchange.route;
    const proxied = h.proxied && route !== undefined;
    const remove = proxied ? route.config.responseHeaders.remove : [];
    const setNames = proxied ? route.responseSet.map(([n]) => n) : [];
    const hs = h.headers;
    for (let i = 0; i < hs.length; i += 2) {
      const name = hs[i]!;
      if (NOT_IN_H2.has(name) || tokens.includes(name) || remove.includes(name) || setNames.includes(name))
        continue;
      const prev = out[name];
      if (prev === undefined) out[name] = hs[i + 1]!;
      else if (Array.isArray(prev)) prev.push(hs[i + 1]!);
      else out[name] = name === 'set-cookie' ? [String(prev), hs[i + 1]!] : `${prev}, ${hs[i + 1]}`;
    }
    if (proxied) {
      const vars = this.exchange.vars;
      if (this.exchange.listener.config.via)
        out.via = out.via === undefined ? '2 hastack' : `${out.via}, 2 hastack`;
      for (const [n, t] of route.responseSet) out[n] = t.expand(vars);
      for (const [n, t] of route.responseAdd) {
        const prev = out[n];
        out[n] = prev === undefined ? t.expand(vars) : `${prev}, ${t.expand(vars)}`;
      }
    }
    if (h.contentLength >= 0) out['content-length'] = h.contentLength;
    try {
      this.stream.respond(out, { endStream: !h.hasBody });
      if (!h.hasBody) this.#ended = true;
    } catch {
      this.abort();
    }
  }

  sendBody(buf: Buffer, start: number, end: number, pooled: boolean): void {
    if (this.stream.destroyed || this.#ended) return;
    this.stream.write(pooled ? Buffer.from(buf.subarray(start, end)) : buf.subarray(start, end));
    const limit = this.exchange.listener.config.bufferSize;
    if (this.stream.writableLength > limit && !this.#upstreamPaused) {
      this.#upstreamPaused = true;
      this.exchange.pauseUpstream();
    }
  }

  sendEnd(): void {
    if (!this.#ended && !this.stream.destroyed) {
      this.#ended = true;
      this.stream.end();
    }
    this.exchange.finish();
  }

  abort(): void {
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  flush(): void {}

  sendContinue(): void {}

  resumeRequestBody(): void {
    if (this.stream.isPaused()) this.stream.resume();
  }
}
