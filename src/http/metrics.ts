import type { ManagedService, ServiceMetricSpec } from '../runtime/services.ts';
import type { EngineSnapshot } from './snapshot.ts';
import { LATENCY_BUCKETS, type LatencyCounters } from './stats.ts';

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
type Kind = ServiceMetricSpec['kind'];
type Listener = EngineSnapshot['listeners'][number];
type RouteStats = Listener['unmatched'];
type Server = EngineSnapshot['pools'][number]['servers'][number];
type Pool = EngineSnapshot['pools'][number];

function eachRoute(
  service: ManagedService,
  f: (labels: Record<string, string>, s: RouteStats) => void,
): void {
  for (const l of snap(service)?.listeners ?? []) {
    for (const r of l.routes) f({ listener: l.name, route: r.name }, r.stats);
    f({ listener: l.name, route: '(none)' }, l.unmatched);
  }
}

function eachServer(service: ManagedService, f: (labels: Record<string, string>, s: Server) => void): void {
  for (const p of snap(service)?.pools ?? [])
    for (const s of p.servers) f({ pool: p.name, server: s.address }, s);
}

/** Cumulative `_bucket` series of one histogram kept as per-bucket counters. */
function emitBuckets(labels: Record<string, string>, h: LatencyCounters, emit: Emit): void {
  let cumulative = 0;
  h.latency.forEach((n, i) => {
    cumulative += n;
    emit({ ...labels, le: i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf' }, cumulative);
  });
}

function histogramCount(h: LatencyCounters): number {
  return h.latency.reduce((a, b) => a + b, 0);
}

/** One series per route of each listener, plus `(none)` for requests no route matched. */
function perRoute(name: string, help: string, value: (s: RouteStats) => number): ServiceMetricSpec {
  return {
    name,
    help,
    kind: 'counter',
    labelNames: ['listener', 'route'],
    fill: (service, emit: Emit) => eachRoute(service, (labels, s) => emit(labels, value(s))),
  };
}

/** One series per listener. */
function perListener(
  name: string,
  help: string,
  kind: Kind,
  value: (l: Listener) => number,
): ServiceMetricSpec {
  return {
    name,
    help,
    kind,
    labelNames: ['listener'],
    fill: (service, emit: Emit) => {
      for (const l of snap(service)?.listeners ?? []) emit({ listener: l.name }, value(l));
    },
  };
}

/** One series per upstream server of each pool. */
function perServer(name: string, help: string, kind: Kind, value: (s: Server) => number): ServiceMetricSpec {
  return {
    name,
    help,
    kind,
    labelNames: ['pool', 'server'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emit(labels, value(s))),
  };
}

/** One series per pool. */
function perPool(name: string, help: string, kind: Kind, value: (p: Pool) => number): ServiceMetricSpec {
  return {
    name,
    help,
    kind,
    labelNames: ['pool'],
    fill: (service, emit: Emit) => {
      for (const p of snap(service)?.pools ?? []) emit({ pool: p.name }, value(p));
    },
  };
}

export const httpMetricSpecs: readonly ServiceMetricSpec[] = [
  perRoute(
    'hastack_http_requests_total',
    'HTTP requests received, per listener and route',
    (s) => s.requests,
  ),
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
    fill: (service, emit: Emit) => eachRoute(service, (labels, s) => emitBuckets(labels, s, emit)),
  },
  perRoute(
    'hastack_http_request_duration_seconds_sum',
    'Sum of HTTP request latencies in seconds',
    (s) => s.latencySum,
  ),
  perRoute(
    'hastack_http_request_duration_seconds_count',
    'Number of HTTP request latencies observed',
    histogramCount,
  ),
  perRoute('hastack_http_route_retries_total', 'Upstream retries, per listener and route', (s) => s.retries),
  perListener(
    'hastack_http_connections_total',
    'Client connections accepted, per listener',
    'counter',
    (l) => l.stats.connections,
  ),
  perListener(
    'hastack_http_active_connections',
    'Open client connections, per listener',
    'gauge',
    (l) => l.stats.activeConnections,
  ),
  perListener(
    'hastack_http_bad_requests_total',
    'Requests rejected by the parser, limits or timeouts (400, 408, 413, 414, 431, 501, 505)',
    'counter',
    (l) => l.stats.badRequests,
  ),
  perListener(
    'hastack_http_spilled_responses_total',
    'Responses that spilled to a temp file (buffer_size exceeded by a slow client)',
    'counter',
    (l) => l.stats.spilledResponses,
  ),
  perListener(
    'hastack_http_spilled_bytes_total',
    'Response bytes written to temp files',
    'counter',
    (l) => l.stats.spilledBytes,
  ),
  perListener(
    'hastack_http_spill_limit_reached_total',
    'Times a temp file reached max_temp_file_size and the upstream was then read at the client pace',
    'counter',
    (l) => l.stats.spillLimitReached,
  ),
  perServer(
    'hastack_http_upstream_requests_total',
    'Requests sent to an upstream server (each attempt)',
    'counter',
    (s) => s.requests,
  ),
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
    name: 'hastack_http_upstream_response_duration_seconds_bucket',
    help: 'Upstream response time histogram buckets (cumulative): request written to response fully read',
    kind: 'counter',
    labelNames: ['pool', 'server', 'le'],
    fill: (service, emit: Emit) => eachServer(service, (labels, s) => emitBuckets(labels, s, emit)),
  },
  perServer(
    'hastack_http_upstream_response_duration_seconds_sum',
    'Sum of upstream response times in seconds',
    'counter',
    (s) => s.latencySum,
  ),
  perServer(
    'hastack_http_upstream_response_duration_seconds_count',
    'Number of upstream response times observed (responses received)',
    'counter',
    histogramCount,
  ),
  perServer(
    'hastack_http_upstream_retries_total',
    'Retries of requests whose attempt on this server failed (connect error, empty response, timeout, retry status)',
    'counter',
    (s) => s.retries,
  ),
  perServer(
    'hastack_http_upstream_failures_total',
    'Upstream failures: connect errors, resets, timeouts, 5xx',
    'counter',
    (s) => s.failures,
  ),
  perServer(
    'hastack_http_upstream_ejections_total',
    'Passive outlier ejections of an upstream server',
    'counter',
    (s) => s.ejections,
  ),
  perServer(
    'hastack_http_upstream_up',
    '1 when the server takes requests (healthy and not ejected)',
    'gauge',
    (s) => (s.healthy && !s.ejected ? 1 : 0),
  ),
  perServer(
    'hastack_http_upstream_active_requests',
    'Requests in flight to the server',
    'gauge',
    (s) => s.active,
  ),
  perServer(
    'hastack_http_upstream_idle_connections',
    'Idle keep-alive connections to the server',
    'gauge',
    (s) => s.idle,
  ),
  perPool(
    'hastack_http_pool_retries_total',
    'Requests sent again to another (or the same) server, per pool',
    'counter',
    (p) => p.retries,
  ),
];
