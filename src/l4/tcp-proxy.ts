import net from 'node:net';
import { BufferPool, READ_BUFFER_SIZE } from '../core/buffer-pool.ts';
import { errorCode, HastackError } from '../core/errors.ts';
import { fastWrite, queuedOn } from '../core/fast-write.ts';
import type { Logger } from '../core/logger.ts';
import {
  type DestinationPool,
  NOT_COUNTED,
  type PoolDestination,
  type RoutedConnection,
} from './destination-pool.ts';
import type { PersistenceTemplate } from './persistence.ts';

export interface TcpProxyOptions {
  host: string;
  port: number;
  /** Closes a pair with no traffic either way for this long (0 = never). */
  idleTimeoutMs: number;
  /** Limit for connecting to one real server before trying another. */
  connectTimeoutMs: number;
  /** Connect attempts per client connection, the first included. Default 3. */
  maxConnectAttempts?: number;
  /** Share the port with other listeners (worker threads, a rebind on the same address). */
  reusePort?: boolean;
  /** Monotonic ms, for persistence expiry. */
  now: () => number;
  logger: Logger;
}

const kConn = Symbol('hastack.l4.connection');
/** IPVS's default tcpfin timeout. */
export const FIN_TIMEOUT_MS = 120_000;

type TaggedSocket = net.Socket & { [kConn]: ProxiedConnection };

/**
 * One client connection and its upstream. Event handlers are shared module-level
 * functions that find their connection through a symbol on the socket, so a
 * connection allocates no closures and a chunk allocates nothing of ours.
 */
class ProxiedConnection implements RoutedConnection {
  readonly proxy: TcpProxy;
  /** The socket the server accepted; its handle now belongs to `client`. Kept for the server's connection count. */
  readonly accepted: net.Socket;
  readonly client: net.Socket;
  /** Read buffers, one per direction: a read lands here and is written on before the next read. */
  readonly clientBuffer: Buffer;
  readonly upstreamBuffer: Buffer;
  /** A write is still pending and points into the source's read buffer: the source is paused. */
  clientWaits = false;
  upstreamWaits = false;
  /** What the client sent before a connect succeeded (reading pauses after one chunk). */
  early: Buffer | undefined = undefined;
  /** The client's FIN came while still connecting. */
  clientEnded = false;
  /** Write completions (one closure pair per connection, none per chunk). */
  readonly afterUpstreamWrite: () => void;
  readonly afterClientWrite: () => void;
  upstream: net.Socket | undefined = undefined;
  clientHost: string;
  clientPort: number;
  dest: PoolDestination | undefined = undefined;
  template: PersistenceTemplate<PoolDestination> | undefined = undefined;
  counted = NOT_COUNTED;
  failed: PoolDestination[] | undefined = undefined;
  attempts = 0;
  connected = false;
  clientClosed = false;
  upstreamClosed = true;
  /** A FIN was seen in either direction (the pair is no longer "active"). */
  finSeen = false;
  done = false;
  /** Error codes seen per side, to pass a reset on as a reset. */
  clientError: string | undefined = undefined;
  upstreamError: string | undefined = undefined;

  constructor(proxy: TcpProxy, accepted: net.Socket, buffers: BufferPool) {
    this.proxy = proxy;
    this.accepted = accepted;
    this.clientHost = accepted.remoteAddress ?? '';
    this.clientPort = accepted.remotePort ?? 0;
    this.clientBuffer = buffers.take();
    this.upstreamBuffer = buffers.take();
    // Take over the accepted socket's handle so that reads go into our buffer (`onread`).
    const handle = (accepted as net.Socket & { _handle: unknown })._handle;
    (accepted as net.Socket & { _handle: unknown })._handle = null;
    this.client = new net.Socket({
      handle,
      allowHalfOpen: true,
      onread: { buffer: this.clientBuffer, callback: onClientRead },
    } as net.SocketConstructorOpts);
    this.afterUpstreamWrite = () => {
      if (this.clientWaits && this.upstream !== undefined && queuedOn(this.upstream) === 0) {
        this.clientWaits = false;
        if (!this.client.destroyed) this.client.resume();
      }
    };
    this.afterClientWrite = () => {
      if (this.upstreamWaits && queuedOn(this.client) === 0) {
        this.upstreamWaits = false;
        if (this.upstream !== undefined && !this.upstream.destroyed) this.upstream.resume();
      }
    };
  }
}

