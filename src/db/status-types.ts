import type { ReplicaConnection } from './binlog-server.ts';
import type { SemiSyncStatus } from './semi-sync.ts';
import type { WriteEngineCounters } from './sql-engine.ts';

/* The JSON a database server reports (GET /db/status, hastack status). */

export interface BinlogFileInfo {
  name: string;
  size: number;
}

/** SHOW MASTER STATUS / SHOW BINARY LOGS. */
export interface SourceStatus {
  file: string;
  position: number;
  binlogFormat: string;
  executedGtidSet: string;
  purgedGtidSet: string;
  binlogs: BinlogFileInfo[];
  semiSync: SemiSyncStatus;
  /** SHOW REPLICAS. */
  replicas: ReplicaConnection[];
  counters: WriteEngineCounters | undefined;
}

export interface ThreadErrorView {
  errno: number;
  code: string;
  message: string;
  at: string;
}

export interface LagSummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** SHOW REPLICA STATUS. */
export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  sourceServerId: number | null;
  sourceUuid: string | null;
  connectRetryMs: number;
  ioRunning: 'Yes' | 'No' | 'Connecting';
  sqlRunning: 'Yes' | 'No';
  sourceLogFile: string;
  readSourceLogPos: number;
  relayLogFile: string;
  relayLogPos: number;
  relaySourceLogFile: string;
  execSourceLogPos: number;
  relayLogSpace: number;
  secondsBehindSource: number | null;
  lastIoError: ThreadErrorView | undefined;
  lastSqlError: ThreadErrorView | undefined;
  retrievedGtidSet: string;
  executedGtidSet: string;
  autoPosition: boolean;
  semiSync: boolean;
  /** Source commit to replica apply, over the last samples. */
  lag: LagSummary;
  appliedTransactions: number;
  ioReconnects: number;
}

export interface DbServerSnapshot {
  name: string;
  serverId: number;
  serverUuid: string;
  role: 'source' | 'replica';
  readOnly: boolean;
  binlogFormat: string;
  dataDir: string;
  http: string;
  replicationListen: string;
  executedGtidSet: string;
  source: SourceStatus | undefined;
  replica: ReplicaStatus | undefined;
}

export interface DbServiceSnapshot {
  servers: DbServerSnapshot[];
}
