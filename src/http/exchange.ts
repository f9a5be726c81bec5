import type { PickContext } from '../balance/types.ts';
import { fastWrite, queuedOn } from '../core/fast-write.ts';
import type { AccessLogEntry } from './access-log.ts';
import type { EngineContext, ListenerContext } from './context.ts';
import type { Downstream, OutgoingHead } from './downstream.ts';
import {
  buildUpstreamRequestHead,
  clientAddress,
  type ForwardingInfo,
  FRAME_CHUNKED,
  FRAME_LENGTH,
  FRAME_NONE,
} from './forward-headers.ts';
import type { RequestHead, ResponseHead } from './http1-head.ts';
import { latin1Write } from './latin1.ts';
import { errorBody, reasonPhrase } from './local-responses.ts';
import { type CompiledRoute, headerValue, type RouteInput, routingHost } from './router.ts';
import { type StaticAnswer, serveStatic } from './static-files.ts';
import { newRouteStats, observeLatency, type RouteStats } from './stats.ts';
import { rewrittenTarget, type TemplateVars } from './template.ts';
import type { Tunnel } from './tunnel.ts';
import {
  BODY_CHUNKED,
  BODY_EOF,
  BODY_LENGTH,
  BODY_NONE,
  BODY_TUNNEL,
  FAIL_CONNECT,
  FAIL_CONNECT_TIMEOUT,
  FAIL_EMPTY,
  FAIL_PROTOCOL,
  FAIL_READ_TIMEOUT,
  FAIL_RESPONSE_TIMEOUT,
  type FailureKind,
  type UpstreamConnection,
  type UpstreamConsumer,
} from './upstream-connection.ts';
import type { PoolServer, UpstreamPool } from './upstream-pool.ts';
import { normalizePath } from './url-path.ts';

/*
 * One request and its response: routing, the route's action, and for pool
 * routes the whole upstream side (server choice, request forwarding, retries
 * with redispatch, outlier reports, response forwarding). An HTTP/1.1
 * connection reuses one Exchange for all its requests, in order.
 */

/** RFC 9110 §9.2.2. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** Request bodies up to this size are kept so an idempotent request can be sent again. */
const REPLAY_LIMIT = 64 * 1024;
/** Pause reading the client's body while this much waits for the upstream. */
const BODY_HIGH_WATER = 64 * 1024;

const EMPTY: readonly string[] = Object.freeze([]);
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** Side of the exchange an Exchange hears about from its downstream. */
export interface Tunnelable {
  startTunnel(
    upstream: UpstreamConnection,
    rest: Buffer | undefined,
    onClose: () => void,
  ): Tunnel | undefined;
}

export class Exchange implements UpstreamConsumer {
  readonly engine: EngineContext;
  readonly listener: ListenerContext;
  readonly downstream: Downstream & Partial<Tunnelable>;
  head!: RequestHead;
  peer = '';
  peerPort = 0;
  clientIp = '';
  protocol = 'HTTP/1.1';
  route: CompiledRoute | undefined = undefined;
  routeStats!: RouteStats;
  readonly vars: TemplateVars = {
    captures: undefined,
    host: '',
    path: '',
    query: '',
    requestUri: '',
    scheme: 'http',
    method: '',
    remoteAddr: '',
  };
  startedAt = 0;
  startedWall = 0;
  /** Status sent to the client (0 until a head went out). */
  status = 0;
  bytesOut = 0;
  responseStarted = false;
  finished = false;
  /** Close the client connection after this response. */
  closeAfter = false;
  maxBody = 0;
  bodyReceived = 0;
  requestDone = false;
  // upstream side
  pool: UpstreamPool | undefined = undefined;
  server: PoolServer | undefined = undefined;
  upstream: UpstreamConnection | undefined = undefined;
  attempts = 0;
  retries = 0;
  tried: PoolServer[] | undefined = undefined;
  idempotent = false;
  reused = false;
  /** Any request byte written to the current upstream connection. */
  bytesSent = false;
  requestFullySent = false;
  upstreamHead = '';
  reqFraming = FRAME_NONE;
  /** Chunks written or to write; kept whole while the body fits REPLAY_LIMIT. */
  retained: Buffer[] | undefined = undefined;
  retainedBytes = 0;
  replayable = true;
  queue: Buffer[] = [];
  queuedBytes = 0;
  upgrade = '';
  responseMode = BODY_NONE;
  tunnel: Tunnel | undefined = undefined;
  lastFailure: FailureKind | 0 = 0;
  /** server.activeConns counts this exchange. */
  serverCounted = false;
  /** performance.now() when the current attempt's request head was written upstream. */
  sentAt = 0;
  /** The current attempt got a response head (its duration goes to the server's histogram). */
  answered = false;
  readonly #pick: PickContext = { clientHost: '', clientPort: 0, destHost: '', destPort: 0, now: 0 };
  readonly #routeInput: RouteInput = { method: '', host: '', path: '', query: '', headers: [], clientIp: '' };