function conn(socket: net.Socket): ProxiedConnection {
  return (socket as TaggedSocket)[kConn];
}

// --- shared handlers (this = the socket that emitted) ---------------------------

/**
 * A read from the client landed in `clientBuffer`. Returning false pauses reading:
 * done while the write still points into the buffer, so the next read cannot
 * overwrite bytes not yet handed to the kernel.
 */
function onClientRead(this: net.Socket, nread: number, buf: Buffer): boolean {
  const c = conn(this);
  const up = c.upstream;
  if (up === undefined || up.destroyed) return false;
  c.proxy.pool.countIn(c, nread);
  if (!c.connected) {
    // Still connecting (maybe to a server that will refuse): keep a copy until a connect succeeds.
    c.early = Buffer.from(buf.subarray(0, nread));
    c.clientWaits = true;
    return false;
  }
  if (fastWrite(up, buf.subarray(0, nread), c.afterUpstreamWrite)) return true;
  c.clientWaits = true;
  c.proxy.pool.stats.countPause();
  return false;
}

function onUpstreamRead(this: net.Socket, nread: number, buf: Buffer): boolean {
  const c = conn(this);
  const client = c.client;
  if (this !== c.upstream || client.destroyed) return false;
  c.proxy.pool.countOut(c, nread);
  if (fastWrite(client, buf.subarray(0, nread), c.afterClientWrite)) return true;
  c.upstreamWaits = true;
  c.proxy.pool.stats.countPause();
  return false;
}

function onEnd(this: net.Socket): void {
  const c = conn(this);
  if (this === c.client && !c.connected) {
    // FIN before any connect succeeded: passed on once one does (see established()).
    c.clientEnded = true;
    return;
  }
  if (!c.finSeen) {
    c.finSeen = true;
    c.proxy.pool.finish(c);
    c.proxy.armFinTimeout(c);
  }
  // Half-close: pass the FIN on, the other direction stays open.
  const other = this === c.client ? c.upstream : c.client;
  if (other !== undefined && !other.destroyed) other.end();
}

function onError(this: net.Socket, err: Error): void {
  const c = conn(this);
  c.proxy.noteError(c, this === c.client ? 'client' : 'upstream', err);
}

function onTimeout(this: net.Socket): void {
  const c = conn(this);
  if (this !== c.client && this !== c.upstream) {
    this.destroy(); // an abandoned earlier attempt
    return;
  }
  if (this === c.upstream && !c.connected) {
    // Connect timeout: give up on this server, the close handler tries another.
    c.proxy.noteError(c, 'upstream', new HastackError('HASTACK_L4_CONNECT_TIMEOUT', 'connect timed out'));
    this.destroy();
    return;
  }
  c.proxy.idleTimeouts++;
  c.client.destroy();
  c.upstream?.destroy();
}

function onUpstreamConnect(this: net.Socket): void {
  const c = conn(this);
  c.connected = true;
  c.proxy.established(c);
}

function onClientClose(this: net.Socket, hadError: boolean): void {
  const c = conn(this);
  c.clientClosed = true;
  const up = c.upstream;
  if (up !== undefined && !up.destroyed) {
    const clean = !hadError && this.readableEnded && this.writableFinished;
    if (!c.connected) up.destroy();
    else if (!clean) abort(up, c.clientError);
  }
  c.proxy.maybeDone(c);
}

function onUpstreamClose(this: net.Socket, hadError: boolean): void {
  const c = conn(this);
  if (this !== c.upstream) return; // a failed earlier attempt
  c.upstreamClosed = true;
  if (!c.connected) {
    if (c.clientClosed) c.proxy.maybeDone(c);
    else c.proxy.connectFailed(c);
    return;
  }
  if (!c.clientClosed) {
    const clean = !hadError && this.readableEnded && this.writableFinished;
    if (!clean) abort(c.client, c.upstreamError);
  }
  c.proxy.maybeDone(c);
}

