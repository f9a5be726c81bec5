import type { ManagedService, ServiceMetricSpec } from '../runtime/services.ts';
import type { MemcacheSnapshot } from './memcache-server.ts';

/*
 * Prometheus metrics of the memcached component, pulled from the snapshot at
 * scrape time; names follow prometheus/memcached_exporter (memcached_*) under
 * the hastack_ prefix.
 */

function snap(service: ManagedService): MemcacheSnapshot {
  return service.snapshot() as MemcacheSnapshot;
}

function gauge(name: string, help: string, pick: (s: MemcacheSnapshot) => number): ServiceMetricSpec {
  return {
    name,
    help,
    kind: 'gauge',
    labelNames: ['listen'],
    fill: (service, emit) => {
      const s = snap(service);
      emit({ listen: s.listen }, pick(s));
    },
  };
}

function counter(name: string, help: string, pick: (s: MemcacheSnapshot) => number): ServiceMetricSpec {
  return { ...gauge(name, help, pick), kind: 'counter' };
}

export const memcacheMetricSpecs: readonly ServiceMetricSpec[] = [
  gauge('hastack_memcached_current_connections', 'Open client connections.', (s) => s.currConnections),
  counter('hastack_memcached_connections_total', 'Client connections accepted.', (s) => s.totalConnections),
  counter(
    'hastack_memcached_connections_rejected_total',
    'Connections refused at max_connections.',
    (s) => s.rejectedConnections,
  ),
  gauge('hastack_memcached_current_items', 'Items in the cache.', (s) => s.currItems),
  gauge('hastack_memcached_current_bytes', 'Bytes of items (headers, keys, values).', (s) => s.bytes),
  gauge('hastack_memcached_limit_bytes', 'Memory limit for items.', (s) => s.limitMaxbytes),
  gauge(
    'hastack_memcached_slab_pages_bytes',
    'Slab pages allocated (never above the limit).',
    (s) => s.pagesBytes,
  ),
  counter('hastack_memcached_get_hits_total', 'Retrievals that found the item.', (s) => s.getHits),
  counter('hastack_memcached_get_misses_total', 'Retrievals that missed.', (s) => s.getMisses),
  counter('hastack_memcached_items_evicted_total', 'Items evicted to make room.', (s) => s.evictions),
  counter(
    'hastack_memcached_items_reclaimed_total',
    'Expired items whose memory was reused.',
    (s) => s.reclaimed,
  ),
  counter('hastack_memcached_read_bytes_total', 'Bytes read from clients.', (s) => s.bytesRead),
  counter('hastack_memcached_written_bytes_total', 'Bytes written to clients.', (s) => s.bytesWritten),
  counter(
    'hastack_memcached_backpressure_pauses_total',
    'Times reading from a client paused because it did not take its replies.',
    (s) => s.backpressurePauses,
  ),
];
