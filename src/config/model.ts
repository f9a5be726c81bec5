/**
 * The normalized configuration every component consumes. Both the YAML file and
 * keepalived.conf are turned into this shape; durations are milliseconds, addresses
 * are split into host and port, defaults are filled in.
 */

export const SCHEDULER_NAMES = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'sed',
  'nq',
  'sh',
  'dh',
  'mh',
  'lblc',
  'lblcr',
  'fo',
  'ovf',
  'twos',
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export interface SchedulerFlags {
  /** sh/mh: hash the source port as well as the address. */
  hashPort: boolean;
  /** sh/mh: when the hashed server is unavailable, pick another instead of failing. */
  fallback: boolean;
}

/** Damping and timing shared by every check type (keepalived names in comments). */
export interface CheckTiming {
  /** delay_loop: time between probes. */
  intervalMs: number;
  /** connect_timeout: limit for one probe attempt. */
  timeoutMs: number;
  /** retry: extra attempts inside one probe before it counts as failed. */
  retries: number;
  /** delay_before_retry */
  retryDelayMs: number;
  /** consecutive successes to go up. */
  rise: number;
  /** consecutive failures to go down. */
  fall: number;
  /** alpha: start down until the first success(es). */
  startDown: boolean;
  /** warmup: random delay before the first probe, at most this long. */
  warmupMs: number;
}

export interface CheckTarget {
  /** connect_ip / connect_port override the real server's address. */
  connectHost?: string;
  connectPort?: number;
  /** bindto / bind_port: source address for the probe. */
  bindHost?: string;
  bindPort?: number;
}

export interface StatusRange {
  min: number;
  max: number;
}

export interface HttpCheckUrl {
  path: string;
  /** Accepted status codes; default 200-299. */
  status: StatusRange[];
  /** MD5 hex of the body (keepalived genhash). */
  digest?: string;
  /** Regex the body must match. */
  bodyRegex?: string;
  /** Host header for this URL; overrides the check's virtualhost. */
  virtualhost?: string;
}

export type CheckSpec =
  | ({ type: 'tcp' } & CheckTarget & CheckTiming)
  | ({
      type: 'http';
      tls: boolean;
      urls: HttpCheckUrl[];
      virtualhost?: string;
      /** SNI name for HTTPS; defaults to virtualhost when enable_sni. */
      sni?: string;
      httpVersion: '1.0' | '1.0C' | '1.1';
      /** Accept self-signed certificates as keepalived does (it does not verify). */
      verifyTls: boolean;
    } & CheckTarget &
      CheckTiming)
  | ({ type: 'smtp'; helo: string } & CheckTarget & CheckTiming)
  | ({ type: 'dns'; qtype: DnsQueryType; name: string } & CheckTarget & CheckTiming)
  | ({
      type: 'misc';
      /** The command line; run through /bin/sh -c as keepalived does. */
      command: string;
      /** misc_dynamic: exit 2..255 sets the weight to code-2. */
      dynamic: boolean;
    } & CheckTarget &
      CheckTiming)
  | ({ type: 'icmp' } & CheckTarget & CheckTiming);

export type CheckType = CheckSpec['type'];

export const DNS_QUERY_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export type DnsQueryType = (typeof DNS_QUERY_TYPES)[number];

export interface RealServerConfig {
  host: string;
  port: number;
  /** Configured weight (IPVS 0..65535); 0 = quiesced. */
  weight: number;
  /** Overload when active+inactive connections reach this (0 = no limit). */
  upperThreshold: number;
  /** Overload clears below this (0 = 3/4 of upperThreshold, as IPVS). */
  lowerThreshold: number;
  notifyUp?: string;
  notifyDown?: string;
  /** All checks must pass for the server to be up. Empty = always up. */
  checks: CheckSpec[];
}

export interface SorryServerConfig {
  host: string;
  port: number;
}

export interface VirtualServerConfig {
  /** Stable name used by the CLI and the admin API. */
  name: string;
  host: string;
  port: number;
  protocol: 'tcp' | 'udp';
  scheduler: SchedulerName;
  schedulerFlags: SchedulerFlags;
  /** Client affinity window; 0 = off. */
  persistenceTimeoutMs: number;
  /** Netmask applied to the client address for persistence (IPv4 prefix length). */
  persistenceGranularity: number;
  sorryServer?: SorryServerConfig;
  /** Keep the sorry server in the table even when real servers are up? No: inhibit = take it out as soon as one is up. */
  sorryServerInhibit: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: string;
  quorumDown?: string;
  /** alpha: real servers start down until checked. */
  startDown: boolean;
  /** omega: run notify_down of up servers at shutdown. */
  notifyDownOnStop: boolean;
  /** Set weight 0 on failure instead of removing the server. */
  inhibitOnFailure: boolean;
  /** Idle timeout for proxied TCP connections and UDP sessions. */
  idleTimeoutMs: number;
  /** Time to connect to a real server before trying another. */
  connectTimeoutMs: number;
  /** Listening processes (worker threads) sharing the port. */
  workers: number;
  realServers: RealServerConfig[];
}

export interface AdminConfig {
  host: string;
  port: number;
  /** Required when host is not loopback. */
  token?: string;
  enabled: boolean;
}

export interface HastackConfig {
  admin: AdminConfig;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  /** Time given to open connections to finish on shutdown before they are cut. */
  shutdownGraceMs: number;
  virtualServers: VirtualServerConfig[];
}

/** A non-fatal remark about a config file (e.g. an unsupported keepalived keyword). */
export interface ConfigWarning {
  code: string;
  message: string;
  file?: string;
  line?: number;
}
