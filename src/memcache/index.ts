export { type MemcachedConfig, memcachedSchema } from './config-schema.ts';
export { ItemStore } from './item-store.ts';
export { MEMCACHED_VERSION, MemcacheServer, type MemcacheSnapshot } from './memcache-server.ts';
export { MemcacheService } from './memcache-service.ts';
export { memcacheMetricSpecs } from './metrics.ts';
export { ProtocolSession } from './protocol-session.ts';
export { formatMemcacheStatus } from './status-format.ts';
