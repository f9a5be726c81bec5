import type { SchedulerFlags, SchedulerName } from '../config/model.ts';
import type { ServerHealthStatus } from '../health/types.ts';
import type { TrafficStats } from './connection-stats.ts';
import type { TrafficRates } from './rate-estimator.ts';

export type { TrafficRates, TrafficStats };

/** One real server as `hastack status` and the metrics show it (plain JSON). */
export interface RealServerSnapshot {
  /** "host:port" ("[v6]:port"): the key setWeight/drain take. */
  key: string;
  host: string;
  port: number;
  /** Always NAT ("Masq" in ipvsadm): the proxy sits in both directions. */
  forward: 'Masq';
  /** Effective weight the scheduler uses now. */
  weight: number;
  configuredWeight: number;
  /** Set while a misc_dynamic check overrides the configured weight. */
  dynamicWeight?: number;
  /** Set while an admin override (setWeight) is in force. */
  adminWeight?: number;
  /** Health checks pass. */
  up: boolean;
  /** In IPVS's destination list (a down server is not, unless inhibit_on_failure). */
  inTable: boolean;
  /** Admin drain, or removed from the config and waiting for its connections. */
  draining: boolean;
  /** Removed from the config; disappears once its connections are gone. */
  removed: boolean;
  /** u_threshold reached (IP_VS_DEST_F_OVERLOAD). */
  overloaded: boolean;
  activeConns: number;
  inactiveConns: number;
  /** Connects to this server that failed (refused, timed out); the proxy retried elsewhere. */
  connectFailures: number;
  stats: TrafficStats;
  rates: TrafficRates;
  health: ServerHealthStatus | undefined;
}

export interface SorryServerSnapshot {
  key: string;
  host: string;
  port: number;
  forward: 'Masq';
  /** Replacing the real servers now (quorum lost). */
  active: boolean;
  /** In IPVS's list: while active, or always (weight 0) with sorry_server_inhibit. */
  inTable: boolean;
  weight: number;
  activeConns: number;
  inactiveConns: number;
  connectFailures: number;
  stats: TrafficStats;
  rates: TrafficRates;
}

export interface VirtualServerSnapshot {
  name: string;
  protocol: 'tcp' | 'udp';
  /** The bound address (port 0 in the config → the chosen port). */
  host: string;
  port: number;
  scheduler: SchedulerName;
  schedulerFlags: SchedulerFlags;
  /** ipvsadm's flag names in force: sh-port, sh-fallback, mh-port, mh-fallback. */
  flags: string[];
  persistenceTimeoutMs: number;
  persistenceGranularity: number;
  /** Persistence templates held by the main thread. */
  persistenceTemplates: number;
  quorum: number;
  hysteresis: number;
  quorumUp: boolean;
  /** Sum of the weights of live real servers (what quorum is compared with). */
  liveWeight: number;
  sorryActive: boolean;
  listening: boolean;
  workers: number;
  /** workers > 1: client connections accepted by each worker thread, in thread order. */
  workerConns?: number[];
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  connections: {
    active: number;
    inactive: number;
    /** UDP sessions (UDP only). */
    udpSessions?: number;
  };
  /** Connect failures that were retried on another server, over all servers. */
  connectFailures: number;
  /** Clients turned away because no server could take them. */
  noDestination: number;
  /** Times a reader was paused because the other side was slow (backpressure). */
  backpressurePauses: number;
  stats: TrafficStats;
  rates: TrafficRates;
  realServers: RealServerSnapshot[];
  sorryServer?: SorryServerSnapshot;
}
