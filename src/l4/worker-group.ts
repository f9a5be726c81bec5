import type { Logger } from '../core/logger.ts';
import { WorkerThreadGroup } from '../core/worker-thread-group.ts';
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

/**
 * The main thread's side of multi-core TCP: N worker threads listening on the
 * same address with SO_REUSEPORT (the kernel spreads connections over them).
 * The group forwards routing state and settings, relays worker logs, and keeps
 * each worker's stats block so the main thread can add them up.
 */
export class WorkerGroup {
  readonly #options: WorkerGroupOptions;
  /** Each thread's state is its stats block. */
  readonly #threads: WorkerThreadGroup<ToWorker, FromWorker, StatsBlock>;
  #address: { host: string; port: number };

  constructor(options: WorkerGroupOptions) {
    this.#options = options;
    this.#address = { host: options.host, port: options.port };
    this.#threads = new WorkerThreadGroup({
      url: WORKER_URL,
      logger: options.logger,
      label: 'L4',
      workerErrorCode: 'HASTACK_L4_WORKER',
      listenErrorCode: 'HASTACK_L4_LISTEN',
      onExit: (thread) => options.onWorkerExit?.(thread.state),
    });
  }

  /** Every worker's stats block (live while the group runs). */
  get statsBlocks(): StatsBlock[] {
    return this.#threads.threads.map((t) => t.state);
  }

  get size(): number {
    return this.#threads.threads.length;
  }

  address(): { host: string; port: number } {
    return this.#address;
  }

  /** Starts the first worker (which may pick the port), then the others on the same port. */
  start(): Promise<{ host: string; port: number }> {
    return this.#threads.start(
      this.#options.count,
      async () => (this.#address = await this.#spawn(this.#options.port)),
      (first) => this.#spawn(first.port),
    );
  }

  pushState(state: PoolState): void {
    this.#threads.broadcast({ type: 'state', state });
  }

  pushSettings(settings: WorkerSettings): void {
    this.#threads.broadcast({ type: 'settings', settings });
  }

  stopAccepting(): void {
    this.#threads.broadcast({ type: 'stop-accepting' });
  }

  /** Each worker waits up to graceMs for its connections, cuts the rest, then the threads end. */
  drain(graceMs: number): Promise<void> {
    return this.#threads.drain(graceMs);
  }

  terminate(): Promise<void> {
    return this.#threads.terminate();
  }

  async #spawn(port: number): Promise<{ host: string; port: number }> {
    const o = this.#options;
    const listening = await this.#threads.spawn((index, logLevel) => {
      const stats = StatsBlock.shared(o.counters.capacity);
      const init: WorkerInit = {
        name: o.name,
        index,
        host: o.host,
        port,
        settings: o.settings,
        state: o.state,
        capacity: o.counters.capacity,
        countersBuffer: o.counters.buffer as SharedArrayBuffer,
        statsBuffer: stats.buffer as SharedArrayBuffer,
        logLevel,
      };
      return { name: `hastack-l4-${o.name}-${index}`, workerData: init, state: stats };
    });
    return { host: listening.host, port: listening.port };
  }
}
