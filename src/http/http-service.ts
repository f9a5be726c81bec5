import type { CheckSpec } from '../config/model.ts';
import { HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HealthChange, HealthWatch } from '../health/types.ts';
import type { HttpSectionConfig } from './model.ts';
import { ProxyEngine } from './proxy-engine.ts';
import { type EngineSnapshot, mergeSnapshots } from './snapshot.ts';
import { TlsContexts } from './tls-contexts.ts';
import { HttpWorkerGroup } from './worker-group.ts';

/*
 * The `http` section as a runtime service: registers every pool server with the
 * shared HealthMonitor (one probe loop per server, whatever the worker count),
 * runs the proxy in the main thread (workers: 1) or in N worker threads, applies
 * reloads in place and stops gracefully.
 */

export interface HttpServiceDeps {
  logger: Logger;
  health: HealthWatch;
}

interface Registered {
  pool: string;
  server: string;
  checks: string;
}

const HEALTH_PREFIX = 'http/';

export class HttpService {
  #config: HttpSectionConfig;
  readonly #deps: HttpServiceDeps;
  #engine: ProxyEngine | undefined;
  #group: HttpWorkerGroup | undefined;
  readonly #registered = new Map<string, Registered>();
  #unsubscribe: (() => void) | undefined;
  #graceMs = 10_000;

  constructor(config: HttpSectionConfig, deps: HttpServiceDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /** The in-process engine (workers: 1), for tests. */
  get engine(): ProxyEngine | undefined {
    return this.#engine;
  }

  get config(): HttpSectionConfig {
    return this.#config;
  }

  /** Listener addresses after start (port 0 resolved). */
  addresses(): Record<string, { host: string; port: number }> {
    return this.#engine?.addresses() ?? this.#group?.addresses ?? {};
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#deps.health.subscribe((change) => this.#onHealth(change));
    this.#syncHealth(this.#config);
    try {
      if (this.#config.workers <= 1) {
        const engine = new ProxyEngine(this.#config, { logger: this.#deps.logger, reusePort: false });
        this.#applyKnownHealth(engine);
        await engine.start();
        this.#engine = engine;
      } else {
        const group = new HttpWorkerGroup(this.#deps.logger);
        await group.start(this.#config.workers, this.#config, this.#healthMap());
        this.#group = group;
      }
    } catch (err) {
      this.#unregisterAll();
      throw err;
    }
    this.#deps.logger.info(
      { listeners: this.addresses(), workers: this.#config.workers },
      'http proxy listening',
    );
  }

  async update(config: HttpSectionConfig): Promise<void> {
    if (config.workers !== this.#config.workers) {
      throw new HastackError(
        'HASTACK_HTTP_WORKERS_CHANGED',
        `http.workers changed (${this.#config.workers} → ${config.workers}): restart hastack to apply`,
      );
    }
    // Certificates are checked here so that a bad file rejects the reload before anything changes.
    for (const l of config.listeners) if (l.tls !== undefined) new TlsContexts(l.tls.certificates);
    if (this.#engine !== undefined) await this.#engine.apply(config, this.#graceMs);
    else await this.#group?.apply(config, this.#graceMs);
    this.#config = config;
    this.#syncHealth(config);
  }

  async stop(graceMs: number): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unregisterAll();
    await this.#engine?.stop(graceMs);
    this.#engine = undefined;
    await this.#group?.drain(graceMs);
    this.#group = undefined;
  }

  snapshot(): EngineSnapshot | undefined {
    const snap =
      this.#engine !== undefined ? this.#engine.snapshot() : mergeSnapshots(this.#group?.snapshots ?? []);
    if (snap === undefined) return undefined;
    if (this.#group !== undefined) {
      // Health lives in the main thread; the workers' copies may lag by a message.
      for (const p of snap.pools) {
        for (const s of p.servers) {
          const st = this.#deps.health.status(`${HEALTH_PREFIX}${p.name}/${s.address}`);
          if (st !== undefined) s.healthy = st.up;
        }
      }
    }
    return snap;
  }

  // --- health --------------------------------------------------------------------

  #syncHealth(config: HttpSectionConfig): void {
    const wanted = new Map<
      string,
      { pool: string; server: string; host: string; port: number; checks: CheckSpec[] }
    >();
    for (const pool of Object.values(config.pools)) {
      if (pool.checks.length === 0) continue;
      for (const s of pool.servers) {
        const key = `${s.host}:${s.port}`;
        wanted.set(`${HEALTH_PREFIX}${pool.name}/${key}`, {
          pool: pool.name,
          server: key,
          host: s.host,
          port: s.port,
          checks: pool.checks,
        });
      }
    }
    for (const [id, reg] of this.#registered) {
      const w = wanted.get(id);
      if (w === undefined || JSON.stringify(w.checks) !== reg.checks) {
        this.#deps.health.remove(id);
        this.#registered.delete(id);
        if (w === undefined) this.#pushHealth(reg.pool, reg.server, true);
      }
    }
    for (const [id, w] of wanted) {
      if (this.#registered.has(id)) continue;
      const startDown = w.checks.some((c) => c.startDown);
      try {
        this.#deps.health.add(id, { host: w.host, port: w.port }, w.checks, startDown);
        this.#registered.set(id, { pool: w.pool, server: w.server, checks: JSON.stringify(w.checks) });
      } catch (err) {
        this.#deps.logger.error({ err, server: id }, 'cannot register pool server with the health monitor');
      }
      const st = this.#deps.health.status(id);
      this.#pushHealth(w.pool, w.server, st?.up ?? !startDown);
    }
  }

  #healthMap(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const [id, reg] of this.#registered)
      out[`${reg.pool}/${reg.server}`] = this.#deps.health.status(id)?.up ?? true;
    return out;
  }

  #applyKnownHealth(engine: ProxyEngine): void {
    for (const [key, up] of Object.entries(this.#healthMap())) {
      const slash = key.indexOf('/');
      engine.setHealth(key.slice(0, slash), key.slice(slash + 1), up);
    }
  }

  #onHealth(change: HealthChange): void {
    const reg = this.#registered.get(change.id);
    if (reg === undefined) return;
    this.#deps.logger.info(
      { pool: reg.pool, server: reg.server, up: change.up, reason: change.reason },
      'pool server health changed',
    );
    this.#pushHealth(reg.pool, reg.server, change.up);
  }

  #pushHealth(pool: string, server: string, up: boolean): void {
    this.#engine?.setHealth(pool, server, up);
    this.#group?.broadcast({ type: 'health', pool, server, up });
  }

  #unregisterAll(): void {
    for (const id of this.#registered.keys()) {
      try {
        this.#deps.health.remove(id);
      } catch {
        // already gone
      }
    }
    this.#registered.clear();
  }

  /** The runtime's grace period also bounds listeners removed by a reload. */
  setGrace(ms: number): void {
    this.#graceMs = ms;
  }
}
