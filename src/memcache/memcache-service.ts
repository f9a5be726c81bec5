import type { ManagedService, ServiceDeps } from '../runtime/services.ts';
import type { MemcachedConfig } from './config-schema.ts';
import { MemcacheServer, type MemcacheSnapshot } from './memcache-server.ts';

/** The `memcached` section as a runtime component (start, reload in place, graceful stop). */
export class MemcacheService implements ManagedService<MemcachedConfig> {
  readonly server: MemcacheServer;

  constructor(config: MemcachedConfig, deps: ServiceDeps) {
    this.server = new MemcacheServer(config, { logger: deps.logger });
  }

  start(): Promise<void> {
    return this.server.start();
  }

  async update(config: MemcachedConfig): Promise<void> {
    this.server.update(config);
  }

  stop(graceMs: number): Promise<void> {
    return this.server.stop(graceMs);
  }

  snapshot(): MemcacheSnapshot {
    return this.server.snapshot();
  }
}
