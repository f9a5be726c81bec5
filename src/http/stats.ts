/*
 * Plain counters the data path bumps (no allocation, no prom-client on the hot
 * path); metrics and status read them at scrape time. Worker threads send theirs
 * as JSON and the main thread adds them up.
 */

/** Latency histogram bounds in seconds (Prometheus defaults); a last +Inf bucket follows. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface RouteStats {
  requests: number;
  /** Index 1..5 = status class; 0 = no response (client gone, aborted). */
  responses: number[];
  /** Per bucket (not cumulative); the last is +Inf. */
  latency: number[];
  latencySum: number;
  retries: number;
  bytesOut: number;
}

export function newRouteStats(): RouteStats {
  return {
    requests: 0,
    responses: [0, 0, 0, 0, 0, 0],
    latency: newLatencyBuckets(),
    latencySum: 0,
    retries: 0,
    bytesOut: 0,
  };
}

/** A latency histogram kept as plain counters (routes and upstream servers). */
export interface LatencyCounters {
  /** Per bucket (not cumulative); the last is +Inf. */
  latency: number[];
  latencySum: number;
}

export function newLatencyBuckets(): number[] {
  return new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
}

export function observeLatency(s: LatencyCounters, seconds: number): void {
  s.latencySum += seconds;
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
  s.latency[i]!++;
}

export function addRouteStats(into: RouteStats, from: RouteStats): void {
  into.requests += from.requests;
  into.latencySum += from.latencySum;
  into.retries += from.retries;
  into.bytesOut += from.bytesOut;
  for (let i = 0; i < into.responses.length; i++) into.responses[i]! += from.responses[i] ?? 0;
  for (let i = 0; i < into.latency.length; i++) into.latency[i]! += from.latency[i] ?? 0;
}

/** Counters of one listener (connections, protocol errors, TLS). */
export interface ListenerStats {
  connections: number;
  requests: number;
  activeConnections: number;
  /** Requests rejected by the parser or limits (400/408/413/414/431/501/505). */
  badRequests: number;
  h2Streams: number;
  tunnels: number;
  /** Responses that went (partly) to a temp file because the client read slowly. */
  spilledResponses: number;
  /** Bytes written to those temp files. */
  spilledBytes: number;
  /** Times a response's temp file reached max_temp_file_size and the upstream was paused. */
  spillLimitReached: number;
}

export function newListenerStats(): ListenerStats {
  return {
    connections: 0,
    requests: 0,
    activeConnections: 0,
    badRequests: 0,
    h2Streams: 0,
    tunnels: 0,
    spilledResponses: 0,
    spilledBytes: 0,
    spillLimitReached: 0,
  };
}

/** One upstream server's counters, as sent between threads. */
export interface ServerStatsSnapshot {
  requests: number;
  failures: number;
  ejections: number;
  responses: number[];
  active: number;
  idle: number;
}