/** Cuts a socket; passes a reset on as a reset, like a NAT would. */
function abort(socket: net.Socket, code: string | undefined): void {
  if (code === 'ECONNRESET' && !socket.connecting) {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // fall through: not a TCP handle any more
    }
  }
  socket.destroy();
}

/**
 * The TCP half of an L4 virtual server: IPVS's NAT mode as a userspace full
 * proxy. Accepts on the VIP, routes each client connection through the pool
 * (persistence, scheduler, sorry server), connects with a timeout, retries
 * another server when one refuses, then splices bytes both ways with
 * backpressure and half-close propagation. Errors on either side tear the pair
 * down without touching the process.
 */
export class TcpProxy {
  readonly pool: DestinationPool;
  readonly #server: net.Server;
  readonly #options: TcpProxyOptions;
  readonly #logger: Logger;
  readonly #connections = new Set<ProxiedConnection>();
  readonly #buffers = new BufferPool(READ_BUFFER_SIZE, 1024);
  #idleTimeoutMs: number;
  #connectTimeoutMs: number;
  #listening = false;
  #closing = false;
  #emptyWaiters: (() => void)[] = [];
  idleTimeouts = 0;

  constructor(pool: DestinationPool, options: TcpProxyOptions) {
    this.pool = pool;
    this.#options = options;
    this.#logger = options.logger;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    // pauseOnConnect: nothing is read before the connection's own socket takes over the handle.
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) =>
      this.#accept(socket),
    );
    this.#server.on('error', (err) => this.#logger.error({ err }, 'listener error'));
  }

  /** The underlying listener (tests read getConnections()). */
  get server(): net.Server {
    return this.#server;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Bytes queued in our socket buffers, both directions: bounded by backpressure. */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.#connections) {
      n += queuedOn(c.client);
      if (c.upstream !== undefined) n += queuedOn(c.upstream);
    }
    return n;
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          new HastackError(
            'HASTACK_L4_LISTEN',
            `cannot listen on ${this.#options.host}:${this.#options.port}: ${err.message}`,
            { cause: err },
          ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(
        { host: this.#options.host, port: this.#options.port, reusePort: this.#options.reusePort ?? false },
        () => {
          this.#server.off('error', onError);
          this.#listening = true;
          resolve(this.address());
        },
      );
    });
  }

  address(): { host: string; port: number } {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') return { host: this.#options.host, port: this.#options.port };
    return { host: a.address, port: a.port };
  }

  setTimeouts(idleTimeoutMs: number, connectTimeoutMs: number): void {
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** Stops accepting; established connections continue. */
  stopAccepting(): Promise<void> {
    this.#closing = true;
    if (!this.#listening) return Promise.resolve();
    this.#listening = false;
    return new Promise((resolve) => {
      // close() calls back only once every connection is gone; do not wait for that here.
      this.#server.close();
      resolve();
    });
  }

  /** Waits up to `graceMs` (Infinity = as long as it takes) for connections to finish, then cuts the rest. */
  async drain(graceMs: number): Promise<void> {
    await this.stopAccepting();
    if (this.#connections.size > 0 && !Number.isFinite(graceMs)) {
      await this.#whenEmpty();
      return;
    }
    if (this.#connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#whenEmpty(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(Math.max(0, graceMs), 2_147_483_647));
        }),
      ]);
      clearTimeout(timer);
    }
    if (this.#connections.size > 0) {
      this.#logger.info(
        { connections: this.#connections.size },
        'grace period over: closing remaining connections',
      );
      for (const c of this.#connections) {
        c.client.destroy();
        c.upstream?.destroy();
      }
      await this.#whenEmpty();
    }
  }

  // --- called by the shared handlers -------------------------------------------

  noteError(c: ProxiedConnection, side: 'client' | 'upstream', err: Error): void {
    const code = errorCode(err);
    if (side === 'client') c.clientError = code;
    else c.upstreamError = code;
    this.#logger.debug(
      { side, code, client: `${c.clientHost}:${c.clientPort}`, dest: c.dest?.key },
      err.message,
    );
  }

  /**
   * IPVS forgets a connection 120 s after its first FIN (tcpfin timeout), not
   * after the 900 s of an established one: a peer that vanished while the pair
   * was half-closed is never heard from again.
   */
  armFinTimeout(c: ProxiedConnection): void {
    if (this.#idleTimeoutMs > 0) c.client.setTimeout(Math.min(this.#idleTimeoutMs, FIN_TIMEOUT_MS));
  }

  established(c: ProxiedConnection): void {
    const up = c.upstream!;
    this.pool.establish(c);
    up.setTimeout(0);
    if (c.clientClosed) {
      up.destroy();
      return;
    }
    if (this.#idleTimeoutMs > 0) c.client.setTimeout(this.#idleTimeoutMs);
    up.on('end', onEnd);
    // Bytes that came during the connect go first; the client reads on once they are written.
    if (c.early !== undefined) {
      up.write(c.early, c.afterUpstreamWrite);
      c.early = undefined;
    } else if (c.clientWaits) {
      c.afterUpstreamWrite();
    }
    if (c.clientEnded) onEnd.call(c.client);
  }

  connectFailed(c: ProxiedConnection): void {
    const failed = c.dest;
    c.upstreamError = undefined;
    this.pool.connectFailed(c, this.#options.now());
    this.#logger.debug(
      { dest: failed?.key, client: `${c.clientHost}:${c.clientPort}`, attempt: c.attempts },
      'connect to real server failed',
    );
    c.upstream = undefined;
    if (c.clientClosed) {
      this.maybeDone(c);
      return;
    }
    if (c.attempts < (this.#options.maxConnectAttempts ?? 3) && this.#safeRoute(c)) return;
    abort(c.client, 'ECONNRESET');
    this.maybeDone(c);
  }

  maybeDone(c: ProxiedConnection): void {
    if (c.done || !c.clientClosed || !c.upstreamClosed) return;
    c.done = true;
    this.pool.unbind(c, this.#options.now());
    // Both sockets are closed: no write can still point into the buffers.
    this.#buffers.give(c.clientBuffer);
    this.#buffers.give(c.upstreamBuffer);
    c.accepted.destroy();
    this.#connections.delete(c);
    if (this.#connections.size === 0) {
      const waiters = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const w of waiters) w();
    }
  }

  // --- internals -----------------------------------------------------------------

  #accept(accepted: net.Socket): void {
    const c = new ProxiedConnection(this, accepted, this.#buffers);
    const client = c.client;
    client.setNoDelay(true);
    (client as TaggedSocket)[kConn] = c;
    this.#connections.add(c);
    client.on('error', onError);
    client.on('end', onEnd);
    client.on('close', onClientClose);
    client.on('timeout', onTimeout);
    if (this.#closing) {
      client.destroy();
      return;
    }
    if (!this.#safeRoute(c)) {
      this.pool.stats.countNoDestination();
      abort(client, 'ECONNRESET');
    }
  }

  /** A scheduler bug must cost one connection, not the process. */
  #safeRoute(c: ProxiedConnection): boolean {
    try {
      return this.#route(c);
    } catch (err) {
      this.#logger.error({ err, client: `${c.clientHost}:${c.clientPort}` }, 'routing a connection failed');
      if (c.upstream === undefined && c.counted !== NOT_COUNTED) this.pool.unbind(c, this.#options.now());
      return false;
    }
  }

  /** Picks a server and starts connecting; false when nobody can take the connection. */
  #route(c: ProxiedConnection): boolean {
    const now = this.#options.now();
    const dest = this.pool.pick(c, now);
    if (dest === undefined) return false;
    this.pool.bind(c, dest, c.attempts === 0);
    c.attempts++;
    const up = net.connect({
      host: dest.host,
      port: dest.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: c.upstreamBuffer, callback: onUpstreamRead },
    } as net.NetConnectOpts);
    (up as TaggedSocket)[kConn] = c;
    c.upstream = up;
    c.upstreamClosed = false;
    c.connected = false;
    up.on('connect', onUpstreamConnect);
    up.on('error', onError);
    up.on('close', onUpstreamClose);
    up.on('timeout', onTimeout);
    if (this.#connectTimeoutMs > 0) up.setTimeout(this.#connectTimeoutMs);
    return true;
  }

  #whenEmpty(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }
}
