import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { errorCode, HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  type DestinationPool,
  NOT_COUNTED,
  type PoolDestination,
  type RoutedConnection,
} from './destination-pool.ts';
import type { PersistenceTemplate } from './persistence.ts';

/** IPVS's default UDP timeout (`ipvsadm --set` third value). */
export const IPVS_UDP_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_UDP_SESSIONS = 65_536;
/** Datagrams held per session while its upstream socket connects. */
const MAX_PENDING = 32;

export interface UdpProxyOptions {
  host: string;
  port: number;
  /** Session idle timeout; see `udpSessionTimeout`. */
  sessionTimeoutMs: number;
  maxSessions?: number;
  now: () => number;
  logger: Logger;
}

/**
 * The UDP "connection" lifetime: IPVS forgets a UDP entry after 300 s without
 * traffic; a shorter idle_timeout wins, so one knob bounds both protocols.
 */
export function udpSessionTimeout(idleTimeoutMs: number): number {
  return idleTimeoutMs > 0 ? Math.min(idleTimeoutMs, IPVS_UDP_TIMEOUT_MS) : IPVS_UDP_TIMEOUT_MS;
}

const kSession = Symbol('hastack.l4.udp-session');
type TaggedSocket = dgram.Socket & { [kSession]: UdpSession };

class UdpSession implements RoutedConnection {
  readonly proxy: UdpProxy;
  readonly key: string;
  clientHost: string;
  clientPort: number;
  dest: PoolDestination | undefined = undefined;
  template: PersistenceTemplate<PoolDestination> | undefined = undefined;
  counted = NOT_COUNTED;
  failed: PoolDestination[] | undefined = undefined;
  upstream: dgram.Socket | undefined = undefined;
  connected = false;
  pending: Buffer[] | undefined = undefined;
  lastActive = 0;
  closed = false;

  constructor(proxy: UdpProxy, key: string, host: string, port: number) {
    this.proxy = proxy;
    this.key = key;
    this.clientHost = host;
    this.clientPort = port;
  }
}

function onUpstreamMessage(this: dgram.Socket, msg: Buffer): void {
  const s = (this as TaggedSocket)[kSession];
  s.proxy.reply(s, msg);
}

function onUpstreamConnect(this: dgram.Socket): void {
  const s = (this as TaggedSocket)[kSession];
  s.connected = true;
  const pending = s.pending;
  s.pending = undefined;
  if (pending !== undefined) for (const msg of pending) this.send(msg);
}

function onUpstreamError(this: dgram.Socket, err: Error): void {
  const s = (this as TaggedSocket)[kSession];
  // ICMP port unreachable arrives as ECONNREFUSED on a connected socket: the session is dead.
  s.proxy.upstreamFailed(s, err);
}

/**
 * The UDP half of an L4 virtual server. Each client address:port gets a session
 * with its own upstream socket connected to the chosen real server; replies go
 * back to the client from the VIP socket. Sessions count as IPVS inactive
 * connections, expire after the session timeout, and their number is bounded
 * (the least recently used one makes room for a new client).
 */
export class UdpProxy {
  readonly pool: DestinationPool;
  readonly #options: UdpProxyOptions;
  readonly #logger: Logger;
  readonly #socket: dgram.Socket;
  /** Least recently used first. */
  readonly #sessions = new Map<string, UdpSession>();
  #timeoutMs: number;
  #sweepTimer: NodeJS.Timeout | undefined;
  #bound = false;
  dropped = 0;
  expired = 0;

