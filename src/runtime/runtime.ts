import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { AdminServer } from '../admin/admin-server.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { VirtualServerConfig } from '../config/model.ts';
import type { FullConfig } from '../config/sections.ts';
import { errorCode, errorMessage, HastackError } from '../core/errors.ts';
import { HealthMonitor } from '../health/health-monitor.ts';
import { VirtualServer } from '../l4/virtual-server.ts';
import { registerMetrics, registerPull } from '../metrics/collectors.ts';
import { serviceFactories } from './service-registry.ts';
import type { ManagedService, ServiceFactory } from './services.ts';
import type { RuntimeStatus } from './status.ts';

import { VERSION } from './version.ts';

export { VERSION };

export interface RuntimeOptions {
  logger: Logger;
  /** Where reloads read the config from (SIGHUP, POST /reload). */
  loadConfig?: () => Promise<LoadedConfig>;
}

/*
 * A component that needs something this machine lacks (the native addon for
 * VRRP) is left out with an error, as keepalived's VRRP child fails while its
 * checker child runs: the rest of hastack keeps serving. Any other start error
 * fails the whole start.
 */
const MISSING_PREREQUISITE_CODES: ReadonlySet<string> = new Set(['HASTACK_NATIVE_UNAVAILABLE']);

interface ReloadState {
  count: number;
  failures: number;
  lastAt?: number;
  lastError?: string;
}

/**
 * Owns every running component of one `hastack up`: the shared health monitor,
 * the virtual servers and the admin API. Applies reloads as a diff so established
 * connections survive, and stops everything gracefully.
 */
export class Runtime {
  readonly #logger: Logger;
  readonly #loadConfig: (() => Promise<LoadedConfig>) | undefined;
  readonly #registry = new Registry();
  readonly #startedAt = Date.now();
  #health: HealthMonitor | undefined;
  #virtualServers = new Map<string, VirtualServer>();
  /** Running component services by section key, in start order. */
  #services = new Map<string, { factory: ServiceFactory; service: ManagedService }>();
  /** Configured components left out because the machine lacks what they need, by section key. */
  #unavailable = new Map<string, { code: string; message: string }>();
  #admin: AdminServer | undefined;
  #loaded: LoadedConfig | undefined;
  #reloads: ReloadState = { count: 0, failures: 0 };
  #reloading: Promise<void> | undefined;
  #stopping = false;

  constructor(options: RuntimeOptions) {
    this.#logger = options.logger;
    this.#loadConfig = options.loadConfig;
    registerMetrics(this.#registry, this);
    for (const factory of serviceFactories) {
      for (const spec of factory.metrics ?? []) {
        registerPull(this.#registry, spec.name, spec.help, spec.kind, spec.labelNames, (emit) => {
          const running = this.#services.get(factory.key);
          if (running !== undefined) spec.fill(running.service, emit);
        });
      }
    }
  }

  get config(): FullConfig | undefined {
    return this.#loaded?.config;
  }

  get registry(): Registry {
    return this.#registry;
  }

  get health(): HealthMonitor | undefined {
    return this.#health;
  }

  async start(loaded: LoadedConfig): Promise<void> {
    this.#loaded = loaded;
    for (const w of loaded.warnings)
      this.#logger.warn({ code: w.code, file: w.file, line: w.line }, w.message);
    this.#health = new HealthMonitor({ logger: this.#logger });
    try {
      for (const vsConfig of loaded.config.virtualServers) await this.#startVirtualServer(vsConfig);
      for (const factory of serviceFactories) {
        const section = (loaded.config.sections as Record<string, unknown>)[factory.key];
        if (section !== undefined) await this.#startServiceOrSkip(factory, section);
      }
      if (this.#unavailable.size > 0 && this.#virtualServers.size === 0 && this.#services.size === 0) {
        const [key, why] = this.#unavailable.entries().next().value!;
        throw new HastackError(why.code, `${key}: ${why.message} (nothing else is configured)`);
      }
      if (loaded.config.admin.enabled) {
        this.#admin = new AdminServer(loaded.config.admin, this, this.#logger.child({ component: 'admin' }));
        await this.#admin.start();
      }
    } catch (err) {
      await this.stop(0);
      throw err;
    }
    this.#logger.info(
      { virtualServers: [...this.#virtualServers.keys()], admin: this.#admin?.url },
      'hastack started',
    );
  }

  async #startVirtualServer(config: VirtualServerConfig): Promise<VirtualServer> {
    const vs = new VirtualServer(config, {
      logger: this.#logger.child({ component: 'l4', vs: config.name }),
      health: this.#health!,
    });
    await vs.start();
    this.#virtualServers.set(config.name, vs);
    return vs;
  }

