import type { ManagedService, ServiceMetricSpec } from '../runtime/services.ts';
import type { EngineSnapshot } from './snapshot.ts';
import { LATENCY_BUCKETS } from './stats.ts';

/*
 * Prometheus metrics of the proxy, pulled from the service snapshot at scrape
 * time. Latency is a histogram written as counters: `_bucket{le=…}` (cumulative),
 * `_sum` and `_count`, which histogram_quantile() reads like any histogram.
 */

const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

function snap(service: ManagedService): EngineSnapshot | undefined {
  return service.snapshot() as EngineSnapshot | undefined;
}

type Emit = (labels: Record<string, string>, value: number) => void;

function eachRoute(
  service: ManagedService,
  f: (labels: Record<string, string>, s: EngineSnapshot['listeners'][number]['unmatched']) => void,
): void {
  for (const l of snap(service)?.listeners ?? []) {
    for (const r of l.routes) f({ listener: l.name, route: r.name }, r.stats);
    f({ listener: l.name, route: '(none)' }, l.unmatched);
  }
}

function eachServer(
  service: ManagedService,
  f: (labels: Record<string, string>, s: EngineSnapshot['pools'][number]['servers'][number]) => void,
): void {
  for (const p of snap(service)?.pools ?? [])
    for (const s of p.servers) f({ pool: p.name, server: s.address }, s);
}

export const httpMetricSpecs: readonly ServiceMetricSpec[] = [
  {
    name: 'hastack_http_requests_total',
    help: 'HTTP requests received, per listener and route',
    kind: 'counter',
    labelNames: ['listener', 'route'],
    fill: (service, emit: Emit) => eachRoute(service, (labels, s) => emit(labels, s.requests)),
  },
  {
    name: 'hastack_http_responses_total',
    help: 'HTTP responses sent, per listener, route and status class (none = no response)',
    kind: 'counter',
    labelNames: ['listener', 'route', 'class'],
    fill: (service, emit: Emit) =>
      eachRoute(service, (labels, s) =>
        s.responses.forEach((n, i) => {
          emit({ ...labels, class: CLASSES[i]! }, n);
        }),
      ),
  },
  {
    name: 'hastack_http_request_duration_seconds_bucket',
    help: 'HTTP request latency histogram buckets (cumulative), per listener and route',
    kind: 'counter',
    labelNames: ['listener', 'route', 'le'],
    fill: (service, emit: Emit) =>
      eachRoute(service, (labels, s) => {
        let cumulative = 0;
        s.latency.forEach((n, i) => {
          cumulative += n;
          emit(
            { ...labels, le: i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf' },
            cumulative,
          );
        });
      }),
  },
  {
    name: 'hastack_http_request_duration_seconds_sum',
    help: 'Sum of HTTP request latencies in seconds',
    kind: 'counter',
    labelNames: ['listener', 'route'],
    fill: (service, emit: Emit) => eachRoute(service, (labels, s) => emit(labels, s.latencySum)),
  },
  {
    name: 'hastack_http_request_duration_seconds_count',
    help: 'Number of HTTP request latencies observed',
    kind: 'counter',
    labelNames: ['listener', 'route'],
    fill: (service, emit: Emit) =>
      eachRoute(service, (labels, s) =>
        emit(
          labels,
          s.latency.reduce((a, b) => a + b, 0),
        ),
      ),
  },
  {
    name: 'hastack_http_route_retries_total',
    help: 'Upstream retries, per listener and route',
    kind: 'counter',
    labelNames: ['listener', 'route'],
    fill: (service, emit: Emit) => eachRoute(service, (labels, s) => emit(labels, s.retries)),
  },
  {
    name: 'hastack_http_connections_total',
    help: 'Client connections accepted, per listener',
    kind: 'counter',
    labelNames: ['listener'],
    fill: (service, emit: Emit) => {
      for (const l of snap(service)?.listeners ?? []) emit({ listener: l.name }, l.stats.connections);
    },
  },
  {
    name: 'hastack_http_active_connections',
    help: 'Open client connections, per listener',
    kind: 'gauge',
    labelNames: ['listener'],
    fill: (service, emit: Emit) => {
      for (const l of snap(service)?.listeners ?? []) emit({ listener: l.name }, l.stats.activeConnections);
    },
  },
  {
    name: 'hastack_http_bad_requests_total',
    help: 'Requests rejected by the parser, limits or timeouts (400, 408, 413, 414, 431, 501, 505)',
    kind: 'counter',
    labelNames: ['listener'],
    fill: (service, emit: Emit) => {
      for (const l of snap(service)?.listeners ?? []) emit({ listener: l.name }, l.stats.badRequests);
    },
  },
  {
    name: 'hastack_http_upstream_requests_total',
    help: 'Requests sent to an upstream server (each attempt)',
    kind: 'counter',
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emit(labels, s.requests)),
  },
  {
    name: 'hastack_http_upstream_responses_total',
    help: 'Upstream responses per status class',
    kind: 'counter',
    labelNames: ['pool', 'server', 'class'],
    fill: (service, emit: Emit) =>
      eachServer(service, (labels, s) =>
        s.responses.forEach((n, i) => {
          if (i > 0) emit({ ...labels, class: CLASSES[i]! }, n);
        }),
      ),
  },
  {
    name: 'hastack_http_upstream_failures_total',
    help: 'Upstream failures: connect errors, resets, timeouts, 5xx',
    kind: 'counter',
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emit(labels, s.failures)),
  },
  {
    name: 'hastack_http_upstream_ejections_total',
    help: 'Passive outlier ejections of an upstream server',
    kind: 'counter',
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emit(labels, s.ejections)),
  },
  {
    name: 'hastack_http_upstream_up',
    help: '1 when the server takes requests (healthy and not ejected)',
    kind: 'gauge',
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) =>
      eachServer(service, (labels, s) => emit(labels, s.healthy && !s.ejected ? 1 : 0)),
  },
  {
    name: 'hastack_http_upstream_active_requests',
    help: 'Requests in flight to the server',
    kind: 'gauge',
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emit(labels, s.active)),
  },
  {
    name: 'hastack_http_upstream_idle_connections',
    help: 'Idle keep-alive connections to the server',
    kind: 'gauge',
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emit(labels, s.idle)),
  },
  {
    name: 'hastack_http_pool_retries_total',
    help: 'Requests sent again to another (or the same) server, per pool',
    kind: 'counter',
    labelNames: ['pool'],
    fill: (service, emit: Emit) => {
      for (const p of snap(service)?.pools ?? []) emit({ pool: p.name }, p.retries);
    },
  },
];