  constructor(
    engine: EngineContext,
    listener: ListenerContext,
    downstream: Downstream & Partial<Tunnelable>,
  ) {
    this.engine = engine;
    this.listener = listener;
    this.downstream = downstream;
  }

  /** Ready for the next request on the same connection. */
  reset(): void {
    this.route = undefined;
    this.status = 0;
    this.bytesOut = 0;
    this.responseStarted = false;
    this.finished = false;
    this.closeAfter = false;
    this.bodyReceived = 0;
    this.requestDone = false;
    this.pool = undefined;
    this.server = undefined;
    this.upstream = undefined;
    this.attempts = 0;
    this.retries = 0;
    this.tried = undefined;
    this.reused = false;
    this.bytesSent = false;
    this.requestFullySent = false;
    this.retained = undefined;
    this.retainedBytes = 0;
    this.replayable = true;
    if (this.queue.length > 0) this.queue = [];
    this.queuedBytes = 0;
    this.upgrade = '';
    this.responseMode = BODY_NONE;
    this.tunnel = undefined;
    this.lastFailure = 0;
    this.serverCounted = false;
    this.sentAt = 0;
    this.answered = false;
    this.vars.captures = undefined;
  }

  get hasRequestBody(): boolean {
    return this.head.chunked || this.head.contentLength > 0;
  }

