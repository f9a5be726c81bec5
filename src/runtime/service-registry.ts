import { DatabaseService } from '../db/db-service.ts';
import { databaseMetrics } from '../db/metrics.ts';
import { HttpService } from '../http/http-service.ts';
import { httpMetricSpecs } from '../http/metrics.ts';
import { MemcacheService } from '../memcache/memcache-service.ts';
import { memcacheMetricSpecs } from '../memcache/metrics.ts';
import { vrrpMetrics } from '../vrrp/metrics.ts';
import { VrrpService } from '../vrrp/vrrp-service.ts';
import { defineService, type ServiceFactory } from './services.ts';

/*
 * Every component the runtime can start from a config section, in start order
 * (stop runs in reverse). One line per component; the markers show where each goes.
 */
export const serviceFactories: readonly ServiceFactory[] = [
  defineService('database', (config, deps) => new DatabaseService(config, deps), databaseMetrics),
  defineService('memcached', (config, deps) => new MemcacheService(config, deps), memcacheMetricSpecs),
  defineService('http', (config, deps) => new HttpService(config, deps), httpMetricSpecs),
  // <dns service>
  defineService('vrrp', (config, deps) => new VrrpService(config, deps), vrrpMetrics),
];