  async #startService(factory: ServiceFactory, section: unknown): Promise<void> {
    const service = factory.create(section, {
      logger: this.#logger.child({ component: factory.key }),
      health: this.#health!,
    });
    await service.start();
    this.#services.set(factory.key, { factory, service });
  }

  /** Starts a component; one whose prerequisite is missing is logged and left out. */
  async #startServiceOrSkip(factory: ServiceFactory, section: unknown): Promise<void> {
    try {
      await this.#startService(factory, section);
      this.#unavailable.delete(factory.key);
    } catch (err) {
      const code = errorCode(err);
      if (!MISSING_PREREQUISITE_CODES.has(code)) throw err;
      const message = errorMessage(err);
      this.#unavailable.set(factory.key, { code, message });
      this.#logger.error({ code, component: factory.key }, `${factory.key} is not running: ${message}`);
    }
  }

  /** A running component service by its section key (memcached, vrrp...). */
  service(key: string): ManagedService | undefined {
    return this.#services.get(key)?.service;
  }

  virtualServer(name: string): VirtualServer {
    const vs = this.#virtualServers.get(name);
    if (vs !== undefined) return vs;
    // Accept the listen address too, as ipvsadm users name services that way.
    for (const candidate of this.#virtualServers.values()) {
      const a = candidate.address();
      if (`${a.host}:${a.port}` === name) return candidate;
    }
    throw new HastackError('HASTACK_VS_UNKNOWN', `no virtual server named "${name}"`);
  }

  virtualServers(): VirtualServer[] {
    return [...this.#virtualServers.values()];
  }

  /** Re-reads the config and applies it; an invalid config is rejected and the running one stays. */
  reload(): Promise<void> {
    // Serialize reloads: a second SIGHUP during a reload waits for the first.
    const run = async () => {
      if (this.#loadConfig === undefined)
        throw new HastackError('HASTACK_RELOAD_UNSUPPORTED', 'no config source to reload from');
      this.#reloads.lastAt = Date.now();
      const failed = (err: unknown, message: string) => {
        this.#reloads.failures++;
        this.#reloads.lastError = (err as Error).message;
        this.#logger.error({ err, code: (err as HastackError).code }, message);
        return err;
      };
      let next: LoadedConfig;
      try {
        next = await this.#loadConfig();
      } catch (err) {
        throw failed(err, 'reload rejected: the running config stays');
      }
      try {
        await this.apply(next);
      } catch (err) {
        // A component refused its new section (a start-time check failed): it keeps its running config.
        throw failed(err, 'reload failed while applying the new config');
      }
      this.#reloads.count++;
      delete this.#reloads.lastError;
    };
    const previous = this.#reloading ?? Promise.resolve();
    const current = previous.catch(() => {}).then(run);
    this.#reloading = current;
    return current;
  }

  /** Applies a new, already validated config as a diff. */
  async apply(next: LoadedConfig): Promise<void> {
    if (this.#stopping) throw new HastackError('HASTACK_STOPPING', 'hastack is stopping');
    for (const w of next.warnings) this.#logger.warn({ code: w.code, file: w.file, line: w.line }, w.message);
    const wanted = new Map(next.config.virtualServers.map((vs) => [vs.name, vs]));
    const grace = next.config.shutdownGraceMs;
    // Removed services drain in the background: a reload must not wait on long connections.
    for (const [name, vs] of this.#virtualServers) {
      if (!wanted.has(name)) {
        this.#virtualServers.delete(name);
        vs.stop(grace).catch((err: unknown) =>
          this.#logger.error({ err, vs: name }, 'stopping removed virtual server failed'),
        );
      }
    }
    for (const [name, config] of wanted) {
      const existing = this.#virtualServers.get(name);
      if (existing === undefined) await this.#startVirtualServer(config);
      else await existing.update(config);
    }
    for (const factory of serviceFactories) {
      const section = (next.config.sections as Record<string, unknown>)[factory.key];
      const running = this.#services.get(factory.key);
      if (section === undefined) this.#unavailable.delete(factory.key);
      if (section === undefined && running !== undefined) {
        this.#services.delete(factory.key);
        running.service
          .stop(grace)
          .catch((err: unknown) =>
            this.#logger.error({ err, component: factory.key }, 'stopping removed component failed'),
          );
      } else if (section !== undefined && running === undefined) {
        await this.#startServiceOrSkip(factory, section);
      } else if (section !== undefined && running !== undefined) {
        await running.service.update(section);
      }
    }
    const adminConfig = next.config.admin;
    if (this.#admin !== undefined && !adminConfig.enabled) {
      await this.#admin.stop();
      this.#admin = undefined;
    } else if (adminConfig.enabled) {
      if (this.#admin === undefined) {
        this.#admin = new AdminServer(adminConfig, this, this.#logger.child({ component: 'admin' }));
        await this.#admin.start();
      } else {
        await this.#admin.update(adminConfig);
      }
    }
    this.#loaded = next;
    this.#logger.info({ virtualServers: [...wanted.keys()] }, 'configuration reloaded');
  }

  status(): RuntimeStatus {
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
      config: this.#loaded?.source ?? { kind: 'builtin' },
      warnings: this.#loaded?.warnings ?? [],
      reloads: { ...this.#reloads },
      admin: this.#admin?.url,
      virtualServers: [...this.#virtualServers.values()].map((vs) => vs.snapshot()),
      services: Object.fromEntries(
        [...this.#services].map(([key, { service }]) => [key, service.snapshot()]),
      ),
      unavailable: Object.fromEntries(this.#unavailable),
    };
  }

  async stop(graceMs = this.#loaded?.config.shutdownGraceMs ?? 10_000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#logger.info({ graceMs }, 'stopping: no new connections, draining');
    // Components stop in reverse start order (a VIP goes before what answers on it).
    for (const { factory, service } of [...this.#services.values()].reverse()) {
      try {
        await service.stop(graceMs);
      } catch (err) {
        this.#logger.error({ err, component: factory.key }, 'component stop failed');
      }
    }
    this.#services.clear();
    this.#unavailable.clear();
    await Promise.allSettled([...this.#virtualServers.values()].map((vs) => vs.stop(graceMs)));
    this.#virtualServers.clear();
    await this.#admin?.stop();
    this.#admin = undefined;
    await this.#health?.close();
    this.#logger.info('stopped');
  }
}
