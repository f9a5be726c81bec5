import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { BufferPool } from '../core/buffer-pool.ts';
import { HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { ClientConnection } from './client-connection.ts';
import type { EngineContext, ListenerContext } from './context.ts';
import { H2Stream } from './h2-stream.ts';
import type { HeadLimits } from './http1-head.ts';
import { IpSet } from './ip-match.ts';
import type { ListenerConfig } from './model.ts';
import { Router } from './router.ts';
import { type ListenerStats, newListenerStats, newRouteStats, type RouteStats } from './stats.ts';
import { TlsContexts } from './tls-contexts.ts';

/*
 * One `listeners[]` entry: the listening socket (plain, or TLS with per-SNI
 * certificates and ALPN h2/http/1.1), its router, and its connections.
 * Reconfigured in place when a reload keeps its address.
 */

export interface ListenerOptions {
  engine: EngineContext;
  buffers: BufferPool;
  logger: Logger;
  reusePort: boolean;
}

export class HttpListener implements ListenerContext {
  config: ListenerConfig;
  router: Router;
  trusted: IpSet | undefined;
  readonly stats: ListenerStats = newListenerStats();
  routeStats: RouteStats[];
  readonly tls: boolean;
  readonly #options: ListenerOptions;
  readonly #server: net.Server;
  readonly #clients = new Set<ClientConnection>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  #h2: http2.Http2Server | undefined;
  #contexts: TlsContexts | undefined;
  #limits: HeadLimits;
  #listening = false;
  #emptyWaiters: (() => void)[] = [];

  constructor(config: ListenerConfig, options: ListenerOptions) {
    this.config = config;
    this.#options = options;
    this.router = new Router(config.routes);
    this.trusted = config.trustedProxies.length > 0 ? new IpSet(config.trustedProxies) : undefined;
    this.routeStats = [...config.routes.map(() => newRouteStats()), newRouteStats()];
    this.#limits = limitsOf(config);
    this.tls = config.tls !== undefined;
    if (config.tls !== undefined) {
      const contexts = new TlsContexts(config.tls.certificates);
      this.#contexts = contexts;
      const server = tls.createServer({
        ...contexts.defaultOptions,
        ALPNProtocols: config.tls.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
        SNICallback: (name, cb) => cb(null, this.#contexts?.lookup(name)),
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => this.#acceptTls(socket));
      server.on('tlsClientError', () => {
        this.stats.badRequests++;
      });
      this.#server = server;
      if (config.tls.http2) this.#h2 = this.#createH2();
    } else {
      // Connections are taken from the listening handle directly (see #takeOverAccept), not from here.
      this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) =>
        socket.destroy(),
      );
    }
    // Before listening, listen() reports the error (the start fails with it): logging it here too doubled it.
    this.#server.on('error', (err) => {
      if (this.#listening) this.#options.logger.error({ err, listener: config.name }, 'listener error');
    });
  }

  get name(): string {
    return this.config.name;
  }

  get connectionCount(): number {
    return this.#clients.size + this.#sessions.size;
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) =>
        reject(
          new HastackError(
            'HASTACK_HTTP_LISTEN',
            `cannot listen on ${this.config.host}:${this.config.port}: ${err.message}`,
            {
              cause: err,
            },
          ),
        );
      this.#server.once('error', onError);
      this.#server.listen(
        { host: this.config.host, port: this.config.port, reusePort: this.#options.reusePort },
        () => {
          this.#server.off('error', onError);
          this.#listening = true;
          if (!this.tls) this.#takeOverAccept();
          resolve(this.address());
        },
      );
    });
  }

  address(): { host: string; port: number } {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') return { host: this.config.host, port: this.config.port };
    return { host: a.address, port: a.port };
  }

  /** A reload that keeps the address: new routes, limits and certificates; connections stay. */
  update(config: ListenerConfig): void {
    const router = new Router(config.routes);
    let contexts = this.#contexts;
    if (config.tls !== undefined) {
      contexts = new TlsContexts(config.tls.certificates);
      (this.#server as tls.Server).setSecureContext(contexts.defaultOptions);
    }
    const stats = new Map(this.config.routes.map((r, i) => [r.name, this.routeStats[i]!]));
    this.routeStats = [
      ...config.routes.map((r) => stats.get(r.name) ?? newRouteStats()),
      this.routeStats[this.routeStats.length - 1]!,
    ];
    this.#contexts = contexts;
    this.router = router;
    this.trusted = config.trustedProxies.length > 0 ? new IpSet(config.trustedProxies) : undefined;
    this.#limits = limitsOf(config);
    this.config = config;
  }

  sweep(now: number): void {
    for (const c of this.#clients) c.sweep(now);
  }

  stopAccepting(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#server.close();
  }

  /** Stops accepting, lets connections finish for graceMs, then cuts them. */
  async drain(graceMs: number): Promise<void> {
    this.stopAccepting();
    for (const s of this.#sessions) s.close();
    if (this.connectionCount > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#emptyWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(graceMs, 2_147_483_647));
        }),
      ]);
      clearTimeout(timer);
    }
    for (const c of this.#clients) c.socket.destroy();
    for (const s of this.#sessions) s.destroy();
    if (this.connectionCount > 0) await new Promise<void>((resolve) => this.#emptyWaiters.push(resolve));
  }

  /** Idle keep-alive connections are closed at once when draining. */
  closeIdle(): void {
    for (const c of this.#clients) if (c.state === 0) c.socket.destroy();
  }

  /**
   * Accepts on the listening handle ourselves: net.Server would build a Socket
   * per connection that the data path then replaces with its own (to read with
   * `onread`); one Socket per connection instead of two halves the setup cost of
   * a new connection. The server object still owns listen/close.
   */
  #takeOverAccept(): void {
    const handle = (this.#server as net.Server & { _handle?: { onconnection: unknown } })._handle;
    if (handle === undefined || handle === null) return;
    handle.onconnection = (err: number | undefined, clientHandle: unknown) => {
      if (err || clientHandle === undefined) return;
      this.#accept({ handle: clientHandle });
    };
  }

  #accept(source: net.Socket | { handle: unknown }): void {
    this.stats.connections++;
    this.stats.activeConnections++;
    const c = new ClientConnection(source, {
      engine: this.#options.engine,
      listener: this,
      buffers: this.#options.buffers,
      limits: this.#limits,
      onClosed: (closed) => {
        this.stats.activeConnections--;
        this.#clients.delete(closed);
        this.#maybeEmpty();
      },
    });
    this.#clients.add(c);
  }

  #acceptTls(socket: tls.TLSSocket): void {
    if (socket.alpnProtocol === 'h2' && this.#h2 !== undefined) {
      this.stats.connections++;
      this.#h2.emit('connection', socket);
      return;
    }
    this.#accept(socket);
  }

  #createH2(): http2.Http2Server {
    const h2 = http2.createServer({ maxSessionMemory: 64 });
    h2.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      this.stats.activeConnections++;
      session.on('close', () => {
        this.stats.activeConnections--;
        this.#sessions.delete(session);
        this.#maybeEmpty();
      });
      session.on('error', () => {});
    });
    h2.on(
      'stream',
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => {
        this.stats.h2Streams++;
        new H2Stream(this.#options.engine, this, stream).start(headers, flags, raw);
      },
    );
    return h2;
  }

  #maybeEmpty(): void {
    if (this.connectionCount > 0) return;
    const w = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const f of w) f();
  }
}

function limitsOf(config: ListenerConfig): HeadLimits {
  return {
    maxRequestLine: config.limits.maxRequestLine,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    maxHeaders: config.limits.maxHeaders,
  };
}
