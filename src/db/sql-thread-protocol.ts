import type { ApplyPosition } from './applier.ts';
import type { BinlogFileOptions } from './binlog-writer.ts';
import type { LogPosition } from './log-names.ts';
import type { RelaySegment } from './relay-log.ts';

/* Messages between the SQL thread worker and the main thread. */

export interface SqlThreadInit {
  name: string;
  dbFile: string;
  relayDir: string;
  segments: RelaySegment[];
  /** Re-log applied transactions into this server's binary log (log_replica_updates). */
  binlog: BinlogFileOptions;
}

export type ToSqlThread =
  | { type: 'relay'; segments: RelaySegment[] }
  /** Finish the current transaction and exit. */
  | { type: 'stop' }
  /** Apply everything published so far, then exit (promotion). */
  | { type: 'drain' };

export interface SqlProgress {
  executed: string;
  position: ApplyPosition;
  lastOriginalCommitUs: number;
  applied: number;
  skipped: number;
  /** Commit-to-apply delays of the transactions applied since the last progress, µs. */
  lagUs: number[];
  binlog: LogPosition;
  /** Applied everything published so far. */
  caughtUp: boolean;
}

export type FromSqlThread =
  | {
      type: 'started';
      progress: SqlProgress;
      recovered: number;
      /** Applied bytes missing from the relay log's end (an OS crash took its unsynced tail). */
      relayTailLost: number;
    }
  | { type: 'progress'; progress: SqlProgress }
  /** A relay segment is fully applied and can be purged. */
  | { type: 'segment-done'; name: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'stopped'; reason: 'stop' | 'drain' };
