import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { CheckpointWorkerInit } from './checkpoint-worker.ts';

/*
 * The main thread's handle on a server's checkpoint thread (checkpoint-worker.ts).
 * Its writers open the database with backgroundCheckpoints (open-database.ts).
 */

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './checkpoint-worker.ts' : './checkpoint-worker.js',
  import.meta.url,
);

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<unknown>;

  constructor(
    dbFile: string,
    name: string,
    onError: (message: string) => void,
    timing = { busyMs: 100, idleMs: 1_000 },
  ) {
    const init: CheckpointWorkerInit = { dbFile, ...timing };
    this.#worker = new Worker(WORKER_URL, { workerData: init, name: `hastack-db-checkpoint-${name}` });
    this.#exited = once(this.#worker, 'exit').catch(() => {});
    this.#worker.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'error') onError(`background WAL checkpoint failed: ${m.message}`);
    });
    this.#worker.on('error', (err) => onError(`checkpoint thread crashed: ${err.message}`));
  }

  async stop(): Promise<void> {
    this.#worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => void this.#worker.terminate(), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