  /** Routes the request and starts its action. The downstream then feeds the body, if any. */
  begin(head: RequestHead, peer: string, peerPort: number): void {
    this.head = head;
    this.peer = peer;
    this.peerPort = peerPort;
    this.startedAt = performance.now();
    if (this.engine.accessLogEnabled) this.startedWall = Date.now();
    const l = this.listener;
    l.stats.requests++;
    const clientIp = clientAddress(peer, head.headers, l.trusted);
    this.clientIp = clientIp;
    const v = this.vars;
    v.method = head.method;
    v.host = head.host;
    v.path = head.path;
    v.query = head.query.length > 0 ? head.query.slice(1) : '';
    v.requestUri = head.absoluteForm ? head.path + head.query : head.target;
    v.scheme = l.tls ? 'https' : 'http';
    v.remoteAddr = clientIp;
    if (head.versionMinor === 0 ? !head.connectionKeepAlive : head.connectionClose) this.closeAfter = true;
    if (!l.config.keepalive.enabled || this.engine.draining) this.closeAfter = true;
    const path = head.path === '*' ? '*' : normalizePath(head.path);
    if (path === undefined) {
      this.routeStats = l.routeStats[l.routeStats.length - 1]!;
      this.routeStats.requests++;
      this.closeAfter = true;
      this.respondError(400);
      return;
    }
    const input = this.#routeInput;
    input.method = head.method;
    input.host = routingHost(head.host);
    input.path = path;
    input.query = head.query;
    input.headers = head.headers;
    input.clientIp = clientIp;
    const hit = l.router.route(input);
    if (hit === undefined) {
      this.routeStats = l.routeStats[l.routeStats.length - 1]!;
      this.routeStats.requests++;
      if (this.hasRequestBody) this.closeAfter = true;
      this.respondError(404);
      return;
    }
    const route = hit.route;
    this.route = route;
    v.captures = hit.captures;
    this.routeStats = l.routeStats[route.index] ?? newRouteStats();
    this.routeStats.requests++;
    this.maxBody = route.config.maxBodySize ?? l.config.limits.maxBodySize;
    if (head.contentLength > this.maxBody) {
      this.closeAfter = true;
      this.respondError(413);
      return;
    }
    const action = route.config.action;
    switch (action.type) {
      case 'pool':
        this.#startProxy(route, action.pool, path);
        return;
      case 'respond': {
        if (this.hasRequestBody) this.closeAfter = true;
        const headers: string[] = ['content-type', action.contentType];
        for (const [k, val] of action.headers) headers.push(k, val);
        this.respondLocal(action.status, headers, Buffer.from(action.body), true);
        return;
      }
      case 'redirect': {
        if (this.hasRequestBody) this.closeAfter = true;
        const location = route.redirectTo!.expand(v);
        this.respondLocal(
          action.status,
          ['location', location, 'content-type', 'text/plain'],
          errorBody(action.status),
          true,
        );
        return;
      }
      case 'static': {
        if (this.hasRequestBody) this.closeAfter = true;
        const prefix = action.stripPrefix ? (route.config.match.pathPrefix ?? '') : '';
        serveStatic({ root: action.root, index: action.index, prefix }, head.method, path, head.headers).then(
          (answer) => this.#sendStatic(answer),
          (err: unknown) => {
            this.engine.reportError(err, 'static file');
            this.respondError(500);
          },
        );
        return;
      }
    }
  }

  // --- local answers -----------------------------------------------------------

  respondError(status: number): void {
    this.respondLocal(status, ['content-type', 'text/plain'], errorBody(status), false);
  }

