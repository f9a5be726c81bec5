import type { AccessLogEntry } from './access-log.ts';
import type { IpSet } from './ip-match.ts';
import type { ListenerConfig } from './model.ts';
import type { Router } from './router.ts';
import type { ListenerStats, RouteStats } from './stats.ts';
import type { UpstreamClient } from './upstream-connection.ts';
import type { PoolServer, UpstreamPool } from './upstream-pool.ts';

/*
 * What an exchange needs from the thread's engine and from its listener,
 * as interfaces so the data path does not import the engine (no cycles).
 */

export interface ListenerContext {
  readonly config: ListenerConfig;
  readonly router: Router;
  readonly trusted: IpSet | undefined;
  readonly stats: ListenerStats;
  /** Per route, by route index; the last entry counts requests no route matched. */
  readonly routeStats: RouteStats[];
  readonly tls: boolean;
}

export interface EngineContext {
  /** Coarse monotonic ms, updated by the engine's timer (as nginx caches its time). */
  readonly now: number;
  readonly pools: ReadonlyMap<string, UpstreamPool>;
  readonly upstreams: UpstreamClient;
  /** The engine is stopping: answer with Connection: close. */
  readonly draining: boolean;
  /** Passive outlier detection ejected a server (workers tell each other). */
  onEjected(pool: UpstreamPool, server: PoolServer): void;
  logAccess(entry: AccessLogEntry): void;
  readonly accessLogEnabled: boolean;
  /** For unexpected errors: must never throw. */
  reportError(err: unknown, what: string): void;
}
