import type { HttpListener } from './listener.ts';
import type { RouteConfig } from './model.ts';
import { addRouteStats, type ListenerStats, type RouteStats } from './stats.ts';
import type { UpstreamClient } from './upstream-connection.ts';
import type { UpstreamPool } from './upstream-pool.ts';

/*
 * Plain JSON of the proxy for `GET /status`, `hastack status` and the metrics:
 * listeners with their routes and counters, pools with their servers. Worker
 * threads send theirs to the main thread, which adds them up (`mergeSnapshots`).
 */

export interface RouteSnapshot {
  name: string;
  /** "host=… path_prefix=/static/ header[user-agent]=~*…" */
  match: string;
  /** "pool app", "static /srv/www", "redirect 301 https://…", "respond 200" */
  action: string;
  stats: RouteStats;
}

export interface ListenerSnapshot {
  name: string;
  address: string;
  tls: boolean;
  http2: boolean;
  stats: ListenerStats;
  routes: RouteSnapshot[];
  /** Requests no route matched (answered 404). */
  unmatched: RouteStats;
}

export interface ServerSnapshot {
  address: string;
  weight: number;
  /** Weight the scheduler sees now (slow start). */
  effectiveWeight: number;
  healthy: boolean;
  ejected: boolean;
  /** Requests in flight. */
  active: number;
  /** Idle keep-alive connections. */
  idle: number;
  requests: number;
  failures: number;
  ejections: number;
  /** Retries of requests whose attempt on this server failed. */
  retries: number;
  /** Index = status class (1..5). */
  responses: number[];
  /** Upstream response time histogram per bucket (not cumulative; the last is +Inf), seconds. */
  latency: number[];
  latencySum: number;
}

export interface PoolSnapshot {
  name: string;
  scheduler: string;
  keepalive: boolean;
  requests: number;
  retries: number;
  noServer: number;
  servers: ServerSnapshot[];
}

export interface EngineSnapshot {
  workers: number;
  listeners: ListenerSnapshot[];
  pools: PoolSnapshot[];
}

interface EngineView {
  listeners: ReadonlyMap<string, HttpListener>;
  pools: ReadonlyMap<string, UpstreamPool>;
  upstreams: UpstreamClient;
}

export function describeMatch(r: RouteConfig): string {
  const m = r.match;
  const parts: string[] = [];
  if (m.hosts.length > 0) parts.push(`host=${m.hosts.join(',')}`);
  if (m.path !== undefined) parts.push(`path=${m.path}`);
  if (m.pathPrefix !== undefined) parts.push(`path_prefix=${m.pathPrefix}`);
  if (m.pathRegex !== undefined) parts.push(`path_regex=${m.pathRegex}`);
  if (m.methods.length > 0) parts.push(`method=${m.methods.join(',')}`);
  for (const [k, v] of Object.entries(m.headers)) parts.push(`header[${k}]=${String(v)}`);
  for (const [k, v] of Object.entries(m.query)) parts.push(`query[${k}]=${String(v)}`);
  if (m.clientIps.length > 0) parts.push(`client_ip=${m.clientIps.join(',')}`);
  return parts.length === 0 ? '*' : parts.join(' ');
}

export function describeAction(r: RouteConfig): string {
  const a = r.action;
  let text: string;
  switch (a.type) {
    case 'pool':
      text = `pool ${a.pool}`;
      break;
    case 'static':
      text = `static ${a.root}`;
      break;
    case 'redirect':
      text = `redirect ${a.status} ${a.to}`;
      break;
    case 'respond':
      text = `respond ${a.status}`;
      break;
  }
  if (r.rewrite !== undefined) text += ` rewrite ${r.rewrite.to}`;
  if (!r.buffering) text += ' streaming';
  return text;
}

export function snapshotEngine(e: EngineView): EngineSnapshot {
  const listeners: ListenerSnapshot[] = [];
  for (const l of e.listeners.values()) {
    const a = l.address();
    listeners.push({
      name: l.name,
      address: a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`,
      tls: l.tls,
      http2: l.config.tls?.http2 ?? false,
      stats: { ...l.stats },
      routes: l.config.routes.map((r, i) => ({
        name: r.name,
        match: describeMatch(r),
        action: describeAction(r),
        stats: structuredClone(l.routeStats[i]!),
      })),
      unmatched: structuredClone(l.routeStats[l.routeStats.length - 1]!),
    });
  }
  const pools: PoolSnapshot[] = [];
  for (const p of e.pools.values()) {
    pools.push({
      name: p.name,
      scheduler: p.config.scheduler,
      keepalive: p.config.keepalive.enabled,
      requests: p.totals.requests,
      retries: p.totals.retries,
      noServer: p.totals.noServer,
      servers: p.servers.map((s) => ({
        address: s.key,
        weight: s.configWeight,
        effectiveWeight: s.usable ? s.weight : 0,
        healthy: s.healthy,
        ejected: s.ejectedUntil !== 0,
        active: s.activeConns,
        idle: e.upstreams.idleCount(s),
        requests: s.requests,
        failures: s.failures,
        ejections: s.ejections,
        retries: s.retries,
        responses: [...s.responses],
        latency: [...s.latency],
        latencySum: s.latencySum,
      })),
    });
  }
  return { workers: 1, listeners, pools };
}

/** Adds up worker snapshots; health comes from the main thread's view (`health`). */
export function mergeSnapshots(parts: readonly EngineSnapshot[]): EngineSnapshot | undefined {
  if (parts.length === 0) return undefined;
  const out = structuredClone(parts[0]!);
  out.workers = parts.length;
  for (const part of parts.slice(1)) {
    for (const l of part.listeners) {
      const into = out.listeners.find((x) => x.name === l.name);
      if (into === undefined) continue;
      for (const k of Object.keys(into.stats) as (keyof ListenerStats)[]) into.stats[k] += l.stats[k];
      l.routes.forEach((r, i) => {
        const target = into.routes[i];
        if (target !== undefined && target.name === r.name) addRouteStats(target.stats, r.stats);
      });
      addRouteStats(into.unmatched, l.unmatched);
    }
    for (const p of part.pools) {
      const into = out.pools.find((x) => x.name === p.name);
      if (into === undefined) continue;
      into.requests += p.requests;
      into.retries += p.retries;
      into.noServer += p.noServer;
      for (const s of p.servers) {
        const t = into.servers.find((x) => x.address === s.address);
        if (t === undefined) continue;
        t.active += s.active;
        t.idle += s.idle;
        t.requests += s.requests;
        t.failures += s.failures;
        t.ejections += s.ejections;
        t.retries += s.retries;
        t.latencySum += s.latencySum;
        t.ejected ||= s.ejected;
        for (let i = 0; i < t.responses.length; i++) t.responses[i]! += s.responses[i] ?? 0;
        for (let i = 0; i < t.latency.length; i++) t.latency[i]! += s.latency[i] ?? 0;
      }
    }
  }
  return out;
}
