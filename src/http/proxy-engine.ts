import { BufferPool, READ_BUFFER_SIZE } from '../core/buffer-pool.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AccessLogEntry } from './access-log.ts';
import { AccessLogWriter } from './access-log-writer.ts';
import type { EngineContext } from './context.ts';
import { DEFAULT_HEAD_LIMITS } from './http1-head.ts';
import { HttpListener } from './listener.ts';
import type { HttpSectionConfig, ListenerConfig } from './model.ts';
import { type EngineSnapshot, snapshotEngine } from './snapshot.ts';
import { UpstreamClient } from './upstream-connection.ts';
import { type PoolServer, UpstreamPool } from './upstream-pool.ts';

/*
 * Everything one thread runs for the `http` section: listeners, pools, upstream
 * connections, the coarse clock and the timer that checks every deadline. In
 * single-worker mode it runs in the main thread; with `workers: N` each worker
 * thread has its own engine on the same ports (SO_REUSEPORT) and the main thread
 * forwards health changes and ejections to all of them.
 */

/** How often deadlines, ejections and slow start are checked (and the clock refreshed). */
const TICK_MS = 100;

export interface EngineOptions {
  logger: Logger;
  reusePort: boolean;
  /** Passive outlier detection ejected a server here: other workers should know. */
  onEjected?: (pool: string, server: string, ejectionMs: number) => void;
}

export class ProxyEngine implements EngineContext {
  now = performance.now();
  draining = false;
  readonly pools = new Map<string, UpstreamPool>();
  readonly upstreams: UpstreamClient;
  readonly buffers = new BufferPool(READ_BUFFER_SIZE, 2048);
  readonly listeners = new Map<string, HttpListener>();
  readonly #logger: Logger;
  readonly #options: EngineOptions;
  #config: HttpSectionConfig;
  #accessLog: AccessLogWriter | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(config: HttpSectionConfig, options: EngineOptions) {
    this.#config = config;
    this.#options = options;
    this.#logger = options.logger;
    this.upstreams = new UpstreamClient(this.buffers, DEFAULT_HEAD_LIMITS);
    for (const pool of Object.values(config.pools))
      this.pools.set(pool.name, new UpstreamPool(pool, this.now));
    this.#accessLog = config.accessLog.path !== undefined ? new AccessLogWriter(config.accessLog) : undefined;
  }

  get config(): HttpSectionConfig {
    return this.#config;
  }

  get accessLogEnabled(): boolean {
    return this.#accessLog !== undefined;
  }

  async start(): Promise<void> {
    try {
      for (const l of this.#config.listeners) await this.#startListener(l);
    } catch (err) {
      await this.stop(0);
      throw err;
    }
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  async #startListener(config: ListenerConfig): Promise<HttpListener> {
    const l = new HttpListener(config, {
      engine: this,
      buffers: this.buffers,
      logger: this.#logger,
      reusePort: this.#options.reusePort,
    });
    await l.listen();
    this.listeners.set(config.name, l);
    return l;
  }

  /** Listener addresses (after port 0 was resolved). */
  addresses(): Record<string, { host: string; port: number }> {
    return Object.fromEntries([...this.listeners].map(([name, l]) => [name, l.address()]));
  }

  /** Applies a reloaded section: pools in place, listeners updated, added or drained. */
  async apply(next: HttpSectionConfig, graceMs: number): Promise<void> {
    const now = this.now;
    for (const [name, pool] of this.pools) {
      const cfg = next.pools[name];
      if (cfg === undefined) {
        this.pools.delete(name);
        for (const s of pool.servers) this.upstreams.closeIdle(s);
      } else {
        for (const removed of pool.reconfigure(cfg, now)) this.upstreams.closeIdle(removed);
      }
    }
    for (const cfg of Object.values(next.pools)) {
      if (!this.pools.has(cfg.name)) this.pools.set(cfg.name, new UpstreamPool(cfg, now));
    }
    const wanted = new Map(next.listeners.map((l) => [l.name, l]));
    for (const [name, l] of this.listeners) {
      const cfg = wanted.get(name);
      const same =
        cfg !== undefined &&
        cfg.host === l.config.host &&
        (cfg.port === l.config.port || cfg.port === 0) &&
        (cfg.tls === undefined) === !l.tls;
      if (!same) {
        this.listeners.delete(name);
        l.drain(graceMs).catch((err: unknown) => this.reportError(err, 'draining a removed listener'));
      }
    }
    for (const cfg of next.listeners) {
      const existing = this.listeners.get(cfg.name);
      if (existing !== undefined) existing.update({ ...cfg, port: existing.address().port });
      else await this.#startListener(cfg);
    }
    if (JSON.stringify(next.accessLog) !== JSON.stringify(this.#config.accessLog)) {
      this.#accessLog?.close();
      this.#accessLog = next.accessLog.path !== undefined ? new AccessLogWriter(next.accessLog) : undefined;
    }
    this.#config = next;
  }

  /** Active health of a pool server changed. */
  setHealth(pool: string, server: string, up: boolean): void {
    const p = this.pools.get(pool);
    if (p === undefined) return;
    p.setHealth(server, up, this.now);
    if (!up) {
      const s = p.server(server);
      if (s !== undefined) this.upstreams.closeIdle(s);
    }
  }

  /** Another worker ejected a server. */
  ejectRemote(pool: string, server: string, ejectionMs: number): void {
    const p = this.pools.get(pool);
    const s = p?.server(server);
    if (p === undefined || s === undefined) return;
    p.eject(s, this.now, this.now + ejectionMs);
  }

  onEjected(pool: UpstreamPool, server: PoolServer): void {
    this.#logger.warn(
      { pool: pool.name, server: server.key, ejectionMs: pool.config.outlier.ejectionTimeMs },
      'upstream server ejected (consecutive failures)',
    );
    this.upstreams.closeIdle(server);
    this.#options.onEjected?.(pool.name, server.key, pool.config.outlier.ejectionTimeMs);
  }

  logAccess(entry: AccessLogEntry): void {
    this.#accessLog?.write(entry);
  }

  reportError(err: unknown, what: string): void {
    try {
      this.#logger.error({ err, what }, `http proxy: ${what} failed: ${errorMessage(err)}`);
    } catch {
      // logging must not throw into the data path
    }
  }

  #tick(): void {
    const now = performance.now();
    this.now = now;
    try {
      for (const p of this.pools.values()) p.tick(now);
      this.upstreams.sweep(now);
      for (const l of this.listeners.values()) l.sweep(now);
    } catch (err) {
      this.reportError(err, 'timer sweep');
    }
  }

  snapshot(): EngineSnapshot {
    return snapshotEngine(this);
  }

  /** Stops accepting, closes idle connections, lets the rest finish for graceMs, then closes everything. */
  async stop(graceMs: number): Promise<void> {
    this.draining = true;
    for (const l of this.listeners.values()) {
      l.stopAccepting();
      l.closeIdle();
    }
    await Promise.all([...this.listeners.values()].map((l) => l.drain(graceMs)));
    this.listeners.clear();
    this.upstreams.closeAll();
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#accessLog?.close();
    this.#accessLog = undefined;
  }
}
