import type { CheckSpec, SchedulerFlags, SchedulerName } from '../config/model.ts';

/**
 * The normalized `http` section: what `config-schema.ts` produces and every part
 * of the proxy reads. Durations in ms, sizes in bytes, defaults filled in.
 */

export type HeaderPatternValue = string | boolean;

export interface RouteMatch {
  /** Host names: exact ("example.com"), wildcard ("*.example.com") or "~regex". Any of them matches. */
  hosts: string[];
  path?: string;
  pathPrefix?: string;
  /** Source of the path regex; "~*" prefix = case-insensitive. */
  pathRegex?: string;
  methods: string[];
  /** Lowercased field name → pattern ("~*(iPhone|Android)", exact text, true/false for present/absent). */
  headers: Record<string, HeaderPatternValue>;
  query: Record<string, HeaderPatternValue>;
  /** Client address prefixes ("10.0.0.0/8", "::1"). */
  clientIps: string[];
}

export interface HeaderRules {
  /** Replace (or create) the field. */
  set: [string, string][];
  /** Append another line. */
  add: [string, string][];
  /** Lowercased names to drop. */
  remove: string[];
}

export type RouteAction =
  | { type: 'pool'; pool: string }
  | { type: 'redirect'; to: string; status: number }
  | { type: 'static'; root: string; index: string; stripPrefix: boolean }
  | { type: 'respond'; status: number; body: string; contentType: string; headers: [string, string][] };

export interface RouteConfig {
  /** For logs, metrics and status: the configured name or "#<index>". */
  name: string;
  match: RouteMatch;
  /** Regex rewrite of the path (and query): captures of `regex`, or of the match's path_regex. */
  rewrite?: { regex?: string; to: string };
  requestHeaders: HeaderRules;
  responseHeaders: HeaderRules;
  action: RouteAction;
  /** false: stream the response (no buffering beyond the socket), for large downloads and SSE. */
  buffering: boolean;
  /** Overrides the listener's max_body_size. */
  maxBodySize?: number;
}

export interface TlsCertificateConfig {
  cert: string;
  key: string;
  /** SNI names this certificate answers; empty = names read from the certificate. */
  names: string[];
}

export interface ListenerConfig {
  name: string;
  host: string;
  port: number;
  tls?: { certificates: TlsCertificateConfig[]; http2: boolean };
  routes: RouteConfig[];
  /** Peers whose X-Forwarded-For / Forwarded are believed. */
  trustedProxies: string[];
  xForwarded: boolean;
  forwarded: boolean;
  via: boolean;
  limits: {
    maxRequestLine: number;
    maxHeaderBytes: number;
    maxHeaders: number;
    maxBodySize: number;
  };
  timeouts: {
    /** Whole request head (slowloris): 408. */
    clientHeaderMs: number;
    /** Between two reads of a request body: 408. */
    clientBodyMs: number;
    /** No progress writing to the client. */
    sendMs: number;
    /** Idle WebSocket/Upgrade tunnel. */
    tunnelMs: number;
  };
  keepalive: { enabled: boolean; idleTimeoutMs: number; maxRequests: number };
  /** Largest response kept in memory for a slow client; the rest spills to a temp file. */
  bufferSize: number;
  /** Largest response spilled to disk per request; above it the upstream is read at the client's pace. */
  maxTempFileSize: number;
}

export interface PoolServerConfig {
  host: string;
  port: number;
  weight: number;
}

export type RetryCondition = 'connect-failure' | 'empty-response' | 'timeout';

export interface PoolConfig {
  name: string;
  scheduler: SchedulerName;
  schedulerFlags: SchedulerFlags;
  servers: PoolServerConfig[];
  checks: CheckSpec[];
  /** Upstream connections kept for reuse; false = one connection per request. */
  keepalive: { enabled: boolean; maxIdle: number; idleTimeoutMs: number; maxRequests: number };
  connectTimeoutMs: number;
  /** From the request sent to the response head. */
  responseTimeoutMs: number;
  /** Between two reads of the response body. */
  readTimeoutMs: number;
  retries: number;
  redispatch: boolean;
  retryOn: RetryCondition[];
  retryStatuses: number[];
  outlier: { consecutiveFailures: number; ejectionTimeMs: number; maxEjectionPercent: number };
  slowStartMs: number;
}

export interface AccessLogConfig {
  /** 'stdout', a file path, or undefined = off. */
  path?: string;
  format: 'combined' | 'json';
}

export interface HttpSectionConfig {
  workers: number;
  accessLog: AccessLogConfig;
  listeners: ListenerConfig[];
  pools: Record<string, PoolConfig>;
}
