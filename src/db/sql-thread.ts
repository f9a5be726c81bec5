import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { HastackError } from '../core/errors.ts';
import type { RelaySegment } from './relay-log.ts';
import type { FromSqlThread, SqlProgress, SqlThreadInit } from './sql-thread-protocol.ts';

/*
 * The main thread's handle on the SQL thread worker: starts it, forwards what the
 * relay log has written, and relays progress, purgeable segments and errors.
 */

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './sql-thread-worker.ts' : './sql-thread-worker.js',
  import.meta.url,
);

/** MySQL error numbers for Last_SQL_Errno. */
const SQL_ERRNO: Record<string, number> = {
  HASTACK_DB_APPLY_ROWS: 1032,
  HASTACK_DB_APPLY_QUERY: 1064,
  HASTACK_DB_EVENT_CHECKSUM: 1594,
  HASTACK_DB_EVENT_INVALID: 1594,
  HASTACK_DB_LOG_CORRUPT: 1594,
  HASTACK_DB_LOG_MAGIC: 1594,
  HASTACK_DB_RELAY_LOG_TRUNCATED: 1594,
  HASTACK_DB_LOG_TRUNCATED: 1594,
};

export function sqlErrno(code: string): number {
  return SQL_ERRNO[code] ?? 1;
}

export interface SqlThreadHandlers {
  onProgress: (p: SqlProgress) => void;
  onSegmentDone: (name: string) => void;
  onError: (code: string, message: string) => void;
  onExit: () => void;
}

export class SqlThread {
  readonly #worker: Worker;
  #exited: Promise<void>;
  #running = true;
  #started: Promise<SqlProgress>;
  #drained: (() => void) | undefined;

  constructor(init: SqlThreadInit, handlers: SqlThreadHandlers, logger: Logger) {
    this.#worker = new Worker(WORKER_URL, { workerData: init, name: `hastack-db-sql-${init.name}` });
    let resolveStarted!: (p: SqlProgress) => void;
    let rejectStarted!: (e: Error) => void;
    this.#started = new Promise((res, rej) => {
      resolveStarted = res;
      rejectStarted = rej;
    });
    this.#started.catch(() => {});
    this.#worker.on('message', (m: FromSqlThread) => {
      switch (m.type) {
        case 'started':
          if (m.recovered > 0)
            logger.info({ recovered: m.recovered }, 'applied transactions found in the binary log');
          if (m.relayTailLost > 0)
            logger.warn(
              { bytes: m.relayTailLost },
              'the relay log lost applied transactions at its end (OS crash before their fsync); going on after them',
            );
          handlers.onProgress(m.progress);
          resolveStarted(m.progress);
          break;
        case 'progress':
          handlers.onProgress(m.progress);
          break;
        case 'segment-done':
          handlers.onSegmentDone(m.name);
          break;
        case 'error':
          this.#running = false;
          rejectStarted(new HastackError(m.code, m.message));
          handlers.onError(m.code, m.message);
          break;
        case 'stopped':
          this.#running = false;
          if (m.reason === 'drain') this.#drained?.();
          break;
      }
    });
    this.#worker.on('error', (err) => {
      this.#running = false;
      rejectStarted(err);
      handlers.onError('HASTACK_DB_SQL_THREAD', `SQL thread crashed: ${err.message}`);
    });
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.#running = false;
        rejectStarted(new HastackError('HASTACK_DB_SQL_THREAD', 'SQL thread exited'));
        handlers.onExit();
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.#running;
  }

  /** Resolves once recovery is done and applying started; rejects if the thread failed first. */
  started(): Promise<SqlProgress> {
    return this.#started;
  }

  publish(segments: RelaySegment[]): void {
    if (this.#running) this.#worker.postMessage({ type: 'relay', segments });
  }

  /** Finishes the current transaction and stops. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#running) this.#worker.postMessage({ type: 'stop' });
    await this.#waitExit(timeoutMs);
  }

  /** Applies everything published, then stops (promotion). Rejects if the thread fails first. */
  async drain(timeoutMs = 60_000): Promise<void> {
    if (!this.#running) throw new HastackError('HASTACK_DB_SQL_THREAD', 'the SQL thread is not running');
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    this.#worker.postMessage({ type: 'drain' });
    const outcome = await Promise.race([
      drained.then(() => 'drained' as const),
      this.#exited.then(() => 'exited' as const),
    ]);
    await this.#waitExit(timeoutMs);
    if (outcome !== 'drained')
      throw new HastackError('HASTACK_DB_SQL_THREAD', 'the SQL thread stopped before applying the relay log');
  }

  async #waitExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const r = await Promise.race([this.#exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (r === 'timeout') await this.#worker.terminate();
    await this.#exited;
  }
}