  /** An answer hastack writes itself. `proxied`: apply the route's response rules and Via. */
  respondLocal(status: number, headers: string[], body: Buffer, proxied: boolean): void {
    if (this.finished) return;
    if (this.responseStarted) {
      this.abort();
      return;
    }
    const hasBody = this.head.method !== 'HEAD' && status !== 204 && status !== 304;
    this.#sendHead({
      status,
      reason: reasonPhrase(status),
      headers,
      connectionTokens: EMPTY,
      contentLength: status === 204 || status === 304 ? -1 : body.length,
      hasBody,
      upgrade: '',
      proxied,
    });
    if (hasBody && body.length > 0) {
      this.bytesOut += body.length;
      this.downstream.sendBody(body, 0, body.length, false);
    }
    this.downstream.sendEnd();
  }

  #sendStatic(a: StaticAnswer): void {
    if (this.finished) return;
    const hasBody = this.head.method !== 'HEAD' && a.status !== 304;
    this.#sendHead({
      status: a.status,
      reason: reasonPhrase(a.status),
      headers: a.headers,
      connectionTokens: EMPTY,
      contentLength: a.contentLength,
      hasBody,
      upgrade: '',
      proxied: true,
    });
    if (a.body !== undefined && hasBody) {
      this.bytesOut += a.body.length;
      this.downstream.sendBody(a.body, 0, a.body.length, false);
      this.downstream.sendEnd();
      return;
    }
    const stream = a.stream;
    if (stream === undefined || !hasBody) {
      stream?.destroy();
      this.downstream.sendEnd();
      return;
    }
    stream.on('data', (data: string | Buffer) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      if (this.finished) {
        stream.destroy();
        return;
      }
      this.bytesOut += chunk.length;
      this.downstream.sendBody(chunk, 0, chunk.length, false);
      if (this.downstream.queuedBytes > 256 * 1024) {
        stream.pause();
        this.staticResume = () => stream.resume();
      }
    });
    stream.on('end', () => {
      if (!this.finished) this.downstream.sendEnd();
    });
    stream.on('error', (err) => {
      this.engine.reportError(err, 'static file read');
      this.abort();
    });
  }

  /** Set while a static file waits for the client to drain. */
  staticResume: (() => void) | undefined = undefined;

  #sendHead(h: OutgoingHead): void {
    this.status = h.status;
    this.responseStarted = true;
    this.downstream.sendHead(h);
  }

  // --- proxying ----------------------------------------------------------------

  #startProxy(route: CompiledRoute, poolName: string, path: string): void {
    const pool = this.engine.pools.get(poolName);
    if (pool === undefined) {
      this.respondError(503);
      return;
    }
    const head = this.head;
    this.pool = pool;
    this.idempotent = IDEMPOTENT.has(head.method);
    let target = head.absoluteForm ? head.path + head.query : head.target;
    if (route.rewriteTo !== undefined) {
      const v = this.vars;
      if (route.rewriteRegex !== undefined) {
        const m = route.rewriteRegex.exec(path);
        if (m !== null) {
          v.captures = m;
          target = rewrittenTarget(route.rewriteTo.expand(v), head.query);
        }
      } else target = rewrittenTarget(route.rewriteTo.expand(v), head.query);
    }
    if (head.chunked) this.reqFraming = FRAME_CHUNKED;
    else if (head.contentLength >= 0) this.reqFraming = FRAME_LENGTH;
    else this.reqFraming = FRAME_NONE;
    if (this.hasRequestBody) this.retained = [];
    const l = this.listener.config;
    if (head.connectionUpgrade && head.upgrade !== '' && this.downstream.startTunnel !== undefined) {
      this.upgrade = head.upgrade;
    }
    const info: ForwardingInfo = {
      peer: this.peer,
      peerTrusted: this.listener.trusted?.contains(this.peer) ?? false,
      proto: this.listener.tls ? 'https' : 'http',
      host: head.host,
      xForwarded: l.xForwarded,
      forwarded: l.forwarded,
      via: l.via,
    };
    this.upstreamHead = buildUpstreamRequestHead({
      method: head.method,
      target,
      headers: head.headers,
      connectionTokens: head.connectionTokens,
      rules: { set: route.requestSet, add: route.requestAdd, remove: route.config.requestHeaders.remove },
      vars: this.vars,
      info,
      framing: this.reqFraming,
      contentLength: head.contentLength,
      upgrade: this.upgrade,
      keepAlive: pool.config.keepalive.enabled,
      // An HTTP/1.0 request may have no Host; upstreams speak 1.1 and need one (nginx sends $proxy_host).
      ...((head.absoluteForm || head.host === '') && {
        hostOverride: head.host === '' ? pool.name : head.host,
      }),
    });
    if (head.expectContinue && this.hasRequestBody) this.downstream.sendContinue();
    this.#dispatch();
  }

  #dispatch(): void {
    const pool = this.pool!;
    const now = this.engine.now;
    let server: PoolServer | undefined;
    if (!pool.config.redispatch && this.server !== undefined && this.server.usable) server = this.server;
    else {
      const ctx = this.#pick;
      ctx.clientHost = this.clientIp;
      ctx.clientPort = this.peerPort;
      ctx.destHost = this.listener.config.host;
      ctx.destPort = this.listener.config.port;
      ctx.now = now;
      server = pool.pick(ctx, this.tried);
    }
    if (server === undefined) {
      if (this.attempts === 0) pool.totals.noServer++;
      this.respondError(this.attempts === 0 ? 503 : this.#failureStatus());
      return;
    }
    this.attempts++;
    pool.totals.requests++;
    server.requests++;
    server.activeConns++;
    this.serverCounted = true;
    this.answered = false;
    this.server = server;
    this.bytesSent = false;
    this.requestFullySent = false;
    const idle = this.upgrade === '' ? this.engine.upstreams.takeIdle(server) : undefined;
    if (idle !== undefined) {
      idle.consumer = this;
      this.upstream = idle;
      this.reused = true;
      this.#writeRequest(idle);
      return;
    }
    this.reused = false;
    this.upstream = this.engine.upstreams.connect(pool, server, this, now + pool.config.connectTimeoutMs);
  }

  #failureStatus(): number {
    const k = this.lastFailure;
    return k === FAIL_CONNECT_TIMEOUT || k === FAIL_RESPONSE_TIMEOUT || k === FAIL_READ_TIMEOUT ? 504 : 502;
  }

  onUpstreamConnected(uc: UpstreamConnection): void {
    this.#writeRequest(uc);
  }

  #writeRequest(uc: UpstreamConnection): void {
    uc.expectResponse(this.engine.now + this.pool!.config.responseTimeoutMs);
    const socket = uc.socket;
    this.bytesSent = true;
    this.sentAt = performance.now();
    if (this.queue.length === 0) {
      fastWrite(socket, this.upstreamHead);
    } else {
      socket.cork();
      socket.write(this.upstreamHead, 'latin1');
      for (const chunk of this.queue) socket.write(chunk);
      this.queue = [];
      this.queuedBytes = 0;
      socket.uncork();
    }
    if (this.requestDone || !this.hasRequestBody) this.requestFullySent = true;
    if (this.hasRequestBody && !this.requestDone) this.downstream.resumeRequestBody();
  }

  /** Body bytes from the client (already de-chunked). Returns false when the client should pause. */
  requestBody(buf: Buffer, start: number, end: number): boolean {
    const n = end - start;
    this.bodyReceived += n;
    if (this.bodyReceived > this.maxBody) {
      this.closeAfter = true;
      this.#dropUpstream();
      this.respondError(413);
      return false;
    }
    if (this.pool === undefined || this.finished || (this.upstream === undefined && this.responseStarted))
      return true;
    let chunk: Buffer;
    if (this.reqFraming === FRAME_CHUNKED) {
      const size = n.toString(16);
      chunk = Buffer.allocUnsafe(size.length + n + 4);
      latin1Write(chunk, size, 0);
      chunk[size.length] = 13;
      chunk[size.length + 1] = 10;
      buf.copy(chunk, size.length + 2, start, end);
      chunk[chunk.length - 2] = 13;
      chunk[chunk.length - 1] = 10;
    } else chunk = Buffer.from(buf.subarray(start, end));
    return this.#forwardChunk(chunk);
  }

  #forwardChunk(chunk: Buffer): boolean {
    if (this.retained !== undefined) {
      this.retainedBytes += chunk.length;
      if (this.retainedBytes > REPLAY_LIMIT) {
        this.retained = undefined;
        this.replayable = false;
      } else this.retained.push(chunk);
    }
    const uc = this.upstream;
    if (uc !== undefined && this.bytesSent && !uc.closed) {
      uc.socket.write(chunk);
      return queuedOn(uc.socket) <= BODY_HIGH_WATER;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    return this.queuedBytes <= BODY_HIGH_WATER;
  }

  /** The client's body is complete. */
  requestBodyEnd(): void {
    this.requestDone = true;
    if (this.pool === undefined || this.finished) return;
    if (this.reqFraming === FRAME_CHUNKED) this.#forwardChunk(LAST_CHUNK);
    if (this.bytesSent && this.upstream !== undefined) this.requestFullySent = true;
  }

  onUpstreamDrain(): void {
    if (this.hasRequestBody && !this.requestDone) this.downstream.resumeRequestBody();
  }

  onResponseHead(uc: UpstreamConnection, head: ResponseHead): number {
    const pool = this.pool!;
    const server = uc.server;
    const status = head.status;
    this.answered = true;
    // Counted even when the status makes the request go elsewhere: the server did answer it.
    server.responses[(status / 100) | 0]!++;
    if (status >= 500) {
      if (pool.retryStatuses.has(status) && this.#mayRetry(0)) {
        this.#upstreamFailed(uc, true);
        this.#retry();
        return BODY_NONE;
      }
      if (pool.reportFailure(server, this.engine.now)) this.engine.onEjected(pool, server);
    } else pool.reportSuccess(server);
    let mode: number;
    const method = this.head.method;
    if (status === 101) {
      if (this.upgrade === '') {
        // A switch nobody asked for cannot be relayed.
        this.#upstreamFailed(uc, false);
        this.lastFailure = FAIL_PROTOCOL;
        this.respondError(502);
        return BODY_NONE;
      }
      mode = BODY_TUNNEL;
    } else if (method === 'HEAD' || status === 204 || status === 304) mode = BODY_NONE;
    else if (head.chunked) mode = BODY_CHUNKED;
    else if (head.contentLength >= 0) mode = BODY_LENGTH;
    else mode = BODY_EOF;
    this.responseMode = mode;
    this.#sendHead({
      status,
      reason: head.reason === '' ? reasonPhrase(status) : head.reason,
      headers: head.headers,
      connectionTokens: head.connectionTokens,
      contentLength:
        mode === BODY_LENGTH || (mode === BODY_NONE && head.contentLength >= 0) ? head.contentLength : -1,
      hasBody: mode !== BODY_NONE && mode !== BODY_TUNNEL,
      upgrade: mode === BODY_TUNNEL ? head.upgrade || this.upgrade : '',
      proxied: true,
    });
    return mode;
  }

  onResponseData(_uc: UpstreamConnection, buf: Buffer, start: number, end: number): void {
    this.bytesOut += end - start;
    this.downstream.sendBody(buf, start, end, true);
  }

  afterUpstreamRead(_uc: UpstreamConnection): void {
    this.downstream.flush();
  }

  onResponseEnd(uc: UpstreamConnection, reusable: boolean): void {
    this.#settleServer();
    this.upstream = undefined;
    this.engine.upstreams.release(uc, reusable && this.requestFullySent && this.requestDone, this.engine.now);
    this.downstream.sendEnd();
  }

  onTunnel(uc: UpstreamConnection, rest: Buffer | undefined): void {
    this.upstream = undefined;
    // The tunnel keeps counting as a connection on its server until it closes.
    const server = this.server!;
    const counted = this.serverCounted;
    this.serverCounted = false;
    // The 101 head ends the response as far as its duration goes.
    if (counted) observeLatency(server, (performance.now() - this.sentAt) / 1000);
    const release = () => {
      if (counted) server.activeConns--;
    };
    this.listener.stats.tunnels++;
    const tunnel = this.downstream.startTunnel?.(uc, rest, release);
    if (tunnel === undefined) {
      release();
      uc.destroy();
      return;
    }
    this.tunnel = tunnel;
    this.finish();
  }

  onUpstreamFailure(uc: UpstreamConnection, kind: FailureKind, _detail: string): void {
    if (uc !== this.upstream) return;
    this.lastFailure = kind;
    const pool = this.pool!;
    const server = uc.server;
    this.#settleServer();
    this.upstream = undefined;
    if (pool.reportFailure(server, this.engine.now)) this.engine.onEjected(pool, server);
    if (this.responseStarted) {
      this.abort();
      return;
    }
    if (this.#mayRetry(kind)) {
      this.#retry();
      return;
    }
    this.respondError(this.#failureStatus());
  }

  /**
   * May the request go out again? Never once a non-idempotent request's bytes
   * went out; an idempotent one only while its whole body is still at hand.
   */
  #mayRetry(kind: FailureKind | 0): boolean {
    const pool = this.pool!;
    if (this.finished || this.attempts > pool.config.retries) return false;
    const on = pool.config.retryOn;
    if (kind === FAIL_CONNECT || kind === FAIL_CONNECT_TIMEOUT)
      return on.includes('connect-failure') || !this.bytesSent;
    if (!this.bytesSent) return true;
    if (!this.idempotent || !this.replayable) return false;
    if (kind === FAIL_EMPTY) return this.reused || on.includes('empty-response');
    if (kind === FAIL_RESPONSE_TIMEOUT) return on.includes('timeout');
    if (kind === 0) return true; // a configured retry status
    return false;
  }

  #retry(): void {
    const pool = this.pool!;
    this.retries++;
    pool.totals.retries++;
    this.routeStats.retries++;
    // Charged to the server whose attempt failed (this.server is still that one).
    if (this.server !== undefined) this.server.retries++;
    if (pool.config.redispatch && this.server !== undefined) (this.tried ??= []).push(this.server);
    this.queue = this.retained !== undefined ? [...this.retained] : [];
    this.queuedBytes = this.retainedBytes;
    this.#dispatch();
  }

  /**
   * Counts the attempt as over on its server; an attempt that got a response head
   * adds its duration (request written → now: response read, or cut short) to the server's histogram.
   */
  #settleServer(): void {
    if (this.serverCounted) {
      this.serverCounted = false;
      const server = this.server!;
      server.activeConns--;
      if (this.answered) observeLatency(server, (performance.now() - this.sentAt) / 1000);
    }
  }

  #upstreamFailed(uc: UpstreamConnection, countFailure: boolean): void {
    this.#settleServer();
    this.upstream = undefined;
    uc.destroy();
    if (countFailure && this.pool!.reportFailure(uc.server, this.engine.now))
      this.engine.onEjected(this.pool!, uc.server);
  }

  #dropUpstream(): void {
    const uc = this.upstream;
    if (uc === undefined) return;
    this.#settleServer();
    this.upstream = undefined;
    uc.destroy();
  }

  pauseUpstream(): void {
    this.upstream?.pause();
  }

  resumeUpstream(): void {
    this.upstream?.resume();
    const r = this.staticResume;
    if (r !== undefined) {
      this.staticResume = undefined;
      r();
    }
  }

  // --- ends --------------------------------------------------------------------

  /** The response cannot be completed. */
  abort(): void {
    if (this.finished) return;
    this.#dropUpstream();
    this.closeAfter = true;
    this.downstream.abort();
    this.finish();
  }

  /** The client went away (or its stream was reset). */
  clientGone(): void {
    if (this.finished) return;
    this.#dropUpstream();
    if (this.status === 0) this.status = 499;
    this.finish();
  }

  /** The whole response was handed to the client side. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.upstream !== undefined) this.#dropUpstream();
    const stats = this.routeStats;
    const status = this.status;
    stats.responses[status >= 100 && status < 600 ? (status / 100) | 0 : 0]!++;
    stats.bytesOut += this.bytesOut;
    const seconds = (performance.now() - this.startedAt) / 1000;
    observeLatency(stats, seconds);
    if (this.engine.accessLogEnabled) this.engine.logAccess(this.#accessEntry(seconds));
  }

  #accessEntry(seconds: number): AccessLogEntry {
    const h = this.head;
    return {
      remoteAddr: this.clientIp,
      time: this.startedWall,
      method: h.method,
      target: h.target,
      protocol: this.protocol,
      status: this.status,
      bytesSent: this.bytesOut,
      referer: headerValue(h.headers, 'referer') ?? '',
      userAgent: headerValue(h.headers, 'user-agent') ?? '',
      host: h.host,
      listener: this.listener.config.name,
      route: this.route?.config.name ?? '',
      upstream: this.server?.key ?? '',
      duration: seconds,
      retries: this.retries,
    };
  }
}
