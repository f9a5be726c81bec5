import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SectionKey, SectionsConfig } from '../config/sections.ts';
import type { HealthWatch } from '../health/types.ts';

/** What the runtime hands every component it starts. */
export interface ServiceDeps {
  /** Already a child logger with `component: <section key>`. */
  logger: Logger;
  /** The health monitor shared by every component (one probe loop per real server). */
  health: HealthWatch;
}

/** A component started from a config section (memcached, vrrp, http proxy, database...). */
export interface ManagedService<C = unknown> {
  start(): Promise<void>;
  /** Applies a reloaded section in place; throws (with a HastackError code) to reject it. */
  update(config: C): Promise<void>;
  /** Stops accepting, lets work finish for up to graceMs, then releases everything. */
  stop(graceMs: number): Promise<void>;
  /** Plain JSON for `GET /status` and `hastack status`. */
  snapshot(): unknown;
}

export type MetricKind = 'counter' | 'gauge';

/** A Prometheus metric a component exposes; values are pulled from the running service at scrape time. */
export interface ServiceMetricSpec {
  name: string;
  help: string;
  kind: MetricKind;
  labelNames: readonly string[];
  fill(service: ManagedService, emit: (labels: Record<string, string>, value: number) => void): void;
}

export interface ServiceFactory {
  readonly key: SectionKey;
  create(config: unknown, deps: ServiceDeps): ManagedService;
  /** Registered once per runtime, so they survive reloads that replace the service. */
  readonly metrics?: readonly ServiceMetricSpec[];
}

/** Typed registration of a component: the config type follows from the section key. */
export function defineService<K extends SectionKey>(
  key: K,
  create: (
    config: NonNullable<SectionsConfig[K]>,
    deps: ServiceDeps,
  ) => ManagedService<NonNullable<SectionsConfig[K]>>,
  metrics: readonly ServiceMetricSpec[] = [],
): ServiceFactory {
  return { key, create: create as ServiceFactory['create'], metrics };
}

export type { Registry };
