import { createScheduler } from '../balance/create-scheduler.ts';
import type { Destination, PickContext, Scheduler } from '../balance/types.ts';
import type { PoolConfig } from './model.ts';
import { type LatencyCounters, newLatencyBuckets } from './stats.ts';

/*
 * A pool's servers as the scheduler sees them, plus what decides whether a server
 * may take requests: active health (from the shared HealthMonitor), passive
 * outlier ejection (consecutive connect errors / 5xx eject a server for a
 * back-off time, as Envoy's consecutive_5xx and nginx's max_fails) and slow start
 * (weight ramps up linearly after a server comes back, as HAProxy's slowstart).
 * Pure: the owner passes `now` (monotonic ms) and calls `tick` periodically.
 */

export class PoolServer implements Destination, LatencyCounters {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Configured weight (admin changes come through reconfiguration). */
  configWeight: number;
  /** Effective weight the scheduler reads (slow start scales it). */
  weight: number;
  /** Requests in flight to this server (what lc/wlc/sed/nq compare). */
  activeConns = 0;
  /** Idle keep-alive connections. */
  inactiveConns = 0;
  overloaded = false;
  healthy = true;
  /** Monotonic ms until which the server is ejected; 0 = not ejected. */
  ejectedUntil = 0;
  consecutiveFailures = 0;
  /** When it last became usable (for slow start); -Infinity = ramp done. */
  upSince = Number.NEGATIVE_INFINITY;
  // counters
  requests = 0;
  failures = 0;
  ejections = 0;
  /** Retries of requests whose attempt on this server failed (or answered a retry status). */
  retries = 0;
  /** Index = status class (1..5) of the responses this server sent. */
  readonly responses = [0, 0, 0, 0, 0, 0];
  /** Upstream response time histogram (request written → response read), see Exchange. */
  readonly latency = newLatencyBuckets();
  latencySum = 0;

  constructor(host: string, port: number, weight: number) {
    this.key = `${host}:${port}`;
    this.host = host;
    this.port = port;
    this.configWeight = weight;
    this.weight = weight;
  }

  get usable(): boolean {
    return this.healthy && this.ejectedUntil === 0 && this.configWeight > 0;
  }
}

export interface PoolTotals {
  requests: number;
  retries: number;
  /** Requests that found no server (503). */
  noServer: number;
}

export class UpstreamPool {
  readonly name: string;
  config: PoolConfig;
  readonly servers: PoolServer[] = [];
  readonly totals: PoolTotals = { requests: 0, retries: 0, noServer: 0 };
  /** Statuses that make an idempotent request try another server. */
  retryStatuses: Set<number>;
  #scheduler: Scheduler;
  #available: PoolServer[] = [];
  #ramping = false;

  constructor(config: PoolConfig, now: number) {
    this.name = config.name;
    this.config = config;
    this.retryStatuses = new Set(config.retryStatuses);
    this.#scheduler = createScheduler(config.scheduler, { flags: config.schedulerFlags });
    for (const s of config.servers) this.servers.push(new PoolServer(s.host, s.port, s.weight));
    this.#rebuild(now);
  }

  get available(): readonly PoolServer[] {
    return this.#available;
  }

  server(key: string): PoolServer | undefined {
    return this.servers.find((s) => s.key === key);
  }

  /**
   * Applies a reloaded pool config: servers kept by address keep their state and
   * counters; new ones start healthy unless checks say otherwise; removed ones are returned.
   */
  reconfigure(config: PoolConfig, now: number): PoolServer[] {
    const old = new Map(this.servers.map((s) => [s.key, s]));
    if (
      config.scheduler !== this.config.scheduler ||
      JSON.stringify(config.schedulerFlags) !== JSON.stringify(this.config.schedulerFlags)
    ) {
      this.#scheduler = createScheduler(config.scheduler, { flags: config.schedulerFlags });
    }
    this.config = config;
    this.retryStatuses = new Set(config.retryStatuses);
    this.servers.length = 0;
    for (const s of config.servers) {
      const key = `${s.host}:${s.port}`;
      const existing = old.get(key);
      if (existing !== undefined) {
        existing.configWeight = s.weight;
        this.servers.push(existing);
        old.delete(key);
      } else this.servers.push(new PoolServer(s.host, s.port, s.weight));
    }
    this.#rebuild(now);
    return [...old.values()];
  }

  /** Active health changed (from the HealthMonitor). */
  setHealth(key: string, up: boolean, now: number): void {
    const s = this.server(key);
    if (s === undefined || s.healthy === up) return;
    s.healthy = up;
    if (up) {
      s.consecutiveFailures = 0;
      s.upSince = now;
    }
    this.#rebuild(now);
  }

  /** A request got a response that is not a failure. */
  reportSuccess(s: PoolServer): void {
    s.consecutiveFailures = 0;
  }

  /** A connect error, a reset, a timeout or a 5xx: may eject the server. Returns true when it did. */
  reportFailure(s: PoolServer, now: number): boolean {
    s.failures++;
    const o = this.config.outlier;
    if (o.consecutiveFailures === 0 || s.ejectedUntil !== 0) return false;
    if (++s.consecutiveFailures < o.consecutiveFailures) return false;
    const ejected = this.servers.filter((x) => x.ejectedUntil !== 0).length;
    const allowed = Math.max(1, Math.floor((this.servers.length * o.maxEjectionPercent) / 100));
    if (o.maxEjectionPercent === 0 || ejected + 1 > allowed) return false;
    this.eject(s, now);
    return true;
  }

  /** Takes a server out for the ejection time (also what a worker hears from another). */
  eject(s: PoolServer, now: number, until = now + this.config.outlier.ejectionTimeMs): void {
    if (s.ejectedUntil !== 0) return;
    s.ejectedUntil = Math.max(until, 1);
    s.ejections++;
    s.consecutiveFailures = 0;
    this.#rebuild(now);
  }

  /** Ends ejections that are over and moves slow-start weights on. */
  tick(now: number): void {
    let changed = false;
    for (const s of this.servers) {
      if (s.ejectedUntil !== 0 && s.ejectedUntil <= now) {
        s.ejectedUntil = 0;
        s.upSince = now;
        changed = true;
      }
    }
    if (changed || this.#ramping) this.#rebuild(now);
  }

  /**
   * The server for a request. `exclude` lists servers already tried (redispatch);
   * when the scheduler keeps answering with one of them, the first other usable server is taken.
   */
  pick(ctx: PickContext, exclude: readonly PoolServer[] | undefined): PoolServer | undefined {
    const first = this.#scheduler.pick(ctx) as PoolServer | undefined;
    if (first === undefined || exclude === undefined || exclude.length === 0 || !exclude.includes(first))
      return first;
    for (let i = 0; i < this.#available.length; i++) {
      const next = this.#scheduler.pick(ctx) as PoolServer | undefined;
      if (next !== undefined && !exclude.includes(next)) return next;
    }
    for (const s of this.#available) if (!exclude.includes(s)) return s;
    return undefined;
  }

  #rebuild(now: number): void {
    const slow = this.config.slowStartMs;
    let ramping = false;
    const available: PoolServer[] = [];
    for (const s of this.servers) {
      if (!s.usable) continue;
      let w = s.configWeight;
      if (slow > 0 && now - s.upSince < slow) {
        w = Math.max(1, Math.ceil((s.configWeight * (now - s.upSince)) / slow));
        ramping = true;
      }
      s.weight = w;
      available.push(s);
    }
    this.#ramping = ramping;
    this.#available = available;
    this.#scheduler.update(available);
  }
}
