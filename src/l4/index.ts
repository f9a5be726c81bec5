export type { TrafficStats } from './connection-stats.ts';
export type { PoolMember, PoolState } from './destination-pool.ts';
export { DestinationPool, PoolDestination } from './destination-pool.ts';
export type { PersistenceOptions } from './persistence.ts';
export { PersistenceTable, PersistenceTemplate } from './persistence.ts';
export type { TrafficRates } from './rate-estimator.ts';
export { ESTIMATOR_INTERVAL_MS, RateEstimator } from './rate-estimator.ts';
export type {
  KnownHealth,
  RealServerRow,
  ScriptEvent,
  ServiceTableOptions,
  SorryRow,
  TableAction,
} from './service-table.ts';
export { realServerKey, ServiceTable } from './service-table.ts';
export type { RealServerSnapshot, SorryServerSnapshot, VirtualServerSnapshot } from './snapshot.ts';
export { IPVS_UDP_TIMEOUT_MS, udpSessionTimeout } from './udp-proxy.ts';
export type { VirtualServerDeps } from './virtual-server.ts';
export { VirtualServer } from './virtual-server.ts';
