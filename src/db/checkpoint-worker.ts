import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../core/errors.ts';

/*
 * Background WAL checkpoints of one database file, in their own thread: a PASSIVE
 * checkpoint copies committed WAL frames into the database and fsyncs both files
 * without taking the writer's lock, so the writer (the source's commit path or the
 * replica's SQL thread) never blocks on those fsyncs. Often while the WAL grows,
 * rarely while it does not. Off the commit path: a timer is fine here.
 */

export interface CheckpointWorkerInit {
  dbFile: string;
  /** Delay after a checkpoint that found the WAL changed since the previous one. */
  busyMs: number;
  /** Delay after one that found it unchanged. */
  idleMs: number;
}

const init = workerData as CheckpointWorkerInit;
const port = parentPort!;
const db = new DatabaseSync(init.dbFile, { timeout: 1_000 });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let timer: NodeJS.Timeout | undefined;
let stopped = false;
/** Frames in the WAL at the previous checkpoint (it grows with commits, restarts after a full checkpoint). */
let lastLog = -1;

function run(): void {
  timer = undefined;
  if (stopped) return;
  let changed = false;
  try {
    const r = checkpoint.get() as { busy: number; log: number; checkpointed: number } | undefined;
    const log = r?.log ?? 0;
    changed = log !== lastLog;
    lastLog = log;
  } catch (err) {
    port.postMessage({ type: 'error', message: errorMessage(err) });
  }
  timer = setTimeout(run, changed ? init.busyMs : init.idleMs);
}

port.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  stopped = true;
  clearTimeout(timer);
  db.close();
  port.removeAllListeners('message');
  port.unref();
});

timer = setTimeout(run, init.busyMs);
