import type { Worker } from 'node:worker_threads';
import { HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type GroupThread, WorkerThreadGroup } from '../core/worker-thread-group.ts';
import type { HttpSectionConfig } from './model.ts';
import type { EngineSnapshot } from './snapshot.ts';
import type { FromHttpWorker, HttpWorkerInit, ToHttpWorker } from './worker-protocol.ts';

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './http-worker.ts' : './http-worker.js',
  import.meta.url,
);

type ApplyError = { message: string; code: string };

/** What the group keeps per thread. */
interface ThreadState {
  snapshot: EngineSnapshot | undefined;
  /** Pending apply() answers by id (resolved with the error, or undefined when applied or exited). */
  applied: Map<number, (error?: ApplyError) => void>;
}

/**
 * The main thread's side of multi-core HTTP: N worker threads, each a full
 * ProxyEngine on the same ports. Health transitions and ejections are
 * broadcast; counters come back once a second and are added up for status and
 * metrics.
 */
export class HttpWorkerGroup {
  readonly #threads: WorkerThreadGroup<ToHttpWorker, FromHttpWorker, ThreadState>;
  #applySeq = 0;
  addresses: Record<string, { host: string; port: number }> = {};

  constructor(logger: Logger) {
    this.#threads = new WorkerThreadGroup({
      url: WORKER_URL,
      logger,
      label: 'HTTP',
      workerErrorCode: 'HASTACK_HTTP_WORKER',
      listenErrorCode: 'HASTACK_HTTP_LISTEN',
      onMessage: (message, thread) => this.#onMessage(message, thread),
      onExit: (thread) => {
        for (const [, answer] of thread.state.applied) answer();
        thread.state.applied.clear();
      },
    });
  }

  get snapshots(): EngineSnapshot[] {
    return this.#threads.threads
      .map((t) => t.state.snapshot)
      .filter((s): s is EngineSnapshot => s !== undefined);
  }

  async start(count: number, config: HttpSectionConfig, health: Record<string, boolean>): Promise<void> {
    await this.#threads.start(
      count,
      async () => (this.addresses = await this.#spawn(config, health)),
      // The others bind the ports the first one got (port 0 = any free port).
      (addresses) =>
        this.#spawn(
          {
            ...config,
            listeners: config.listeners.map((l) => ({ ...l, port: addresses[l.name]?.port ?? l.port })),
          },
          health,
        ),
    );
  }

  broadcast(message: ToHttpWorker, except?: Worker): void {
    this.#threads.broadcast(message, except);
  }

  /** Sends a new config to every worker; rejects with the first worker error. */
  async apply(config: HttpSectionConfig, graceMs: number): Promise<void> {
    const pinned: HttpSectionConfig = {
      ...config,
      listeners: config.listeners.map((l) => ({
        ...l,
        port: l.port === 0 ? (this.addresses[l.name]?.port ?? 0) : l.port,
      })),
    };
    const id = ++this.#applySeq;
    const results = await Promise.all(
      this.#threads.threads
        .filter((t) => !t.exited)
        .map(
          (t) =>
            new Promise<ApplyError | undefined>((resolve) => {
              t.state.applied.set(id, resolve);
              t.worker.postMessage({ type: 'config', config: pinned, graceMs, id } satisfies ToHttpWorker);
            }),
        ),
    );
    const failed = results.find((r) => r !== undefined);
    if (failed !== undefined)
      throw new HastackError(
        failed.code.startsWith('HASTACK_') ? failed.code : 'HASTACK_HTTP_RELOAD',
        failed.message,
      );
  }

  drain(graceMs: number): Promise<void> {
    return this.#threads.drain(graceMs);
  }

  terminate(): Promise<void> {
    return this.#threads.terminate();
  }

  async #spawn(
    config: HttpSectionConfig,
    health: Record<string, boolean>,
  ): Promise<Record<string, { host: string; port: number }>> {
    const listening = await this.#threads.spawn((index, logLevel) => ({
      name: `hastack-http-${index}`,
      workerData: { index, config, health, logLevel } satisfies HttpWorkerInit,
      state: { snapshot: undefined, applied: new Map() },
    }));
    return listening.addresses;
  }

  #onMessage(message: FromHttpWorker, thread: GroupThread<ThreadState>): void {
    switch (message.type) {
      case 'stats':
        thread.state.snapshot = message.snapshot;
        break;
      case 'ejected':
        this.broadcast(
          { type: 'eject', pool: message.pool, server: message.server, ejectionMs: message.ejectionMs },
          thread.worker,
        );
        break;
      case 'applied': {
        const done = thread.state.applied.get(message.id);
        thread.state.applied.delete(message.id);
        done?.(message.error);
        break;
      }
    }
  }
}
