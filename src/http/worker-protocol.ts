import type { HttpSectionConfig } from './model.ts';
import type { EngineSnapshot } from './snapshot.ts';

/** `workerData` of an HTTP worker thread. */
export interface HttpWorkerInit {
  index: number;
  config: HttpSectionConfig;
  /** Health the main thread knows at spawn time: "pool/host:port" → up. */
  health: Record<string, boolean>;
  logLevel: string;
}

export type ToHttpWorker =
  | { type: 'config'; config: HttpSectionConfig; graceMs: number; id: number }
  | { type: 'health'; pool: string; server: string; up: boolean }
  | { type: 'eject'; pool: string; server: string; ejectionMs: number }
  | { type: 'drain'; graceMs: number };

export type FromHttpWorker =
  | { type: 'listening'; addresses: Record<string, { host: string; port: number }> }
  | { type: 'listen-error'; message: string; code: string }
  | { type: 'log'; line: string }
  | { type: 'stats'; snapshot: EngineSnapshot }
  | { type: 'ejected'; pool: string; server: string; ejectionMs: number }
  | { type: 'applied'; id: number; error?: { message: string; code: string } }
  | { type: 'drained' };
