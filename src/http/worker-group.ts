import { Worker } from 'node:worker_threads';
import { HastackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HttpSectionConfig } from './model.ts';
import type { EngineSnapshot } from './snapshot.ts';
import type { FromHttpWorker, HttpWorkerInit, ToHttpWorker } from './worker-protocol.ts';

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './http-worker.ts' : './http-worker.js',
  import.meta.url,
);

const PINO_LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

interface Member {
  worker: Worker;
  exited: boolean;
  snapshot: EngineSnapshot | undefined;
  drained: (() => void)[];
  applied: Map<number, (error?: { message: string; code: string }) => void>;
}

/**
 * The main thread's side of multi-core HTTP: N worker threads, each a full
 * ProxyEngine on the same ports. Health transitions and ejections are
 * broadcast; counters come back once a second and are added up for status and
 * metrics.
 */
export class HttpWorkerGroup {
  readonly #logger: Logger;
  readonly #members: Member[] = [];
  #stopped = false;
  #applySeq = 0;
  addresses: Record<string, { host: string; port: number }> = {};

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get snapshots(): EngineSnapshot[] {
    return this.#members.map((m) => m.snapshot).filter((s): s is EngineSnapshot => s !== undefined);
  }

  async start(count: number, config: HttpSectionConfig, health: Record<string, boolean>): Promise<void> {
    try {
      this.addresses = await this.#spawn(config, health);
      // The others bind the ports the first one got (port 0 = any free port).
      const pinned: HttpSectionConfig = {
        ...config,
        listeners: config.listeners.map((l) => ({ ...l, port: this.addresses[l.name]?.port ?? l.port })),
      };
      const rest: Promise<unknown>[] = [];
      for (let i = 1; i < count; i++) rest.push(this.#spawn(pinned, health));
      await Promise.all(rest);
    } catch (err) {
      await this.terminate();
      throw err;
    }
  }

  broadcast(message: ToHttpWorker, except?: Worker): void {
    for (const m of this.#members) if (!m.exited && m.worker !== except) m.worker.postMessage(message);
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
      this.#members
        .filter((m) => !m.exited)
        .map(
          (m) =>
            new Promise<{ message: string; code: string } | undefined>((resolve) => {
              m.applied.set(id, resolve);
              m.worker.postMessage({ type: 'config', config: pinned, graceMs, id } satisfies ToHttpWorker);
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

  async drain(graceMs: number): Promise<void> {
    await Promise.all(
      this.#members
        .filter((m) => !m.exited)
        .map(
          (m) =>
            new Promise<void>((resolve) => {
              m.drained.push(resolve);
              m.worker.postMessage({ type: 'drain', graceMs } satisfies ToHttpWorker);
            }),
        ),
    );
    await this.terminate();
  }

  async terminate(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#members.filter((m) => !m.exited).map((m) => m.worker.terminate()));
  }

  #spawn(
    config: HttpSectionConfig,
    health: Record<string, boolean>,
  ): Promise<Record<string, { host: string; port: number }>> {
    const level = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(this.#logger.level)
      ? this.#logger.level
      : 'silent';
    const init: HttpWorkerInit = { index: this.#members.length, config, health, logLevel: level };
    const worker = new Worker(WORKER_URL, { workerData: init, name: `hastack-http-${init.index}` });
    const member: Member = { worker, exited: false, snapshot: undefined, drained: [], applied: new Map() };
    this.#members.push(member);
    const settleAll = () => {
      for (const d of member.drained.splice(0)) d();
      for (const [, a] of member.applied) a();
      member.applied.clear();
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      worker.on('message', (message: FromHttpWorker) => {
        switch (message.type) {
          case 'listening':
            settled = true;
            resolve(message.addresses);
            break;
          case 'listen-error':
            settled = true;
            reject(
              new HastackError(
                message.code.startsWith('HASTACK_') ? message.code : 'HASTACK_HTTP_LISTEN',
                message.message,
              ),
            );
            break;
          case 'log':
            this.#relayLog(message.line);
            break;
          case 'stats':
            member.snapshot = message.snapshot;
            break;
          case 'ejected':
            this.broadcast(
              { type: 'eject', pool: message.pool, server: message.server, ejectionMs: message.ejectionMs },
              worker,
            );
            break;
          case 'applied': {
            const done = member.applied.get(message.id);
            member.applied.delete(message.id);
            done?.(message.error);
            break;
          }
          case 'drained':
            for (const d of member.drained.splice(0)) d();
            break;
        }
      });
      worker.on('error', (err) => {
        this.#logger.error({ err, worker: init.index }, 'HTTP worker thread crashed');
        if (!settled) {
          settled = true;
          reject(
            new HastackError('HASTACK_HTTP_WORKER', `worker thread failed: ${err.message}`, { cause: err }),
          );
        }
      });
      worker.on('exit', (code) => {
        member.exited = true;
        settleAll();
        if (!this.#stopped && code !== 0)
          this.#logger.error({ worker: init.index, code }, 'HTTP worker thread exited');
        if (!settled) {
          settled = true;
          reject(
            new HastackError(
              'HASTACK_HTTP_WORKER',
              `worker thread exited with code ${code} before listening`,
            ),
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