  constructor(pool: DestinationPool, options: UdpProxyOptions) {
    this.pool = pool;
    this.#options = options;
    this.#logger = options.logger;
    this.#timeoutMs = options.sessionTimeoutMs;
    this.#socket = dgram.createSocket({ type: isIP(options.host) === 6 ? 'udp6' : 'udp4' });
    this.#socket.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo.address, rinfo.port));
    this.#socket.on('error', (err) => this.#logger.warn({ err }, 'UDP listener error'));
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  bind(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) =>
        reject(
          new HastackError(
            'HASTACK_L4_LISTEN',
            `cannot bind UDP ${this.#options.host}:${this.#options.port}: ${err.message}`,
            { cause: err },
          ),
        );
      this.#socket.once('error', onError);
      this.#socket.bind({ address: this.#options.host, port: this.#options.port, exclusive: true }, () => {
        this.#socket.off('error', onError);
        this.#bound = true;
        this.#scheduleSweep();
        resolve(this.address());
      });
    });
  }

  address(): { host: string; port: number } {
    if (!this.#bound) return { host: this.#options.host, port: this.#options.port };
    const a = this.#socket.address();
    return { host: a.address, port: a.port };
  }

  setSessionTimeout(ms: number): void {
    this.#timeoutMs = ms;
    this.#scheduleSweep();
  }

  /** Closes the VIP socket and every session (UDP has nothing to drain gracefully). */
  close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const s of this.#sessions.values()) this.#closeSession(s);
    if (!this.#bound) return Promise.resolve();
    this.#bound = false;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  /** Removes sessions idle longer than the timeout; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const s of this.#sessions.values()) {
      if (now - s.lastActive < this.#timeoutMs) break; // LRU order: the rest are younger
      this.#closeSession(s);
      n++;
    }
    this.expired += n;
    this.pool.sweep(now);
    return n;
  }

  // --- called by the shared handlers -----------------------------------------------

  reply(s: UdpSession, msg: Buffer): void {
    if (s.closed || !this.#bound) return;
    this.pool.countOut(s, msg.length);
    this.#touch(s);
    this.#socket.send(msg, s.clientPort, s.clientHost);
  }

  upstreamFailed(s: UdpSession, err: Error): void {
    this.#logger.debug({ code: errorCode(err), dest: s.dest?.key, client: s.key }, 'UDP upstream error');
    if (!s.connected) this.pool.stats.countConnectFailure(s.dest?.slot ?? 0);
    this.#closeSession(s);
  }

  // --- internals -------------------------------------------------------------------

  #fromClient(msg: Buffer, host: string, port: number): void {
    const key = `${host}|${port}`;
    let s = this.#sessions.get(key);
    if (s === undefined) {
      try {
        s = this.#open(key, host, port);
      } catch (err) {
        this.#logger.error({ err, client: key }, 'opening a UDP session failed');
        s = undefined;
      }
      if (s === undefined) {
        this.dropped++;
        return;
      }
    }
    this.pool.countIn(s, msg.length);
    this.#touch(s);
    if (s.connected) {
      s.upstream!.send(msg);
    } else if (s.pending === undefined) {
      s.pending = [msg];
    } else if (s.pending.length < MAX_PENDING) {
      s.pending.push(msg);
    } else {
      this.dropped++;
    }
  }

  #open(key: string, host: string, port: number): UdpSession | undefined {
    const max = this.#options.maxSessions ?? DEFAULT_MAX_UDP_SESSIONS;
    while (this.#sessions.size >= max) {
      const oldest = this.#sessions.values().next().value as UdpSession;
      this.#closeSession(oldest);
    }
    const s = new UdpSession(this, key, host, port);
    const now = this.#options.now();
    const dest = this.pool.pick(s, now);
    if (dest === undefined) {
      this.pool.stats.countNoDestination();
      return undefined;
    }
    this.pool.bind(s, dest, true);
    const up = dgram.createSocket({ type: isIP(dest.host) === 6 ? 'udp6' : 'udp4' });
    (up as TaggedSocket)[kSession] = s;
    s.upstream = up;
    up.on('message', onUpstreamMessage);
    up.on('connect', onUpstreamConnect);
    up.on('error', onUpstreamError);
    up.connect(dest.port, dest.host);
    s.lastActive = now;
    this.#sessions.set(key, s);
    return s;
  }

  #touch(s: UdpSession): void {
    s.lastActive = this.#options.now();
    // Keep the map in least-recently-used order so sweeps stop at the first live session.
    this.#sessions.delete(s.key);
    this.#sessions.set(s.key, s);
  }

  #closeSession(s: UdpSession): void {
    if (s.closed) return;
    s.closed = true;
    this.#sessions.delete(s.key);
    s.pending = undefined;
    try {
      s.upstream?.close();
    } catch {
      // already closed
    }
    this.pool.unbind(s, this.#options.now());
  }

  #scheduleSweep(): void {
    clearInterval(this.#sweepTimer);
    if (!this.#bound) return;
    const every = Math.min(1000, Math.max(10, Math.floor(this.#timeoutMs / 4)));
    this.#sweepTimer = setInterval(() => this.sweep(this.#options.now()), every);
    this.#sweepTimer.unref();
  }
}
