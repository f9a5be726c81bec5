import { randomInt } from 'node:crypto';
import net from 'node:net';
import { type Clock, systemClock } from '../core/clock.ts';
import { HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { MemcachedConfig } from './config-schema.ts';
import {
  hookReads,
  WRITE_DONE,
  WRITE_FAILED,
  WRITE_PENDING,
  type WriteOwner,
  writeToHandle,
} from './handle-io.ts';
import { ItemStore } from './item-store.ts';
import { CLOSE_AFTER_WRITE, CLOSE_NOW, OPEN, ProtocolSession } from './protocol-session.ts';
import { ReplyBuffer } from './reply-buffer.ts';
import { type ConnectionReport, type MemcacheSettings, ServerState } from './server-state.ts';

/** What hastack reports as its memcached version (the protocol level it follows). */
export const MEMCACHED_VERSION = '1.6.18-hastack';

/** One read lands here for every connection: it is fully consumed before the next read. */
const READ_BUFFER_SIZE = 64 * 1024;
const REJECT = Buffer.from('ERROR Too many open connections\r\n', 'latin1');

const kConn = Symbol('hastack.memcache.connection');
type TaggedSocket = net.Socket & { [kConn]: Connection };

/**
 * A client connection: the socket and its protocol session. Reads go straight
 * into the server's shared buffer (`onread`), so a read allocates nothing; the
 * replies of one read go out in one write, straight to the handle (see
 * handle-write.ts). A client that does not take its replies (a write has to
 * wait for the kernel) is not read from until it does, as memcached does.
 */
class Connection implements WriteOwner {
  readonly server: MemcacheServer;
  readonly socket: net.Socket;
  /** The socket the listener accepted; its handle now belongs to `socket`. Destroyed with it so the listener's count drops. */
  readonly accepted: net.Socket;
  readonly session: ProtocolSession;
  readonly addr: string;
  /** A reply write is waiting for the kernel: reading is paused until it completes. */
  waitingDrain = false;
  /** Requests are waiting for their turn (reqs_per_event) or for the client to read. */
  yielded = false;
  closed = false;
  /** Bytes of direct writes the kernel has not taken yet. */
  pendingBytes = 0;
  /** Set by writeChunk when part of the current flush still references the reply buffer. */
  writeWaited = false;
  readonly afterWrite: () => void;
  readonly continueLater: () => void;
  /** Bound once: ReplyBuffer.flush's sink (no closure per write). */
  readonly writeChunk: (chunk: Buffer) => void;
  readonly fallbackWritten: () => void;

  constructor(
    server: MemcacheServer,
    accepted: net.Socket,
    socket: net.Socket,
    session: ProtocolSession,
    addr: string,
  ) {
    this.server = server;
    this.accepted = accepted;
    this.socket = socket;
    this.session = session;
    this.addr = addr;
    this.afterWrite = () => {
      if (!this.waitingDrain || this.queued() > 0) return;
      this.waitingDrain = false;
      this.server.proceed(this);
    };
    this.continueLater = () => {
      this.yielded = false;
      if (!this.closed) this.server.proceed(this);
    };
    this.writeChunk = (chunk) => {
      const r = writeToHandle(this.socket, chunk, this);
      if (r === WRITE_DONE) return;
      if (r === WRITE_PENDING) {
        this.pendingBytes += chunk.length;
        this.writeWaited = true;
      } else if (r === WRITE_FAILED) {
        this.socket.destroy();
      } else if (!this.socket.destroyed) {
        // Writable data queued (or no handle): keep the order through socket.write.
        this.socket.write(chunk, this.fallbackWritten);
        if (this.socket.writableLength > 0) this.writeWaited = true;
      }
    };
    this.fallbackWritten = () => this.afterWrite();
  }

  /** Reply bytes not yet taken by the kernel. */
  queued(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  writeDone(status: number, bytes: number): void {
    this.pendingBytes -= bytes;
    if (status < 0) {
      if (!this.socket.destroyed) this.socket.destroy();
      return;
    }
    if (!this.closed) this.afterWrite();
  }
}

function connOf(socket: net.Socket): Connection {
  return (socket as TaggedSocket)[kConn];
}

function onRead(this: net.Socket, nread: number): boolean {
  return onData(this, nread);
}

/** A read landed at the start of the server's read buffer. */
function onData(socket: net.Socket, nread: number): boolean {
  const c = connOf(socket);
  if (c === undefined || c.closed) return false;
  const server = c.server;
  server.state.bytesRead += nread;
  c.session.feed(server.readBuffer, 0, nread);
  return server.afterProcessing(c);
}

function onClose(this: net.Socket): void {
  const c = connOf(this);
  if (c !== undefined) c.server.forget(c);
}

function onError(this: net.Socket): void {
  // Resets and the like: 'close' follows and cleans up.
}

function onTimeout(this: net.Socket): void {
  this.destroy();
}

function onEnd(this: net.Socket): void {
  // The client half-closed: answer what it sent, then close (memcached closes on EOF).
  const c = connOf(this);
  if (c === undefined) return;
  if (c.queued() === 0 && !c.yielded) c.socket.end();
  else c.session.closeAfterWrite();
}

export interface MemcacheServerDeps {
  logger: Logger;
  clock?: Clock;
}

/**
 * The memcached-compatible server: a TCP listener, the item store, and the
 * connections. Timers run the LRU maintainer and the expiry crawler.
 */
export class MemcacheServer {
  readonly store: ItemStore;
  readonly state: ServerState;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #config: MemcachedConfig;
  #server: net.Server | undefined;
  readonly #connections = new Set<Connection>();
  readonly readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  /**
   * Replies are assembled here for every connection: each batch is written (or,
   * when the kernel does not take it at once, the buffer is handed over and
   * replaced) before the next connection runs, so one hot buffer serves all.
   */
  readonly #replies = new ReplyBuffer();
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(config: MemcachedConfig, deps: MemcacheServerDeps) {
    this.#config = config;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.store = new ItemStore({
      memoryLimit: config.memoryLimitBytes,
      itemSizeMax: config.itemSizeMax,
      growthFactor: config.growthFactor,
      chunkSize: config.chunkSize,
      clock: this.#clock,
      hashSeed: randomInt(0, 0x7fffffff),
      evictions: config.evictions,
      casEnabled: config.casEnabled,
      hotLruPct: config.lru.hotPct,
      warmLruPct: config.lru.warmPct,
      hotMaxFactor: config.lru.hotMaxFactor,
      warmMaxFactor: config.lru.warmMaxFactor,
    });
    this.state = new ServerState(settingsOf(config, 0));
    this.state.pid = process.pid;
    this.state.connections = () => this.#report();
    this.state.rusage = () => {
      const u = process.cpuUsage();
      return { user: u.user / 1e6, system: u.system / 1e6 };
    };
  }

  get config(): MemcachedConfig {
    return this.#config;
  }

  async start(): Promise<void> {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) =>
      this.#accept(socket),
    );
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(
        { host: this.#config.listen.host, port: this.#config.listen.port, backlog: this.#config.tcpBacklog },
        () => {
          server.off('error', onError);
          resolve();
        },
      );
    });
    server.on('error', (err) => this.#logger.error({ err }, 'memcached listener error'));
    const port = (server.address() as net.AddressInfo).port;
    Object.assign(this.state.settings, settingsOf(this.#config, port));
    this.#timer = setInterval(() => this.#maintain(), this.#config.maintenanceIntervalMs);
    this.#timer.unref();
    this.#logger.info({ listen: `${this.#config.listen.host}:${port}` }, 'memcached listening');
  }

  address(): { host: string; port: number } {
    const a = this.#server?.address() as net.AddressInfo | null;
    return { host: this.#config.listen.host, port: a?.port ?? this.#config.listen.port };
  }

  /** Applies a reloaded section; settings fixed at start (listen, slab geometry) must not change. */
  update(config: MemcachedConfig): void {
    const old = this.#config;
    const fixed: [keyof MemcachedConfig, string][] = [
      ['itemSizeMax', 'item_size_max'],
      ['growthFactor', 'growth_factor'],
      ['chunkSize', 'chunk_size'],
      ['tcpBacklog', 'tcp_backlog'],
    ];
    for (const [key, yamlKey] of fixed) {
      if (config[key] !== old[key])
        throw new HastackError(
          'HASTACK_MEMCACHED_RELOAD_UNSUPPORTED',
          `memcached.${yamlKey} cannot change on reload (restart hastack to apply it)`,
        );
    }
    if (config.listen.host !== old.listen.host || config.listen.port !== old.listen.port)
      throw new HastackError(
        'HASTACK_MEMCACHED_RELOAD_UNSUPPORTED',
        'memcached.listen cannot change on reload (restart hastack to apply it)',
      );
    this.#config = config;
    const store = this.store;
    store.setMemoryLimit(config.memoryLimitBytes);
    store.evictions = config.evictions;
    store.casEnabled = config.casEnabled;
    store.hotLruPct = config.lru.hotPct;
    store.warmLruPct = config.lru.warmPct;
    store.hotMaxFactor = config.lru.hotMaxFactor;
    store.warmMaxFactor = config.lru.warmMaxFactor;
    Object.assign(this.state.settings, settingsOf(config, this.address().port));
    if (this.#timer !== undefined && config.maintenanceIntervalMs !== old.maintenanceIntervalMs) {
      clearInterval(this.#timer);
      this.#timer = setInterval(() => this.#maintain(), config.maintenanceIntervalMs);
      this.#timer.unref();
    }
    for (const c of this.#connections) c.socket.setTimeout(config.idleTimeoutMs);
  }

  /** Stops accepting; open connections get graceMs to finish, then are closed. */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const server = this.#server;
    const closed =
      server === undefined ? Promise.resolve() : new Promise<void>((r) => server.close(() => r()));
    // Idle connections close now; busy ones (a value still arriving) get the grace period.
    for (const c of this.#connections) if (c.session.carried === 0 && c.queued() === 0) c.socket.end();
    const deadline = Date.now() + graceMs;
    while (this.#connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.#connections) c.socket.destroy();
    await closed;
    this.#server = undefined;
  }

  #accept(accepted: net.Socket): void {
    const state = this.state;
    if (this.#stopping) {
      accepted.destroy();
      return;
    }
    if (state.currConnections >= this.#config.maxConnections) {
      state.rejectedConnections++;
      accepted.end(REJECT);
      accepted.resume();
      return;
    }
    // Take over the handle so that reads land in the shared buffer (no allocation per read).
    const handle = (accepted as net.Socket & { _handle: unknown })._handle;
    (accepted as net.Socket & { _handle: unknown })._handle = null;
    const socket = new net.Socket({
      handle,
      allowHalfOpen: true,
      onread: { buffer: this.readBuffer, callback: onRead },
    } as net.SocketConstructorOpts);
    const id = this.#nextId++;
    const session = new ProtocolSession(this.store, state, id, this.#replies);
    const addr = `tcp:${accepted.remoteAddress ?? '?'}:${accepted.remotePort ?? 0}`;
    const conn = new Connection(this, accepted, socket, session, addr);
    (socket as TaggedSocket)[kConn] = conn;
    this.#connections.add(conn);
    state.currConnections++;
    state.totalConnections++;
    state.connectionStructures = Math.max(state.connectionStructures, state.currConnections);
    socket.setNoDelay(true);
    hookReads(socket, onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.on('end', onEnd);
    if (this.#config.idleTimeoutMs > 0) {
      socket.setTimeout(this.#config.idleTimeoutMs);
      socket.on('timeout', onTimeout);
    }
    socket.resume();
  }

  /**
   * After the session ran: send its replies, handle closes and pauses. Returns
   * whether to keep reading (false stops reading until the client catches up).
   */
  afterProcessing(c: Connection): boolean {
    const session = c.session;
    const socket = c.socket;
    if (session.closing === CLOSE_NOW) {
      session.out.discard();
      socket.destroy();
      return false;
    }
    const out = session.out;
    if (out.length > 0) {
      this.state.bytesWritten += out.length;
      c.writeWaited = false;
      out.flush(c.writeChunk);
      if (c.writeWaited) {
        // A write the kernel did not take at once still points into the reply buffer.
        out.detach();
        if (!c.waitingDrain) this.state.backpressurePauses++;
        c.waitingDrain = true;
      }
    }
    if (session.closing === CLOSE_AFTER_WRITE) {
      socket.end();
      return false;
    }
    if (session.runnable && !c.waitingDrain && !c.yielded) {
      // Pausing for fairness (reqs_per_event): other connections run first.
      c.yielded = true;
      setImmediate(c.continueLater);
    }
    if (c.waitingDrain || c.yielded) {
      if (!socket.isPaused()) socket.pause();
      return false;
    }
    return true;
  }

  /** Runs carried requests and reads again once a connection may proceed. */
  proceed(c: Connection): void {
    if (c.closed) return;
    if (c.session.runnable) {
      c.session.resume();
      if (!this.afterProcessing(c)) return;
    }
    if (c.socket.readableEnded) {
      if (c.queued() === 0) c.socket.end();
      return;
    }
    c.socket.resume();
  }

  forget(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    c.accepted.destroy();
    c.session.close();
    this.#connections.delete(c);
    this.state.currConnections--;
  }

  #maintain(): void {
    const store = this.store;
    store.refreshTime();
    store.maintain();
    // Sweeping item memory costs a cache miss per chunk: only while something can expire.
    if (store.crawlWanted) store.crawl(10_000);
  }

  #report(): ConnectionReport[] {
    const now = this.store.currentTime;
    return [...this.#connections].map((c) => ({
      id: c.session.id,
      addr: c.addr,
      state: c.session.closing === OPEN ? c.session.stateName : 'conn_closing',
      secsSinceLastCmd: Math.max(0, now - c.session.lastCommandTime),
    }));
  }

  /** Plain JSON for `hastack status` and the admin API. */
  snapshot(): MemcacheSnapshot {
    const store = this.store;
    const a = this.address();
    let evictions = 0;
    let reclaimed = 0;
    let getHits = 0;
    const cs = store.classStats;
    for (let i = 0; i < cs.evicted.length; i++) {
      evictions += cs.evicted[i]!;
      reclaimed += cs.reclaimed[i]! + cs.crawlerReclaimed[i]!;
      getHits += cs.getHits[i]!;
    }
    return {
      listen: `${a.host}:${a.port}`,
      version: MEMCACHED_VERSION,
      uptimeSeconds: Math.max(0, store.currentTime - 2),
      currConnections: this.state.currConnections,
      totalConnections: this.state.totalConnections,
      rejectedConnections: this.state.rejectedConnections,
      currItems: store.currItems,
      bytes: store.currBytes,
      limitMaxbytes: store.memoryLimit,
      pagesBytes: store.mem.totalPages * store.mem.pageSize,
      getHits,
      getMisses: store.stats.getMisses,
      evictions,
      reclaimed,
      bytesRead: this.state.bytesRead,
      bytesWritten: this.state.bytesWritten,
      backpressurePauses: this.state.backpressurePauses,
    };
  }
}

export interface MemcacheSnapshot {
  listen: string;
  version: string;
  uptimeSeconds: number;
  currConnections: number;
  totalConnections: number;
  rejectedConnections: number;
  currItems: number;
  bytes: number;
  limitMaxbytes: number;
  pagesBytes: number;
  getHits: number;
  getMisses: number;
  evictions: number;
  reclaimed: number;
  bytesRead: number;
  bytesWritten: number;
  backpressurePauses: number;
}

function settingsOf(config: MemcachedConfig, port: number): MemcacheSettings {
  return {
    version: MEMCACHED_VERSION,
    host: config.listen.host,
    port,
    maxConnections: config.maxConnections,
    reqsPerEvent: config.reqsPerEvent,
    bindingProtocol: config.protocol,
    flushEnabled: config.flushEnabled,
    outputLimit: config.outputLimitBytes,
    maxLine: 2048,
    maxGetLine: 2 * 1024 * 1024,
    idleTimeoutSec: Math.round(config.idleTimeoutMs / 1000),
    tcpBacklog: config.tcpBacklog,
  };
}

export { CLOSE_AFTER_WRITE };
