import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.ts';
import type { DatabaseConfig, DbServerConfig } from './config-schema.ts';
import { DbServer } from './db-server.ts';
import { DbHttpApi } from './http-api.ts';
import type { DbServiceSnapshot } from './status-types.ts';

/*
 * The `database` section as a runtime service: one DbServer and its HTTP API per
 * configured server. Reloads apply tunables in place, start added servers and
 * stop removed ones.
 */

interface Running {
  server: DbServer;
  http: DbHttpApi;
}

export class DatabaseService {
  #config: DatabaseConfig;
  readonly #logger: Logger;
  readonly #running = new Map<string, Running>();

  constructor(config: DatabaseConfig, deps: { logger: Logger }) {
    this.#config = config;
    this.#logger = deps.logger;
  }

  get config(): DatabaseConfig {
    return this.#config;
  }

  server(name: string): DbServer | undefined {
    return this.#running.get(name)?.server;
  }

  servers(): DbServer[] {
    return [...this.#running.values()].map((r) => r.server);
  }

  httpUrl(name: string): string | undefined {
    return this.#running.get(name)?.http.url;
  }

  /** The start in progress: a stop that arrives meanwhile waits for it, then stops what it started. */
  #starting: Promise<void> | undefined;

  start(): Promise<void> {
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    try {
      for (const cfg of this.#config.servers) await this.#startServer(cfg);
    } catch (err) {
      await this.#stopAll();
      throw err;
    }
  }

  async #startServer(cfg: DbServerConfig): Promise<void> {
    const logger = this.#logger.child({ db: cfg.name });
    const server = new DbServer(cfg, { logger });
    await server.start();
    const http = new DbHttpApi({ db: server, listen: cfg.http, token: cfg.token, logger });
    try {
      await http.start();
    } catch (err) {
      await server.stop();
      throw err;
    }
    this.#running.set(cfg.name, { server, http });
  }

  async update(config: DatabaseConfig): Promise<void> {
    const wanted = new Map(config.servers.map((s) => [s.name, s]));
    // Validate every in-place change before applying any.
    for (const [name, cfg] of wanted) {
      const r = this.#running.get(name);
      if (r !== undefined) r.server.update(cfg);
    }
    for (const [name, r] of this.#running) {
      if (!wanted.has(name)) {
        this.#running.delete(name);
        await r.http.stop();
        await r.server
          .stop()
          .catch((err: unknown) => this.#logger.error({ err: errorMessage(err) }, 'stop failed'));
      }
    }
    for (const [name, cfg] of wanted) if (!this.#running.has(name)) await this.#startServer(cfg);
    this.#config = config;
  }

  async stop(_graceMs: number): Promise<void> {
    await this.#starting?.catch(() => {});
    await this.#stopAll();
  }

  async #stopAll(): Promise<void> {
    for (const [name, r] of [...this.#running].reverse()) {
      this.#running.delete(name);
      await r.http.stop();
      await r.server.stop();
    }
  }

  snapshot(): DbServiceSnapshot {
    return { servers: [...this.#running.values()].map((r) => r.server.snapshot(r.http.url)) };
  }
}
