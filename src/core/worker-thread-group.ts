import { Worker } from 'node:worker_threads';
import { HastackError } from './errors.ts';
import type { Logger } from './logger.ts';

/*
 * The main thread's side of a group of worker threads that each listen on the
 * same ports (the L4 relay and the HTTP proxy use one per core): starting them
 * (the first may pick the port, the others then bind the same one), relaying
 * their logs, broadcasting messages, draining and terminating. What the threads
 * do and what else they report stays with the component.
 */

/** The messages every thread of a group sends; a component's protocol adds its own. */
export type WorkerLifecycleMessage =
  | { type: 'listening' }
  | { type: 'listen-error'; message: string; code: string }
  | { type: 'log'; line: string }
  | { type: 'drained' };

/** One thread of the group and what its component keeps about it (`state`). */
export interface GroupThread<State> {
  readonly worker: Worker;
  readonly index: number;
  exited: boolean;
  readonly state: State;
  /** Resolvers of pending drain() calls. */
  drained: (() => void)[];
}

export interface WorkerThreadGroupOptions<From, State> {
  /** The worker entry module. */
  url: URL;
  logger: Logger;
  /** Names the threads in log lines: "HTTP", "L4". */
  label: string;
  /** Error of a thread that failed or exited before listening (HASTACK_<AREA>_WORKER). */
  workerErrorCode: string;
  /** Error of a listen failure the thread reports without a HASTACK_ code. */
  listenErrorCode: string;
  /** A message that is not one of the lifecycle messages. */
  onMessage?: (message: From, thread: GroupThread<State>) => void;
  /** A thread ended, normally or not (called before its pending drains resolve). */
  onExit?: (thread: GroupThread<State>) => void;
}

/** What a new thread starts with; `index` is its place in the group, `logLevel` what it should log at. */
export type ThreadSpec<State> = (
  index: number,
  logLevel: string,
) => { name: string; workerData: unknown; state: State };

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const PINO_LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export class WorkerThreadGroup<To extends { type: string }, From extends { type: string }, State> {
  readonly #options: WorkerThreadGroupOptions<From, State>;
  readonly #threads: GroupThread<State>[] = [];
  #stopped = false;

  constructor(options: WorkerThreadGroupOptions<From, State>) {
    this.#options = options;
  }

  /** Every thread started so far, exited ones included. */
  get threads(): readonly GroupThread<State>[] {
    return this.#threads;
  }

  /**
   * Starts the first thread, then `count - 1` others from what it answered
   * (e.g. the port it got for port 0). Any failure terminates them all.
   */
  async start<First>(
    count: number,
    first: () => Promise<First>,
    others: (first: First) => Promise<unknown>,
  ): Promise<First> {
    try {
      const answer = await first();
      const rest: Promise<unknown>[] = [];
      for (let i = 1; i < count; i++) rest.push(others(answer));
      await Promise.all(rest);
      return answer;
    } catch (err) {
      await this.terminate();
      throw err;
    }
  }

  /** Starts one thread; resolves with its `listening` message, rejects on a listen error or an early end. */
  spawn(spec: ThreadSpec<State>): Promise<Extract<From, { type: 'listening' }>> {
    const o = this.#options;
    const logger = o.logger;
    const index = this.#threads.length;
    const { name, workerData, state } = spec(index, LOG_LEVELS.has(logger.level) ? logger.level : 'silent');
    const worker = new Worker(o.url, { workerData, name });
    const thread: GroupThread<State> = { worker, index, exited: false, state, drained: [] };
    this.#threads.push(thread);
    return new Promise((resolve, reject) => {
      let settled = false;
      worker.on('message', (message: From) => {
        const lifecycle = message as unknown as WorkerLifecycleMessage;
        switch (lifecycle.type) {
          case 'listening':
            settled = true;
            resolve(message as Extract<From, { type: 'listening' }>);
            break;
          case 'listen-error':
            settled = true;
            reject(
              new HastackError(
                lifecycle.code.startsWith('HASTACK_') ? lifecycle.code : o.listenErrorCode,
                lifecycle.message,
              ),
            );
            break;
          case 'log':
            relayWorkerLog(logger, lifecycle.line);
            break;
          case 'drained':
            settleDrains(thread);
            break;
          default:
            o.onMessage?.(message, thread);
        }
      });
      worker.on('error', (err) => {
        logger.error({ err, worker: index }, `${o.label} worker thread crashed`);
        if (!settled) {
          settled = true;
          reject(new HastackError(o.workerErrorCode, `worker thread failed: ${err.message}`, { cause: err }));
        }
      });
      worker.on('exit', (code) => {
        thread.exited = true;
        o.onExit?.(thread);
        settleDrains(thread);
        if (!this.#stopped && code !== 0)
          logger.error({ worker: index, code }, `${o.label} worker thread exited`);
        if (!settled) {
          settled = true;
          reject(
            new HastackError(o.workerErrorCode, `worker thread exited with code ${code} before listening`),
          );
        }
      });
    });
  }

  /** Posts `message` to every running thread (but `except`). */
  broadcast(message: To, except?: Worker): void {
    for (const t of this.#threads) if (!t.exited && t.worker !== except) t.worker.postMessage(message);
  }

  /** Asks each running thread to drain within graceMs, waits for all to say so (or end), then terminates. */
  async drain(graceMs: number): Promise<void> {
    await Promise.all(
      this.#threads
        .filter((t) => !t.exited)
        .map(
          (t) =>
            new Promise<void>((resolve) => {
              t.drained.push(resolve);
              t.worker.postMessage({ type: 'drain', graceMs });
            }),
        ),
    );
    await this.terminate();
  }

  /** Ends every thread now; exits from here on are expected and not logged as errors. */
  async terminate(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#threads.filter((t) => !t.exited).map((t) => t.worker.terminate()));
  }
}

function settleDrains(thread: GroupThread<unknown>): void {
  const waiters = thread.drained;
  thread.drained = [];
  for (const w of waiters) w();
}

/** Logs a pino JSON line from a worker thread through the main thread's logger (same level and fields). */
export function relayWorkerLog(logger: Logger, line: string): void {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string } & Record<string, unknown>;
    const level = PINO_LEVEL_NAMES[entry.level ?? 30] ?? 'info';
    const { msg, level: _l, time: _t, pid: _p, hostname: _h, ...fields } = entry;
    (logger as unknown as Record<string, (o: object, m?: string) => void>)[level]!.call(logger, fields, msg);
  } catch {
    logger.info(line);
  }
}
