import type { SchedulerFlags, SchedulerName } from '../config/model.ts';
import type { PoolState } from './destination-pool.ts';
import type { PersistenceOptions } from './persistence.ts';

/** Settings a TCP worker thread can change at run time. */
export interface WorkerSettings {
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  scheduler: SchedulerName;
  schedulerFlags: SchedulerFlags;
  persistence: PersistenceOptions | undefined;
}

/** `workerData` of a TCP worker thread. */
export interface WorkerInit {
  name: string;
  index: number;
  host: string;
  port: number;
  settings: WorkerSettings;
  state: PoolState;
  capacity: number;
  countersBuffer: SharedArrayBuffer;
  statsBuffer: SharedArrayBuffer;
  logLevel: string;
}

export type ToWorker =
  | { type: 'state'; state: PoolState }
  | { type: 'settings'; settings: WorkerSettings }
  | { type: 'stop-accepting' }
  | { type: 'drain'; graceMs: number };

export type FromWorker =
  | { type: 'listening'; host: string; port: number }
  | { type: 'listen-error'; message: string; code: string }
  | { type: 'log'; line: string }
  | { type: 'drained' };
