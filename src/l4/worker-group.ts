import { Worker } from 'node:worker_threads';
import { HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { StatsBlock } from './connection-stats.ts';
import type { PoolState } from './destination-pool.ts';
import type { SlotCounters } from './slot-counters.ts';
import type { FromWorker, ToWorker, WorkerInit, WorkerSettings } from './worker-protocol.ts';

export interface WorkerGroupOptions {
  name: string;
  count: number;
  host: string;
  port: number;
  settings: WorkerSettings;
  state: PoolState;
  counters: SlotCounters;
  logger: Logger;
  /** A worker thread ended (normally or not): its stats block is final. */
  onWorkerExit?: (stats: StatsBlock) => void;
}

/** Worker entry: the .ts source when running from source, the compiled .js from dist. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './tcp-worker.ts' : './tcp-worker.js',
  import.meta.url,
);

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const PINO_LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

function settleDrains(m: Member): void {
  const waiters = m.drained;
  m.drained = [];
  for (const w of waiters) w();
}

interface Member {
  worker: Worker;
  stats: StatsBlock;
  exited: boolean;
  /** Resolvers of pending drain() calls. */
  drained: (() => void)[];
}

/**
 * The main thread's side of multi-core TCP: N worker threads listening on the
 * same address with SO_REUSEPORT (the kernel spreads connections over them).
 * The group forwards routing state and settings, relays worker logs, and keeps
 * each worker's stats block so the main thread can add them up.
 */
export class WorkerGroup {
  readonly #options: WorkerGroupOptions;
  readonly #logger: Logger;
  readonly #members: Member[] = [];
  #address: { host: string; port: number };
  #stopped = false;

  constructor(options: WorkerGroupOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#address = { host: options.host, port: options.port };
  }

  /** Every worker's stats block (live while the group runs). */
  get statsBlocks(): StatsBlock[] {
    return this.#members.map((m) => m.stats);
  }

  get size(): number {
    return this.#members.length;
  }

  address(): { host: string; port: number } {
    return this.#address;
  }

  /** Starts the first worker (which may pick the port), then the others on the same port. */
  async start(): Promise<{ host: string; port: number }> {
    try {
      this.#address = await this.#spawn(this.#options.port);
      const rest: Promise<unknown>[] = [];
      for (let i = 1; i < this.#options.count; i++) rest.push(this.#spawn(this.#address.port));
      await Promise.all(rest);
      return this.#address;
    } catch (err) {
      await this.terminate();
      throw err;
    }
  }

  pushState(state: PoolState): void {
    this.#broadcast({ type: 'state', state });
  }

  pushSettings(settings: WorkerSettings): void {
    this.#broadcast({ type: 'settings', settings });
  }

  stopAccepting(): void {
    this.#broadcast({ type: 'stop-accepting' });
  }

  /** Each worker waits up to graceMs for its connections, cuts the rest, then the threads end. */
  async drain(graceMs: number): Promise<void> {
    const waits = this.#members
      .filter((m) => !m.exited)
      .map(
        (m) =>
          new Promise<void>((resolve) => {
            m.drained.push(resolve);
            m.worker.postMessage({ type: 'drain', graceMs } satisfies ToWorker);
          }),
      );
    await Promise.all(waits);
    await this.terminate();
  }

  async terminate(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#members.filter((m) => !m.exited).map((m) => m.worker.terminate()));
  }

  #broadcast(message: ToWorker): void {
    for (const m of this.#members) if (!m.exited) m.worker.postMessage(message);
  }

  #spawn(port: number): Promise<{ host: string; port: number }> {
    const o = this.#options;
    const stats = StatsBlock.shared(o.counters.capacity);
    const level = LEVELS.has(this.#logger.level) ? this.#logger.level : 'silent';
    const init: WorkerInit = {
      name: o.name,
      index: this.#members.length,
      host: o.host,
      port,
      settings: o.settings,
      state: o.state,
      capacity: o.counters.capacity,
      countersBuffer: o.counters.buffer as SharedArrayBuffer,
      statsBuffer: stats.buffer as SharedArrayBuffer,
      logLevel: level,
    };
    const worker = new Worker(WORKER_URL, { workerData: init, name: `hastack-l4-${o.name}-${init.index}` });
    const member: Member = { worker, stats, exited: false, drained: [] };
    this.#members.push(member);
    return new Promise((resolve, reject) => {
      let settled = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'listening':
            settled = true;
            resolve({ host: message.host, port: message.port });
            break;
          case 'listen-error':
            settled = true;
            reject(new HastackError('HASTACK_L4_LISTEN', message.message));
            break;
          case 'log':
            this.#relayLog(message.line);
            break;
          case 'drained':
            settleDrains(member);
            break;
        }
      });
      worker.on('error', (err) => {
        this.#logger.error({ err, worker: init.index }, 'L4 worker thread crashed');
        if (!settled) {
          settled = true;
          reject(
            new HastackError('HASTACK_L4_WORKER', `worker thread failed: ${err.message}`, { cause: err }),
          );
        }
      });
      worker.on('exit', (code) => {
        member.exited = true;
        o.onWorkerExit?.(stats);
        settleDrains(member);
        if (!this.#stopped && code !== 0)
          this.#logger.error({ worker: init.index, code }, 'L4 worker thread exited');
        if (!settled) {
          settled = true;
          reject(
            new HastackError('HASTACK_L4_WORKER', `worker thread exited with code ${code} before listening`),
          );
        }
      });
    });
  }

  #relayLog(line: string): void {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string } & Record<string, unknown>;
      const level = PINO_LEVEL_NAMES[entry.level ?? 30] ?? 'info';
      const { msg, level: _l, time: _t, pid: _p, hostname: _h, ...fields } = entry;
      (this.#logger as unknown as Record<string, (o: object, m?: string) => void>)[level]!.call(
        this.#logger,
        fields,
        msg,
      );
    } catch {
      this.#logger.info(line);
    }
  }
}
