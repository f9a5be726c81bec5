import type { MemcacheSnapshot } from './memcache-server.ts';

/** `hastack status` lines for the memcached component, in the spirit of memcached-tool's display. */
export function formatMemcacheStatus(snapshot: unknown): string {
  const s = snapshot as MemcacheSnapshot;
  const gets = s.getHits + s.getMisses;
  const hitRate = gets === 0 ? '-' : `${((100 * s.getHits) / gets).toFixed(1)}%`;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)}M`;
  return [
    `memcached ${s.listen} (version ${s.version}, up ${s.uptimeSeconds}s)`,
    `  connections  ${s.currConnections} open, ${s.totalConnections} total, ${s.rejectedConnections} rejected`,
    `  items        ${s.currItems} (${mb(s.bytes)} of ${mb(s.limitMaxbytes)}, slab pages ${mb(s.pagesBytes)})`,
    `  gets         ${s.getHits} hits, ${s.getMisses} misses, hit rate ${hitRate}`,
    `  memory       ${s.evictions} evictions, ${s.reclaimed} reclaimed`,
    `  traffic      ${s.bytesRead} bytes read, ${s.bytesWritten} written, ${s.backpressurePauses} backpressure pauses`,
  ].join('\n');
}
